"""The ``TRACKABLE`` settings dict, read lazily and validated by type.

Callers read typed attributes from :data:`trackable_settings`::

    from django_trackable.conf import trackable_settings

    trackable_settings.HISTORY_LIMIT

The merged settings are cached and the cache is cleared whenever Django's
``setting_changed`` signal reports a change to ``TRACKABLE`` (as
``override_settings`` and pytest-django's ``settings`` fixture do).
"""

from __future__ import annotations

import dataclasses
import datetime
import functools
from typing import Any, cast

from django.conf import settings
from django.core.signals import setting_changed
from django.dispatch import receiver

SETTING_NAME = "TRACKABLE"

DEFAULT_MASKED_FIELDS: tuple[str, ...] = (
    "password",
    "passwd",
    "secret",
    "token",
    "api_key",
    "apikey",
    "private_key",
    "access_key",
    "credit_card",
    "card_number",
    "cvv",
    "cvc",
    "ssn",
)


@dataclasses.dataclass(frozen=True)
class TrackableSettings:
    """The resolved settings; every key of ``TRACKABLE`` with its default."""

    HISTORY_LIMIT: int | None = None
    HISTORY_WINDOW: int | None = 25
    DEFER_HISTORY: bool = True
    MASKED_FIELDS: tuple[str, ...] = DEFAULT_MASKED_FIELDS
    AUDIT_LOG: bool = False
    SIGNALS_ON_COMMIT: bool = False
    RECORD_VISITS: bool = True
    VISIT_ANONYMOUS: bool = False
    VISIT_EXCLUDE_PATHS: tuple[str, ...] = (r"^/static/", r"^/media/", r"^/favicon\.ico$")
    RECORD_LOGINS: bool = True
    GEOIP_PATH: str | None = None
    IP_PROXY_COUNT: int = 0
    IP_TRUSTED_PROXIES: tuple[str, ...] = ()
    ANONYMIZE_IP: bool = False
    TASK_BACKEND: str | None = None
    VISIT_BUFFER_SIZE: int | None = None
    VISIT_BUFFER_SECONDS: float = 1.0
    DATABASE: str | None = None
    VISIT_RETENTION: datetime.timedelta | None = datetime.timedelta(days=90)
    LOGIN_RETENTION: datetime.timedelta | None = datetime.timedelta(days=365)
    TENANT_RESOLVER: str | None = None
    # Privacy. Erasure deletes request metadata unless a site decides to keep it
    # anonymised: a network, a browser family and a time can still single out
    # the one visitor of a small site, so keeping them is the site's call.
    ERASE_REQUEST_METADATA: str = "delete"
    # Records of the person's own rows: deleted unless the site keeps them anonymised.
    ERASE_RECORDS: str = "delete"
    # The audit trail and history are kept until a site sets a period: deleting
    # them by default would surprise every site that runs trackable_purge from cron.
    AUDIT_RETENTION: datetime.timedelta | None = None
    HISTORY_RETENTION: datetime.timedelta | None = None
    RECORD_RETENTION: datetime.timedelta | None = None


#: Setting names that take a sequence; a list in settings is stored as a tuple.
_SEQUENCE_KEYS = frozenset(
    f.name for f in dataclasses.fields(TrackableSettings) if f.type.startswith("tuple")
)

KNOWN_KEYS: frozenset[str] = frozenset(f.name for f in dataclasses.fields(TrackableSettings))


def user_settings() -> dict[str, Any]:
    """The raw ``TRACKABLE`` dict from Django settings (empty when unset)."""
    value = getattr(settings, SETTING_NAME, None)
    return value if isinstance(value, dict) else {}


@functools.cache
def get_settings() -> TrackableSettings:
    """Merge the user's dict over the defaults; unknown keys are left to the checks."""
    overrides = {}
    for key, value in user_settings().items():
        if key not in KNOWN_KEYS:
            continue
        if key in _SEQUENCE_KEYS and isinstance(value, list | tuple):
            value = tuple(value)
        overrides[key] = value
    return TrackableSettings(**overrides)


class _LazySettings:
    """Attribute access to the current :class:`TrackableSettings`."""

    def __getattr__(self, name: str) -> Any:
        return getattr(get_settings(), name)


trackable_settings = cast(TrackableSettings, _LazySettings())


@receiver(setting_changed, dispatch_uid="django_trackable.conf.reload")
def _reload(*, setting: str, **kwargs: Any) -> None:
    if setting == SETTING_NAME:
        get_settings.cache_clear()
        from django.apps import apps

        from django_trackable import audit, tracking

        tracking.clear_model_options()
        if apps.ready:
            audit.connect_receivers()

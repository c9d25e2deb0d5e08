"""Database routers for the tests of request metadata on a database of its own."""

from __future__ import annotations

from typing import Any

_MODELS = {"uservisit", "loginattempt", "userdevice", "auditlog"}


def _is_request_metadata(app_label: str, model_name: str | None) -> bool:
    return app_label == "django_trackable" and model_name in _MODELS


class OtherDatabaseMigrations:
    """The "other" database holds request metadata only, as a dedicated one would.

    It has no user table: the user foreign keys must work without one.
    """

    def allow_migrate(
        self, db: str, app_label: str, model_name: str | None = None, **hints: Any
    ) -> bool | None:
        if db == "other":
            return _is_request_metadata(app_label, model_name)
        return None


class RequestMetadataRouter(OtherDatabaseMigrations):
    """Sends request metadata to "other", the way a project would without DATABASE."""

    def db_for_read(self, model: Any, **hints: Any) -> str | None:
        return (
            "other" if _is_request_metadata(model._meta.app_label, model._meta.model_name) else None
        )

    def db_for_write(self, model: Any, **hints: Any) -> str | None:
        return (
            "other" if _is_request_metadata(model._meta.app_label, model._meta.model_name) else None
        )

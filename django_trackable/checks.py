"""System checks: settings by type, middleware, tracked models and their databases.

Every ID is listed, with its fix, in ``docs/checks.md``. IDs are never reused.
"""

from __future__ import annotations

import datetime
import difflib
import importlib.util
import inspect
import os
import re
from collections.abc import Callable, Sequence
from typing import Any

from django.apps import apps
from django.conf import settings
from django.core import checks
from django.core.exceptions import FieldDoesNotExist
from django.db import connections, models, router

from django_trackable.conf import KNOWN_KEYS, SETTING_NAME, trackable_settings
from django_trackable.expressions import SUPPORTED_VENDORS

_MIDDLEWARE = "django_trackable.middleware.CurrentUserMiddleware"


def _is_bool(value: Any) -> str | None:
    return None if isinstance(value, bool) else "must be True or False"


def _is_optional_positive_int(value: Any) -> str | None:
    if value is None or (isinstance(value, int) and not isinstance(value, bool) and value > 0):
        return None
    return "must be a positive integer or None"


def _is_non_negative_int(value: Any) -> str | None:
    if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        return None
    return "must be an integer >= 0"


def _is_optional_str(value: Any) -> str | None:
    return None if value is None or isinstance(value, str) else "must be a string or None"


def _is_optional_path(value: Any) -> str | None:
    if value is None or isinstance(value, str | os.PathLike):
        return None
    return "must be a path (str or pathlib.Path) or None"


def _is_str_sequence(value: Any) -> str | None:
    if isinstance(value, list | tuple) and all(isinstance(item, str) for item in value):
        return None
    return "must be a list or tuple of strings"


def _is_regex_sequence(value: Any) -> str | None:
    problem = _is_str_sequence(value)
    if problem:
        return problem
    for pattern in value:
        try:
            re.compile(pattern)
        except re.error as exc:
            return f"has an invalid regular expression {pattern!r}: {exc}"
    return None


def _is_proxy_sequence(value: Any) -> str | None:
    problem = _is_str_sequence(value)
    if problem or not value:
        return problem
    from python_ipware import IpWare

    try:
        IpWare(proxy_list=list(value))
    except ValueError as exc:
        return f"is not a list of proxy IPs, networks or IP prefixes: {exc}"
    return None


def _is_optional_timedelta(value: Any) -> str | None:
    if value is None:
        return None
    if not isinstance(value, datetime.timedelta) or value <= datetime.timedelta(0):
        return "must be a positive datetime.timedelta or None"
    try:
        datetime.datetime.now(datetime.timezone.utc) - value
    except OverflowError:
        return "reaches back before year 1: no moment is that old"
    return None


def _is_positive_number(value: Any) -> str | None:
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 < value < 1e9:
        return "must be a positive number of seconds"
    return None


def _is_erasure_mode(value: Any) -> str | None:
    if value in ("delete", "anonymize"):
        return None
    return "must be 'delete' or 'anonymize'"


def _is_database_alias(value: Any) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str):
        return "must be a database alias (a string) or None"
    if value not in settings.DATABASES:
        return f"names {value!r}, which is not in DATABASES"
    return None


_VALIDATORS: dict[str, Callable[[Any], str | None]] = {
    "HISTORY_LIMIT": _is_optional_positive_int,
    "HISTORY_WINDOW": _is_optional_positive_int,
    "DEFER_HISTORY": _is_bool,
    "MASKED_FIELDS": _is_str_sequence,
    "AUDIT_LOG": _is_bool,
    "SIGNALS_ON_COMMIT": _is_bool,
    "RECORD_VISITS": _is_bool,
    "VISIT_ANONYMOUS": _is_bool,
    "VISIT_EXCLUDE_PATHS": _is_regex_sequence,
    "RECORD_LOGINS": _is_bool,
    "GEOIP_PATH": _is_optional_path,
    "IP_PROXY_COUNT": _is_non_negative_int,
    "IP_TRUSTED_PROXIES": _is_proxy_sequence,
    "ANONYMIZE_IP": _is_bool,
    "TASK_BACKEND": _is_optional_str,
    "VISIT_BUFFER_SIZE": _is_optional_positive_int,
    "VISIT_BUFFER_SECONDS": _is_positive_number,
    "DATABASE": _is_database_alias,
    "VISIT_RETENTION": _is_optional_timedelta,
    "LOGIN_RETENTION": _is_optional_timedelta,
    "TENANT_RESOLVER": _is_optional_str,
    "ERASE_REQUEST_METADATA": _is_erasure_mode,
    "ERASE_RECORDS": _is_erasure_mode,
    "AUDIT_RETENTION": _is_optional_timedelta,
    "HISTORY_RETENTION": _is_optional_timedelta,
    "RECORD_RETENTION": _is_optional_timedelta,
}
assert set(_VALIDATORS) == KNOWN_KEYS, "every setting needs a validator"


def check_settings(**kwargs: Any) -> list[checks.CheckMessage]:
    """E001-E003: ``TRACKABLE`` is a dict of known keys with values of the right type."""
    value = getattr(settings, SETTING_NAME, {})
    if not isinstance(value, dict):
        return [
            checks.Error(
                f"The {SETTING_NAME} setting must be a dict, not {type(value).__name__}.",
                hint=f"Write {SETTING_NAME} = {{'HISTORY_LIMIT': 100, ...}}; see docs/settings.md.",
                id="django_trackable.E001",
            )
        ]
    errors: list[checks.CheckMessage] = []
    for key in sorted(value):
        if key not in KNOWN_KEYS:
            close = difflib.get_close_matches(key, KNOWN_KEYS, n=1)
            errors.append(
                checks.Error(
                    f"{SETTING_NAME}[{key!r}] is not a django_trackable setting.",
                    hint=f"Did you mean {close[0]!r}?"
                    if close
                    else "See docs/settings.md for the known keys.",
                    id="django_trackable.E002",
                )
            )
            continue
        problem = _VALIDATORS[key](value[key])
        if problem:
            errors.append(
                checks.Error(
                    f"{SETTING_NAME}[{key!r}] {problem} (got {value[key]!r}).",
                    hint="See docs/settings.md for each key's type and default.",
                    id="django_trackable.E003",
                )
            )
    return errors


def check_middleware(**kwargs: Any) -> list[checks.CheckMessage]:
    """W001: without CurrentUserMiddleware, changes made in requests have no user."""
    if _MIDDLEWARE in (getattr(settings, "MIDDLEWARE", None) or ()):
        return []
    return [
        checks.Warning(
            f"{_MIDDLEWARE} is not in MIDDLEWARE: changes saved during requests "
            "will not record who made them.",
            hint=f"Add '{_MIDDLEWARE}' to MIDDLEWARE, after AuthenticationMiddleware.",
            id="django_trackable.W001",
        )
    ]


def check_tenant_resolver(**kwargs: Any) -> list[checks.CheckMessage]:
    """E026: ``TENANT_RESOLVER`` names a callable that can be imported."""
    path = getattr(settings, SETTING_NAME, {})
    path = path.get("TENANT_RESOLVER") if isinstance(path, dict) else None
    if not isinstance(path, str) or not path:
        return []  # unset, or E003 says what is wrong
    from django.utils.module_loading import import_string

    try:
        resolver = import_string(path)
    except ImportError as exc:
        problem = f"cannot be imported ({exc})"
    else:
        if callable(resolver):
            return []
        problem = "is not callable"
    return [
        checks.Error(
            f"{SETTING_NAME}['TENANT_RESOLVER'] {path!r} {problem}.",
            hint="Give the dotted path of a function that takes the request and returns "
            "the tenant (or None).",
            id="django_trackable.E026",
        )
    ]


def check_lifecycle_models(
    app_configs: Sequence[Any] | None = None, **kwargs: Any
) -> list[checks.CheckMessage]:
    """E020-E025, E027, W020: the lifecycle mixins are combined so that their promises hold."""
    labels = None if app_configs is None else {config.label for config in app_configs}
    messages: list[checks.CheckMessage] = []
    for model in _lifecycle_models():
        if labels is not None and model._meta.app_label not in labels:
            continue
        messages += _check_lifecycle_fields(model)
        messages += _check_lifecycle_managers(model)
        messages += _check_lifecycle_options(model)
    return messages


def _lifecycle_models() -> list[type[Any]]:
    from django_trackable.models.lifecycle import _LifecycleModel

    return [
        model
        for model in apps.get_models()
        if issubclass(model, _LifecycleModel) and not model._meta.proxy
    ]


# The field each mixin relies on, and the role that field must have.
_LIFECYCLE_FIELDS = (
    ("SoftDeleteModel", "date_deleted", "deleted_at"),
    ("OrderedModel", "position", "position"),
)


def _check_lifecycle_fields(model: type[Any]) -> list[checks.CheckMessage]:
    from django_trackable import models as mixins

    messages: list[checks.CheckMessage] = []
    for mixin_name, field_name, role in _LIFECYCLE_FIELDS:
        if not issubclass(model, getattr(mixins, mixin_name)):
            continue
        try:
            field = model._meta.get_field(field_name)
        except FieldDoesNotExist:
            field = None
        if getattr(field, "trackable_role", "") != role:
            messages.append(
                checks.Error(
                    f"{model._meta.label}.{field_name} is not the field {mixin_name} "
                    "relies on (it was removed or redeclared).",
                    hint=f"Keep the mixin's {field_name!r}; to change its options, declare "
                    "it with the mixin's field class (DeletedAtField, PositionField from "
                    "django_trackable.models).",
                    obj=model,
                    id="django_trackable.E027",
                )
            )
    return messages


def _check_lifecycle_managers(model: type[Any]) -> list[checks.CheckMessage]:
    from django_trackable.managers import LifecycleManager
    from django_trackable.tracking import options_for

    messages: list[checks.CheckMessage] = []
    soft = "deleted_at" in options_for(model).roles
    scoped = hasattr(model, "tenant_field")
    default = model._default_manager
    if not isinstance(default, LifecycleManager):
        messages.append(
            checks.Error(
                f"The default manager of {model._meta.label} ({default.name!r}) is not a "
                "LifecycleManager: deleted rows and other tenants' rows are not hidden, "
                "and the mixins' queryset methods are missing.",
                hint="Build custom managers with a queryset's as_manager() (derived from "
                "TrackableQuerySet or a mixin's queryset) or LifecycleManager.from_queryset(...).",
                obj=model,
                id="django_trackable.E020",
            )
        )
    elif soft and default._deleted_rows != "exclude":
        messages.append(
            checks.Warning(
                f"The default manager of {model._meta.label} ({default.name!r}) shows "
                "soft-deleted rows: reverse related managers, form choices and the admin "
                "will show them too.",
                hint="Keep 'objects' (alive rows) as the default manager; use all_objects "
                "explicitly where deleted rows are wanted.",
                obj=model,
                id="django_trackable.W020",
            )
        )
    base = model._base_manager
    if isinstance(base, LifecycleManager) and (
        scoped or (soft and base._deleted_rows != "include")
    ):
        messages.append(
            checks.Error(
                f"The base manager of {model._meta.label} ({base.name!r}) filters rows: "
                "foreign keys to deleted or other tenants' rows would not resolve, and "
                "Django's own saves and deletes would miss rows.",
                hint="Remove Meta.base_manager_name; Django's plain base manager is right.",
                obj=model,
                id="django_trackable.E021",
            )
        )
    return messages


def _check_lifecycle_options(model: type[Any]) -> list[checks.CheckMessage]:
    from django_trackable import models as mixins

    messages: list[checks.CheckMessage] = []
    if issubclass(model, mixins.StatusModel):
        problem = _status_problem(model)
        if problem:
            messages.append(
                checks.Error(
                    f"{model._meta.label}: {problem}.",
                    hint="STATUS_CHOICES lists every status; INITIAL_STATUS, the keys and "
                    "targets of TRANSITIONS and ACTIVE_STATUSES must be among them.",
                    obj=model,
                    id="django_trackable.E022",
                )
            )
    field_names = {f.name for f in model._meta.get_fields()}
    if issubclass(model, mixins.TenantScopedModel):
        name = model.tenant_field
        if name not in {f.name for f in model._meta.concrete_fields}:
            messages.append(
                checks.Error(
                    f"{model._meta.label}.tenant_field is {name!r}, which is not a field "
                    "of the model.",
                    hint="Name the model's tenant column or foreign key (default 'tenant_id').",
                    obj=model,
                    id="django_trackable.E023",
                )
            )
    if issubclass(model, mixins.SluggedModel):
        source = model.slug_source_field
        if source not in field_names and not hasattr(model, source):
            messages.append(
                checks.Error(
                    f"{model._meta.label}.slug_source_field is {source!r}, which is neither "
                    "a field nor an attribute of the model.",
                    hint="Name the field (or property) the slug is made from.",
                    obj=model,
                    id="django_trackable.E024",
                )
            )
    if issubclass(model, mixins.OrderedModel):
        unknown = sorted(set(model.order_group_fields) - field_names)
        if isinstance(model.order_group_fields, str) or unknown:
            messages.append(
                checks.Error(
                    f"{model._meta.label}.order_group_fields must be a sequence of field "
                    f"names (unknown: {', '.join(unknown) or model.order_group_fields!r}).",
                    hint="Use the names of the fields that form a group, e.g. ('board',).",
                    obj=model,
                    id="django_trackable.E025",
                )
            )
    return messages


def _status_problem(model: type[Any]) -> str | None:
    from django_trackable.models.status import STATUS_MAX_LENGTH, status_values

    values = status_values(model)
    if not values:
        return "STATUS_CHOICES is empty"
    too_long = [v for v in values if len(v) > STATUS_MAX_LENGTH]
    if too_long:
        return f"status values longer than {STATUS_MAX_LENGTH} characters: {', '.join(too_long)}"
    known = set(values)
    named: list[Any] = []
    if model.INITIAL_STATUS is not None:
        named.append(model.INITIAL_STATUS)
    for source, targets in (model.TRANSITIONS or {}).items():
        named += [source, *targets]
    named += list(model.ACTIVE_STATUSES or ())
    unknown = sorted({str(getattr(v, "value", v)) for v in named} - known)
    if unknown:
        return f"unknown statuses {', '.join(map(repr, unknown))}"
    return None


def _tracked_models() -> list[type[Any]]:
    from django_trackable.tracking import options_for

    return [
        model
        for model in apps.get_models(include_auto_created=False)
        if options_for(model).roles and not model._meta.proxy
    ]


def check_models(
    app_configs: Sequence[Any] | None = None, **kwargs: Any
) -> list[checks.CheckMessage]:
    """E004 (unknown ``track_*`` names), E006 (a bad window), W002 (untracked bulk writes)."""
    from django_trackable.querysets import _TrackedWritesQuerySet

    messages: list[checks.CheckMessage] = []
    labels = None if app_configs is None else {config.label for config in app_configs}
    for model in _tracked_models():
        if labels is not None and model._meta.app_label not in labels:
            continue
        names = {f.name for f in model._meta.concrete_fields} | {
            f.attname for f in model._meta.concrete_fields
        }
        for attribute in ("track_fields", "track_exclude", "track_mask"):
            value = getattr(model, attribute, None) or ()
            if isinstance(value, str):
                value = (value,)
            unknown = sorted(set(value) - names)
            if unknown:
                messages.append(
                    checks.Error(
                        f"{model._meta.label}.{attribute} names unknown fields: "
                        f"{', '.join(unknown)}.",
                        hint="Use the names of the model's concrete fields.",
                        obj=model,
                        id="django_trackable.E004",
                    )
                )
        window = getattr(model, "track_history_window", None)
        if window is not None and _is_optional_positive_int(window):
            messages.append(
                checks.Error(
                    f"{model._meta.label}.track_history_window is {window!r}.",
                    hint="Use a positive int (entries kept in the row), or None to keep all.",
                    obj=model,
                    id="django_trackable.E006",
                )
            )
        queryset = model._default_manager.get_queryset()
        if not isinstance(queryset, _TrackedWritesQuerySet):
            messages.append(
                checks.Warning(
                    f"The default manager of {model._meta.label} does not use a "
                    "django_trackable queryset: its update(), bulk_create() and "
                    "bulk_update() will not record history or stamps.",
                    hint="Build the manager from TrackableQuerySet (or AuditableQuerySet), "
                    "e.g. MyQuerySet(TrackableQuerySet).as_manager().",
                    obj=model,
                    id="django_trackable.W002",
                )
            )
    return messages


def check_databases(**kwargs: Any) -> list[checks.CheckMessage]:
    """E005: tracked models live only on databases whose SQL we can write."""
    errors: list[checks.CheckMessage] = []
    for model in _tracked_models():
        for alias in settings.DATABASES:
            if not router.allow_migrate_model(alias, model):
                continue
            vendor = connections[alias].vendor
            if vendor not in SUPPORTED_VENDORS:
                errors.append(
                    checks.Error(
                        f"{model._meta.label} is tracked but database {alias!r} is {vendor}, "
                        "where django_trackable cannot append history.",
                        hint="Use PostgreSQL or SQLite for tracked models, or route them there.",
                        obj=model,
                        id="django_trackable.E005",
                    )
                )
    return [*errors, *_check_audit_log_database()]


def _check_audit_log_database() -> list[checks.CheckMessage]:
    """W040: the audit log on another database than an audited model's rows."""
    from django_trackable.audit import log_database
    from django_trackable.tracking import options_for

    if _VALIDATORS["DATABASE"](trackable_settings.DATABASE):
        return []  # E003 already says what is wrong
    log_db = log_database()
    warnings: list[checks.CheckMessage] = []
    for model in _tracked_models():
        if not options_for(model).audit:
            continue
        row_db = router.db_for_write(model)
        if row_db != log_db:
            warnings.append(
                checks.Warning(
                    f"{model._meta.label}'s rows are written to database {row_db!r} but the "
                    f"audit log to {log_db!r}: its AuditLog rows are written when the "
                    "transaction commits, so a crash in between loses them.",
                    hint="Route AuditLog to the same database as the audited models "
                    f"({SETTING_NAME}['DATABASE'] or a router) for one atomic write, "
                    "or accept the gap.",
                    obj=model,
                    id="django_trackable.W040",
                )
            )
    return warnings


_VISIT_MIDDLEWARE = "django_trackable.middleware.VisitMiddleware"
_AUTH_MIDDLEWARE = "django.contrib.auth.middleware.AuthenticationMiddleware"


def check_request_metadata(**kwargs: Any) -> list[checks.CheckMessage]:
    """E030-E032 (tasks), W030-W032 (GeoIP database), W033 (visits without users)."""

    if _VALIDATORS["TASK_BACKEND"](trackable_settings.TASK_BACKEND) or _VALIDATORS["GEOIP_PATH"](
        trackable_settings.GEOIP_PATH
    ):
        return []  # E003 already says what is wrong
    return [*_check_task_backend(), *_check_geoip(), *_check_visit_middleware()]


def _check_task_backend() -> list[checks.CheckMessage]:

    alias = trackable_settings.TASK_BACKEND
    if not alias:
        return []
    if not any(_importable(name) for name in ("django.tasks", "django_tasks")):
        return [
            checks.Error(
                f"{SETTING_NAME}['TASK_BACKEND'] is set, but there is no tasks framework: "
                "django.tasks needs Django 6, and the django-tasks backport is not installed.",
                hint="pip install 'django-trackable-audit[tasks]' (or django-tasks), "
                "or remove TASK_BACKEND to record visits and logins in the request.",
                id="django_trackable.E030",
            )
        ]
    configured = getattr(settings, "TASKS", None) or {"default": {}}
    if alias not in configured:
        return [
            checks.Error(
                f"{SETTING_NAME}['TASK_BACKEND'] is {alias!r}, which is not a backend in TASKS.",
                hint=f"Use one of {', '.join(sorted(configured))}, or add {alias!r} to TASKS.",
                id="django_trackable.E031",
            )
        ]
    try:
        from django_trackable import tasks  # noqa: F401 - importing defines the tasks
    except Exception as exc:  # the backend cannot be loaded, or rejects the tasks
        return [
            checks.Error(
                f"The task backend {alias!r} cannot run django_trackable's tasks: {exc}",
                hint="Check its BACKEND and OPTIONS in TASKS; django_trackable's tasks are "
                "plain module-level functions taking one JSON argument.",
                id="django_trackable.E032",
            )
        ]
    return []


def _importable(module: str) -> bool:
    try:
        return importlib.util.find_spec(module) is not None
    except ImportError:  # the parent package is missing
        return False


def _check_geoip() -> list[checks.CheckMessage]:
    from django_trackable.client import geoip_path, open_geoip_database

    path = geoip_path()
    if path is None:
        return []
    hint = "Set GEOIP_PATH to a GeoIP2/GeoLite2 City (or Country) .mmdb file, or to None."
    try:
        reader, _has_cities = open_geoip_database(path)
    except ImportError:
        return [
            checks.Warning(
                f"A GeoIP database is configured ({path}) but geoip2 is not installed: "
                "visits and logins will have no location.",
                hint="pip install 'django-trackable-audit[geo]'.",
                id="django_trackable.W032",
            )
        ]
    except OSError as exc:
        return [
            checks.Warning(
                f"The GeoIP database {path} cannot be read ({exc.strerror or exc}): "
                "visits and logins will have no location.",
                hint=hint,
                id="django_trackable.W030",
            )
        ]
    except ValueError as exc:
        return [
            checks.Warning(
                f"{exc}: visits and logins will have no location.",
                hint=hint,
                id="django_trackable.W031",
            )
        ]
    reader.close()
    return []


def _check_visit_middleware() -> list[checks.CheckMessage]:

    middleware = getattr(settings, "MIDDLEWARE", None) or ()
    if (
        _VISIT_MIDDLEWARE not in middleware
        or _AUTH_MIDDLEWARE in middleware
        or trackable_settings.VISIT_ANONYMOUS
        or not trackable_settings.RECORD_VISITS
    ):
        return []
    return [
        checks.Warning(
            f"{_VISIT_MIDDLEWARE} is in MIDDLEWARE but {_AUTH_MIDDLEWARE} is not: no request "
            "has a user, and anonymous visits are not recorded, so no visit ever is.",
            hint=f"Add {_AUTH_MIDDLEWARE} (anywhere: VisitMiddleware reads request.user "
            f"after the response), or set {SETTING_NAME}['VISIT_ANONYMOUS'] = True.",
            id="django_trackable.W033",
        )
    ]


def check_admin_classes(app_configs: Sequence[Any] | None = None, **kwargs: Any) -> list[Any]:
    """E053: a django_trackable admin mixin listed after ModelAdmin does nothing.

    The mixins extend ModelAdmin's methods through ``super()``; after ModelAdmin
    in the bases, ModelAdmin's own methods win, silently (and so would the
    mixin's own checks, which is why this one looks at every admin site).
    """
    if not apps.is_installed("django.contrib.admin"):
        return []
    from django.contrib.admin import ModelAdmin
    from django.contrib.admin.sites import all_sites

    from django_trackable.admin import mixins_in_bases_order

    errors = []
    for site in all_sites:
        for model_admin in site._registry.values():
            mro = type(model_admin).__mro__
            for mixin in mixins_in_bases_order():
                if mixin in mro and mro.index(mixin) > mro.index(ModelAdmin):
                    name = type(model_admin).__name__
                    errors.append(
                        checks.Error(
                            f"{name} lists {mixin.__name__} after ModelAdmin in its bases, so "
                            "ModelAdmin's methods hide the mixin's.",
                            hint=f"Put the mixin first: class {name}({mixin.__name__}, "
                            "admin.ModelAdmin).",
                            obj=type(model_admin),
                            id="django_trackable.E053",
                        )
                    )
    return errors


def check_record_models(
    app_configs: Sequence[Any] | None = None, **kwargs: Any
) -> list[checks.CheckMessage]:
    """E070-E073, W070-W072: record models record what they name, on databases we support."""
    from django_trackable.models.records import record_model_for

    labels = None if app_configs is None else {config.label for config in app_configs}
    messages: list[checks.CheckMessage] = []
    for record_model in _record_models():
        if labels is not None and record_model._meta.app_label not in labels:
            continue
        messages += _check_auditing_relatives(record_model)
        messages += _check_recorded_names(record_model)
        messages += _check_record_manager(record_model)
        messages += _check_record_databases(record_model)
    for model in _recorded_mixin_models():
        if labels is not None and model._meta.app_label not in labels:
            continue
        if not model.recording_fields and record_model_for(model) is None:
            messages.append(
                checks.Warning(
                    f"{model._meta.label} mixes in RecordedModelMixin but its "
                    "recording_fields is empty: no record model was created.",
                    hint="List the fields and (name, field) pairs to record, or remove the mixin.",
                    obj=model,
                    id="django_trackable.W072",
                )
            )
    return messages


def _record_models() -> list[type[Any]]:
    from django_trackable.models.records import record_models

    return list(record_models())


def _recorded_mixin_models() -> list[type[Any]]:
    from django_trackable.models.records import RecordedModelMixin

    return [
        model
        for model in apps.get_models()
        if issubclass(model, RecordedModelMixin) and not model._meta.proxy
    ]


def _check_auditing_relatives(record_model: Any) -> list[checks.CheckMessage]:
    from django_trackable.models.records import REMOVED_IN, _relation, deprecated_names

    model = record_model.recording_model
    messages: list[checks.CheckMessage] = []
    for name in deprecated_names(record_model):
        messages.append(
            checks.Warning(
                f"{record_model._meta.label} uses django-record's {name}, which is deprecated "
                f"and will be removed in django_trackable {REMOVED_IN}.",
                hint="List the relations to audit in auditing_relatives and remove RecordMeta.",
                obj=record_model,
                id="django_trackable.W070",
            )
        )
    names = record_model.auditing_relatives
    if isinstance(names, str) or not isinstance(names, list | tuple):
        return [
            *messages,
            checks.Error(
                f"{record_model._meta.label}.auditing_relatives must be a list of relation "
                f"names, not {names!r}.",
                hint="e.g. auditing_relatives = ['supplier', 'comments'].",
                obj=record_model,
                id="django_trackable.E070",
            ),
        ]
    for name in names:
        rel = _relation(model, name) if isinstance(name, str) else None
        supported = rel is not None and (
            rel.many_to_many
            or isinstance(getattr(rel, "field", None), models.ForeignKey)
            or isinstance(rel, models.ForeignKey)
        )
        if not supported:
            messages.append(
                checks.Error(
                    f"{record_model._meta.label}.auditing_relatives names {name!r}, which is "
                    f"not a foreign key, one-to-one or many-to-many relation of "
                    f"{model._meta.label} (or a reverse one).",
                    hint="Use the relation's field name, related_name or accessor name; "
                    "generic relations are not audited.",
                    obj=record_model,
                    id="django_trackable.E070",
                )
            )
    return messages


def _check_recorded_names(record_model: Any) -> list[checks.CheckMessage]:
    model = record_model.recording_model
    messages: list[checks.CheckMessage] = []
    for value in record_model._recording:
        if value.source != value.name:
            continue  # a copied concrete field: checked when the record model was made
        attribute = inspect.getattr_static(model, value.name, None)
        if attribute is None:
            messages.append(
                checks.Error(
                    f"{record_model._meta.label}.recording_fields names {value.name!r}, "
                    f"which is not an attribute of {model._meta.label}.",
                    hint="Name a field, a property or a method without arguments.",
                    obj=record_model,
                    id="django_trackable.E071",
                )
            )
        elif value.call and _required_arguments(getattr(model, value.name)):
            messages.append(
                checks.Error(
                    f"{record_model._meta.label}.recording_fields names the method "
                    f"{model._meta.label}.{value.name}(), which needs arguments.",
                    hint="Record a method that takes no arguments (besides self), or a property.",
                    obj=record_model,
                    id="django_trackable.E072",
                )
            )
    return messages


def _required_arguments(function: Any) -> list[str]:
    try:
        signature = inspect.signature(function)
    except (TypeError, ValueError):
        return []
    parameters = list(signature.parameters.values())
    if parameters and parameters[0].name in ("self", "cls") and inspect.isfunction(function):
        parameters = parameters[1:]
    return [
        p.name
        for p in parameters
        if p.default is inspect.Parameter.empty
        and p.kind in (inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)
    ]


def _check_record_manager(record_model: Any) -> list[checks.CheckMessage]:
    from django_trackable.models.records import RecordedQuerySet

    model = record_model.recording_model
    if isinstance(model._default_manager.get_queryset(), RecordedQuerySet):
        return []
    return [
        checks.Warning(
            f"The default manager of {model._meta.label} does not record: its update(), "
            "bulk_create() and bulk_update() write no records.",
            hint="Mix in RecordedModelMixin with a django_trackable mixin (TrackableModel, ...), "
            "or set objects = RecordedQuerySet.as_manager().",
            obj=model,
            id="django_trackable.W071",
        )
    ]


def _check_record_databases(record_model: Any) -> list[checks.CheckMessage]:
    errors: list[checks.CheckMessage] = []
    for alias in settings.DATABASES:
        if not router.allow_migrate_model(alias, record_model):
            continue
        vendor = connections[alias].vendor
        if vendor not in SUPPORTED_VENDORS:
            errors.append(
                checks.Error(
                    f"{record_model._meta.label} is a record model but database {alias!r} is "
                    f"{vendor}, where django_trackable cannot write records.",
                    hint="Use PostgreSQL or SQLite for record models, or route them there.",
                    obj=record_model,
                    id="django_trackable.E073",
                )
            )
    return errors


def check_person_models(
    app_configs: Sequence[Any] | None = None, **kwargs: Any
) -> list[checks.CheckMessage]:
    """E080: ``track_person`` names a foreign key (or one-to-one field) to the user model."""
    from django.contrib.auth import get_user_model

    user_model = get_user_model()
    labels = None if app_configs is None else {config.label for config in app_configs}
    errors: list[checks.CheckMessage] = []
    for model in apps.get_models():
        name = getattr(model, "track_person", None)
        if name is None or (labels is not None and model._meta.app_label not in labels):
            continue
        try:
            field = model._meta.get_field(name) if isinstance(name, str) else None
        except FieldDoesNotExist:
            field = None
        if (
            field is not None
            and (field.many_to_one or field.one_to_one)
            and field.concrete
            and field.related_model is user_model
        ):
            continue
        errors.append(
            checks.Error(
                f"{model._meta.label}.track_person is {name!r}, which is not a foreign key "
                f"or one-to-one field of the model to the user model ({settings.AUTH_USER_MODEL}).",
                hint="Name the field that links each row to the person it is about, "
                "e.g. track_person = 'user'.",
                obj=model,
                id="django_trackable.E080",
            )
        )
    return errors

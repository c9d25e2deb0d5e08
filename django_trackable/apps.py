"""App configuration: registers the system checks and connects the receivers."""

from __future__ import annotations

from django.apps import AppConfig
from django.core import checks
from django.utils.translation import gettext_lazy as _


class TrackableConfig(AppConfig):
    name = "django_trackable"
    verbose_name = _("Trackable")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from django.contrib.auth.signals import user_logged_in, user_login_failed
        from django.db.backends.signals import connection_created

        from django_trackable import audit, receivers
        from django_trackable import checks as trackable_checks
        from django_trackable.expressions import register_sqlite_functions
        from django_trackable.models import records

        checks.register(trackable_checks.check_settings, checks.Tags.compatibility)
        checks.register(trackable_checks.check_middleware, checks.Tags.compatibility)
        checks.register(trackable_checks.check_models, checks.Tags.models)
        checks.register(trackable_checks.check_lifecycle_models, checks.Tags.models)
        checks.register(trackable_checks.check_tenant_resolver, checks.Tags.compatibility)
        checks.register(trackable_checks.check_databases, checks.Tags.compatibility)
        checks.register(trackable_checks.check_request_metadata, checks.Tags.compatibility)
        checks.register(trackable_checks.check_admin_classes, checks.Tags.admin)
        checks.register(trackable_checks.check_record_models, checks.Tags.models)
        checks.register(trackable_checks.check_person_models, checks.Tags.models)

        records.connect_signals()

        audit.connect_receivers()
        receivers.connect_set_on_delete()
        connection_created.connect(
            register_sqlite_functions,
            dispatch_uid="django_trackable.expressions.register_sqlite_functions",
        )
        user_logged_in.connect(
            receivers.record_login, dispatch_uid="django_trackable.receivers.record_login"
        )
        user_login_failed.connect(
            receivers.record_failed_login,
            dispatch_uid="django_trackable.receivers.record_failed_login",
        )

        # The integrations import their library: only where it is installed.
        from django.apps import apps

        if apps.is_installed("reversion"):
            from django_trackable.integrations import reversion

            reversion.connect()
            checks.register(reversion.check_version_admins, checks.Tags.admin)
        if apps.is_installed("simple_history"):
            from django_trackable.integrations import simple_history

            simple_history.connect()

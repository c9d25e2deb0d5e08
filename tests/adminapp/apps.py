from __future__ import annotations

from django.apps import AppConfig


class AdminAppConfig(AppConfig):
    name = "tests.adminapp"
    label = "adminapp"
    verbose_name = "Help desk"
    default_auto_field = "django.db.models.BigAutoField"

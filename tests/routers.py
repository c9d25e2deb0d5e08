"""A database router that sends django_trackable's request metadata to "other"."""

from __future__ import annotations

from typing import Any

_MODELS = {"uservisit", "loginattempt", "userdevice"}


class RequestMetadataRouter:
    def _is_ours(self, model: Any) -> bool:
        return model._meta.app_label == "django_trackable" and model._meta.model_name in _MODELS

    def db_for_read(self, model: Any, **hints: Any) -> str | None:
        return "other" if self._is_ours(model) else None

    def db_for_write(self, model: Any, **hints: Any) -> str | None:
        return "other" if self._is_ours(model) else None

"""Kept for imports written before the admin became a package: use ``django_trackable.admin``."""

from __future__ import annotations

from django_trackable.admin.softdelete import DeletedListFilter, SoftDeleteAdminMixin

__all__ = ["DeletedListFilter", "SoftDeleteAdminMixin"]

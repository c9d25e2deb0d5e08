"""What the admin classes share: the typing base, the read-only admin, admin URLs."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

import django
from django.contrib import admin
from django.contrib.admin.utils import quote
from django.contrib.auth import get_user_model
from django.db import models
from django.http import HttpRequest, HttpResponse
from django.urls import NoReverseMatch, reverse
from django.utils.text import capfirst
from django.utils.translation import gettext_lazy as _

if TYPE_CHECKING:
    _ModelAdmin = admin.ModelAdmin[Any]
    _Mixin = admin.ModelAdmin[Any]
else:  # ModelAdmin is generic for type checkers only; mixins derive from object at runtime
    _ModelAdmin = admin.ModelAdmin
    _Mixin = object

__all__ = ["ReadOnlyAdmin", "admin_url", "crumbs", "layout_context", "missing_object_redirect"]

#: Django 6's admin puts the object tools beside the page title (outside the
#: "content" block) and its breadcrumbs in an <ol>; the templates follow either.
TOOLS_BESIDE_TITLE = django.VERSION >= (6, 0)


def layout_context() -> dict[str, Any]:
    """What the templates need to place banners, charts and breadcrumbs in both layouts."""
    return {"trackable_admin6": TOOLS_BESIDE_TITLE}


def crumbs(
    site: admin.AdminSite, opts: Any, obj: models.Model | None, *tail: tuple[Any, str | None]
) -> list[tuple[str, str | None]]:
    """Breadcrumbs: Home, the app, the model's list (and ``obj``), then ``tail`` (label, URL)."""
    name = site.name
    trail: list[tuple[str, str | None]] = [
        (str(_("Home")), reverse(f"{name}:index", current_app=name)),
        (
            str(opts.app_config.verbose_name),
            reverse(f"{name}:app_list", kwargs={"app_label": opts.app_label}, current_app=name),
        ),
    ]
    if obj is not None:
        info = f"{name}:{opts.app_label}_{opts.model_name}"
        trail.append(
            (
                str(capfirst(opts.verbose_name_plural)),
                reverse(f"{info}_changelist", current_app=name),
            )
        )
        text = str(obj)
        trail.append(
            (
                text if len(text) <= 80 else text[:79] + "…",
                reverse(f"{info}_change", args=[quote(obj.pk)], current_app=name),
            )
        )
    trail.extend((str(label), url) for label, url in tail)
    return trail


def admin_url(
    site: admin.AdminSite,
    model: type[models.Model],
    view: str,
    *args: Any,
    request: HttpRequest | None = None,
    permission: str = "view",
) -> str | None:
    """The URL of ``model``'s ``view`` (``changelist``, ``change``, ``history``) on ``site``.

    ``None`` when the model is not registered there, or when ``request``'s
    user lacks ``permission`` on it (``"view"`` also accepts change permission).
    """
    model_admin = site._registry.get(model)
    if model_admin is None:
        return None
    if request is not None:
        allowed = getattr(model_admin, f"has_{permission}_permission")(request)
        if not allowed:
            return None
    opts = model._meta
    try:
        return reverse(
            f"{site.name}:{opts.app_label}_{opts.model_name}_{view}",
            args=args,
            current_app=site.name,
        )
    except NoReverseMatch:
        return None


class ReadOnlyAdmin(_ModelAdmin):
    """Rows are shown, never added or changed; only superusers may delete them.

    Staff see the pages with the model's ``view`` permission. Searching by
    user searches the user model's ``USERNAME_FIELD``.
    """

    #: Searched besides the user's name, e.g. ``("^ip", "url")``.
    search_extra: tuple[str, ...] = ()
    #: The foreign key to the user model that searches look through.
    user_field = "user"
    list_select_related: ClassVar[bool | list[str] | tuple[str, ...]] = ("user",)
    show_full_result_count = False  # a COUNT(*) of a large log table on every page is slow

    def get_search_fields(self, request: HttpRequest) -> list[str]:
        return [f"{self.user_field}__{get_user_model().USERNAME_FIELD}", *self.search_extra]

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        return [field.name for field in self.model._meta.fields]

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return bool(request.user.is_active and request.user.is_superuser)


def missing_object_redirect(model_admin: Any, request: HttpRequest, object_id: str) -> HttpResponse:
    """What the admin answers for a row that does not exist (or the viewer may not see)."""
    response: HttpResponse = model_admin._get_obj_does_not_exist_redirect(
        request, model_admin.opts, object_id
    )
    return response

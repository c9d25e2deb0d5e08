"""SoftDeleteAdminMixin: see, filter, restore and purge soft-deleted rows in the admin.

::

    from django.contrib import admin
    from django_trackable.admin import SoftDeleteAdminMixin

    @admin.register(Post)
    class PostAdmin(SoftDeleteAdminMixin, admin.ModelAdmin):
        list_display = ("title", "author")
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from django.contrib import admin, messages
from django.contrib.admin.utils import quote, unquote
from django.contrib.admin.views.main import ChangeList
from django.core import checks
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import URLPattern, path, reverse
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_POST

from django_trackable import tracking
from django_trackable.admin.base import _Mixin, layout_context, missing_object_redirect
from django_trackable.models.softdelete import deleted_field

if TYPE_CHECKING:
    from django.db.models import QuerySet

__all__ = ["DeletedListFilter", "SoftDeleteAdminMixin"]


class DeletedListFilter(admin.SimpleListFilter):
    """Alive rows (the default), deleted rows, or both."""

    title = _("state")
    parameter_name = "deleted"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, Any]]:
        return [("only", _("Deleted")), ("include", _("All"))]

    def choices(self, changelist: ChangeList) -> Iterator[Any]:
        # Django's first choice, "All", is this filter's default: alive rows only.
        for index, choice in enumerate(super().choices(changelist)):
            if index == 0:
                choice["display"] = _("Alive")
            yield choice

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        value = self.value()
        if value == "only":
            return queryset.only_deleted()  # type: ignore[attr-defined, no-any-return]
        if value == "include":
            return queryset.with_deleted()  # type: ignore[attr-defined, no-any-return]
        return queryset.alive()  # type: ignore[attr-defined, no-any-return]


class SoftDeleteAdminMixin(_Mixin):
    """A ModelAdmin mixin for :class:`~django_trackable.models.SoftDeleteModel` models.

    - The change list shows alive rows by default, with a filter for deleted
      rows and all rows, and a "deleted" column when it lists both; a deleted row's page opens, so
      it can be seen and restored.
    - "Delete" (the action and the button) is the model's soft delete.
    - A "Restore" action (needs the change permission) and a "Delete
      permanently" action (superusers only: :meth:`has_hard_delete_permission`);
      a ModelAdmin that sets its own ``actions`` keeps them with
      ``actions = [*SoftDeleteAdminMixin.actions, ...]``.
    - A deleted row's change form says when and by whom it was deleted, with
      a Restore button (POST, change permission); the delete confirmation
      says that the row can be restored.
    - The change list's "N total" counts alive rows, not the hidden deleted ones.
    - Uniqueness errors against deleted rows show on the form, as the model
      validates against every row.

    The banner comes from ``change_form_template``; an admin that sets its own
    can extend ``admin/django_trackable/softdelete/change_form.html``. List the
    mixin before ``admin.ModelAdmin`` in the bases (check ``E053``).
    """

    #: Keep these when setting your own: ``actions = [*SoftDeleteAdminMixin.actions, ...]``.
    actions: Any = ("restore_selected", "hard_delete_selected")
    change_form_template = "admin/django_trackable/softdelete/change_form.html"
    delete_confirmation_template = "admin/django_trackable/softdelete/delete_confirmation.html"
    delete_selected_confirmation_template = (
        "admin/django_trackable/softdelete/delete_selected_confirmation.html"
    )

    def get_queryset(self, request: HttpRequest) -> QuerySet[Any]:
        # Deleted rows too: the list filter hides them by default.
        return super().get_queryset(request).with_deleted()  # type: ignore[attr-defined, no-any-return]

    def get_list_filter(self, request: HttpRequest) -> Any:
        return (DeletedListFilter, *super().get_list_filter(request))

    def get_changelist(self, request: HttpRequest, **kwargs: Any) -> type[ChangeList]:
        return _alive_total(super().get_changelist(request, **kwargs))

    def get_urls(self) -> list[URLPattern]:
        info = self.opts.app_label, self.opts.model_name
        restore = path(
            "<path:object_id>/restore/",
            self.admin_site.admin_view(require_POST(self.restore_view)),
            name="{}_{}_restore".format(*info),
        )
        # Before the ModelAdmin's own: its "<path:object_id>/" would take this URL.
        return [restore, *super().get_urls()]

    def render_change_form(
        self,
        request: HttpRequest,
        context: dict[str, Any],
        add: bool = False,
        change: bool = False,
        form_url: str = "",
        obj: Any = None,
    ) -> Any:
        if obj is not None and getattr(obj, "is_deleted", False):
            roles = tracking.options_for(self.model).roles
            by = roles.get("deleted_by")
            context.update(layout_context())
            context["trackable_deleted"] = {
                "when": getattr(obj, roles["deleted_at"].attname),
                "by": getattr(obj, by.name) if by is not None else None,
                "restore_url": reverse(
                    f"{self.admin_site.name}:{self.opts.app_label}_{self.opts.model_name}_restore",
                    args=[quote(obj.pk)],
                )
                if self.has_change_permission(request, obj)
                else None,
            }
        return super().render_change_form(request, context, add, change, form_url, obj)

    def restore_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        """Restore one row (POST only, change permission), then show its change form."""
        obj = self.get_object(request, unquote(object_id))
        if obj is None:
            return missing_object_redirect(self, request, object_id)
        if not self.has_change_permission(request, obj):
            raise PermissionDenied
        count, _counts = obj.restore()
        if count:
            message = gettext("Restored %(object)s.") % {"object": obj}
            self.log_change(request, obj, message)
            self.message_user(request, message, messages.SUCCESS)
        else:
            self.message_user(
                request, gettext("%(object)s is not deleted.") % {"object": obj}, messages.INFO
            )
        url = reverse(
            f"{self.admin_site.name}:{self.opts.app_label}_{self.opts.model_name}_change",
            args=[quote(obj.pk)],
        )
        return HttpResponseRedirect(url)

    def get_list_display(self, request: HttpRequest) -> Any:
        # Only where alive and deleted rows are listed together: elsewhere every row
        # would show the same mark.
        shown = super().get_list_display(request)
        if request.GET.get(DeletedListFilter.parameter_name) == "include":
            return (*shown, "deleted")
        return shown

    @admin.display(boolean=True, description=_("deleted"), ordering="date_deleted")
    def deleted(self, obj: Any) -> bool:
        return bool(obj.is_deleted)

    def has_hard_delete_permission(self, request: HttpRequest) -> bool:
        """Who may delete rows for good: superusers."""
        user: Any = request.user
        return bool(user.is_active and user.is_superuser)

    @admin.action(description=_("Restore selected %(verbose_name_plural)s"), permissions=["change"])
    def restore_selected(self, request: HttpRequest, queryset: QuerySet[Any]) -> None:
        count, _counts = queryset.restore()  # type: ignore[attr-defined]
        self.message_user(
            request,
            ngettext("Restored %(count)d row.", "Restored %(count)d rows.", count)
            % {"count": count},
            messages.SUCCESS,
        )

    @admin.action(
        description=_("Delete selected %(verbose_name_plural)s permanently"),
        permissions=["hard_delete"],
    )
    def hard_delete_selected(self, request: HttpRequest, queryset: QuerySet[Any]) -> None:
        if not self.has_hard_delete_permission(request):  # the action list already hides it
            self.message_user(request, _("Only superusers may delete permanently."), messages.ERROR)
            return
        count, _counts = queryset.hard_delete()  # type: ignore[attr-defined]
        self.message_user(
            request,
            ngettext(
                "Deleted %(count)d row permanently.", "Deleted %(count)d rows permanently.", count
            )
            % {"count": count},
            messages.SUCCESS,
        )

    def check(self, **kwargs: Any) -> list[checks.CheckMessage]:
        errors: list[checks.CheckMessage] = list(super().check(**kwargs))
        if deleted_field(self.model) is None:
            errors.append(
                checks.Error(
                    f"{type(self).__name__} uses SoftDeleteAdminMixin, but "
                    f"{self.model._meta.label} is not soft-deletable.",
                    hint="Use it for models derived from django_trackable.models.SoftDeleteModel.",
                    obj=type(self),
                    id="django_trackable.E051",
                )
            )
        return errors


_alive_total_classes: dict[type[ChangeList], type[ChangeList]] = {}


def _alive_total(base: type[ChangeList]) -> type[ChangeList]:
    """``base`` counting alive rows as the "total" (its unfiltered list shows only those)."""
    known = _alive_total_classes.get(base)
    if known is not None:
        return known

    class AliveTotalChangeList(base):  # type: ignore[valid-type, misc]
        def get_results(self, request: HttpRequest) -> None:
            everything: Any = getattr(self, "root_queryset")  # noqa: B009 - untyped in the stubs
            self.root_queryset = everything.alive()
            try:
                super().get_results(request)
            finally:
                self.root_queryset = everything

    AliveTotalChangeList.__name__ = AliveTotalChangeList.__qualname__ = f"AliveTotal{base.__name__}"
    _alive_total_classes[base] = AliveTotalChangeList
    return AliveTotalChangeList

"""Admin support for the lifecycle mixins: see, filter, restore and purge soft-deleted rows.

::

    from django.contrib import admin
    from django_trackable.admin_mixins import SoftDeleteAdminMixin

    @admin.register(Post)
    class PostAdmin(SoftDeleteAdminMixin, admin.ModelAdmin):
        list_display = ("title", "author")
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from django.contrib import admin, messages
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

if TYPE_CHECKING:
    from django.contrib.admin.views.main import ChangeList
    from django.db.models import QuerySet

    _ModelAdmin = admin.ModelAdmin[Any]
else:  # ModelAdmin is generic for type checkers only
    _ModelAdmin = object

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


class SoftDeleteAdminMixin(_ModelAdmin):
    """A ModelAdmin mixin for :class:`~django_trackable.models.SoftDeleteModel` models.

    - The change list shows alive rows by default, with a filter for deleted
      rows and all rows, and a "deleted" column; a deleted row's page opens, so
      it can be seen and restored.
    - "Delete" (the action and the button) is the model's soft delete.
    - A "Restore" action (needs the change permission) and a "Delete
      permanently" action (superusers only: :meth:`has_hard_delete_permission`);
      a ModelAdmin that sets its own ``actions`` keeps them with
      ``actions = [*SoftDeleteAdminMixin.actions, ...]``.
    - Uniqueness errors against deleted rows show on the form, as the model
      validates against every row.
    """

    #: Keep these when setting your own: ``actions = [*SoftDeleteAdminMixin.actions, ...]``.
    actions: Any = ("restore_selected", "hard_delete_selected")

    def get_queryset(self, request: HttpRequest) -> QuerySet[Any]:
        # Deleted rows too: the list filter hides them by default.
        return super().get_queryset(request).with_deleted()  # type: ignore[attr-defined, no-any-return]

    def get_list_filter(self, request: HttpRequest) -> Any:
        return (DeletedListFilter, *super().get_list_filter(request))

    def get_list_display(self, request: HttpRequest) -> Any:
        return (*super().get_list_display(request), "deleted")

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

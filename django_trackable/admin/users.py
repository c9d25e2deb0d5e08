"""UserActivityAdminMixin: from a user's admin page to everything they did.

::

    from django.contrib.auth.admin import UserAdmin
    from django_trackable.admin import UserActivityAdminMixin

    @admin.register(User)
    class MyUserAdmin(UserActivityAdminMixin, UserAdmin):
        ...
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core import checks
from django.http import HttpRequest
from django.utils.html import format_html, format_html_join
from django.utils.http import urlencode
from django.utils.text import capfirst
from django.utils.translation import gettext_lazy as _

from django_trackable.admin.activity import activity_url
from django_trackable.admin.base import _Mixin, admin_url
from django_trackable.admin.filters import ChangedByFilter
from django_trackable.models import AuditLog, LoginAttempt, UserDevice, UserVisit

__all__ = ["UserActivityAdminMixin"]


class UserActivityAdminMixin(_Mixin):
    """An "Activity" fieldset on the user's change form, linking their:

    - changes in the audit log (``AuditLog`` by actor);
    - rows of each tracked model they created or changed (``modified_by()``,
      through the model admin's ``ChangedByFilter``);
    - visits, login attempts and devices.

    Each link shows only to a viewer who may view that list. No queries: the
    links are filtered change lists.
    """

    activity_fieldset_name: Any = _("Activity")

    def get_fieldsets(self, request: HttpRequest, obj: Any = None) -> Any:
        fieldsets = list(super().get_fieldsets(request, obj))
        if obj is None or obj.pk is None:
            return fieldsets
        links = self.activity_links(request, obj)
        if links:
            description = format_html(
                '<ul class="trackable-activity-links">{}</ul>',
                format_html_join("", '<li><a href="{}">{}</a></li>', links),
            )
            fieldsets.append(
                (self.activity_fieldset_name, {"fields": (), "description": description})
            )
        return fieldsets

    def activity_links(self, request: HttpRequest, user: Any) -> list[tuple[str, str]]:
        """``(url, label)`` for each list of ``user``'s activity the viewer may see."""
        site = self.admin_site
        links: list[tuple[str, str]] = []

        def add(model: Any, lookup: str, label: Any) -> None:
            url = admin_url(site, model, "changelist", request=request)
            if url is not None:
                links.append((f"{url}?{urlencode({lookup: user.pk})}", str(label)))

        add(AuditLog, "actor__id__exact", _("Changes they made (audit log)"))
        for model, model_admin in site._registry.items():
            if ChangedByFilter in model_admin.get_list_filter(request):
                add(
                    model,
                    ChangedByFilter.parameter_name,
                    _("%(models)s they created or changed")
                    % {"models": capfirst(model._meta.verbose_name_plural)},
                )
        add(UserVisit, "user__id__exact", _("Visits"))
        add(LoginAttempt, "user__id__exact", _("Login attempts"))
        add(UserDevice, "user__id__exact", _("Devices"))
        activity = activity_url(site)
        if activity is not None and links:
            links.append((activity, str(_("Activity charts (all users)"))))
        return links

    def check(self, **kwargs: Any) -> list[checks.CheckMessage]:
        errors: list[checks.CheckMessage] = list(super().check(**kwargs))
        if self.model._meta.label != settings.AUTH_USER_MODEL:
            errors.append(
                checks.Error(
                    f"{type(self).__name__} uses UserActivityAdminMixin, but "
                    f"{self.model._meta.label} is not the user model "
                    f"({settings.AUTH_USER_MODEL}).",
                    hint="Use it on the admin of settings.AUTH_USER_MODEL.",
                    obj=type(self),
                    id="django_trackable.E052",
                )
            )
        return errors

"""UserActivityAdminMixin: a user's page links their changes, visits, logins and devices."""

from __future__ import annotations

import pytest
from django.contrib import admin
from django.contrib.auth.models import Permission

from django_trackable import acting_as
from django_trackable.admin import UserActivityAdminMixin
from django_trackable.models import AuditLog, LoginAttempt, UserVisit
from tests.testapp.models import Product

pytestmark = [pytest.mark.django_db, pytest.mark.urls("tests.adminapp.urls")]


def links_on(response):
    fieldsets = response.context["adminform"].fieldsets
    (activity,) = [options for name, options in fieldsets if name == "Activity"]
    return str(activity["description"])


def test_the_user_page_links_each_kind_of_activity(admin_client, alice):
    response = admin_client.get(f"/admin/auth/user/{alice.pk}/change/")

    html = links_on(response)
    assert f"/admin/django_trackable/auditlog/?actor__id__exact={alice.pk}" in html
    assert f"/admin/testapp/product/?changed_by={alice.pk}" in html
    assert f"/admin/adminapp/issue/?changed_by={alice.pk}" in html
    assert f"/admin/django_trackable/uservisit/?user__id__exact={alice.pk}" in html
    assert f"/admin/django_trackable/loginattempt/?user__id__exact={alice.pk}" in html
    assert f"/admin/django_trackable/userdevice/?user__id__exact={alice.pk}" in html
    assert "/admin/django_trackable/auditlog/activity/" in html
    assert "Activity" in response.content.decode()


def test_the_links_lead_to_the_users_rows(admin_client, alice, bob, rf):
    with acting_as(alice):
        Product.objects.create(name="Alice's")
    with acting_as(bob):
        Product.objects.create(name="Bob's")
    AuditLog.objects.create(actor=alice, action="update")
    UserVisit.objects.record(rf.get("/"), user=alice)
    LoginAttempt.objects.record(None, successful=True, user=alice)

    products = admin_client.get("/admin/testapp/product/", {"changed_by": alice.pk})
    changes = admin_client.get("/admin/django_trackable/auditlog/", {"actor__id__exact": alice.pk})
    visits = admin_client.get("/admin/django_trackable/uservisit/", {"user__id__exact": alice.pk})
    devices = admin_client.get("/admin/django_trackable/userdevice/", {"user__id__exact": bob.pk})

    assert [p.name for p in products.context["cl"].result_list] == ["Alice's"]
    assert len(changes.context["cl"].result_list) == 1
    assert len(visits.context["cl"].result_list) == 1
    assert len(devices.context["cl"].result_list) == 0


def test_a_viewer_sees_only_the_links_they_may_follow(client, django_user_model, alice):
    staff = django_user_model.objects.create_user("staff", password="pw", is_staff=True)
    staff.user_permissions.set(
        Permission.objects.filter(codename__in=["view_user", "view_uservisit"])
    )
    client.force_login(staff)

    html = links_on(client.get(f"/admin/auth/user/{alice.pk}/change/"))

    assert "uservisit" in html
    assert "auditlog/?" not in html and "product" not in html and "loginattempt" not in html


def test_the_add_form_has_no_activity(admin_client):
    response = admin_client.get("/admin/auth/user/add/")

    assert "Activity" not in [name for name, _options in response.context["adminform"].fieldsets]


def test_no_links_no_fieldset(rf, admin_user, alice):
    from django.contrib.auth.admin import UserAdmin

    class LonelyUserAdmin(UserActivityAdminMixin, UserAdmin):
        pass

    request = rf.get("/")
    request.user = admin_user
    model_admin = LonelyUserAdmin(type(alice), admin.AdminSite(name="lonely"))

    names = [name for name, _options in model_admin.get_fieldsets(request, alice)]

    assert "Activity" not in names


def test_check_e052_the_mixin_belongs_on_the_user_admin():
    class NotUsersAdmin(UserActivityAdminMixin, admin.ModelAdmin):
        pass

    errors = NotUsersAdmin(Product, admin.AdminSite()).check()

    assert [e.id for e in errors] == ["django_trackable.E052"]

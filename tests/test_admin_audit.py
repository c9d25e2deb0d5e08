"""The audit log's admin: read-only, filtered, searched, linked, permission-checked."""

from __future__ import annotations

import datetime

import pytest
from django.contrib import admin
from django.contrib.auth.models import Permission
from django.contrib.contenttypes.models import ContentType

from django_trackable.admin import AuditLogAdmin
from django_trackable.models import AuditLog
from tests.testapp.models import Product

pytestmark = [pytest.mark.django_db, pytest.mark.urls("tests.adminapp.urls")]

CHANGELIST = "/admin/django_trackable/auditlog/"
SECRET = "sk-audit-secret"


@pytest.fixture
def logged(alice, bob):
    lamp = Product.objects.create(name="Lamp")
    chair = Product.objects.create(name="Chair")
    product_type = ContentType.objects.get_for_model(Product)
    rows = [
        AuditLog.objects.create(
            actor=alice,
            actor_repr="alice",
            action="update",
            content_type=product_type,
            object_id=str(lamp.pk),
            target_repr="Lamp",
            changes={"price": ["24.90", "19.90"], "api_key": [SECRET, SECRET + "2"]},
            extra={"reason": "sale", "request_id": "r-1"},
        ),
        AuditLog.objects.create(
            actor=bob,
            actor_repr="bob",
            action="create",
            content_type=product_type,
            object_id=str(chair.pk),
            target_repr="Chair",
            changes={"name": [None, "Chair"]},
        ),
        AuditLog.objects.create(
            actor=None,
            action="delete",
            content_type=ContentType.objects.get_for_model(Permission),
            object_id="5",
            target_repr="Some permission",
        ),
    ]
    return lamp, chair, rows


def listed(response):
    return [row.target_repr for row in response.context["cl"].result_list]


def test_the_audit_log_is_registered_on_the_default_site():
    assert isinstance(admin.site._registry[AuditLog], AuditLogAdmin)


def test_the_list_shows_every_row_newest_first(admin_client, logged):
    response = admin_client.get(CHANGELIST)

    assert response.status_code == 200
    assert listed(response) == ["Some permission", "Chair", "Lamp"]
    assert response.context["cl"].date_hierarchy == "timestamp"


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({"action": "create"}, ["Chair"]),
        ({"q": "Lamp"}, ["Lamp"]),
        ({"q": "bob"}, ["Chair"]),
    ],
)
def test_the_list_filters_and_searches(admin_client, logged, query, expected):
    assert listed(admin_client.get(CHANGELIST, query)) == expected


def test_the_list_filters_by_model_and_actor(admin_client, alice, logged):
    product_type = ContentType.objects.get_for_model(Product)

    by_model = admin_client.get(CHANGELIST, {"content_type__id__exact": product_type.pk})
    by_actor = admin_client.get(CHANGELIST, {"actor__id__exact": alice.pk})

    assert listed(by_model) == ["Chair", "Lamp"]
    assert listed(by_actor) == ["Lamp"]


def test_the_list_searches_by_exact_object_id(admin_client, logged):
    lamp, _chair, _rows = logged

    assert listed(admin_client.get(CHANGELIST, {"q": str(lamp.pk)})) == ["Lamp"]


def test_rows_link_to_their_objects_history_page(admin_client, logged):
    lamp, _chair, _rows = logged

    response = admin_client.get(CHANGELIST)

    assert f'href="/admin/testapp/product/{lamp.pk}/history/"' in response.content.decode()


def test_a_row_shows_its_changes_readably_and_masked(admin_client, logged):
    _lamp, _chair, rows = logged

    response = admin_client.get(f"{CHANGELIST}{rows[0].pk}/change/")

    html = response.content.decode()
    assert response.status_code == 200
    assert "24.90" in html and "19.90" in html
    assert "changed (hidden)" in html
    assert SECRET not in html
    assert "request_id" in html and "sale" in html


def test_a_row_of_a_model_that_is_gone_still_shows(admin_client, logged):
    _lamp, _chair, rows = logged
    gone = ContentType.objects.create(app_label="gone", model="vanished")
    AuditLog.objects.filter(pk=rows[1].pk).update(content_type=gone)

    list_page = admin_client.get(CHANGELIST)
    row_page = admin_client.get(f"{CHANGELIST}{rows[1].pk}/change/")

    assert list_page.status_code == row_page.status_code == 200
    assert b"Chair" in row_page.content


def test_nobody_adds_or_changes_rows(admin_client, logged):
    _lamp, _chair, rows = logged

    assert admin_client.get(f"{CHANGELIST}add/").status_code == 403
    page = admin_client.get(f"{CHANGELIST}{rows[0].pk}/change/")
    assert page.context["has_change_permission"] is False


def test_superusers_may_delete_rows(admin_client, logged):
    _lamp, _chair, rows = logged

    admin_client.post(f"{CHANGELIST}{rows[0].pk}/delete/", {"post": "yes"})

    assert not AuditLog.objects.filter(pk=rows[0].pk).exists()


def test_staff_need_view_auditlog(client, staff_with, logged):
    client.force_login(staff_with("view_product"))

    assert client.get(CHANGELIST).status_code == 403


def test_staff_with_view_auditlog_see_rows_but_may_not_delete_them(client, staff_with, logged):
    _lamp, _chair, rows = logged
    client.force_login(staff_with("view_auditlog"))

    assert client.get(CHANGELIST).status_code == 200
    assert client.post(f"{CHANGELIST}{rows[0].pk}/delete/", {"post": "yes"}).status_code == 403
    assert AuditLog.objects.filter(pk=rows[0].pk).exists()


def test_the_list_never_renders_masked_values(admin_client, logged):
    response = admin_client.get(CHANGELIST)

    assert SECRET not in response.content.decode()


def test_the_list_has_the_changes_chart(admin_client, logged):
    response = admin_client.get(CHANGELIST)

    chart = response.context["trackable_chart"]
    assert chart.key == "changes"
    assert chart.days[-1].total == 3
    assert b'id="trackable-chart-changes"' in response.content


def test_the_charts_period_is_not_taken_for_a_filter(admin_client, logged):
    response = admin_client.get(CHANGELIST, {"_days": "90", "action": "update"})

    assert response.status_code == 200
    assert len(response.context["trackable_chart"].days) == 90
    assert listed(response) == ["Lamp"]


def test_rows_older_than_the_period_are_not_counted(admin_client, logged):
    _lamp, _chair, rows = logged
    old = rows[0].timestamp - datetime.timedelta(days=60)
    AuditLog.objects.filter(pk=rows[0].pk).update(timestamp=old)

    recent = admin_client.get(CHANGELIST).context["trackable_chart"]
    longer = admin_client.get(CHANGELIST, {"_days": "90"}).context["trackable_chart"]

    assert (recent.total, longer.total) == (2, 3)

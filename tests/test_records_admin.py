"""The records inline and chart in the admin: read-only, bounded, no JavaScript."""

from __future__ import annotations

import datetime
import re
from decimal import Decimal

import pytest
import time_machine
from django.contrib import admin
from django.contrib.auth.models import Permission
from django.core.exceptions import ImproperlyConfigured
from django.db import connection
from django.test.utils import CaptureQueriesContext

from django_trackable.admin.records import (
    RecordChartMixin,
    RecordInline,
    record_chart,
    record_inline,
)
from tests.recordsapp.models import Article, Item, ItemRecord, Supplier, Tag
from tests.test_records_queries import at

pytestmark = pytest.mark.django_db


@pytest.fixture
def item():
    supplier = Supplier.objects.create(name="ACME")
    with time_machine.travel(at(2026, 3, 1, 9), tick=False):
        item = Item.objects.create(name="Lamp", price=Decimal("10.00"), supplier=supplier)
    for day, price in ((2, "12.00"), (3, "11.00"), (4, "15.00")):
        with time_machine.travel(at(2026, 3, day, 9), tick=False):
            item.price = Decimal(price)
            item.save()
    return item


@pytest.fixture
def staff(django_user_model):
    def make(*codenames):
        user = django_user_model.objects.create_user("staff", password="pw", is_staff=True)
        user.user_permissions.set(Permission.objects.filter(codename__in=codenames))
        return user

    return make


def url(item):
    return f"/admin/recordsapp/item/{item.pk}/change/"


def test_the_inline_lists_the_newest_records_read_only(admin_client, item):
    page = admin_client.get(url(item)).content.decode()
    inline = page[page.index("Records (newest first)") :]
    inline = inline[: inline.index("</fieldset>")]
    # records_limit = 3: the three newest of four, newest first.
    assert re.findall(r'field-price">\s*<p>([^<]*)</p>', inline) == ["15.00", "11.00", "12.00"]
    assert re.findall(r'field-price_with_tax">\s*<p>([^<]*)</p>', inline)[0] == "18.00"
    assert 'name="records-0-price"' not in page  # read-only: no inputs
    assert "Add another" not in inline


def test_the_chart_is_an_svg_of_the_chosen_value_without_javascript(admin_client, item):
    page = admin_client.get(url(item)).content.decode()
    svg = page[page.index("trackable-record-chart") :]
    svg = svg[: svg.index("</svg>")]
    assert svg.count("<circle") == 4
    assert "18" in svg and "12" in svg  # the highest and lowest price with tax
    assert "<script" not in svg


def test_the_inline_and_the_chart_cost_one_query_each(admin_client, item):
    with CaptureQueriesContext(connection) as captured:
        admin_client.get(url(item))
    on_records = [q for q in captured if ItemRecord._meta.db_table in q["sql"]]
    assert len(on_records) == 2


def test_staff_who_may_view_the_instance_see_its_records(client, staff, item):
    client.force_login(staff("view_item"))
    page = client.get(url(item)).content.decode()
    assert "Records (newest first)" in page
    assert "trackable-record-chart" in page


def test_staff_without_permission_on_the_instance_see_nothing(client, staff, item):
    client.force_login(staff("view_tag"))
    assert client.get(url(item)).status_code == 403


def test_saving_the_form_with_the_inline_shown_records_the_change(admin_client, item):
    page = admin_client.get(url(item)).content.decode()
    management = dict(re.findall(r'name="(records-[A-Z_]+)"[^>]*value="(\d*)"', page))
    response = admin_client.post(
        url(item),
        {
            "name": "Lamp",
            "price": "20.00",
            "tax_rate": "0.20",
            "supplier": item.supplier_id,
            **management,
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    assert item.records.latest().price == Decimal("20.00")


def test_an_instance_without_records_shows_a_note(item):
    item.records.all().delete()
    assert "No records yet" in record_chart(item, "price")


def test_one_record_is_drawn_as_a_point(item):
    ItemRecord.objects.exclude(pk=item.records.latest().pk).delete()
    assert record_chart(item, "price").count("<circle") == 1


def test_the_chart_can_show_one_point_per_period(item):
    with time_machine.travel(at(2026, 3, 4, 18), tick=False):
        item.price = Decimal("16.00")
        item.save()
    assert record_chart(item, "price").count("<circle") == 5
    assert record_chart(item, "price", rule="D").count("<circle") == 4


def test_record_inline_makes_the_inline_class_of_a_recorded_model():
    inline = record_inline(Item, records_limit=7)
    assert issubclass(inline, RecordInline)
    assert (inline.model, inline.records_limit) == (ItemRecord, 7)
    with pytest.raises(ImproperlyConfigured, match="not a recorded model"):
        record_inline(Tag)


def test_the_registered_admins_pass_their_checks():
    assert admin.site._registry[Item].check() == []
    assert admin.site._registry[Article].check() == []


@pytest.mark.parametrize(
    ("model", "options", "problem"),
    [
        (Tag, {"record_chart_field": "x"}, "not a recorded model"),
        (Item, {}, "record_chart_field is not set"),
        (Item, {"record_chart_field": "label"}, "not a numeric column"),
        (Item, {"record_chart_field": "nope"}, "not a numeric column"),
        (Item, {"record_chart_field": "recording"}, "not a numeric column"),
        (Item, {"record_chart_field": "price", "record_chart_rule": "15T"}, "not a resample"),
    ],
)
def test_a_misconfigured_chart_is_error_e074(model, options, problem):
    chart_admin = type("ChartAdmin", (RecordChartMixin, admin.ModelAdmin), options)
    (error,) = [
        m
        for m in chart_admin(model, admin.AdminSite()).check()
        if m.id.startswith("django_trackable")
    ]
    assert error.id == "django_trackable.E074"
    assert problem in error.msg


def test_the_add_form_has_no_chart(admin_client):
    page = admin_client.get("/admin/recordsapp/item/add/").content.decode()
    assert "trackable-record-chart" not in page


def test_chart_values_are_numbers_and_unusable_ones_are_left_out():
    from django_trackable.admin.records import _number

    assert _number(Decimal("1.5")) == 1.5
    assert _number(datetime.timedelta(minutes=2)) == 120.0
    for value in (None, "12", float("nan"), float("inf")):
        assert _number(value) is None

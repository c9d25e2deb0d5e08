"""The demo's admin: status actions, one visit per page, and change lists that load."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.contrib import admin
from django.contrib.messages import get_messages
from django.contrib.messages.storage.fallback import FallbackStorage
from shop.admin import OrderAdmin
from shop.models import Order, Product

from django_trackable.models import UserVisit

pytestmark = pytest.mark.django_db

ORDERS = "/admin/shop/order/"


@pytest.fixture
def orders(db):
    lamp = Product.objects.create(name="Lamp", sku="LAMP-9", price=Decimal("9.99"))
    new = Order.objects.create(product=lamp, quantity=1)
    shipped = Order.objects.create(product=lamp, quantity=2)
    shipped.transition_to(Order.Status.PAID)
    shipped.transition_to(Order.Status.SHIPPED)
    return new, shipped


def _act(client, action, *orders):
    response = client.post(
        ORDERS, {"action": action, "_selected_action": [o.pk for o in orders]}, follow=True
    )
    assert response.status_code == 200
    return [(m.level_tag, m.message) for m in get_messages(response.wsgi_request)]


def test_the_order_list_offers_one_action_per_status_an_order_can_reach(orders, admin_client):
    html = admin_client.get(ORDERS).content.decode()
    for action in ("mark_paid", "mark_shipped", "mark_cancelled"):
        assert f'value="{action}"' in html
    assert 'value="mark_new"' not in html  # no transition leads back to "new"
    assert "paid, cancelled" in html  # what the new order can become


def test_marking_an_order_as_paid_is_a_transition_by_the_admin(orders, admin_client, admin_user):
    new, _shipped = orders
    assert _act(admin_client, "mark_paid", new) == [("success", "1 order marked as paid.")]
    new.refresh_from_db()
    assert new.status == Order.Status.PAID
    entry = new.history[-1]
    assert (entry["action"], entry["changes"], entry["user"]) == (
        "transition",
        {"status": ["new", "paid"]},
        admin_user.pk,
    )


def test_a_transition_the_model_does_not_allow_is_an_error_and_changes_nothing(
    orders, admin_client
):
    new, shipped = orders
    messages = _act(admin_client, "mark_paid", new, shipped)
    assert messages == [
        (
            "error",
            f"{shipped} is shipped: it cannot become paid (it can become: nothing).",
        ),
        ("success", "1 order marked as paid."),
    ]
    shipped.refresh_from_db()
    assert shipped.status == Order.Status.SHIPPED
    assert [e["action"] for e in shipped.history].count("transition") == 2


def test_an_order_changed_by_someone_else_meanwhile_is_left_as_it_is(orders, rf, admin_user):
    new, _shipped = orders
    stale = Order.objects.get(pk=new.pk)  # as the change list loaded it: "new"
    new.transition_to(Order.Status.CANCELLED)  # someone else, first
    request = rf.post(ORDERS)
    request.user = admin_user
    request.session = {}
    request._messages = FallbackStorage(request)
    OrderAdmin(Order, admin.site).transition_selected(request, [stale], Order.Status.PAID)
    assert [(m.level_tag, m.message) for m in request._messages] == [
        (
            "warning",
            f"{stale} was changed by someone else (it is cancelled now); it was left as it is.",
        )
    ]
    new.refresh_from_db()
    assert new.status == Order.Status.CANCELLED


def test_staff_without_the_change_permission_get_no_status_actions(
    orders, client, django_user_model
):
    from django.contrib.auth.models import Permission

    viewer = django_user_model.objects.create_user("viewer@example.com", "pw", is_staff=True)
    viewer.user_permissions.add(Permission.objects.get(codename="view_order"))
    client.force_login(viewer)
    assert 'value="mark_paid"' not in client.get(ORDERS).content.decode()


def test_an_admin_page_is_one_visit_its_javascript_catalogue_none(admin_client, admin_user):
    assert admin_client.get("/admin/").status_code == 200
    assert admin_client.get("/admin/jsi18n/").status_code == 200
    assert list(UserVisit.objects.values_list("url", flat=True)) == ["/admin/"]


@pytest.mark.parametrize(
    "url",
    [
        "/",
        "/admin/shop/product/?deleted=include",
        "/admin/shop/product/?deleted=only",
        ORDERS,
        "/admin/shop/supplier/",
        "/admin/accounts/user/",
        "/admin/django_trackable/uservisit/",
        "/admin/django_trackable/loginattempt/?successful__exact=0",
        "/admin/django_trackable/userdevice/",
    ],
)
def test_every_list_of_the_seeded_demo_loads(seed, admin_client, url):
    seed()
    assert admin_client.get(url).status_code == 200


def test_the_seeded_visits_show_where_and_on_what_they_came(seed, admin_client):
    seed()
    html = admin_client.get("/admin/django_trackable/uservisit/").content.decode()
    html = html.replace("<wbr>", "")  # where a URL may wrap
    assert "London, GB" in html and "São Paulo, BR" in html
    assert "Mobile Safari 17.0 on iOS 17.0, iPad (tablet)" in html
    assert "/admin/shop/supplier/999/change/ → 404" in html

"""django-simple-history with our context: users, reasons, soft deletes and bulk writes."""

from __future__ import annotations

import httpx
import pytest
from asgiref.sync import sync_to_async
from django.core.asgi import get_asgi_application
from django.db import transaction
from django.test import Client
from rest_framework.authtoken.models import Token
from simple_history.utils import bulk_create_with_history, bulk_update_with_history

from django_trackable import acting_as
from django_trackable import checks as trackable_checks
from django_trackable.integrations.simple_history import get_user
from tests.integrationsapp.models import Page, PlainPage, Section

pytestmark = pytest.mark.django_db

HistoricalPage = Page.records.model


@pytest.fixture
def page():
    return Page.objects.create(title="Home")


def logged_in(user):
    client = Client()
    client.force_login(user)
    return client


def test_a_save_in_a_view_is_attributed_without_simple_historys_middleware(page, alice):
    response = logged_in(alice).get(f"/integrations/pages/{page.pk}/rename/?title=Web")

    assert response.status_code == 200
    assert page.records.latest().history_user == alice


def test_drf_token_authenticated_user_is_the_history_user(page, alice):
    token = Token.objects.create(user=alice)
    response = Client().patch(
        f"/integrations/api/pages/{page.pk}/",
        data={"title": "API"},
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Token {token.key}",
    )

    assert response.status_code == 200, response.content
    assert page.records.latest().history_user == alice


@pytest.mark.django_db(transaction=True)
async def test_an_async_view_through_asgi_is_attributed(django_user_model):
    @sync_to_async
    def setup():
        user = django_user_model.objects.create_user("async-user")
        page = Page.objects.create(title="Home")
        client = Client()
        client.force_login(user)
        return user, page, client.cookies["sessionid"].value

    user, page, cookie = await setup()
    transport = httpx.ASGITransport(app=get_asgi_application())
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        response = await client.get(
            f"/integrations/pages/{page.pk}/arename/?title=Async",
            headers={"Cookie": f"sessionid={cookie}"},
        )

    assert response.status_code == 200
    record = await sync_to_async(page.records.latest)()
    assert record.history_user_id == user.pk
    assert record.title == "Async"


def test_acting_as_attributes_and_its_reason_is_the_change_reason(alice):
    with acting_as(alice, reason="data fix"):
        page = Page.objects.create(title="Home")

    record = page.records.get()
    assert record.history_user == alice
    assert record.history_change_reason == "data fix"


def test_a_change_reason_set_on_the_instance_is_kept(alice):
    page = Page(title="Home")
    page._change_reason = "typed by hand"
    with acting_as(alice, reason="ours"):
        page.save()

    assert page.records.get().history_change_reason == "typed by hand"


def test_a_reason_longer_than_the_column_is_cut_to_fit(alice):
    with acting_as(alice, reason="x" * 500):
        page = Page.objects.create(title="Home")

    assert page.records.get().history_change_reason == "x" * 100


def test_the_reason_reaches_models_with_their_own_get_user_too():
    with acting_as(None, reason="cleanup"):
        plain = PlainPage.objects.create(title="Plain")

    record = plain.records.get()
    assert record.history_change_reason == "cleanup"
    assert record.history_user is None


def test_get_user_falls_back_to_simple_historys_request_outside_ours(alice, rf):
    request = rf.get("/")
    request.user = alice

    assert get_user(request=request, instance=None) == alice
    with acting_as(None):
        assert get_user(request=None) is None


def test_a_historical_row_keeps_the_rows_stamps(alice, time_machine):
    time_machine.move_to("2026-05-01 08:00Z")
    with acting_as(alice):
        page = Page.objects.create(title="Home")
    time_machine.move_to("2026-05-02 08:00Z")
    page.title = "Later"
    page.save()

    record = page.records.latest()
    assert record.created_at == page.created_at
    assert record.created_by_id == alice.pk
    assert record.updated_at == page.updated_at


def test_historical_models_raise_no_trackable_check_warnings():
    messages = trackable_checks.check_models() + trackable_checks.check_lifecycle_models()
    assert [m for m in messages if m.obj is HistoricalPage] == []


def test_a_soft_delete_and_a_restore_leave_historical_records(page, alice):
    with acting_as(alice, reason="spam"):
        page.delete()
    deleted = page.records.latest()
    assert deleted.history_type == "~"
    assert deleted.date_deleted == page.date_deleted
    assert deleted.deleted_by == alice
    assert deleted.history_user == alice
    assert deleted.history_change_reason == "spam"

    with acting_as(alice):
        page.restore()
    restored = page.records.latest()
    assert restored.date_deleted is None
    assert page.records.count() == 3


def test_a_queryset_soft_delete_records_each_row_and_its_cascade(alice):
    pages = [Page.objects.create(title=f"p{i}") for i in range(3)]
    Section.objects.create(page=pages[0], heading="s0")
    Section.objects.create(page=pages[0], heading="s1")
    before = HistoricalPage.objects.count()

    with acting_as(alice):
        Page.objects.filter(pk__in=[p.pk for p in pages[:2]]).delete()

    assert HistoricalPage.objects.count() == before + 2
    section_records = Section.records.model.objects.filter(history_type="~")
    assert section_records.count() == 2
    assert all(r.date_deleted is not None and r.history_user == alice for r in section_records)

    Page.all_objects.filter(pk=pages[0].pk).restore()
    assert section_records.filter(date_deleted__isnull=True).count() == 2


def test_a_rolled_back_soft_delete_leaves_no_historical_record(page):
    with pytest.raises(RuntimeError), transaction.atomic():
        page.delete()
        raise RuntimeError("rolled back")

    assert page.records.count() == 1
    assert Page.objects.filter(pk=page.pk).exists()


def test_deleting_a_row_already_deleted_records_nothing(page):
    page.delete()
    count = page.records.count()
    Page.all_objects.filter(pk=page.pk).delete()
    assert page.records.count() == count


def test_bulk_helpers_record_both_histories_with_our_user(alice):
    with acting_as(alice, reason="bulk"):
        created = bulk_create_with_history([Page(title="a"), Page(title="b")], Page)
        # Our bulk_update diffs against load-time values: load first.
        loaded = list(Page.objects.filter(pk__in=[p.pk for p in created]).order_by("pk"))
        for page in loaded:
            page.title += "!"
        bulk_update_with_history(loaded, Page, ["title"], default_change_reason="bulk")

    records = HistoricalPage.objects.filter(id__in=[p.pk for p in created])
    assert records.count() == 4
    assert {r.history_user_id for r in records} == {alice.pk}
    for page in Page.objects.filter(pk__in=[p.pk for p in created]):
        assert [e["action"] for e in page.history] == ["create", "update"]
        assert page.history[-1]["user"] == alice.pk


def test_queryset_update_is_in_our_history_but_not_in_simple_historys(page):
    Page.objects.filter(pk=page.pk).update(title="Bulk")

    page.refresh_from_db()
    assert page.history[-1]["changes"] == {"title": ["Home", "Bulk"]}
    assert page.records.count() == 1


def test_soft_deletes_write_historical_records_in_batches(monkeypatch, alice):
    from django_trackable.integrations import simple_history

    monkeypatch.setattr(simple_history, "BATCH_SIZE", 2)
    pages = [Page.objects.create(title=f"p{i}") for i in range(5)]

    with acting_as(alice):
        Page.objects.filter(pk__in=[p.pk for p in pages]).delete()

    assert HistoricalPage.objects.filter(history_type="~", history_user=alice).count() == 5


def test_disconnect_stops_reasons_and_soft_delete_records(page):
    from django_trackable.integrations import simple_history

    simple_history.disconnect()
    try:
        with acting_as(None, reason="ignored"):
            page.title = "Quiet"
            page.save()
            page.delete()
    finally:
        simple_history.connect()

    assert page.records.count() == 2
    assert page.records.latest().history_change_reason is None


def test_a_reason_that_cannot_be_text_or_is_empty_is_no_reason():
    class Unprintable:
        def __str__(self):
            raise RuntimeError("no text")

    with acting_as(None, reason=Unprintable()):
        first = Page.objects.create(title="a")
    with acting_as(None, reason=""):
        second = Page.objects.create(title="b")

    assert first.records.get().history_change_reason is None
    assert second.records.get().history_change_reason is None

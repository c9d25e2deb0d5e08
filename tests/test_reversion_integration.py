"""django-reversion revisions get the context's user and reason: sync, async, DRF, acting_as."""

from __future__ import annotations

import logging

import httpx
import pytest
import reversion
from asgiref.sync import sync_to_async
from django.core.asgi import get_asgi_application
from django.db import transaction
from django.test import Client
from rest_framework.authtoken.models import Token
from reversion.models import Revision, Version

from django_trackable import acting_as
from django_trackable.integrations import reversion as integration
from tests.integrationsapp.models import Article

pytestmark = pytest.mark.django_db


@pytest.fixture
def article():
    return Article.objects.create(title="Draft")


def latest_revision(article):
    return Version.objects.get_for_object(article).first().revision


def logged_in(user):
    client = Client()
    client.force_login(user)
    return client


def test_a_revision_inside_acting_as_gets_the_user_and_the_reason_as_comment(article, alice):
    with acting_as(alice, reason="nightly import"), reversion.create_revision():
        article.title = "Final"
        article.save()

    revision = latest_revision(article)
    assert revision.user == alice
    assert revision.comment == "nightly import"


def test_what_reversion_was_given_is_kept(article, alice, bob):
    with acting_as(alice, reason="ours"), reversion.create_revision():
        reversion.set_user(bob)
        reversion.set_comment("theirs")
        article.title = "Final"
        article.save()

    revision = latest_revision(article)
    assert (revision.user, revision.comment) == (bob, "theirs")


def test_acting_as_nobody_leaves_the_revision_without_user(article):
    with acting_as(None), reversion.create_revision():
        article.title = "Final"
        article.save()

    revision = latest_revision(article)
    assert revision.user is None
    assert revision.comment == ""


def test_a_user_that_is_not_a_saved_user_is_not_set(article, django_user_model):
    with acting_as(django_user_model(username="unsaved")), reversion.create_revision():
        article.title = "Final"
        article.save()

    assert latest_revision(article).user is None


def test_a_sync_view_with_create_revision_gets_the_logged_in_user(article, alice):
    response = logged_in(alice).get(f"/integrations/articles/{article.pk}/rename/?title=Web")

    assert response.status_code == 200
    assert latest_revision(article).user == alice


def test_reversions_middleware_and_ours_agree(article, alice, settings):
    settings.MIDDLEWARE = [*settings.MIDDLEWARE, "reversion.middleware.RevisionMiddleware"]
    client = logged_in(alice)

    response = client.post(f"/integrations/articles/{article.pk}/rename/?title=Web")

    assert response.status_code == 200
    assert latest_revision(article).user == alice


def test_drf_token_authenticated_user_is_the_revisions_user(article, alice):
    token = Token.objects.create(user=alice)
    response = Client().patch(
        f"/integrations/api/articles/{article.pk}/",
        data={"title": "API"},
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Token {token.key}",
    )

    assert response.status_code == 200, response.content
    assert latest_revision(article).user == alice


@pytest.mark.django_db(transaction=True)
async def test_an_async_view_through_asgi_gets_the_logged_in_user(alice_async):
    user, article, cookie = alice_async
    transport = httpx.ASGITransport(app=get_asgi_application())
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        response = await client.get(
            f"/integrations/articles/{article.pk}/arename/?title=Async",
            headers={"Cookie": f"sessionid={cookie}"},
        )

    assert response.status_code == 200
    revision = await sync_to_async(latest_revision)(article)
    assert revision.user_id == user.pk


@pytest.fixture
async def alice_async(django_user_model):
    @sync_to_async
    def setup():
        user = django_user_model.objects.create_user("alice-async")
        article = Article.objects.create(title="Draft")
        client = Client()
        client.force_login(user)
        return user, article, client.cookies["sessionid"].value

    return await setup()


def test_a_rolled_back_revision_leaves_nothing(article, alice):
    with pytest.raises(RuntimeError), acting_as(alice), transaction.atomic():
        with reversion.create_revision():
            article.title = "Final"
            article.save()
        raise RuntimeError("rolled back")

    assert not Revision.objects.exists()
    article.refresh_from_db()
    assert article.title == "Draft"


def test_a_context_that_cannot_be_read_is_logged_and_the_revision_saved(
    article, monkeypatch, caplog
):
    def broken():
        raise RuntimeError("session store down")

    monkeypatch.setattr(integration, "get_current_user", broken)
    with caplog.at_level(logging.ERROR), reversion.create_revision():
        article.title = "Final"
        article.save()

    assert latest_revision(article).user is None
    assert "could not attribute" in caplog.text


def test_disconnect_leaves_revisions_to_reversion(article, alice):
    integration.disconnect()
    try:
        with acting_as(alice, reason="ours"), reversion.create_revision():
            article.title = "Final"
            article.save()
    finally:
        integration.connect()

    revision = latest_revision(article)
    assert (revision.user, revision.comment) == (None, "")


def _two_versions(alice):
    with acting_as(alice), reversion.create_revision():
        article = Article.objects.create(title="one", body="first")
    with acting_as(alice), reversion.create_revision():
        article.title = "two"
        article.save()
    return article, Version.objects.get_for_object(article).last()


def test_reversions_raw_revert_alone_writes_the_old_history_back(alice):
    article, first = _two_versions(alice)

    first.revert()

    article.refresh_from_db()
    assert (len(article.history), article.version) == (1, 1)  # the trap tracked_reverts avoids


def test_a_revert_inside_tracked_reverts_keeps_the_history_and_records_it(alice, bob):
    article, first = _two_versions(alice)
    created_at = Article.objects.get(pk=article.pk).created_at

    with acting_as(bob, reason="undo"), integration.tracked_reverts(ticket="T-1"):
        first.revision.revert()

    article.refresh_from_db()
    assert article.title == "one"
    assert [e["action"] for e in article.history] == ["create", "update", "revert"]
    entry = article.history[-1]
    assert entry["changes"] == {"title": ["two", "one"]}
    assert (entry["user"], entry["reason"], entry["ticket"]) == (bob.pk, "undo", "T-1")
    assert article.version == 3
    assert article.updated_by == bob
    assert article.created_at == created_at


def test_reverting_to_the_current_values_records_nothing(alice):
    article, _first = _two_versions(alice)
    latest = Version.objects.get_for_object(article).first()

    with integration.tracked_reverts():
        latest.revert()

    article.refresh_from_db()
    assert [e["action"] for e in article.history] == ["create", "update"]
    assert article.version == 2


def test_a_recovered_row_comes_back_with_a_revert_entry(alice):
    article, _first = _two_versions(alice)
    latest = Version.objects.get_for_object(article).first()
    pk = article.pk
    article.delete()

    with integration.tracked_reverts():
        latest.revert()

    recovered = Article.objects.get(pk=pk)
    assert recovered.title == "two"
    assert recovered.history[-1]["action"] == "revert"
    assert recovered.version == 3


def test_a_failed_revert_rolls_back_with_the_repair(alice):
    article, first = _two_versions(alice)

    with pytest.raises(RuntimeError), integration.tracked_reverts():
        first.revert()
        raise RuntimeError("abort")

    article.refresh_from_db()
    assert (article.title, len(article.history), article.version) == ("two", 2, 2)

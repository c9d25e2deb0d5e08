"""history_recorded, soft_deleted and restored: one signal per write statement."""

from __future__ import annotations

import pytest
from django.db import transaction

from django_trackable.signals import history_recorded, restored, soft_deleted
from tests.testapp.models import Author, Order, Post, Product, Restaurant

pytestmark = pytest.mark.django_db


@pytest.fixture(params=[False, True], ids=["history only", "with the audit log"])
def audit_log(request, settings):
    settings.TRACKABLE = {"AUDIT_LOG": request.param}
    return request.param


def listen(signal):
    sent = []

    def receiver(sender, **kwargs):
        rows = kwargs.get("queryset")
        sent.append(
            (
                sender,
                kwargs,
                sorted(rows.values_list("pk", flat=True)) if rows is not None else None,
            )
        )

    signal.connect(receiver, weak=False, dispatch_uid=f"test-{id(sent)}")
    return sent, lambda: signal.disconnect(dispatch_uid=f"test-{id(sent)}")


@pytest.fixture
def recorded():
    sent, stop = listen(history_recorded)
    yield sent
    stop()


def test_a_save_sends_history_recorded_once_with_its_instance_and_entry(audit_log, recorded):
    product = Product.objects.create(name="Lamp")
    product.name = "Desk lamp"
    product.save()

    assert [(s, r) for s, _kw, r in recorded] == [(Product, [product.pk])] * 2
    sender, kwargs, _rows = recorded[-1]
    assert kwargs["instances"] == [product]
    assert kwargs["entry"]["changes"] == {"name": ["Lamp", "Desk lamp"]}
    assert kwargs["using"] == "default"


def test_a_save_that_changes_nothing_sends_nothing(audit_log, recorded):
    product = Product.objects.create(name="Lamp")
    recorded.clear()

    product.save()

    assert recorded == []


def test_queryset_update_sends_once_with_the_rows_that_changed(audit_log, recorded):
    products = Product.objects.bulk_create(Product(name=f"p{i}", quantity=i % 2) for i in range(20))
    recorded.clear()

    Product.objects.update(quantity=1)

    ((_sender, kwargs, rows),) = recorded
    assert rows == sorted(p.pk for p in products if p.quantity == 0)
    assert kwargs["instances"] == []
    assert "changes" not in kwargs["entry"]


def test_bulk_writes_send_once_per_statement(audit_log, recorded):
    products = Product.objects.bulk_create([Product(name=f"p{i}") for i in range(10)])
    assert [rows for _s, _kw, rows in recorded] == [sorted(p.pk for p in products)]
    recorded.clear()
    for product in products[:4]:
        product.name += "!"

    Product.objects.bulk_update(products, ["name"])

    assert [rows for _s, _kw, rows in recorded] == [sorted(p.pk for p in products[:4])]


def test_a_transition_and_a_multi_table_update_send_too(audit_log, recorded):
    order = Order.objects.create(reference="A1")
    restaurant = Restaurant.objects.create(name="Luigi's")
    recorded.clear()

    order.transition_to("paid")
    Restaurant.objects.update(serves_pizza=True)

    assert [(s, rows) for s, _kw, rows in recorded] == [
        (Order, [order.pk]),
        (Restaurant, [restaurant.pk]),
    ]
    assert recorded[0][1]["instances"] == [order]


def test_soft_delete_and_restore_send_their_signals_per_model(audit_log):
    author = Author.objects.create(name="Ann", email="ann@example.com")
    post = Post.objects.create(author=author, title="Hello")
    deleted, stop_deleted = listen(soft_deleted)
    brought_back, stop_restored = listen(restored)
    try:
        author.delete()
        Author.all_objects.get(pk=author.pk).restore()
    finally:
        stop_deleted()
        stop_restored()

    assert [(s, rows) for s, _kw, rows in deleted] == [(Author, [author.pk]), (Post, [post.pk])]
    assert {(s, tuple(rows)) for s, _kw, rows in brought_back} == {
        (Author, (author.pk,)),
        (Post, (post.pk,)),
    }
    assert deleted[0][1]["when"] == deleted[1][1]["when"]  # one delete, one moment


def test_with_signals_on_commit_nothing_is_sent_before_the_commit(
    settings, recorded, django_capture_on_commit_callbacks
):
    settings.TRACKABLE = {"SIGNALS_ON_COMMIT": True}

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        Product.objects.create(name="Lamp")
        assert recorded == []
    assert len(callbacks) == 1
    assert len(recorded) == 1


def test_a_rolled_back_write_sent_no_on_commit_signal(settings, recorded):
    settings.TRACKABLE = {"SIGNALS_ON_COMMIT": True}
    with pytest.raises(RuntimeError), transaction.atomic():
        Product.objects.create(name="Lamp")
        raise RuntimeError

    assert recorded == []

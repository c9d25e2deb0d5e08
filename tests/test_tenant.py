"""TenantScopedModel: isolation of reads and writes, and where the current tenant comes from."""

from __future__ import annotations

import pytest
from django.db import transaction
from django.http import HttpResponse

from django_trackable import acting_as, get_current_tenant
from django_trackable.middleware import CurrentUserMiddleware
from django_trackable.models import MissingTenant, TenantMismatch
from tests.testapp.models import Invoice, InvoiceLine, Tenant

pytestmark = pytest.mark.django_db

resolver_calls = []


def resolve_tenant(request):
    """The TENANT_RESOLVER of these tests: the X-Tenant header."""
    resolver_calls.append(request)
    return request.headers.get("X-Tenant")


@pytest.fixture
def resolver(settings):
    resolver_calls.clear()
    settings.TRACKABLE = {"TENANT_RESOLVER": "tests.test_tenant.resolve_tenant"}


@pytest.fixture
def invoices():
    """Two invoices of tenant "a" (one soft-deleted) and one of tenant "b"."""
    a1 = Invoice.objects.create(number="A1", tenant_id="a")
    a2 = Invoice.objects.create(number="A2", tenant_id="a")
    b1 = Invoice.objects.create(number="B1", tenant_id="b")
    a2.delete()
    return a1, a2, b1


# --- writes ----------------------------------------------------------------------


def test_new_rows_get_the_current_tenant():
    with acting_as(None, tenant="a"):
        invoice = Invoice.objects.create(number="1")

    assert Invoice.objects.get(pk=invoice.pk).tenant_id == "a"


def test_a_new_row_with_no_tenant_at_all_is_refused():
    with pytest.raises(MissingTenant, match="tenant"):
        Invoice.objects.create(number="1")


def test_a_new_row_for_another_tenant_is_refused():
    with acting_as(None, tenant="a"), pytest.raises(TenantMismatch):
        Invoice.objects.create(number="1", tenant_id="b")
    assert not Invoice.all_objects.exists()


def test_saving_another_tenants_row_is_refused(invoices):
    _a1, _a2, b1 = invoices
    b1.number = "changed"
    with acting_as(None, tenant="a"), pytest.raises(TenantMismatch, match="'b'"):
        b1.save()
    assert Invoice.all_objects.get(pk=b1.pk).number == "B1"


def test_moving_a_row_to_another_tenant_is_refused(invoices):
    a1, _a2, _b1 = invoices
    with acting_as(None, tenant="a"):
        mine = Invoice.objects.get(pk=a1.pk)
        mine.tenant_id = "b"
        with pytest.raises(TenantMismatch):
            mine.save()


def test_overwriting_another_tenants_row_by_primary_key_is_refused(invoices):
    _a1, _a2, b1 = invoices
    forged = Invoice(pk=b1.pk, number="forged", tenant_id="a")
    forged._state.adding = False
    with acting_as(None, tenant="a"), pytest.raises(TenantMismatch), transaction.atomic():
        forged.save()
    assert Invoice.all_objects.get(pk=b1.pk).number == "B1"


def test_lifecycle_writes_never_reach_another_tenants_row_by_primary_key(invoices):
    _a1, _a2, b1 = invoices
    forged = Invoice.all_objects.get(pk=b1.pk)
    forged.tenant_id = "a"  # lies about its tenant: the in-memory check passes
    with acting_as(None, tenant="a"):
        assert forged.delete() == (0, {})

    assert not Invoice.all_objects.get(pk=b1.pk).is_deleted


def test_update_reaches_only_the_current_tenants_rows(invoices):
    a1, _a2, b1 = invoices
    with acting_as(None, tenant="a"):
        assert Invoice.objects.update(number="X") == 1
        assert Invoice.all_objects.update(number="Y") == 2

    assert Invoice.all_objects.get(pk=a1.pk).number == "Y"
    assert Invoice.all_objects.get(pk=b1.pk).number == "B1"


def test_update_moving_rows_to_another_tenant_is_refused(invoices):
    with acting_as(None, tenant="a"), pytest.raises(TenantMismatch):
        Invoice.objects.update(tenant_id="b")
    assert Invoice.all_objects.filter(tenant_id="b").count() == 1


def test_delete_reaches_only_the_current_tenants_rows(invoices):
    a1, _a2, b1 = invoices
    with acting_as(None, tenant="a"):
        assert Invoice.objects.all().delete() == (1, {"testapp.Invoice": 1})
        with pytest.raises(TenantMismatch):
            b1.delete()
        with pytest.raises(TenantMismatch):
            b1.hard_delete()

    assert not Invoice.all_objects.get(pk=b1.pk).is_deleted
    assert Invoice.all_objects.get(pk=a1.pk).is_deleted


def test_bulk_create_fills_the_tenant_and_refuses_another():
    with acting_as(None, tenant="a"):
        Invoice.objects.bulk_create([Invoice(number="1"), Invoice(number="2", tenant_id="a")])
        with pytest.raises(TenantMismatch):
            Invoice.objects.bulk_create([Invoice(number="3", tenant_id="b")])

    assert set(Invoice.all_objects.values_list("tenant_id", flat=True)) == {"a"}


def test_bulk_update_of_another_tenants_rows_is_refused(invoices):
    a1, _a2, b1 = invoices
    b1.number = "changed"
    with acting_as(None, tenant="a"), pytest.raises(TenantMismatch):
        Invoice.objects.bulk_update([a1, b1], ["number"])
    assert Invoice.all_objects.get(pk=b1.pk).number == "B1"


# --- reads -----------------------------------------------------------------------


def test_reads_see_only_the_current_tenants_rows(invoices):
    a1, a2, b1 = invoices
    with acting_as(None, tenant="a"):
        assert list(Invoice.objects.all()) == [a1]
        assert set(Invoice.all_objects.all()) == {a1, a2}
        assert list(Invoice.deleted_objects.all()) == [a2]
        with pytest.raises(Invoice.DoesNotExist):
            Invoice.all_objects.get(pk=b1.pk)
    with acting_as(None, tenant="b"):
        assert list(Invoice.objects.all()) == [b1]


def test_without_a_tenant_every_row_is_visible(invoices):
    assert Invoice.all_objects.count() == 3


def test_for_tenant_filters_when_no_tenant_is_current(invoices):
    a1, _a2, b1 = invoices
    assert list(Invoice.objects.for_tenant("b")) == [b1]
    with acting_as(None, tenant="a"):
        assert list(Invoice.objects.for_tenant("a")) == [a1]


def test_for_tenant_of_another_tenant_is_refused(invoices):
    with acting_as(None, tenant="a"), pytest.raises(TenantMismatch, match="'b'"):
        Invoice.objects.for_tenant("b")


def test_reading_another_tenants_row_through_a_foreign_key_is_refused():
    acme, other = Tenant.objects.create(name="acme"), Tenant.objects.create(name="other")
    invoice = Invoice.objects.create(number="1", tenant_id=str(other.pk))
    line = InvoiceLine.objects.create(tenant=acme, invoice=invoice)

    with acting_as(None, tenant=acme):
        mine = InvoiceLine.objects.get(pk=line.pk)
        with pytest.raises(TenantMismatch):
            mine.invoice  # noqa: B018 - loading it is the point


def test_a_foreign_key_tenant_field_takes_instances_and_keys():
    acme, other = Tenant.objects.create(name="acme"), Tenant.objects.create(name="other")
    invoice = Invoice.objects.create(number="1", tenant_id="x")
    with acting_as(None, tenant=acme):
        mine = InvoiceLine.objects.create(invoice=invoice, amount=1)
    InvoiceLine.objects.create(tenant=other, invoice=invoice, amount=2)

    assert mine.tenant == acme
    with acting_as(None, tenant=acme.pk):
        assert list(InvoiceLine.objects.all()) == [mine]
    with acting_as(None, tenant=str(acme.pk)):
        assert list(InvoiceLine.objects.for_tenant(acme)) == [mine]


def test_reverse_related_managers_are_scoped():
    acme, other = Tenant.objects.create(name="acme"), Tenant.objects.create(name="other")
    invoice = Invoice.objects.create(number="1", tenant_id="x")
    mine = InvoiceLine.objects.create(tenant=acme, invoice=invoice)
    InvoiceLine.objects.create(tenant=other, invoice=invoice)

    assert invoice.lines.count() == 2
    with acting_as(None, tenant=acme):
        assert list(invoice.lines.all()) == [mine]


def test_the_tenant_is_not_written_into_history_entries():
    with acting_as(None, tenant="a", source="import"):
        invoice = Invoice.objects.create(number="1")

    entry = Invoice.objects.get(pk=invoice.pk).history[0]
    assert entry["source"] == "import"
    assert "tenant" not in entry


# --- where the tenant comes from ---------------------------------------------


def test_acting_as_sets_inherits_and_clears_the_tenant(alice):
    assert get_current_tenant() is None
    with acting_as(alice, tenant="a"):
        assert get_current_tenant() == "a"
        with acting_as(None):
            assert get_current_tenant() == "a"
        with acting_as(None, tenant="b"):
            assert get_current_tenant() == "b"
        with acting_as(None, tenant=None):
            assert get_current_tenant() is None
        assert get_current_tenant() == "a"
    assert get_current_tenant() is None


def test_the_resolver_is_called_with_the_request_once_when_a_tenant_is_needed(rf, resolver):
    Invoice.objects.create(number="A1", tenant_id="a")
    Invoice.objects.create(number="B1", tenant_id="b")
    seen = []

    def view(request):
        seen.append(list(Invoice.objects.values_list("number", flat=True)))
        seen.append(Invoice.objects.count())
        return HttpResponse()

    request = rf.get("/", headers={"X-Tenant": "a"})
    CurrentUserMiddleware(view)(request)

    assert seen == [["A1"], 1]
    assert resolver_calls == [request]


def test_requests_that_need_no_tenant_do_not_call_the_resolver(rf, resolver):
    CurrentUserMiddleware(lambda request: HttpResponse())(rf.get("/", headers={"X-Tenant": "a"}))
    assert resolver_calls == []


def test_acting_as_wins_over_the_resolver(rf, resolver):
    def view(request):
        with acting_as(None, tenant="b"):
            return HttpResponse(get_current_tenant())

    response = CurrentUserMiddleware(view)(rf.get("/", headers={"X-Tenant": "a"}))
    assert response.content == b"b"


def test_the_resolvers_tenant_does_not_outlive_the_request(rf, resolver):
    CurrentUserMiddleware(lambda request: HttpResponse(get_current_tenant()))(
        rf.get("/", headers={"X-Tenant": "a"})
    )
    assert get_current_tenant() is None


@pytest.mark.django_db(transaction=True)
async def test_the_resolver_works_under_async_middleware(async_rf, resolver):
    from asgiref.sync import sync_to_async

    await Invoice.objects.acreate(number="A1", tenant_id="a")
    await Invoice.objects.acreate(number="B1", tenant_id="b")

    async def view(request):
        numbers = await sync_to_async(
            lambda: list(Invoice.objects.values_list("number", flat=True))
        )()
        return HttpResponse(",".join(numbers))

    response = await CurrentUserMiddleware(view)(async_rf.get("/", headers={"X-Tenant": "b"}))
    assert response.content == b"B1"


def test_the_current_tenants_rows_save_and_bulk_update_normally(invoices):
    a1, _a2, _b1 = invoices
    with acting_as(None, tenant="a"):
        mine = Invoice.objects.get(pk=a1.pk)
        mine.number = "A1-changed"
        mine.save()
        mine.number = "A1-bulk"
        assert Invoice.objects.bulk_update([mine], ["number"]) == 1

    assert Invoice.objects.get(pk=a1.pk).number == "A1-bulk"


def test_without_a_tenant_rows_of_any_tenant_save_normally(invoices):
    _a1, _a2, b1 = invoices
    b1.number = "changed"
    b1.save()

    assert Invoice.objects.get(pk=b1.pk).number == "changed"


def test_setting_the_tenant_with_an_expression_is_refused(invoices):
    from django.db.models import F

    with acting_as(None, tenant="a"), pytest.raises(TenantMismatch, match="expression"):
        Invoice.objects.update(tenant_id=F("number"))


def test_a_failing_resolver_fails_the_query_and_is_asked_again(rf, settings):
    settings.TRACKABLE = {"TENANT_RESOLVER": "tests.test_tenant.failing_resolver"}
    calls = []

    def view(request):
        for _ in range(2):
            try:
                Invoice.objects.count()
            except LookupError as exc:
                calls.append(str(exc))
        return HttpResponse()

    CurrentUserMiddleware(view)(rf.get("/"))
    assert calls == ["no tenant for this host", "no tenant for this host"]


def failing_resolver(request):
    raise LookupError("no tenant for this host")

"""trackable_import: history kept by simple-history, reversion or auditlog becomes ours."""

from __future__ import annotations

import datetime
import io
from decimal import Decimal

import pytest
import reversion
from auditlog.context import set_actor
from auditlog.models import LogEntry
from django.core.management import CommandError, call_command
from reversion.models import Version

from django_trackable import acting_as, tracking_disabled
from django_trackable.history import MASK
from django_trackable.importing import import_history
from django_trackable.models import AuditLog
from tests.integrationsapp.models import Ledger

pytestmark = pytest.mark.django_db

UTC = datetime.timezone.utc
ADOPTED = datetime.datetime(2026, 1, 10, tzinfo=UTC)
#: Moments at which the imported history must give what the source gives.
SAMPLES = [
    datetime.datetime(2025, 12, 31, 12, tzinfo=UTC),  # before any row existed
    datetime.datetime(2026, 1, 1, 12, tzinfo=UTC),
    datetime.datetime(2026, 1, 3, 12, tzinfo=UTC),
    datetime.datetime(2026, 1, 5, 12, tzinfo=UTC),
    datetime.datetime(2026, 1, 12, 12, tzinfo=UTC),  # after tracking began
]
COMPARED = ("name", "amount", "quantity", "owner_id")


def _change(time_machine, when, user, obj=None, create=None, comment="", **values):
    """Save a change at ``when`` that all three libraries record, attributed to ``user``."""
    time_machine.move_to(datetime.datetime(*when, tzinfo=UTC), tick=False)
    with reversion.create_revision(), set_actor(user), acting_as(user):
        reversion.set_user(user)
        reversion.set_comment(comment)
        if obj is None:
            obj = Ledger(**create)
        for name, value in values.items():
            setattr(obj, name, value)
        obj._history_user = user
        obj.save()
    return obj


@pytest.fixture
def ledgers(alice, bob, time_machine):
    """Two rows with a past only the other libraries recorded, then one change we recorded."""
    with tracking_disabled():
        apple = _change(
            time_machine,
            (2026, 1, 1, 10),
            alice,
            create={"name": "Apple", "amount": Decimal("1.00"), "quantity": 1, "api_key": "k1"},
            comment="first",
        )
        banana = _change(time_machine, (2026, 1, 2, 10), bob, create={"name": "Banana"})
        _change(time_machine, (2026, 1, 3, 10), bob, apple, amount=Decimal("2.50"), quantity=2)
        _change(time_machine, (2026, 1, 4, 10), alice, apple, api_key="k2", name="Apple2")
        _change(time_machine, (2026, 1, 5, 10), alice, banana, owner=alice, quantity=5)
        _change(time_machine, (2026, 1, 5, 10, 30), alice, banana)  # changes nothing
        _change(time_machine, (2026, 1, 6, 10), bob, apple, quantity=3)
        _change(time_machine, (2026, 1, 7, 10), bob, banana, name="Banana2")
        # TrackableModel added on Jan 10th: the migration's defaults.
        Ledger.objects.update(created_at=ADOPTED, updated_at=ADOPTED, history=[])
    apple.refresh_from_db()
    _change(time_machine, (2026, 1, 11, 10), alice, apple, name="Apple3")
    time_machine.move_to(datetime.datetime(2026, 2, 1, tzinfo=UTC), tick=False)
    return Ledger.objects.get(pk=apple.pk), Ledger.objects.get(pk=banana.pk)


def _values(obj):
    return None if obj is None else {name: getattr(obj, name) for name in COMPARED}


def simple_history_as_of(obj, when):
    try:
        return _values(obj.past.as_of(when))
    except Ledger.DoesNotExist:
        return None


def reversion_as_of(obj, when):
    version = Version.objects.get_for_object(obj).filter(revision__date_created__lte=when).first()
    return None if version is None else {name: version.field_dict[name] for name in COMPARED}


def auditlog_as_of(obj, when):
    """Replay auditlog's stored changes up to ``when``."""
    values = None
    for log in LogEntry.objects.get_for_object(obj).filter(timestamp__lte=when).order_by("pk"):
        values = values or {}
        for name, (_old, new) in log.changes_dict.items():
            field = Ledger._meta.get_field(name)
            values[field.attname] = None if new == "None" else field.to_python(new)
    if values is None:
        return None
    owner = values.get("owner_id")
    values["owner_id"] = int(owner) if owner is not None else None
    return {name: values.get(name) for name in COMPARED}


REFERENCES = {
    "simple_history": simple_history_as_of,
    "reversion": reversion_as_of,
    "auditlog": auditlog_as_of,
}


@pytest.mark.parametrize("source", sorted(REFERENCES))
def test_the_import_gives_the_sources_values_at_every_sampled_moment(source, ledgers):
    stats = import_history(source, Ledger)

    assert stats.rows_written == 2
    for row in ledgers:
        row.refresh_from_db()
        for moment in SAMPLES:
            assert _values(row.as_of(moment)) == REFERENCES[source](row, moment), (row, moment)


@pytest.mark.parametrize("source", sorted(REFERENCES))
def test_a_second_run_changes_nothing(source, ledgers, settings):
    settings.TRACKABLE = {"AUDIT_LOG": True}
    first = import_history(source, Ledger)
    histories = {row.pk: row.history for row in Ledger.objects.all()}
    logged = AuditLog.objects.count()

    second = import_history(source, Ledger)

    assert first.entries > 0
    assert logged == first.audit_rows == first.entries
    assert (second.entries, second.rows_written, second.audit_rows) == (0, 0, 0)
    assert {row.pk: row.history for row in Ledger.objects.all()} == histories
    assert AuditLog.objects.count() == logged


def test_imported_entries_come_first_keep_time_users_and_reasons_and_are_marked(
    ledgers, alice, bob
):
    apple, banana = ledgers
    import_history("reversion", Ledger)
    apple.refresh_from_db()

    actions = [(e["action"], e["timestamp"][:10], e["user"]) for e in apple.history]
    assert actions == [
        ("create", "2026-01-01", alice.pk),
        ("update", "2026-01-03", bob.pk),
        ("update", "2026-01-04", alice.pk),
        ("update", "2026-01-06", bob.pk),
        ("update", "2026-01-11", alice.pk),  # ours, recorded when it happened
    ]
    assert apple.history[0]["reason"] == "first"
    assert apple.history[0]["user_repr"] == "alice"
    assert apple.history[0]["imported"]["source"] == "reversion"
    assert "imported" not in apple.history[-1]
    assert apple.created_at == datetime.datetime(2026, 1, 1, 10, tzinfo=UTC)
    assert apple.created_by == alice


def test_an_update_that_changed_nothing_becomes_no_entry(ledgers):
    _apple, banana = ledgers
    import_history("simple_history", Ledger)
    banana.refresh_from_db()

    assert [e["timestamp"][:16] for e in banana.history] == [
        "2026-01-02T10:00",
        "2026-01-05T10:00",
        "2026-01-07T10:00",
    ]


@pytest.mark.parametrize("source", sorted(REFERENCES))
def test_masked_fields_never_reach_the_imported_entries(source, ledgers):
    import_history(source, Ledger)
    apple = Ledger.objects.get(pk=ledgers[0].pk)

    assert apple.history[0]["changes"]["api_key"] == [None, MASK]
    assert apple.history[2]["changes"]["api_key"] == [MASK, MASK]
    assert "k1" not in str(apple.history) and "k2" not in str(apple.history)


def test_a_dry_run_counts_and_writes_nothing(ledgers, settings):
    settings.TRACKABLE = {"AUDIT_LOG": True}
    before = {row.pk: row.history for row in Ledger.objects.all()}

    stats = import_history("auditlog", Ledger, dry_run=True)

    assert stats.entries > 0 and stats.audit_rows == stats.entries
    assert {row.pk: row.history for row in Ledger.objects.all()} == before
    assert not AuditLog.objects.exists()


def test_records_of_rows_that_no_longer_exist_are_counted_and_skipped(ledgers):
    with tracking_disabled():
        Ledger.objects.filter(pk=ledgers[1].pk).delete()

    stats = import_history("simple_history", Ledger)

    assert (stats.rows, stats.missing_rows, stats.rows_written) == (1, 1, 1)


def test_the_command_imports_in_batches_and_reports_progress(ledgers):
    out = io.StringIO()
    call_command(
        "trackable_import", "--from", "reversion", "--model", "integrationsapp.Ledger",
        "--batch-size", "1", stdout=out,
    )  # fmt: skip

    lines = out.getvalue().splitlines()
    assert lines[0].startswith("integrationsapp.Ledger: 1 rows read")
    assert lines[1].startswith("integrationsapp.Ledger: 2 rows read")
    assert "done" in lines[-1] and "into 2 of 2 rows" in lines[-1]


def test_the_command_with_dry_run_says_would(ledgers):
    out = io.StringIO()
    call_command("trackable_import", "--from", "auditlog", "--dry-run", stdout=out)

    assert "would import" in out.getvalue()
    assert all("imported" not in e for row in Ledger.objects.all() for e in row.history)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--model", "integrationsapp.Nope"], "unknown model"),
        (["--model", "integrationsapp.Article"], "not a tracked model with simple_history"),
        (["--batch-size", "0"], "at least 1"),
    ],
)
def test_the_command_rejects_bad_arguments(db, args, message):
    with pytest.raises(CommandError, match=message):
        call_command("trackable_import", "--from", "simple_history", *args)


def test_nothing_to_import_writes_nothing(db):
    stats = import_history("simple_history", Ledger)
    assert (stats.records, stats.rows, stats.entries) == (0, 0, 0)


def test_import_history_rejects_a_bad_batch_size_and_a_model_without_history(db):
    from tests.integrationsapp.models import PlainPage

    with pytest.raises(ValueError, match="at least 1"):
        import_history("simple_history", Ledger, batch_size=0)
    with pytest.raises(TypeError, match="no history"):
        import_history("simple_history", PlainPage)


def test_a_source_whose_app_is_not_installed_is_refused(db, monkeypatch):
    from django.apps import apps

    from django_trackable.importing import source_models

    monkeypatch.setattr(apps, "is_installed", lambda name: False)
    with pytest.raises(LookupError, match="INSTALLED_APPS"):
        source_models("auditlog")
    with pytest.raises(CommandError, match="INSTALLED_APPS"):
        call_command("trackable_import", "--from", "auditlog")


def test_the_import_keeps_the_newest_entries_within_history_limit(ledgers, settings):
    settings.TRACKABLE = {"HISTORY_LIMIT": 2}
    import_history("reversion", Ledger)

    apple = Ledger.objects.get(pk=ledgers[0].pk)
    assert [e["timestamp"][:10] for e in apple.history] == ["2026-01-06", "2026-01-11"]


def test_a_reversion_version_no_field_can_read_is_skipped(ledgers):
    apple = ledgers[0]
    broken = Version.objects.get_for_object(apple).last()  # the create
    broken.serialized_data = "not json"
    broken.save()

    import_history("reversion", Ledger)

    apple.refresh_from_db()
    imported = [e for e in apple.history if "imported" in e]
    assert imported[0]["action"] == "create"  # the next version is the first one read
    assert imported[0]["timestamp"].startswith("2026-01-03")
    assert all(e["imported"]["id"] != broken.pk for e in imported)


@pytest.mark.parametrize("audit_log", [False, True], ids=["log off", "log on"])
@pytest.mark.parametrize("source", sorted(REFERENCES))
def test_an_import_past_the_window_moves_the_older_entries_and_a_second_run_adds_none(
    source, audit_log, ledgers, settings
):
    settings.TRACKABLE = {"HISTORY_WINDOW": 1, "AUDIT_LOG": audit_log}
    first = import_history(source, Ledger)
    full = {row.pk: row.full_history() for row in Ledger.objects.all()}
    logged = AuditLog.objects.count()

    second = import_history(source, Ledger)

    assert first.entries > 0
    # Each row keeps its window, as after a save; the log holds the rest, once.
    assert all(len(row.history) == 1 for row in Ledger.objects.with_history())
    # Off: each row's one entry is only in the row. On: the log has every imported entry
    # (written by the import), and of the rows' own only Apple's is not (saved before).
    assert logged == sum(len(entries) for entries in full.values()) - (1 if audit_log else 2)
    assert (second.entries, second.rows_written, second.audit_rows) == (0, 0, 0)
    assert {row.pk: row.full_history() for row in Ledger.objects.all()} == full
    assert AuditLog.objects.count() == logged
    for row in ledgers:
        row.refresh_from_db()
        for moment in SAMPLES:
            assert _values(row.as_of(moment)) == REFERENCES[source](row, moment), (row, moment)


@pytest.mark.parametrize("source", sorted(REFERENCES))
def test_records_missing_from_a_row_whose_older_entries_were_moved_go_to_the_log(
    source, ledgers, settings
):
    """A row saved past its window before the import: its older entries are in the log,
    and the imported ones, older still, join them there."""
    settings.TRACKABLE = {"HISTORY_WINDOW": 1}
    apple = ledgers[0]
    for quantity in (7, 8):
        apple.quantity = quantity
        apple.save()
    assert AuditLog.objects.for_object(apple).exists()
    ours = Ledger.objects.with_history().get(pk=apple.pk).full_history()

    stats = import_history(source, Ledger)

    row = Ledger.objects.with_history().get(pk=apple.pk)
    assert row.history == ours[-1:]
    everything = row.full_history()
    assert everything[len(everything) - len(ours) :] == ours
    assert everything[0]["action"] == "create" and everything[0]["imported"]["source"] == source
    assert len(everything) - len(ours) == 4  # Apple's four records before our first entry
    assert stats.rows_written == 2
    assert import_history(source, Ledger).entries == 0
    for moment in SAMPLES[:-1]:
        assert _values(row.as_of(moment)) == REFERENCES[source](row, moment), moment

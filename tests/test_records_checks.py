"""Record models: mistakes caught when the class is made, and system checks by exact ID."""

from __future__ import annotations

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.db import connections, models
from django.test.utils import isolate_apps

from django_trackable import checks
from django_trackable.models import RecordedModelMixin, RecordedQuerySet, RecordModel
from django_trackable.models.records import audit_plans
from tests.recordsapp.models import ItemRecord


def ids(messages):
    return [message.id for message in messages]


@pytest.fixture
def only(monkeypatch):
    """Run the record checks on the given record models (and mixin models) only."""

    def use(*record_models, mixin_models=()):
        monkeypatch.setattr(checks, "_record_models", lambda: list(record_models))
        monkeypatch.setattr(checks, "_recorded_mixin_models", lambda: list(mixin_models))

    return use


def test_the_test_apps_record_models_pass_the_checks():
    assert checks.check_record_models() == []


# --- made wrong: errors when the class is created --------------------------------------


@isolate_apps("tests.recordsapp")
def test_record_models_fail_to_build_with_a_clear_message():
    class Thing(models.Model):
        name = models.CharField(max_length=10)
        tags = models.ManyToManyField("self")

        class Meta:
            app_label = "recordsapp"

        @property
        def size(self):
            return len(self.name)

    cases = [
        ("recordsapp.Thing", ["name"], "must be a model class"),
        (Thing, "name", "must be a list"),
        (Thing, ["size"], "not a concrete field"),
        (Thing, ["tags"], "not a concrete field"),
        (Thing, [("created", models.IntegerField())], "uses itself"),
        (Thing, ["name", ("name", models.CharField(max_length=5))], "twice"),
        (Thing, [("size",)], "neither a name nor"),
        (Thing, [("size", int)], "neither a name nor"),
        (Thing, [("tags", models.ManyToManyField("self"))], "many-to-many"),
    ]
    for recording_model, fields, message in cases:
        with pytest.raises(ImproperlyConfigured, match=message):
            type(
                "BadRecord",
                (RecordModel,),
                {
                    "__module__": __name__,
                    "recording_model": recording_model,
                    "recording_fields": fields,
                    "Meta": type("Meta", (), {"app_label": "recordsapp"}),
                },
            )


# --- the system checks ------------------------------------------------------------------


@isolate_apps("tests.recordsapp")
def test_unknown_or_unsupported_auditing_relatives_are_errors(only):
    class Owner(models.Model):
        class Meta:
            app_label = "recordsapp"

    class Thing(models.Model):
        title = models.CharField(max_length=10)
        owner = models.ForeignKey(Owner, null=True, on_delete=models.SET_NULL)

        class Meta:
            app_label = "recordsapp"

    class ThingRecord(RecordModel):
        recording_model = Thing
        recording_fields = ["title"]
        auditing_relatives = ["owner", "nope", "title"]

        class Meta:
            app_label = "recordsapp"

    only(ThingRecord)
    messages = [m for m in checks.check_record_models() if m.id != "django_trackable.W071"]
    assert ids(messages) == ["django_trackable.E070", "django_trackable.E070"]
    assert "'nope'" in messages[0].msg
    assert "'title'" in messages[1].msg
    ThingRecord.auditing_relatives = "owner"  # a string, not a list of names
    (error,) = [m for m in checks.check_record_models() if m.id != "django_trackable.W071"]
    assert error.id == "django_trackable.E070"
    assert "list of relation names" in error.msg


@isolate_apps("tests.recordsapp")
def test_recording_an_attribute_the_model_lacks_is_an_error(only):
    class Thing(RecordedModelMixin, models.Model):
        objects = RecordedQuerySet.as_manager()
        recording_fields = [("missing", models.IntegerField())]

        class Meta:
            app_label = "recordsapp"

    only(Thing.records.rel.related_model)
    assert ids(checks.check_record_models()) == ["django_trackable.E071"]


@isolate_apps("tests.recordsapp")
def test_recording_a_method_that_needs_arguments_is_an_error(only):
    class Thing(RecordedModelMixin, models.Model):
        objects = RecordedQuerySet.as_manager()
        recording_fields = [
            ("scaled", models.IntegerField()),
            ("fine", models.IntegerField()),
        ]

        class Meta:
            app_label = "recordsapp"

        def scaled(self, factor):
            return factor

        def fine(self, factor=2):
            return factor

    only(Thing.records.rel.related_model)
    (error,) = checks.check_record_models()
    assert error.id == "django_trackable.E072"
    assert "scaled()" in error.msg


def test_a_record_model_on_an_unsupported_database_is_an_error(only, monkeypatch):
    only(ItemRecord)
    monkeypatch.setattr(type(connections["default"]), "vendor", "mysql")
    assert "django_trackable.E073" in ids(checks.check_record_models())


@isolate_apps("tests.recordsapp")
def test_django_records_audit_all_relatives_is_deprecated_but_audits_every_relation(only):
    class Owner(models.Model):
        class Meta:
            app_label = "recordsapp"

    class Thing(RecordedModelMixin, models.Model):
        owner = models.ForeignKey(Owner, null=True, on_delete=models.SET_NULL)
        friends = models.ManyToManyField(Owner, related_name="friends_of")
        objects = RecordedQuerySet.as_manager()
        recording_fields = ["owner"]

        class RecordMeta:
            audit_all_relatives = True

        class Meta:
            app_label = "recordsapp"

    class Part(models.Model):
        thing = models.ForeignKey(Thing, on_delete=models.CASCADE, related_name="parts")

        class Meta:
            app_label = "recordsapp"

    record_model = Thing.records.rel.related_model
    only(record_model)
    (warning,) = checks.check_record_models()
    assert warning.id == "django_trackable.W070"
    assert "1.0" in warning.msg
    plans = {plan.name: plan.kind for plan in audit_plans(record_model)}
    assert plans == {"owner": "forward", "friends": "m2m", "parts": "reverse"}


@isolate_apps("tests.recordsapp")
def test_a_recorded_model_whose_manager_does_not_record_bulk_writes_warns(only):
    class Thing(models.Model):
        value = models.IntegerField()

        class Meta:
            app_label = "recordsapp"

    class ThingRecord(RecordModel):
        recording_model = Thing
        recording_fields = ["value"]

        class Meta:
            app_label = "recordsapp"

    only(ThingRecord)
    (warning,) = checks.check_record_models()
    assert warning.id == "django_trackable.W071"
    assert warning.obj is Thing


@isolate_apps("tests.recordsapp")
def test_the_mixin_without_recording_fields_warns(only):
    class Thing(RecordedModelMixin, models.Model):
        class Meta:
            app_label = "recordsapp"

    only(mixin_models=[Thing])
    assert ids(checks.check_record_models()) == ["django_trackable.W072"]


def test_checks_can_be_limited_to_apps(only):
    from django.apps import apps

    only(ItemRecord)
    assert checks.check_record_models(app_configs=[apps.get_app_config("auth")]) == []


# --- how recorded fields become columns ---------------------------------------------------


@isolate_apps("tests.recordsapp")
def test_copied_columns_drop_roles_uniqueness_and_primary_keys_and_keep_key_targets():
    from django_trackable.models import TrackableModel

    class Code(models.Model):
        code = models.CharField(max_length=5, unique=True)

        class Meta:
            app_label = "recordsapp"

    class Thing(TrackableModel):
        number = models.BigAutoField(primary_key=True)
        sku = models.CharField(max_length=10, unique=True)
        code = models.ForeignKey(Code, to_field="code", on_delete=models.CASCADE)
        objects = RecordedQuerySet.as_manager()

        class Meta:
            app_label = "recordsapp"

    class ThingRecord(RecordModel):
        recording_model = Thing
        recording_fields = ["number", "sku", "code", "created_at"]

        class Meta:
            app_label = "recordsapp"

    number = ThingRecord._meta.get_field("number")
    assert type(number) is models.BigIntegerField
    assert not number.primary_key
    assert not ThingRecord._meta.get_field("sku").unique
    code = ThingRecord._meta.get_field("code")
    assert code.to_fields == ["code"]
    assert not code.db_constraint
    assert code.remote_field.related_name == "+"
    created_at = ThingRecord._meta.get_field("created_at")
    assert type(created_at) is models.DateTimeField
    assert not getattr(created_at, "trackable_role", "")


@isolate_apps("tests.recordsapp")
def test_record_models_inherit_what_to_record_from_abstract_bases():
    class Thing(models.Model):
        value = models.IntegerField()
        objects = RecordedQuerySet.as_manager()

        class Meta:
            app_label = "recordsapp"

    class Fields(RecordModel):
        recording_fields = ["value"]

        class Meta:
            abstract = True

    class ForThing(RecordModel):
        recording_model = Thing

        class Meta:
            abstract = True

    class FromFields(Fields):
        recording_model = Thing

        class Meta:
            app_label = "recordsapp"

    class FromBoth(ForThing, Fields):
        recording = models.ForeignKey(Thing, on_delete=models.CASCADE, related_name="others")

        class Meta:
            app_label = "recordsapp"

    assert [v.name for v in FromFields._recording] == ["value"]
    assert FromBoth.recording_model is Thing
    assert [v.name for v in FromBoth._recording] == ["value"]


@isolate_apps("tests.recordsapp")
def test_reverse_relatives_can_be_named_by_their_accessor():
    class Thing(RecordedModelMixin, models.Model):
        objects = RecordedQuerySet.as_manager()
        recording_fields = [("part_count", models.IntegerField())]
        auditing_relatives = ["part_set"]

        class Meta:
            app_label = "recordsapp"

        @property
        def part_count(self):
            return self.part_set.count()

    class Part(models.Model):
        thing = models.ForeignKey(Thing, on_delete=models.CASCADE)

        class Meta:
            app_label = "recordsapp"

    record_model = Thing.records.rel.related_model
    only_plan = audit_plans(record_model)
    assert [(p.name, p.kind, p.relative_model) for p in only_plan] == [
        ("part_set", "reverse", Part)
    ]

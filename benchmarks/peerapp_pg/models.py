"""The benchmark's business fields, tracked by django-pghistory (PostgreSQL triggers only)."""

from __future__ import annotations

import pghistory

from benchmarks.benchapp.models import Fields


@pghistory.track(pghistory.InsertEvent(), pghistory.UpdateEvent(), model_name="WithPghistoryEvent")
class WithPghistory(Fields):
    pass

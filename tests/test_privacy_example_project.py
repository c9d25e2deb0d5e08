"""erase_user() on a site whose user model is tracked: the example project's e-mail user.

The test project's user model is Django's (untracked); the example site's
``accounts.User`` is a ``TrackableModel``, so its own rows' history holds
e-mail addresses and names. Run as the example site does, in a subprocess.
"""

from __future__ import annotations

import json
from pathlib import Path

# The example site has a "tests" package of its own: load the search helper by path.
_SEARCH = Path(__file__).with_name("privacy_search.py")

# Printed by the example site's shell after erasure: where the person still is.
_INSPECT = """
import importlib.util
import json
import sys
from accounts.models import User
spec = importlib.util.spec_from_file_location("privacy_search", {search!r})
search = sys.modules["privacy_search"] = importlib.util.module_from_spec(spec)
spec.loader.exec_module(search)
actor_traces, traces = search.actor_traces, search.traces
alice = User.objects.get(email="alice@example.com")
hits = traces(("alice@example.com", "Alice")) | actor_traces(alice.pk)
print(json.dumps({
    "hits": sorted({(h.table, h.column, h.pk == str(alice.pk)) for h in hits}),
    "values": sorted({str(v) for e in alice.history for c in e.get("changes", {}).values()
                      for v in c if v is not None}),
    "actions": [e["action"] for e in alice.history],
}))
"""


def test_a_tracked_user_models_own_history_is_scrubbed_and_the_rest_erased(manage):
    manage("migrate", "--noinput")
    manage("seed_demo")
    dry = manage("trackable_erase_user", "alice@example.com", "--dry-run")

    output = manage("trackable_erase_user", "alice@example.com")

    assert "account history: accounts.User: 1 rows, 1 entries" in output
    assert "history: shop.Product: 3 rows, 4 entries" in output
    assert "accounts.User: 1 rows so far" in output
    counted = [line for line in output.splitlines() if "so far" not in line]
    assert dry.replace("would change", "changed").splitlines() == counted
    inspect = _INSPECT.replace("{search!r}", repr(str(_SEARCH)))
    state = json.loads(manage("shell", "-c", inspect).strip().splitlines()[-1])
    # Only the account row's own live columns still name her.
    assert state["hits"] == [["accounts_user", "email", True], ["accounts_user", "full_name", True]]
    assert state["values"] == ["***"]
    assert state["actions"] == ["create"]
    again = manage("trackable_erase_user", "alice@example.com")
    assert "changed 0 rows, 0 entries" in again

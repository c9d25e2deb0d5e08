"""Privacy: erase a person from every store, export what is held about them, retention.

- :func:`erase_user` removes a person from history entries, stamps, the audit
  log, visits, login attempts, devices and record tables, in SQL and in batches;
- :func:`export_user` / :func:`write_export` give everything held about them
  as JSON;
- :func:`purge_history`, :func:`purge_audit_log` and :func:`purge_records` keep
  nothing longer than a retention period (``trackable_purge
  --history/--audit/--records``).

Other data joins erasure and export as a registered :class:`Store`; see the
Privacy page of the docs.
"""

from __future__ import annotations

from django_trackable.privacy.erasure import ErasureReport, erase_user
from django_trackable.privacy.export import FORMAT, export_user, iter_export, write_export
from django_trackable.privacy.retention import purge_audit_log, purge_history, purge_records
from django_trackable.privacy.stores import (
    ERASED,
    Person,
    Progress,
    Store,
    StoreCount,
    register_store,
    registered_stores,
    unregister_store,
)

__all__ = [
    "ERASED",
    "FORMAT",
    "ErasureReport",
    "Person",
    "Progress",
    "Store",
    "StoreCount",
    "erase_user",
    "export_user",
    "iter_export",
    "purge_audit_log",
    "purge_history",
    "purge_records",
    "register_store",
    "registered_stores",
    "unregister_store",
    "write_export",
]

"""Recorded assessments: the capture store, its writes and how a build reads it.

The dashboard's "Record assessments" page writes here, never into the served warehouse
(DuckDB has one writer, and each publish replaces the file). The store is a SQLite file
(data/capture/capture.sqlite; RAPPORT_CAPTURE_DB overrides the path) in WAL mode, with two
append-only tables:

  assessment_versions  one row per recorded version of a contact's assessment: decision
                       role, attitude (-1..3, or none), evaluation group, reports-to, a note,
                       when (assessed_at, UTC) and by whom (e-mail, role, rep_id)
  added_contacts       contacts missing from the CRM, each given the id CAP-C<id>

Nothing is updated or deleted (triggers refuse it): a new assessment is a new version.
Every write is authorised (rapport.auth.may_write), validated with the contract's rules
(rapport/contract.yml: allowed values, case, min / max, the contact of the account), bound
as SQL parameters, and audited (rapport.auth.audit: `capture`, or `capture_refused`). Each
write is one short `BEGIN IMMEDIATE` transaction, so concurrent writers (threads or
processes) queue on SQLite's lock (busy_timeout) and none is lost.

A build reads the store as an input beside the raw files (merge_into_raw, after the ingest
and before the quarantine gate): versions with an attitude become contact_assessments rows
(assessment_id CAP-A<id>), added contacts become contacts rows, and the latest version of a
contact (by assessed_at, then id) sets its decision_role, evaluation_group and
reports_to_contact_id (when the contract has that column) over the CRM's values. The rows
carry _source_file = the store's file name, so the gate quarantines a bad one with its
reason like any imported row. docs/data-contract.md, "Captured assessments".
"""

from rapport.capture.merge import (
    MergeSummary,
    changed_since,
    merge_for_build,
    merge_into_raw,
    merged_state,
    recorded_after,
    regate,
    state_of_rows,
    state_rows,
    write_merged_state,
)
from rapport.capture.store import (
    ATTITUDE_WORDS,
    NOTE_MAX,
    STATE_TABLE,
    STORE_ENV,
    TEXT_MAX,
    AccountFacts,
    CaptureError,
    CaptureRefused,
    Recorded,
    StoreState,
    add_contact,
    added_contacts,
    assessment_id,
    check_value,
    contact_id_of,
    current_state,
    masked,
    masked_note,
    record_assessment,
    store_path,
    versions,
)

__all__ = [
    "ATTITUDE_WORDS", "NOTE_MAX", "STATE_TABLE", "STORE_ENV", "TEXT_MAX", "AccountFacts",
    "CaptureError", "CaptureRefused", "MergeSummary", "Recorded", "StoreState", "add_contact",
    "added_contacts", "assessment_id", "changed_since", "check_value", "contact_id_of",
    "current_state", "masked", "masked_note", "merge_for_build", "merge_into_raw",
    "merged_state", "record_assessment", "recorded_after", "regate", "state_of_rows", "state_rows",
    "store_path", "versions", "write_merged_state",
]

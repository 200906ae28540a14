"""How a build reads the capture store (rapport/serving/capture_store.py): the merge into the
raw tables before the gate (full builds), what was merged (meta.capture_state,
meta.incremental_state) and the incremental builds' check and re-gate.

A build reads the store as an input beside the raw files (merge_into_raw, after the ingest
and before the quarantine gate): versions with an attitude become contact_assessments rows
(assessment_id CAP-A<id>), added contacts become contacts rows, and the latest version of a
contact (by assessed_at, then id) sets its decision_role, evaluation_group and
reports_to_contact_id (when the contract has that column) over the CRM's values. The rows
carry _source_file = the store's file name, so the gate quarantines a bad one with its
reason like any imported row. docs/data-contract.md, "Captured assessments".
"""

from __future__ import annotations

import logging
import sqlite3
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from rapport.contract import Contract, contract
from rapport.serving.capture_store import (
    OVERRIDES,
    STATE_TABLE,
    CaptureError,
    StoreState,
    assessment_id,
    check_value,
    checked_text,
    contact_id_of,
    current_state,
    snapshot,
    store_path,
)

log = logging.getLogger(__name__)


# --------------------------------------------------------------------------- the build


@dataclass(frozen=True)
class MergeSummary:
    state: StoreState
    assessments: int = 0  # rows appended to raw.contact_assessments
    contacts: int = 0  # rows appended to raw.contacts
    overridden: int = 0  # CRM / added contacts whose roles a version set
    skipped: tuple[str, ...] = ()  # overrides not applied, with the reason

    def one_line(self) -> str:
        text = (f"{self.assessments} assessment(s), {self.contacts} added contact(s), "
                f"{self.overridden} contact(s) with recorded roles from "
                f"{self.state.file_name or 'the capture store'}")
        return text + (f"; {len(self.skipped)} value(s) not applied" if self.skipped else "")


def _q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _append(con, table: str, rows: list[dict[str, Any]], source: str, spec: Contract) -> int:
    if not rows:
        return 0
    columns = list(spec.tables[table].columns)
    start = con.execute(f"select coalesce(max(_row_number), 0) from raw.{_q(table)}"
                        ).fetchone()[0]
    con.executemany(
        f"insert into raw.{_q(table)} ({', '.join(_q(c) for c in columns)}, _source_file, "
        f"_row_number) values ({', '.join('?' for _ in range(len(columns) + 2))})",
        [[row.get(c) for c in columns] + [source, start + i]
         for i, row in enumerate(rows, start=1)])
    _mark_present(con, table, {c for row in rows for c, v in row.items() if v not in (None, "")})
    return len(rows)


def _mark_present(con, table: str, filled: set[str]) -> None:
    """The ingest's comments say 'no file' / 'not in the file' (meta.coverage): a table or
    column the store fills is present."""
    from rapport.pipeline.ingest import NO_FILE, NOT_IN_FILE

    comment = con.execute("select comment from duckdb_tables() where schema_name = 'raw' "
                          "and table_name = ?", [table]).fetchone()
    if comment and comment[0] == NO_FILE:
        con.execute(f"comment on table raw.{_q(table)} is 'rapport: capture store only'")
    for column in filled:
        found = con.execute("select comment from duckdb_columns() where schema_name = 'raw' "
                            "and table_name = ? and column_name = ?", [table, column]
                            ).fetchone()
        if found and found[0] == NOT_IN_FILE:
            con.execute(f"comment on column raw.{_q(table)}.{_q(column)} is null")


def merge_into_raw(con, path: Path | None = None, upto: StoreState | None = None,
                   spec: Contract | None = None, as_of: date | None = None) -> MergeSummary:
    """Append the store's rows to raw.contacts and raw.contact_assessments and set the
    recorded roles on raw.contacts (before the gate); records what was read in
    meta.capture_state. No store: nothing changes (an empty state is recorded).

    An assessment recorded after the build's as-of date is dated on the as-of date: it
    says how the contact stands now, and the warehouse's "now" is its as-of date (a CRM
    export is usually some days old). The store keeps the real time of the recording."""
    spec = spec or contract()
    path = path or store_path()
    snap = snapshot(path, upto)
    source = path.name
    contacts_cols = spec.tables["contacts"].columns
    added = [{"contact_id": contact_id_of(r["id"]), "account_id": r["account_id"],
              "full_name": r["full_name"], "title": r["title"] or None,
              "department": r["department"] or None, "level": r["level"] or None}
             for r in snap.contacts]
    n_contacts = _append(con, "contacts", added, source, spec)

    assessments = [{"assessment_id": assessment_id(r["id"]), "contact_id": r["contact_id"],
                    "assessed_date": _held_at(str(r["assessed_at"])[:10], as_of),
                    "attitude": str(r["attitude"]),
                    "assessor_rep_id": r["rep_id"] or None}
                   for r in snap.versions if r["attitude"] is not None]
    n_assessments = _append(con, "contact_assessments", assessments, source, spec)

    # per contact and field, the latest version that records it (by assessed_at, then id);
    # the CRM has no date for these fields. None: not recorded by the version; '': "none".
    fields = [c for c in OVERRIDES if c in contacts_cols]
    latest: dict[str, dict[str, tuple[str, Any]]] = {}
    for row in sorted(snap.versions, key=lambda r: (str(r["assessed_at"]), r["id"])):
        for name in fields:
            if row[name] is not None:
                latest.setdefault(row["contact_id"], {})[name] = (assessment_id(row["id"]),
                                                                  row[name])
    skipped: list[str] = []
    overridden = 0
    for contact, recorded in latest.items():
        values: dict[str, str | None] = {}
        for name, (ref, raw_value) in recorded.items():
            try:
                value = (check_value("contacts", name, raw_value, spec)
                         if contacts_cols[name].allowed is not None
                         else checked_text(name, raw_value))
            except CaptureError as exc:
                skipped.append(f"{ref}: {exc}")
                continue
            values[name] = value or None
        if not values:
            continue
        sets = ", ".join(f"{_q(c)} = ?" for c in values)
        changed = con.execute(
            f"update raw.contacts set {sets}, _source_file = case when _source_file = ? "
            "then _source_file else _source_file || ' + ' || ? end "
            "where trim(contact_id) = ? returning 1",
            [*values.values(), source, source, contact]).fetchall()
        if changed:
            overridden += 1
            _mark_present(con, "contacts", {c for c, v in values.items() if v})
    for problem in skipped:
        log.warning("capture store %s: not applied: %s", path, problem)
    write_merged_state(con, snap.state)
    return MergeSummary(state=snap.state, assessments=n_assessments, contacts=n_contacts,
                        overridden=overridden, skipped=tuple(skipped))


def _held_at(day: str, as_of: date | None) -> str:
    """The assessment's date in the build: the day recorded, or the as-of date if later."""
    return day if as_of is None or day <= as_of.isoformat() else as_of.isoformat()


def recorded_after(day: date, path: Path | None = None) -> bool:
    """Whether the store holds an assessment recorded after `day` (a build whose as-of
    date was `day` dated it on `day`: a later as-of date dates it differently)."""
    path = path or store_path()
    if not path.exists():
        return False
    return any(r["attitude"] is not None and str(r["assessed_at"])[:10] > day.isoformat()
               for r in snapshot(path, None).versions)


def merge_for_build(con, raw_counts: dict[str, int], path: Path | None = None,
                    as_of: date | None = None) -> str:
    """A full build's merge (rapport.pipeline.build): raw_counts gets the appended rows; returns
    the line the build prints. An unreadable store stops the build (StructuralError)."""
    from rapport.errors import StructuralError

    path = path or store_path()
    try:
        merged = merge_into_raw(con, path, as_of=as_of)
    except sqlite3.Error as exc:
        raise StructuralError(
            f"{path}: the capture store cannot be read ({exc}). Restore it from its backup "
            "(docs/operations.md, 'The capture store'), or move it away to build without the "
            "recorded assessments, and run the build again.") from None
    if not path.exists():
        return f"none (no capture store at {path})"
    raw_counts["contacts"] = raw_counts.get("contacts", 0) + merged.contacts
    raw_counts["contact_assessments"] = (raw_counts.get("contact_assessments", 0)
                                         + merged.assessments)
    return merged.one_line()


def write_merged_state(con, state: StoreState) -> None:
    con.execute("create schema if not exists meta")
    con.execute(f"create or replace table {STATE_TABLE} (file_name varchar, "
                "last_version_id bigint, last_contact_id bigint, versions_sha256 varchar, "
                "contacts_sha256 varchar)")
    con.execute(f"insert into {STATE_TABLE} values (?, ?, ?, ?, ?)",
                [state.file_name, state.last_version_id, state.last_contact_id,
                 state.versions_sha256, state.contacts_sha256])


STATE_KIND = "capture_store"  # rows of meta.incremental_state (rapport.pipeline.incremental)


def state_rows(con, build_id: str) -> list[tuple]:
    """meta.incremental_state rows for what this build merged (none without the table)."""
    state = merged_state(con)
    if state is None:
        return []
    return [(build_id, STATE_KIND, "assessment_versions", state.file_name, None,
             state.versions_sha256, state.last_version_id),
            (build_id, STATE_KIND, "added_contacts", state.file_name, None,
             state.contacts_sha256, state.last_contact_id)]


def state_of_rows(rows: dict[tuple[str, str], tuple]) -> StoreState | None:
    """The StoreState recorded in meta.incremental_state rows ((kind, item) -> (kind, item,
    file_name, file_bytes, sha256, raw_rows)); None when the build recorded none."""
    versions_row = rows.get((STATE_KIND, "assessment_versions"))
    contacts_row = rows.get((STATE_KIND, "added_contacts"))
    if versions_row is None or contacts_row is None:
        return None
    return StoreState(last_version_id=int(versions_row[5] or 0),
                      last_contact_id=int(contacts_row[5] or 0),
                      versions_sha256=versions_row[4] or "",
                      contacts_sha256=contacts_row[4] or "", file_name=versions_row[2] or "")


def merged_state(con) -> StoreState | None:
    """What the build in `con` merged (None: a build from before the store existed)."""
    try:
        row = con.execute(f"select file_name, last_version_id, last_contact_id, "
                          f"versions_sha256, contacts_sha256 from {STATE_TABLE}").fetchone()
    except Exception:  # noqa: BLE001 - duckdb.CatalogException: no such table
        return None
    if row is None:
        return None
    return StoreState(file_name=row[0], last_version_id=int(row[1]),
                      last_contact_id=int(row[2]), versions_sha256=row[3],
                      contacts_sha256=row[4])


# --------------------------------------------------------------------------- incremental


def changed_since(base: StoreState | None, base_id: str, path: Path | None = None
                  ) -> StoreState | None:
    """The store's state when it has new rows since the served build merged `base` (None:
    nothing new). NotIncremental when the store lost or changed rows the build read."""
    from rapport.pipeline.incremental import NotIncremental

    path = path or store_path()
    now = current_state(path)
    if base is None:  # a build that recorded nothing of the store: fine while it is empty
        if now.last_version_id or now.last_contact_id:
            raise NotIncremental(f"build {base_id} recorded no capture store state and "
                                 f"{path} has rows")
        return None
    if (now.last_version_id, now.last_contact_id) == (base.last_version_id,
                                                      base.last_contact_id):
        if (now.versions_sha256, now.contacts_sha256) != (base.versions_sha256,
                                                          base.contacts_sha256):
            raise NotIncremental(f"the capture store {path} is not the one build {base_id} "
                                 "read (restored or replaced?)")
        return None
    prefix = current_state(path, base)
    if (now.last_version_id < base.last_version_id or now.last_contact_id
            < base.last_contact_id or (prefix.versions_sha256, prefix.contacts_sha256)
            != (base.versions_sha256, base.contacts_sha256)):
        raise NotIncremental(f"the capture store {path} lost or changed rows build {base_id} "
                             "read (restored or replaced?)")
    return now


def regate(con, build_id: str, raw_dir: Path, as_of, upto: StoreState,
           path: Path | None = None) -> None:
    """Incremental build with new captures: reload raw.contacts and raw.contact_assessments
    from their files, merge the store up to `upto`, and run the gate on the two tables again
    (exactly as a full build would). NotIncremental when a row of another table that the
    served build quarantined names a contact that is clean now (only a full build re-judges
    those)."""
    from rapport.pipeline.incremental import NotIncremental
    from rapport.pipeline.ingest import load_table
    from rapport.pipeline.quarantine import gate_table

    spec = contract()
    pairs = "select contact_id, account_id from validated.contacts"
    before = set(con.execute(pairs).fetchall())
    for name in ("contacts", "contact_assessments"):
        load_table(con, raw_dir, spec.tables[name])
    merge_into_raw(con, path, upto, spec, as_of=as_of)
    for name in ("contacts", "contact_assessments"):
        con.execute("delete from meta.dq_quarantine where table_name = ?", [name])
        counts = gate_table(con, spec.tables[name], build_id, as_of)
        con.execute("update meta.dq_row_counts set raw_rows = ?, clean_rows = ?, "
                    "quarantined_rows = ? where table_name = ?",
                    [counts.raw, counts.clean, counts.quarantined, name])
    after = set(con.execute(pairs).fetchall())
    if before - after:
        raise NotIncremental(f"{len(before - after)} contact(s) clean in the served build are "
                             "not clean now (or moved account)")
    new = sorted({contact for contact, _ in after - before})
    if not new:
        return
    con.execute("create or replace temp table capture_new_contacts (contact_id varchar)")
    con.executemany("insert into capture_new_contacts values (?)", [[c] for c in new])
    for table in spec.tables.values():
        if table.name in ("contacts", "contact_assessments"):
            continue
        for col in table.columns.values():
            if col.references != ("contacts", "contact_id"):
                continue
            named = con.execute(
                f"select count(*) from raw.{_q(table.name)} as r inner join meta.dq_quarantine "
                f"as bad on bad.table_name = ? and bad.row_number = r._row_number "
                f"where trim(r.{_q(col.name)}) in (select contact_id from capture_new_contacts)",
                [table.name]).fetchone()[0]
            if named:
                raise NotIncremental(f"{named} quarantined {table.name} row(s) name a contact "
                                     "that is clean now")
    con.execute("drop table capture_new_contacts")

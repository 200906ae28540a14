"""The capture store: its file, its writes (authorised, validated, audited) and reads.

The dashboard's "Record assessments" page writes here, never into the served warehouse
(DuckDB has one writer, and each publish replaces the file). The store is a SQLite file
(data/capture/capture.sqlite; RAPPORT_CAPTURE_DB overrides the path) in WAL mode, with two
append-only tables:

  assessment_versions  one row per recorded version of a contact's assessment: decision
                       role, attitude (-1..3, or none), evaluation group, reports-to, a note,
                       when (assessed_at, UTC) and by whom (e-mail, role, rep_id)
  added_contacts       contacts missing from the CRM, each given the id CAP-C<id>

Nothing is updated or deleted (triggers refuse it): a new assessment is a new version.
Every write is authorised (rapport.serving.auth.may_write), validated with the contract's
rules (rapport/contract.yml: allowed values, case, min / max, the contact of the account),
bound as SQL parameters, and audited (rapport.serving.auth.audit: `capture`, or
`capture_refused`). Each write is one short `BEGIN IMMEDIATE` transaction, so concurrent
writers (threads or processes) queue on SQLite's lock (busy_timeout) and none is lost.

A build reads the store as an input beside the raw files: rapport/pipeline/captures.py.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import json
import logging
import os
import re
import sqlite3
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rapport.contract import Column, Contract, contract
from rapport.paths import data_dir
from rapport.serving import auth

log = logging.getLogger(__name__)

STORE_ENV = "RAPPORT_CAPTURE_DB"
BUSY_TIMEOUT_MS = 30_000
TEXT_MAX = 200  # names, titles, departments
NOTE_MAX = 2000
ASSESSMENT_PREFIX = "CAP-A"
CONTACT_PREFIX = "CAP-C"
# The columns a version may set on the CRM's contact (reports_to only when in the contract).
OVERRIDES = ("decision_role", "evaluation_group", "reports_to_contact_id")
ATTITUDE_WORDS = {
    -1: "opposes",
    0: "neutral / never contacted",
    1: "supports, not exclusively",
    2: "supports exclusively",
    3: "coach",
}
STATE_TABLE = "meta.capture_state"  # what a build merged (the page's "pending" and --incremental)

_SCHEMA = """
create table if not exists assessment_versions (
    id integer primary key autoincrement,
    contact_id text not null,
    account_id text not null,
    decision_role text,
    attitude integer,
    evaluation_group text,
    reports_to_contact_id text,
    note text not null default '',
    assessed_at text not null,
    written_by text not null,
    written_role text not null,
    rep_id text not null default ''
);
create index if not exists assessment_versions_contact on assessment_versions (contact_id);
create index if not exists assessment_versions_account on assessment_versions (account_id);
create table if not exists added_contacts (
    id integer primary key autoincrement,
    account_id text not null,
    full_name text not null,
    title text not null default '',
    department text not null default '',
    level text not null default '',
    created_at text not null,
    written_by text not null,
    written_role text not null
);
"""
_APPEND_ONLY = """
create trigger if not exists {table}_no_{action} before {action} on {table}
begin
    select raise(abort, 'the capture store is append-only: record a new version instead');
end;
"""


class CaptureError(ValueError):
    """A value the contract does not accept; `field` names it, the message says what to do."""

    def __init__(self, field_name: str, message: str) -> None:
        super().__init__(f"{field_name}: {message}")
        self.field = field_name


class CaptureRefused(PermissionError):
    """The viewer may not record for this account (audited as `capture_refused`)."""


@dataclass(frozen=True)
class AccountFacts:
    """What the served warehouse says about an account a write is for (read in the viewer's
    scope: an account outside it is not found, and the write is refused)."""

    account_id: str
    region_id: str | None
    team: frozenset[str] = frozenset()  # rep_ids: AR, SR, FR today and the period's AR
    contacts: frozenset[str] = frozenset()  # the account's contact ids in the warehouse


@dataclass(frozen=True)
class Recorded:
    id: int
    ref: str  # CAP-A000001 (an assessment version) or CAP-C000001 (an added contact)


def store_path() -> Path:
    return Path(os.environ.get(STORE_ENV) or data_dir() / "capture" / "capture.sqlite")


def assessment_id(version_id: int) -> str:
    return f"{ASSESSMENT_PREFIX}{int(version_id):06d}"


def contact_id_of(added_id: int) -> str:
    return f"{CONTACT_PREFIX}{int(added_id):06d}"


def _added_id(contact_id: str) -> int | None:
    found = re.fullmatch(rf"{CONTACT_PREFIX}(\d{{6,}})", contact_id)
    return int(found.group(1)) if found else None


def _now() -> str:
    return dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M:%S")


# --------------------------------------------------------------------------- connections


@contextlib.contextmanager
def _writer(path: Path | None = None) -> Iterator[sqlite3.Connection]:
    """The store opened for one write transaction (created on first use)."""
    path = path or store_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    con = sqlite3.connect(str(path), timeout=BUSY_TIMEOUT_MS / 1000, isolation_level=None)
    try:
        con.execute(f"pragma busy_timeout = {BUSY_TIMEOUT_MS}")
        con.execute("pragma journal_mode = wal")
        con.execute("pragma synchronous = normal")
        con.executescript(_SCHEMA + "".join(
            _APPEND_ONLY.format(table=t, action=a)
            for t in ("assessment_versions", "added_contacts") for a in ("update", "delete")))
        con.execute("begin immediate")
        try:
            yield con
        except BaseException:
            con.execute("rollback")
            raise
        con.execute("commit")
    finally:
        con.close()


@contextlib.contextmanager
def _reader(path: Path | None = None) -> Iterator[sqlite3.Connection | None]:
    """The store read-only (None when there is none yet); one snapshot for the block."""
    path = path or store_path()
    if not path.exists():
        yield None
        return
    con = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True,
                          timeout=BUSY_TIMEOUT_MS / 1000, isolation_level=None)
    con.row_factory = sqlite3.Row
    try:
        con.execute(f"pragma busy_timeout = {BUSY_TIMEOUT_MS}")
        tables = {r[0] for r in con.execute("select name from sqlite_master where type = 'table'")}
        if not {"assessment_versions", "added_contacts"} <= tables:
            yield None
            return
        con.execute("begin")  # one snapshot for every read of the block
        try:
            yield con
        finally:
            con.execute("rollback")
    finally:
        con.close()


# --------------------------------------------------------------------------- validation


def _column(table: str, name: str, spec: Contract | None = None) -> Column:
    return (spec or contract()).tables[table].columns[name]


def checked_text(field_name: str, value: Any, limit: int = TEXT_MAX) -> str:
    text = "" if value is None else str(value).strip()
    if "\x00" in text:
        raise CaptureError(field_name, "contains a NUL character; type the value again")
    if len(text) > limit:
        raise CaptureError(field_name, f"is {len(text)} characters long; keep it to {limit}")
    return text


def check_value(table: str, name: str, value: Any, spec: Contract | None = None) -> str:
    """A value as the contract's column accepts it (normalised: trimmed, cased), '' for
    empty; CaptureError names the column and what to do."""
    col = _column(table, name, spec)
    where = f"{name} ({table}.{name} in rapport/contract.yml)"
    text = checked_text(name, value)
    if col.case == "lower":
        text = text.lower()
    elif col.case == "upper":
        text = text.upper()
    if not text:
        if col.required:
            raise CaptureError(name, f"is required; fill it in ({where})")
        return ""
    if col.allowed is not None and text not in col.allowed:
        raise CaptureError(name, f"{text!r} is not allowed; use one of "
                                 f"{', '.join(col.allowed)} or leave it empty ({where})")
    if col.type == "integer":
        if not re.fullmatch(r"-?\d+", text):
            raise CaptureError(name, f"{text!r} is not a whole number ({where})")
        number = int(text)
        if (col.min is not None and number < col.min) or (col.max is not None
                                                           and number > col.max):
            raise CaptureError(name, f"{number} is outside {col.min:g}..{col.max:g} ({where})")
        text = str(number)
    return text


def _attitude(value: Any) -> int | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, bool):
        raise CaptureError("attitude", "must be a whole number -1..3")
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return int(check_value("contact_assessments", "attitude", value))


def _known_contact(con: sqlite3.Connection, account: AccountFacts, contact_id: str) -> bool:
    """A contact of this account: in the served warehouse, or added here for it."""
    if contact_id in account.contacts:
        return True
    added = _added_id(contact_id)
    return added is not None and con.execute(
        "select 1 from added_contacts where id = ? and account_id = ?",
        (added, account.account_id)).fetchone() is not None


def _authorise(viewer: auth.Viewer, account: AccountFacts | None, account_id: str,
               what: str) -> AccountFacts:
    reason = None
    if account is None or account.account_id != account_id:
        reason = (f"account {account_id!r} is not an account you may see; pick one from the "
                  "list")
    else:
        reason = auth.may_write(viewer, account.region_id, account.team)
    if reason:
        auth.audit("capture_refused", viewer.email, what, account_id=account_id,
                   role=_written_role(viewer), reason=reason)
        raise CaptureRefused(f"Not recorded: {reason}.")
    return account


def _written_role(viewer: auth.Viewer) -> str:
    return "local_demo" if viewer.email == auth.LOCAL_DEMO_EMAIL else viewer.role


# --------------------------------------------------------------------------- writes


def record_assessment(viewer: auth.Viewer, account: AccountFacts | None, account_id: str,
                      contact_id: str, *, attitude: Any = None, decision_role: Any = None,
                      evaluation_group: Any = None, reports_to_contact_id: Any = None,
                      note: Any = "", path: Path | None = None,
                      assessed_at: str | None = None) -> Recorded:
    """Append one assessment version of a contact; CaptureRefused (audited) or CaptureError
    when it may not or cannot be recorded. A role left None is not recorded by this version
    (the contact keeps what it had); '' records "none". The page records all three.
    assessed_at (UTC, 'YYYY-MM-DD HH:MM:SS') is now unless given (tests)."""
    contact_id = checked_text("contact_id", contact_id)
    account = _authorise(viewer, account, str(account_id),
                         f"assessment of contact {contact_id}")
    values = {
        "decision_role": None if decision_role is None else check_value(
            "contacts", "decision_role", decision_role),
        "attitude": _attitude(attitude),
        "evaluation_group": None if evaluation_group is None else check_value(
            "contacts", "evaluation_group", evaluation_group),
        "reports_to_contact_id": None if reports_to_contact_id is None else checked_text(
            "reports_to_contact_id", reports_to_contact_id),
        "note": checked_text("note", note, NOTE_MAX),
    }
    if not contact_id:
        raise CaptureError("contact_id", "is required; pick a contact of the account")
    if values["reports_to_contact_id"] == contact_id:
        raise CaptureError("reports_to_contact_id", "a contact cannot report to itself; pick "
                                                    "another contact or leave it empty")
    when = assessed_at or _now()
    with _writer(path) as con:
        if not _known_contact(con, account, contact_id):
            raise CaptureError("contact_id", f"{contact_id!r} is not a contact of account "
                                             f"{account.account_id}; pick one from the list "
                                             "or add the contact first")
        boss = values["reports_to_contact_id"]
        if boss and not _known_contact(con, account, boss):
            raise CaptureError("reports_to_contact_id", f"{boss!r} is not a contact of "
                                                        f"account {account.account_id}; pick "
                                                        "one from the list or leave it empty")
        cursor = con.execute(
            "insert into assessment_versions (contact_id, account_id, decision_role, "
            "attitude, evaluation_group, reports_to_contact_id, note, assessed_at, "
            "written_by, written_role, rep_id) values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (contact_id, account.account_id, values["decision_role"], values["attitude"],
             values["evaluation_group"], boss, values["note"], when, viewer.email,
             _written_role(viewer), viewer.rep_id or ""))
        new = Recorded(id=int(cursor.lastrowid), ref=assessment_id(cursor.lastrowid))
    auth.audit("capture", viewer.email, f"assessment {new.ref} of contact {contact_id}",
               account_id=account.account_id, role=_written_role(viewer),
               attitude=values["attitude"],
               decision_role=values["decision_role"],
               evaluation_group=values["evaluation_group"], reports_to_contact_id=boss,
               assessed_at=when)
    return new


def add_contact(viewer: auth.Viewer, account: AccountFacts | None, account_id: str, *,
                full_name: Any, title: Any = "", department: Any = "", level: Any = "",
                path: Path | None = None) -> Recorded:
    """Append a contact missing from the CRM; its id is CAP-C<id> (Recorded.ref)."""
    account = _authorise(viewer, account, str(account_id), "add a contact")
    values = {name: check_value("contacts", name, value) for name, value in (
        ("full_name", full_name), ("title", title), ("department", department),
        ("level", level))}
    with _writer(path) as con:
        cursor = con.execute(
            "insert into added_contacts (account_id, full_name, title, department, level, "
            "created_at, written_by, written_role) values (?, ?, ?, ?, ?, ?, ?, ?)",
            (account.account_id, values["full_name"], values["title"], values["department"],
             values["level"], _now(), viewer.email, _written_role(viewer)))
        new = Recorded(id=int(cursor.lastrowid), ref=contact_id_of(cursor.lastrowid))
    # the name is personal data: the audit line names the new id, not the person
    auth.audit("capture", viewer.email, f"added contact {new.ref}",
               account_id=account.account_id, role=_written_role(viewer))
    return new


# --------------------------------------------------------------------------- reads


def masked(name: str | None, may_see_pii: bool) -> str:
    """A name read from the store as the warehouse shows it (rapport.serving.queries
    name_sql): in full, or initials ('Ann Chen' -> 'A. C.') for a scope without personal
    data."""
    text = (name or "").strip()
    return text if may_see_pii else re.sub(r"(\S)\S*", r"\1.", text)


def masked_note(note: str | None, may_see_pii: bool) -> str | None:
    """A note may hold personal data: shown only to a scope that sees it."""
    if not note:
        return None
    return note if may_see_pii else "(hidden: personal data)"



def versions(account_id: str | None = None, contact_id: str | None = None,
             path: Path | None = None) -> list[dict[str, Any]]:
    """The recorded versions (oldest first), of one account and / or one contact."""
    where, params = [], []
    if account_id is not None:
        where.append("account_id = ?")
        params.append(account_id)
    if contact_id is not None:
        where.append("contact_id = ?")
        params.append(contact_id)
    with _reader(path) as con:
        if con is None:
            return []
        rows = con.execute(
            "select * from assessment_versions"
            + (f" where {' and '.join(where)}" if where else "") + " order by id",
            params).fetchall()
    return [{**dict(r), "assessment_id": assessment_id(r["id"])} for r in rows]


def added_contacts(account_id: str | None = None, path: Path | None = None
                   ) -> list[dict[str, Any]]:
    with _reader(path) as con:
        if con is None:
            return []
        rows = con.execute(
            "select * from added_contacts" + (" where account_id = ?" if account_id else "")
            + " order by id", [account_id] if account_id else []).fetchall()
    return [{**dict(r), "contact_id": contact_id_of(r["id"])} for r in rows]


@dataclass(frozen=True)
class StoreState:
    """What a build read of the store: the last ids and a digest of the rows up to them."""

    last_version_id: int = 0
    last_contact_id: int = 0
    versions_sha256: str = ""
    contacts_sha256: str = ""
    file_name: str = ""


def _digest(rows: Iterable[sqlite3.Row]) -> str:
    hashed, seen = hashlib.sha256(), 0
    for row in rows:
        hashed.update(json.dumps(list(row), default=str).encode())
        hashed.update(b"\n")
        seen += 1
    return hashed.hexdigest() if seen else ""  # no rows: as when there is no store


@dataclass
class Snapshot:
    versions: list[sqlite3.Row] = field(default_factory=list)
    contacts: list[sqlite3.Row] = field(default_factory=list)
    state: StoreState = field(default_factory=StoreState)


def snapshot(path: Path, upto: StoreState | None = None) -> Snapshot:
    """Every row (up to upto's ids when given), read in one transaction."""
    with _reader(path) as con:
        if con is None:
            return Snapshot(state=StoreState(file_name=path.name))
        last_v = upto.last_version_id if upto else con.execute(
            "select coalesce(max(id), 0) from assessment_versions").fetchone()[0]
        last_c = upto.last_contact_id if upto else con.execute(
            "select coalesce(max(id), 0) from added_contacts").fetchone()[0]
        rows_v = con.execute("select * from assessment_versions where id <= ? order by id",
                             [last_v]).fetchall()
        rows_c = con.execute("select * from added_contacts where id <= ? order by id",
                             [last_c]).fetchall()
    return Snapshot(versions=rows_v, contacts=rows_c, state=StoreState(
        last_version_id=int(last_v), last_contact_id=int(last_c),
        versions_sha256=_digest(rows_v), contacts_sha256=_digest(rows_c),
        file_name=path.name))


def current_state(path: Path | None = None, upto: StoreState | None = None) -> StoreState:
    return snapshot(path or store_path(), upto).state

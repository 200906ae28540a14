"""The capture store (rapport/serving/capture_store.py) and who may write to it (rapport.serving.auth.may_write):
every contract rule refuses a bad value naming the field, hostile text is stored as text,
nothing is ever updated or deleted, two writer processes lose nothing, a director cannot
write outside the region, an account manager only for the accounts of their team, leadership
not at all, and every write and refusal is in the audit log. No warehouse: the facts a page
reads from it (AccountFacts) are written here by hand."""

from __future__ import annotations

import json
import multiprocessing
import sqlite3
from pathlib import Path

import pytest

from rapport.pipeline import captures
from rapport.serving import auth, capture_store

USERS = {
    "users": {
        "lead@example.com": {"role": "leadership"},
        "dir.r1@example.com": {"role": "regional_director", "regions": ["R1"]},
        "am.p2@example.com": {"role": "account_manager", "regions": ["R1"], "rep_id": "P2"},
        "data@example.com": {"role": "data_team"},
    }
}
# A1 (R1): team P1 (AR), P2 (SR); contacts C1, C2. A3 (R2): team P3; contact C8.
A1 = capture_store.AccountFacts("A1", "R1", frozenset({"P1", "P2"}), frozenset({"C1", "C2"}))
A2 = capture_store.AccountFacts("A2", "R1", frozenset({"P1"}), frozenset({"C6", "C7"}))
A3 = capture_store.AccountFacts("A3", "R2", frozenset({"P3"}), frozenset({"C8"}))


@pytest.fixture()
def store(tmp_path: Path, monkeypatch) -> Path:
    path = tmp_path / "capture" / "capture.sqlite"
    monkeypatch.setenv("RAPPORT_CAPTURE_DB", str(path))
    monkeypatch.setenv("RAPPORT_AUDIT_LOG", str(tmp_path / "audit.log"))
    return path


def viewer(email: str) -> auth.Viewer:
    return auth.parse_config(USERS).viewer(email)


def audit_lines(store: Path) -> list[dict]:
    log = store.parent.parent / "audit.log"
    return [json.loads(line) for line in log.read_text().splitlines()] if log.exists() else []


def rows(store: Path, table: str) -> list[tuple]:
    with sqlite3.connect(store) as con:
        return con.execute(f"select * from {table} order by id").fetchall()


DATA = "data@example.com"


# --------------------------------------------------------------------------- validation


@pytest.mark.parametrize("field, value, says", [
    ("decision_role", "X", "'X' is not allowed; use one of A, D, S, E, I"),
    ("evaluation_group", "sales", "'sales' is not allowed"),
    ("attitude", 4, "4 is outside -1..3"),
    ("attitude", -2, "-2 is outside -1..3"),
    ("attitude", "1.5", "'1.5' is not a whole number"),
    ("attitude", True, "must be a whole number"),
    ("note", "x" * (capture_store.NOTE_MAX + 1), f"keep it to {capture_store.NOTE_MAX}"),
    ("note", "a\x00b", "NUL"),
    ("reports_to_contact_id", "C9", "'C9' is not a contact of account A1"),
    ("reports_to_contact_id", "C1", "cannot report to itself"),
])
def test_each_contract_rule_refuses_a_bad_value_naming_the_field(store, field, value, says):
    with pytest.raises(capture_store.CaptureError) as refused:
        capture_store.record_assessment(viewer(DATA), A1, "A1", "C1", **{field: value})
    assert refused.value.field == field
    assert str(refused.value).startswith(f"{field}: ") and says in str(refused.value)
    assert not store.exists() or rows(store, "assessment_versions") == []


def test_a_contact_must_be_one_of_the_account(store):
    with pytest.raises(capture_store.CaptureError, match="'C8' is not a contact of account A1"):
        capture_store.record_assessment(viewer(DATA), A1, "A1", "C8", attitude=1)
    # an added contact is one of its account's contacts, and of no other
    new = capture_store.add_contact(viewer(DATA), A2, "A2", full_name="New Person")
    with pytest.raises(capture_store.CaptureError, match="contact_id"):
        capture_store.record_assessment(viewer(DATA), A1, "A1", new.ref, attitude=1)
    capture_store.record_assessment(viewer(DATA), A2, "A2", new.ref, attitude=2, reports_to_contact_id="C6")
    assert [r[1:3] for r in rows(store, "assessment_versions")] == [("CAP-C000001", "A2")]


def test_values_are_normalised_as_the_contract_says(store):
    capture_store.record_assessment(viewer(DATA), A1, "A1", " C1 ", attitude="3",
                              decision_role=" d ", evaluation_group="Technical")
    (row,) = rows(store, "assessment_versions")
    # id, contact, account, role, attitude, group, reports_to (None: not recorded), note
    assert row[:8] == (1, "C1", "A1", "D", 3, "technical", None, "")
    capture_store.record_assessment(viewer(DATA), A1, "A1", "C1", decision_role="",
                              reports_to_contact_id="")  # '' records "none"
    assert rows(store, "assessment_versions")[1][3:7] == ("", None, None, "")
    with pytest.raises(capture_store.CaptureError, match="full_name: is required"):
        capture_store.add_contact(viewer(DATA), A1, "A1", full_name="  ")
    with pytest.raises(capture_store.CaptureError, match="level: 'top' is not allowed"):
        capture_store.add_contact(viewer(DATA), A1, "A1", full_name="Kai", level="top")


HOSTILE = "'); drop table assessment_versions; --"


def test_hostile_text_is_stored_as_text(store):
    capture_store.record_assessment(viewer(DATA), A1, "A1", "C1", attitude=0, note=HOSTILE)
    added = capture_store.add_contact(viewer(DATA), A1, "A1", full_name=HOSTILE, title='" or 1=1 --')
    with pytest.raises(capture_store.CaptureError):  # an id that is no contact: refused, not run
        capture_store.record_assessment(viewer(DATA), A1, "A1", HOSTILE, attitude=0)
    assert rows(store, "assessment_versions")[0][7] == HOSTILE
    assert capture_store.added_contacts("A1")[0]["full_name"] == HOSTILE
    assert added.ref == "CAP-C000001"
    assert capture_store.versions(contact_id=HOSTILE) == []  # a bound value, never SQL


# --------------------------------------------------------------------------- append-only


def test_a_new_assessment_is_a_new_version_and_nothing_is_changed(store):
    first = capture_store.record_assessment(viewer(DATA), A1, "A1", "C1", attitude=1,
                                      assessed_at="2026-01-01 09:00:00")
    second = capture_store.record_assessment(viewer(DATA), A1, "A1", "C1", attitude=3,
                                       assessed_at="2026-02-01 09:00:00")
    assert (first.ref, second.ref) == ("CAP-A000001", "CAP-A000002")
    capture_store.add_contact(viewer(DATA), A1, "A1", full_name="Kai Lo")
    assert [(v["id"], v["attitude"]) for v in capture_store.versions(contact_id="C1")] == [(1, 1),
                                                                                     (2, 3)]
    with sqlite3.connect(store) as con:
        for sql in ("update assessment_versions set attitude = 0",
                    "delete from assessment_versions", "delete from added_contacts"):
            with pytest.raises(sqlite3.DatabaseError, match="append-only"):
                con.execute(sql)
    assert [(v["id"], v["attitude"]) for v in capture_store.versions(contact_id="C1")] == [(1, 1),
                                                                                     (2, 3)]


def _write_many(path: str, audit: str, who: int, n: int) -> None:
    import os

    os.environ["RAPPORT_CAPTURE_DB"] = path
    os.environ["RAPPORT_AUDIT_LOG"] = audit
    me = viewer(DATA)
    for i in range(n):
        capture_store.record_assessment(me, A1, "A1", "C1", attitude=i % 4, note=f"w{who}-{i}")


def test_two_writer_processes_lose_nothing(store):
    n = 100
    ctx = multiprocessing.get_context("fork")  # no re-import: cheap
    audit = str(store.parent.parent / "audit.log")
    workers = [ctx.Process(target=_write_many, args=(str(store), audit, w, n))
               for w in (1, 2)]
    for w in workers:
        w.start()
    for w in workers:
        w.join(120)
        assert w.exitcode == 0
    notes = sorted(r[7] for r in rows(store, "assessment_versions"))
    assert len(notes) == 2 * n
    assert notes == sorted(f"w{w}-{i}" for w in (1, 2) for i in range(n))
    assert [r[0] for r in rows(store, "assessment_versions")] == list(range(1, 2 * n + 1))
    assert len([a for a in audit_lines(store) if a["event"] == "capture"]) == 2 * n


# --------------------------------------------------------------------------- who may write


def test_a_director_writes_in_the_region_only_and_both_are_audited(store):
    director = viewer("dir.r1@example.com")
    capture_store.record_assessment(director, A1, "A1", "C1", attitude=2)
    with pytest.raises(capture_store.CaptureRefused, match="not in your regions \\(R1\\)"):
        capture_store.record_assessment(director, A3, "A3", "C8", attitude=2)
    with pytest.raises(capture_store.CaptureRefused, match="not in your regions"):
        capture_store.add_contact(director, A3, "A3", full_name="Someone")
    assert [r[1] for r in rows(store, "assessment_versions")] == ["C1"]
    assert rows(store, "added_contacts") == []
    lines = audit_lines(store)
    assert [(a["event"], a["who"], a["account_id"]) for a in lines] == [
        ("capture", "dir.r1@example.com", "A1"),
        ("capture_refused", "dir.r1@example.com", "A3"),
        ("capture_refused", "dir.r1@example.com", "A3"),
    ]
    assert lines[0]["what"] == "assessment CAP-A000001 of contact C1" and lines[0]["attitude"] == 2


def test_an_account_manager_writes_for_the_accounts_of_their_team_only(store):
    manager = viewer("am.p2@example.com")
    assert manager.rep_id == "P2" and manager.scope.region_ids == frozenset({"R1"})
    capture_store.record_assessment(manager, A1, "A1", "C2", attitude=1)  # P2 is A1's SR
    with pytest.raises(capture_store.CaptureRefused, match=r"you \(P2\) are not on this account's"):
        capture_store.record_assessment(manager, A2, "A2", "C6", attitude=1)  # A2: only P1
    with pytest.raises(capture_store.CaptureRefused, match="not in your regions"):
        capture_store.record_assessment(manager, A3, "A3", "C8", attitude=1)
    assert rows(store, "assessment_versions")[0][11] == "P2"  # the writer's rep_id
    assert [a["event"] for a in audit_lines(store)] == ["capture", "capture_refused",
                                                        "capture_refused"]


def test_leadership_reads_only_and_an_unknown_account_is_refused(store):
    with pytest.raises(capture_store.CaptureRefused, match="leadership may not record"):
        capture_store.record_assessment(viewer("lead@example.com"), A1, "A1", "C1", attitude=1)
    with pytest.raises(capture_store.CaptureRefused, match="not an account you may see"):
        capture_store.record_assessment(viewer(DATA), None, "A9", "C1", attitude=1)
    capture_store.record_assessment(viewer(DATA), A3, "A3", "C8", attitude=1)  # anywhere
    demo = auth.local_demo_viewer()
    capture_store.record_assessment(demo, A3, "A3", "C8", attitude=2)
    assert [r[9:11] for r in rows(store, "assessment_versions")] == [
        ("data@example.com", "data_team"), ("local-demo", "local_demo")]
    assert [a["event"] for a in audit_lines(store)] == ["capture_refused", "capture_refused",
                                                        "capture", "capture"]
    assert not viewer("lead@example.com").may_record and viewer(DATA).may_record


def test_the_users_file_refuses_an_account_manager_without_rep_id_and_capture_for_readers():
    with pytest.raises(auth.AccessConfigError, match=r"users\.yml: users\.am@x\.com: an "
                                                     r"account_manager needs `rep_id:`"):
        auth.parse_config({"users": {"am@x.com": {"role": "account_manager",
                                                  "regions": ["R1"]}}}, "users.yml")
    with pytest.raises(auth.AccessConfigError, match="only an account_manager has `rep_id:`"):
        auth.parse_config({"users": {"d@x.com": {"role": "data_team", "rep_id": "P1"}}})
    with pytest.raises(auth.AccessConfigError, match="leadership may not write"):
        auth.parse_config({"role_pages": {"leadership": ["overview", "capture"]}})
    config = auth.parse_config(USERS)
    assert "capture" not in config.viewer("lead@example.com").pages
    assert "capture" in config.viewer("am.p2@example.com").pages
    assert "data_quality" not in config.viewer("am.p2@example.com").pages


def test_an_unreadable_store_stops_the_build_naming_it(store):
    import duckdb

    from rapport.errors import StructuralError

    store.parent.mkdir(parents=True)
    store.write_bytes(b"not a database, " * 100)
    with duckdb.connect() as con, pytest.raises(StructuralError) as stopped:
        captures.merge_for_build(con, {})
    assert str(stopped.value).startswith(f"{store}: the capture store cannot be read")
    assert "Restore it from its backup" in str(stopped.value)

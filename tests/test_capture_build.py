"""Recorded assessments through the build, on tests/fixtures/tiny (as-of date: today, so an
assessment recorded now is in force).

The round trip: the served warehouse (the build's front, rapport.pipeline.ingest.load_raw +
rapport.pipeline.captures.merge_for_build + rapport.pipeline.quarantine.run_gate, then every dbt model) is
opened on the Record assessments page under AppTest; an assessment saved there shows as
pending; the next build (the incremental path: a copy of the served file, the capture store
gated again by rapport.pipeline.captures.regate, then the dbt models that depend on contacts and
assessments) shows it on the power map (fct_power_map) with the contact's new key score.
To keep the suite's time, dbt runs only the models the page and the map need, without their
tests (the full `rapport build` runs them; tests/test_incremental.py and the pipeline tests
build through the command line).

The same store through a full build's front gives the same validated contacts, contact
assessments, quarantine and row counts as the incremental regate: an incremental build with
new captures then runs every dbt model on those inputs (rapport/pipeline/build.py), so its marts equal
a full build's. plan() sees new captures, and refuses a store that lost or changed rows.

Hand-worked numbers (transforms/seeds/relationship_score_settings.csv: key score =
100 x (0.6 x support_norm + 0.4 x intimacy), support_norm = (attitude + 1) / 4, a role holder
never assessed counts as attitude 0; role_influence_weights: A 1.0):
- C6 (A2, role A, never assessed, never touched: intimacy 0): 100 x 0.6 x 0.25 = 15.0;
  recorded as a coach (3): 100 x 0.6 x 1.0 = 60.0.
- CAP-C000001, added to A2 as an influencer (I) who supports exclusively (2): 45.0.
- C7 (A2, no role, not on the map before): recorded as evaluator (E), no attitude: 15.0.
- C9 (A3, tier S, decision maker D, assessed -1 on 2024-02-01): the alert
  approver_or_decider_opposes; recorded as supporting exclusively (2): the alert is gone,
  A3's other alerts (untouched key contacts) stay.
"""

from __future__ import annotations

import datetime as dt
import json
import shutil
import sys
from pathlib import Path

import duckdb
import pytest
from streamlit.testing.v1 import AppTest

from rapport.paths import DASHBOARD_DIR
from rapport.pipeline import captures
from rapport.pipeline.dbt_runner import run_dbt
from rapport.pipeline.incremental import (
    NotIncremental,
    code_files,
    plan,
    raw_file_states,
    write_state,
)
from rapport.pipeline.ingest import load_raw
from rapport.pipeline.quarantine import run_gate
from rapport.serving import auth, capture_store

TINY = Path(__file__).parent / "fixtures" / "tiny"
APP = str(DASHBOARD_DIR / "app.py")
AS_OF = dt.datetime.now(dt.UTC).date()


def _front(db: Path, raw: Path, store: Path, build_id: str) -> None:
    """A full build's ingest, capture merge and gate (rapport/pipeline/build.py,
    _ingest_and_gate)."""
    con = duckdb.connect(str(db))
    try:
        counts = load_raw(con, raw)
        captures.merge_for_build(con, counts, store, as_of=AS_OF)
        run_gate(con, build_id, AS_OF)
        con.execute("create table meta.build_info as select ? as build_id, "
                    "cast(? as timestamp) as started_at, cast(? as date) as as_of_date",
                    [build_id, dt.datetime.now(dt.UTC).replace(tzinfo=None), AS_OF])
        write_state(con, build_id, code_files(), raw_file_states(raw), counts)
    finally:
        con.close()


# What the app's sidebar and the Record assessments page read (the Overview, which the app
# opens first, says "not built" for what is missing: a warning, not an error).
PAGE_MODELS = ("+fct_power_map", "+dim_accounts", "+dim_contacts", "+dim_reps",
               "+fct_account_tiers", "+fct_rep_performance", "+int_accounts_owner_of_period",
               "+fct_account_alerts")
# The next build's dbt: what depends on contacts and assessments, of those models.
NEXT_MODELS = tuple(f"source:validated.{table}+,{model}" for table in ("contacts",
                    "contact_assessments") for model in ("+fct_power_map", "+dim_contacts",
                                                         "+fct_account_alerts"))


def _dbt(db: Path, build_id: str, *select: str, seeds: bool = False) -> None:
    args = ["run", "--select", *select]
    if seeds:  # the seeds too (config.*), no tests
        args = ["build", "--select", *select, "--exclude-resource-type", "test",
                "--exclude-resource-type", "unit_test"]
    result = run_dbt(args, db, vars={"build_id": build_id, "as_of_date": str(AS_OF)},
                     echo=None)
    assert result.success, result


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("capture")
    raw = root / "raw"
    shutil.copytree(TINY, raw)
    store = root / "capture" / "capture.sqlite"
    db = root / "served.duckdb"
    _front(db, raw, store, "b0")  # no store yet: nothing merged
    _dbt(db, "b0", *PAGE_MODELS, seeds=True)
    return {"root": root, "raw": raw, "store": store, "db": db}


@pytest.fixture()
def env(served, monkeypatch):
    monkeypatch.setenv("RAPPORT_WAREHOUSE", str(served["db"]))
    monkeypatch.setenv("RAPPORT_CAPTURE_DB", str(served["store"]))
    monkeypatch.setenv("RAPPORT_AUDIT_LOG", str(served["root"] / "audit.log"))
    monkeypatch.delenv("RAPPORT_AS_USER", raising=False)
    return served


def _alerts(db: Path, account_id: str) -> list[tuple]:
    with duckdb.connect(str(db), read_only=True) as con:
        return con.execute("select alert_type, contact_id from marts.fct_account_alerts "
                           "where account_id = ? order by all", [account_id]).fetchall()


def _map(db: Path) -> dict[str, tuple]:
    with duckdb.connect(str(db), read_only=True) as con:
        return {r[0]: r[1:] for r in con.execute(
            "select contact_id, decision_role, current_attitude, contact_key_score "
            "from marts.fct_power_map where account_id = 'A2'").fetchall()}


def test_record_on_the_page_pending_then_built_onto_the_power_map(env, monkeypatch):
    db, store = env["db"], env["store"]
    assert _map(db) == {"C6": ("A", None, 15.0)}  # C7 has no role and no assessment
    # A3 (tier S): its decision maker C9 was assessed -1 (opposes) on 2024-02-01
    assert ("approver_or_decider_opposes", "C9") in _alerts(db, "A3")

    at = AppTest.from_file(APP, default_timeout=120).run()
    at.switch_page("pages/capture.py").run()
    at.selectbox(key="cap_account").set_value("A2").run()
    at.selectbox(key="cap_contact_A2").set_value("C6").run()
    at.selectbox(key="cap_attitude_A2_C6").set_value(3)
    at.text_area(key="cap_note_A2_C6").input("met at the summit; backs us")
    at.button(key="cap_submit").click().run()
    assert not at.exception and not at.error, [e.value for e in (*at.exception, *at.error)]
    assert "Saved as CAP\\-A000001" in at.success[0].value
    assert next(m.value for m in at.metric if m.label == "Pending, in the next build") == "1"
    pending = next(d.value for d in at.dataframe if "status" in d.value.columns)
    assert pending["assessment_id"].tolist() == ["CAP-A000001"]
    assert pending["status"].tolist() == ["pending, in the next build"]
    assert pending["attitude"].tolist() == ["3 coach"]

    # more through the store's API (the page calls the same functions)
    demo = auth.local_demo_viewer()
    a2 = capture_store.AccountFacts("A2", "R1", frozenset({"P1"}), frozenset({"C6", "C7"}))
    added = capture_store.add_contact(demo, a2, "A2", full_name="Kai Lo", title="Architect")
    capture_store.record_assessment(demo, a2, "A2", added.ref, attitude=2, decision_role="I",
                              reports_to_contact_id="C6")
    capture_store.record_assessment(demo, a2, "A2", "C7", decision_role="E")  # roles only
    # an account manager whose rep_id is not in reps.csv: the gate quarantines the row
    stray = auth.parse_config({"users": {"am@example.com": {
        "role": "account_manager", "regions": ["R1"], "rep_id": "P9"}}}
    ).viewer("am@example.com")
    capture_store.record_assessment(stray, capture_store.AccountFacts("A2", "R1", frozenset({"P9"}),
                                                          a2.contacts),
                              "A2", "C6", attitude=1, decision_role="A",
                              evaluation_group="final_decision")
    # the account team of A3 now finds C9 supporting us exclusively (2)
    a3 = capture_store.AccountFacts("A3", "R2", frozenset({"P3", "P4"}), frozenset({"C8", "C9"}))
    capture_store.record_assessment(demo, a3, "A3", "C9", attitude=2)

    # the next build: incremental path (copy, regate the two tables, dbt on what depends)
    nxt = env["root"] / "next.duckdb"
    shutil.copyfile(db, nxt)
    with duckdb.connect(str(nxt)) as con:
        captures.regate(con, "b1", env["raw"], AS_OF, capture_store.current_state(store))
    _dbt(nxt, "b1", *NEXT_MODELS)
    assert _map(nxt) == {
        "C6": ("A", 3, 60.0),  # the page's coach; CAP-A000004 (P9) is quarantined
        "CAP-C000001": ("I", 2, 45.0),
        "C7": ("E", None, 15.0),
    }
    # the opposing-decision-maker alert of A3 is gone; A3's other alerts stay
    before, after = _alerts(db, "A3"), _alerts(nxt, "A3")
    assert after == [a for a in before if a != ("approver_or_decider_opposes", "C9")]
    with duckdb.connect(str(nxt), read_only=True) as con:
        bad = con.execute("select source_file, reasons from meta.dq_quarantine "
                          "where table_name = 'contact_assessments'").fetchall()
        assert bad == [("capture.sqlite", "orphan_fk")]
        assert con.execute("select evaluation_group, _source_file from validated.contacts "
                           "where contact_id = 'C6'").fetchone() == (
            "final_decision", "contacts.csv + capture.sqlite")

    # the page on the new build: nothing pending, the history says built
    monkeypatch.setenv("RAPPORT_WAREHOUSE", str(nxt))
    at2 = AppTest.from_file(APP, default_timeout=120).run()
    at2.switch_page("pages/capture.py").run()
    at2.selectbox(key="cap_account").set_value("A2").run()
    at2.selectbox(key="cap_contact_A2").set_value("C6").run()
    assert next(m.value for m in at2.metric if m.label == "Pending, in the next build") == "0"
    history = next(d.value for d in at2.dataframe if "status" in d.value.columns)
    assert history["assessment_id"].tolist() == ["CAP-A000004", "CAP-A000001"]
    assert set(history["status"]) == {"built"}

    lines = [json.loads(x) for x in (env["root"] / "audit.log").read_text().splitlines()]
    writes = [(x["who"], x["what"]) for x in lines if x["event"] == "capture"]
    assert writes == [
        ("local-demo", "assessment CAP-A000001 of contact C6"),
        ("local-demo", "added contact CAP-C000001"),
        ("local-demo", "assessment CAP-A000002 of contact CAP-C000001"),
        ("local-demo", "assessment CAP-A000003 of contact C7"),
        ("am@example.com", "assessment CAP-A000004 of contact C6"),
        ("local-demo", "assessment CAP-A000005 of contact C9"),
    ]


def _gated(db: Path) -> dict[str, list]:
    with duckdb.connect(str(db), read_only=True) as con:
        return {
            "contacts": con.execute("select * from validated.contacts order by all").fetchall(),
            "assessments": con.execute(
                "select * from validated.contact_assessments order by all").fetchall(),
            "quarantine": con.execute(
                "select table_name, source_file, row_number, raw_values, reasons, detail "
                "from meta.dq_quarantine order by all").fetchall(),
            "counts": con.execute("select table_name, raw_rows, clean_rows, quarantined_rows "
                                  "from meta.dq_row_counts order by all").fetchall(),
        }


def test_incremental_with_captures_gates_like_a_full_build(served, tmp_path, monkeypatch):
    """plan() sees the new rows of the store; the incremental regate of a copy of the served
    file equals a full build's front on the same raw files and store; a store that lost or
    changed rows the served build read needs a full build."""
    raw = served["raw"]
    store = tmp_path / "capture.sqlite"
    monkeypatch.setenv("RAPPORT_CAPTURE_DB", str(store))
    monkeypatch.setenv("RAPPORT_AUDIT_LOG", str(tmp_path / "audit.log"))
    base = tmp_path / "base.duckdb"
    shutil.copyfile(served["db"], base)  # merged an empty store
    with duckdb.connect(str(base)) as con:  # the code as it is now (a shared tree changes)
        write_state(con, "b0", code_files(), raw_file_states(raw), {})
    assert plan(raw, base, AS_OF).captures is None

    demo = auth.local_demo_viewer()
    a1 = capture_store.AccountFacts("A1", "R1", frozenset({"P1"}), frozenset({"C1", "C4", "C5"}))
    capture_store.record_assessment(demo, a1, "A1", "C4", attitude=-1, decision_role="s",
                              evaluation_group="commercial")
    capture_store.record_assessment(demo, a1, "A1", "C4", attitude=1, decision_role="D",
                              assessed_at="2026-01-02 08:00:00")  # older: C4's roles stay S
    added = capture_store.add_contact(demo, a1, "A1", full_name="Lu Pei", level="low")
    capture_store.record_assessment(demo, a1, "A1", added.ref, attitude=0, reports_to_contact_id="C1")
    stray = auth.parse_config({"users": {"am@example.com": {
        "role": "account_manager", "regions": ["R1"], "rep_id": "P9"}}}
    ).viewer("am@example.com")  # P9 is no rep: its assessment is quarantined (orphan_fk)
    capture_store.record_assessment(stray, capture_store.AccountFacts("A1", "R1", frozenset({"P9"}),
                                                          a1.contacts), "A1", "C5", attitude=2)
    found = plan(raw, base, AS_OF)
    assert found.captures == capture_store.current_state(store)
    assert (found.captures.last_version_id, found.captures.last_contact_id) == (4, 1)

    inc, full = tmp_path / "inc.duckdb", tmp_path / "full.duckdb"
    shutil.copyfile(base, inc)
    with duckdb.connect(str(inc)) as con:
        captures.regate(con, "b1", raw, AS_OF, found.captures)
    _front(full, raw, store, "b1")
    gated = _gated(inc)
    assert gated == _gated(full)
    c4 = next(r for r in gated["contacts"] if r[0] == "C4")
    assert (c4[6], c4[7]) == ("S", "commercial")  # the latest by assessed_at, not by id
    with duckdb.connect(str(inc), read_only=True) as con:
        # no version recorded C4's manager: the CRM's stays; the added contact's is recorded
        assert con.execute("select contact_id, reports_to_contact_id from validated.contacts "
                           "where contact_id in ('C4', 'CAP-C000001') order by 1").fetchall() \
            == [("C4", "C2"), ("CAP-C000001", "C1")]
    assert [r[:4] for r in gated["assessments"] if r[0].startswith("CAP")] == [
        ("CAP-A000001", "C4", AS_OF, -1), ("CAP-A000002", "C4", dt.date(2026, 1, 2), 1),
        ("CAP-A000003", "CAP-C000001", AS_OF, 0)]
    assert [r[:5:4] for r in gated["quarantine"]] == [("contact_assessments", "orphan_fk")]

    # the served build read rows the store no longer has (another store): a full build
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("RAPPORT_CAPTURE_DB", str(tmp_path / "other.sqlite"))
        capture_store.record_assessment(demo, a1, "A1", "C1", attitude=0)
        with duckdb.connect(str(full)) as con:
            write_state(con, "b1", code_files(), raw_file_states(raw), {})
        with pytest.raises(NotIncremental, match="lost or changed rows"):
            plan(raw, full, AS_OF)


def test_an_assessment_recorded_after_the_as_of_date_is_dated_on_it(tmp_path, monkeypatch):
    """A CRM export runs to some day before today; what the account team records today is
    how the contact stands now, so the build dates it on its as-of date (the warehouse's
    "now"). An assessment recorded before the as-of date keeps its day."""
    store = tmp_path / "capture.sqlite"
    monkeypatch.setenv("RAPPORT_CAPTURE_DB", str(store))
    monkeypatch.setenv("RAPPORT_AUDIT_LOG", str(tmp_path / "audit.log"))
    demo = auth.local_demo_viewer()
    a1 = capture_store.AccountFacts("A1", "R1", frozenset({"P1"}), frozenset({"C1", "C4", "C5"}))
    capture_store.record_assessment(demo, a1, "A1", "C4", attitude=2,
                              assessed_at="2025-06-01 09:00:00")
    capture_store.record_assessment(demo, a1, "A1", "C5", attitude=3)  # now: after 2025
    as_of = dt.date(2025, 6, 30)
    # a build at as_of dated the second one on as_of: a later as-of date dates it again
    assert captures.recorded_after(as_of, store)
    assert not captures.recorded_after(AS_OF, store)
    with duckdb.connect() as con:
        load_raw(con, TINY)
        captures.merge_into_raw(con, store, as_of=as_of)
        assert con.execute(
            "select assessment_id, contact_id, assessed_date from raw.contact_assessments "
            "where assessment_id like 'CAP-%' order by 1").fetchall() == [
            ("CAP-A000001", "C4", "2025-06-01"), ("CAP-A000002", "C5", "2025-06-30")]


if __name__ == "__main__":  # pragma: no cover
    sys.exit(pytest.main([__file__, "-q"]))

"""Incremental builds (`rapport build --incremental`, rapport/pipeline/incremental.py).

The slow test builds three warehouses from the test data (`demo_raw`, split at its last day):
a base build of everything before 2026-06-30, an incremental build after the last day's
interactions are appended, and a full build of the same final files in another data folder.
Every mart (and every intermediate table, the validated interactions and the quarantine) of
the incremental build must equal the full build's.

The appended rows are the generated last day plus four made to exercise the gate and the
per-month recomputation:
- a copy of the first interaction's id (duplicate_key: the old row stays),
- an unknown account (orphan_fk),
- a row dated 2099 (impossible_value: after the as-of date; out_of_range: logged after the
  as-of date + 10 years),
- a late-logged interaction dated 2026-05-15 (so May and June are recomputed).
The base file also ends with one interaction dated 2026-06-30 10:00 while the base build
runs with --as-of 2026-06-29: quarantined as "in the future" then, clean in the incremental
build (its as-of date becomes 2026-06-30), exactly as the full build judges it.

The fast tests check when an incremental build is refused (plan()), without dbt.
"""

from __future__ import annotations

import json
import math
import shutil
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import duckdb
import pytest
from support.pipeline import run_cli

from rapport.pipeline.incremental import (
    NotIncremental,
    code_files,
    plan,
    raw_file_states,
    refuse_moved_date_bounds,
    write_state,
)

LAST_DAY = "2026-06-30"
BASE_AS_OF = "2026-06-29"
HEADER_COLUMNS = ("interaction_id,occurred_at,logged_at,rep_id,account_id,contact_id,"
                  "activity_type,outcome,plan_item_id")


def _split_last_day(raw: Path) -> tuple[bytes, list[bytes], list[bytes]]:
    """(header line, lines before LAST_DAY, lines of LAST_DAY) of interactions.csv."""
    lines = (raw / "interactions.csv").read_bytes().splitlines(keepends=True)
    header, rows = lines[0], lines[1:]
    assert header.decode().strip() == HEADER_COLUMNS
    first = next(i for i, line in enumerate(rows)
                 if line.split(b",")[1].startswith(LAST_DAY.encode()))
    return header, rows[:first], rows[first:]


def _line(interaction_id: str, occurred_at: str, rep: str, account: str, contact: str) -> bytes:
    return (f"{interaction_id},{occurred_at},{occurred_at},{rep},{account},{contact},"
            f"phone_call,Followed up,\n").encode()


@dataclass(frozen=True)
class Scenario:
    incremental: Path  # the incremental build's warehouse file
    full: Path  # the full build's warehouse file
    incremental_log: str
    incremental_dbt: Path  # its dbt target folder (run_results.json)
    base_rows: int  # data lines in the base file
    appended: int  # data lines appended
    duplicate_id: str  # the first generated id, appended again


@pytest.fixture(scope="module")
def scenario(tmp_path_factory: pytest.TempPathFactory, demo_raw: Path) -> Scenario:
    root = tmp_path_factory.mktemp("incremental")
    raw = root / "raw"
    shutil.copytree(demo_raw, raw, ignore=shutil.ignore_patterns(".*"))
    header, before, last_day = _split_last_day(raw)
    first = before[0].decode().split(",")
    rep, account, contact = first[3], first[4], first[5]
    revived = _line("INTX000001", f"{LAST_DAY} 10:00:00", rep, account, contact)
    specials = [
        _line(first[0], f"{LAST_DAY} 11:00:00", rep, account, contact),  # duplicate id
        _line("INTX000002", f"{LAST_DAY} 12:00:00", rep, "ACC_UNKNOWN", ""),  # orphan
        _line("INTX000003", "2099-01-01 09:00:00", rep, account, contact),  # future
        _line("INTX000004", "2026-05-15 09:00:00", rep, account, contact),  # late-logged
    ]
    base = header + b"".join(before) + revived
    (raw / "interactions.csv").write_bytes(base)

    inc_dir, full_dir = root / "inc", root / "full"
    built = run_cli("build", "--raw", str(raw), "--as-of", BASE_AS_OF, data_dir=inc_dir)
    assert built.returncode == 0, built.stdout[-3000:] + built.stderr[-3000:]

    with (raw / "interactions.csv").open("ab") as handle:
        handle.write(b"".join(last_day + specials))
    inc = run_cli("build", "--raw", str(raw), "--incremental", data_dir=inc_dir)
    assert inc.returncode == 0, inc.stdout[-3000:] + inc.stderr[-3000:]
    full = run_cli("build", "--raw", str(raw), data_dir=full_dir)
    assert full.returncode == 0, full.stdout[-3000:] + full.stderr[-3000:]

    with duckdb.connect(str(inc_dir / "warehouse" / "rapport.duckdb"), read_only=True) as con:
        build_id = con.execute("select build_id from meta.build_info").fetchone()[0]
    return Scenario(
        incremental=inc_dir / "warehouse" / "rapport.duckdb",
        full=full_dir / "warehouse" / "rapport.duckdb",
        incremental_log=inc.stdout,
        incremental_dbt=inc_dir / "warehouse" / "builds" / f"{build_id}.dbt",
        base_rows=len(before) + 1,
        appended=len(last_day) + len(specials),
        duplicate_id=first[0],
    )


def _tables(con: duckdb.DuckDBPyConnection, schema: str) -> list[str]:
    return [r[0] for r in con.execute(
        "select table_name from information_schema.tables "
        "where table_catalog = 'inc' and table_schema = ? and table_type = 'BASE TABLE' "
        "order by table_name", [schema]).fetchall()]


def _columns(con: duckdb.DuckDBPyConnection, relation: str) -> list[tuple[str, str]]:
    schema, table = relation.split(".")
    return [(r[0], r[1]) for r in con.execute(
        "select column_name, data_type from information_schema.columns "
        "where table_catalog = 'inc' and table_schema = ? and table_name = ? "
        "order by ordinal_position", [schema, table]).fetchall()]


def _same(a: object, b: object) -> bool:
    if isinstance(a, float) and isinstance(b, float):
        # the models round scores to 6 decimals; a parallel float sum can land either side
        # of a rounding step (two full builds of the same data differ the same way)
        return math.isclose(a, b, rel_tol=1e-12, abs_tol=1.5e-6)
    return a == b


def _differences(con: duckdb.DuckDBPyConnection, relation: str,
                 skip: tuple[str, ...] = ()) -> tuple[int, int, list]:
    """(rows in inc, rows in full, first differing row pairs): both sides sorted by every
    column (exact columns first), compared row by row, floats within rounding noise."""
    columns = [(c, t) for c, t in _columns(con, relation) if c not in skip]
    exact = [f'"{c}"' for c, t in columns if t not in ("DOUBLE", "FLOAT")]
    floats = [f'"{c}"' for c, t in columns if t in ("DOUBLE", "FLOAT")]
    select = ", ".join(f'"{c}"' for c, _ in columns)
    order = ", ".join(exact + floats)
    inc = con.execute(f"select {select} from inc.{relation} order by {order}").fetchall()
    full = con.execute(f"select {select} from full_build.{relation} order by {order}").fetchall()
    differing = [(x, y) for x, y in zip(inc, full, strict=False)
                 if len(x) != len(y) or not all(map(_same, x, y))]
    return len(inc), len(full), differing[:3]


@pytest.mark.slow
@pytest.mark.xdist_group("incremental")
def test_incremental_build_equals_a_full_build(scenario: Scenario) -> None:
    log = scenario.incremental_log
    assert "incremental: not possible" not in log, log
    # 87 generated lines of the last day + 4 made ones at the test's scale and seed; the
    # count is taken from the file so the arithmetic holds for any demo_raw
    assert f"{scenario.appended:,} interactions appended" in log, log
    # the late-logged 2026-05-15 row is the earliest change
    assert "data changed from 2026-05-15" in log, log

    con = duckdb.connect()
    con.execute(f"attach '{scenario.incremental}' as inc (read_only)")
    con.execute(f"attach '{scenario.full}' as full_build (read_only)")
    marts = _tables(con, "marts")
    assert {"fct_interactions", "fct_relationship_health", "dim_accounts", "dim_contacts",
            "fct_power_map", "fct_account_alerts"} <= set(marts)
    compared = {f"marts.{t}": _differences(con, f"marts.{t}") for t in marts}
    compared |= {f"intermediate.{t}": _differences(con, f"intermediate.{t}")
                 for t in _tables(con, "intermediate")}
    compared["validated.interactions"] = _differences(con, "validated.interactions")
    compared["raw.interactions"] = _differences(con, "raw.interactions")
    compared["meta.dq_quarantine"] = _differences(con, "meta.dq_quarantine", ("build_id",))
    compared["meta.dq_row_counts"] = _differences(con, "meta.dq_row_counts", ("build_id",))
    unequal = {name: d for name, d in compared.items() if d[0] != d[1] or d[2]}
    assert not unequal, f"incremental != full (inc rows, full rows, first differences): " \
                        f"{unequal}"
    assert all(d[0] > 0 for name, d in compared.items() if name.startswith("marts.")), compared


@pytest.mark.slow
@pytest.mark.xdist_group("incremental")
def test_incremental_gate_judges_the_new_rows_like_a_full_build(scenario: Scenario) -> None:
    with duckdb.connect(str(scenario.incremental), read_only=True) as con:
        as_of = con.execute("select as_of_date from meta.build_info").fetchone()[0]
        counts = con.execute("select raw_rows, clean_rows, quarantined_rows "
                             "from meta.dq_row_counts where table_name = 'interactions'"
                             ).fetchone()
        reasons = dict(con.execute(
            "select json_extract_string(raw_values, '$.interaction_id') || "
            "  case when json_extract_string(raw_values, '$.account_id') = 'ACC_UNKNOWN' "
            "  then '/orphan' else '' end, reasons "
            "from meta.dq_quarantine where table_name = 'interactions'").fetchall())
        revived = con.execute("select count(*) from validated.interactions "
                              "where interaction_id = 'INTX000001'").fetchone()[0]
    assert as_of == date(2026, 6, 30)
    # raw = base lines + appended lines; 3 made rows quarantined, the rest clean
    raw = scenario.base_rows + scenario.appended
    assert counts == (raw, raw - 3, 3)
    assert reasons == {
        scenario.duplicate_id: "duplicate_key",  # the first generated id, appended again
        "INTX000002/orphan": "orphan_fk",
        # occurred in the future of the as-of date; logged then too: beyond the as-of date
        # + 10 years bound of logged_at
        "INTX000003": "impossible_value,out_of_range",
    }
    assert revived == 1  # in the future of the base's as-of date, clean now


@pytest.mark.slow
@pytest.mark.xdist_group("incremental")
def test_incremental_build_recomputes_only_the_changed_months(scenario: Scenario) -> None:
    """The SQL dbt ran for each incremental model (target/compiled) selects only the months
    from May 2026: run it again on the build's own file and count its rows."""
    results = json.loads((scenario.incremental_dbt / "run_results.json").read_text())
    ran = {r["unique_id"] for r in results["results"]}
    # unit tests test the code, unchanged since the base build: not run again; nor what does
    # not depend on the interactions (seeds, the assessments' models and their tests)
    assert not any(node.startswith(("unit_test.", "seed.")) for node in ran)
    assert "model.rapport.int_contact_assessments_versioned" not in ran
    assert {"model.rapport.int_dates", "model.rapport.fct_rep_scorecard",
            "test.rapport.assert_row_counts_reconcile"} <= ran
    compiled = scenario.incremental_dbt / "compiled" / "rapport" / "models"
    build_file = scenario.incremental_dbt.with_suffix(".duckdb")
    # the compiled SQL names the database as dbt opened it (rapport/pipeline/dbt_runner.py:
    # build.duckdb)
    with duckdb.connect() as con:
        con.execute(f"attach '{build_file}' as build (read_only)")
        con.execute("use build")
        contacts = con.execute("select count(*) from marts.dim_contacts").fetchone()[0]
        accounts = con.execute("select count(*) from marts.dim_accounts").fetchone()[0]
        months = con.execute("select count(*) from intermediate.int_calendar_months"
                             ).fetchone()[0]
        batch = {}
        for model in ("intermediate/int_contacts_monthly", "intermediate/int_accounts_key_scored",
                      "marts/relationships/fct_relationship_health",
                      "marts/relationships/fct_interactions"):
            sql = (compiled / f"{model}.sql").read_text()
            batch[model.split("/")[-1]] = con.execute(f"select count(*) from ({sql})").fetchone()[0]
        june = con.execute("select count(*) from marts.fct_interactions "
                           "where occurred_at >= date '2026-05-15'").fetchone()[0]
    assert months == 24  # 2024-07 .. 2026-06
    # May and June only: 2 months x every contact / account, not 24 months
    assert batch["int_contacts_monthly"] == 2 * contacts
    assert batch["int_accounts_key_scored"] == 2 * accounts
    assert batch["fct_relationship_health"] == 2 * accounts
    # interactions from 2026-05-15 on only (the late-logged row's day)
    assert batch["fct_interactions"] == june < 30_000 / 10


@pytest.mark.slow
@pytest.mark.xdist_group("incremental")
def test_incremental_build_tests_only_the_rows_it_rebuilt(scenario: Scenario) -> None:
    """The data tests whose `where` config holds __changed_months__ / __changed_days__
    (macros/tests/changed_rows.sql) read, in the incremental build, only the months / days
    from incremental_since (2026-05-15) on; in the full build, every row."""
    def test_sql(dbt_folder: Path, name: str) -> str:
        results = json.loads((dbt_folder / "run_results.json").read_text())
        found = [r for r in results["results"]
                 if r["unique_id"].startswith(f"test.rapport.{name}.")]
        assert len(found) == 1, name
        assert found[0]["status"] == "pass"
        return found[0]["compiled_code"]

    full_dbt = next((scenario.full.parent / "builds").glob("*.dbt"))
    months_test = "unique_combination_int_contacts_monthly_contact_id__month_start_date"
    days_test = "unique_fct_interactions_interaction_id"
    assert "where true" in test_sql(full_dbt, months_test)
    assert "where true" in test_sql(full_dbt, days_test)
    scoped = test_sql(scenario.incremental_dbt, months_test)
    assert "where month_start_date >= cast(" in scoped and "2026-05-15" in scoped
    assert "where occurred_at >= cast('2026-05-15' as date)" in test_sql(
        scenario.incremental_dbt, days_test)
    # what the scoped test read: May and June of every contact (2 of 24 months)
    subquery = scoped[scoped.index("(select * from"):scoped.index(") dbt_subquery") + 1]
    with duckdb.connect() as con:
        con.execute(f"attach '{scenario.incremental_dbt.with_suffix('.duckdb')}' as build "
                    "(read_only)")
        con.execute("use build")
        read = con.execute(f"select count(*), min(month_start_date) from {subquery}").fetchone()
        contacts = con.execute("select count(*) from marts.dim_contacts").fetchone()[0]
    assert read == (2 * contacts, date(2026, 5, 1))


# --------------------------------------------------------------------------- refusals


@pytest.fixture()
def served(tmp_path: Path, demo_raw: Path) -> tuple[Path, Path]:
    """A raw folder and a stand-in served file holding the state of a build of it."""
    raw = tmp_path / "raw"
    shutil.copytree(demo_raw, raw, ignore=shutil.ignore_patterns(".*"))
    path = tmp_path / "served.duckdb"
    with duckdb.connect(str(path)) as con:
        con.execute("create schema meta")
        con.execute("create table meta.build_info as "
                    "select 'B1' as build_id, date '2026-06-30' as as_of_date")
        lines = (raw / "interactions.csv").read_bytes().count(b"\n") - 1
        write_state(con, "B1", code_files(), raw_file_states(raw), {"interactions": lines})
    return raw, path


def test_plan_accepts_unchanged_and_appended_files(served: tuple[Path, Path]) -> None:
    raw, path = served
    size = (raw / "interactions.csv").stat().st_size
    assert plan(raw, path, None).appended_bytes == 0
    line = _line("INTX9", f"{LAST_DAY} 10:00:00", "REP0001", "ACC0001", "")
    with (raw / "interactions.csv").open("ab") as handle:
        handle.write(line)
    found = plan(raw, path, None)
    assert (found.appended_from, found.appended_bytes) == (size, len(line))
    assert found.base_as_of == date(2026, 6, 30)


@pytest.mark.parametrize("change, reason", [
    ("accounts", "accounts.csv changed since build B1"),
    ("edit", "bytes differ from the file build B1 read"),
    ("shrink", "is smaller than when build B1 read it"),
    ("as_of", "--as-of 2026-06-01 is before the served build's as-of date 2026-06-30"),
    ("parquet", "need interactions as the same CSV file"),
    ("code", "the code changed since build B1 (transforms/dbt_project.yml)"),
])
def test_plan_refuses_what_only_a_full_build_can_do(served: tuple[Path, Path], change: str,
                                                   reason: str) -> None:
    raw, path = served
    interactions = raw / "interactions.csv"
    as_of = None
    if change == "accounts":
        with (raw / "accounts.csv").open("ab") as handle:
            handle.write(b"\n")
    elif change == "edit":
        data = bytearray(interactions.read_bytes())
        data[-5] = ord("X") if data[-5] != ord("X") else ord("Y")  # same size, one byte
        interactions.write_bytes(bytes(data))
    elif change == "shrink":
        data = interactions.read_bytes()
        interactions.write_bytes(data[: data.rindex(b"\n", 0, len(data) - 1) + 1])
    elif change == "as_of":
        as_of = date(2026, 6, 1)
    elif change == "parquet":
        with duckdb.connect() as con:
            con.execute(f"copy (select * from read_csv('{interactions}', all_varchar = true)) "
                        f"to '{raw / 'interactions.parquet'}' (format parquet)")
        interactions.unlink()
    elif change == "code":
        with duckdb.connect(str(path)) as con:
            con.execute("update meta.incremental_state set sha256 = 'old' "
                        "where item = 'transforms/dbt_project.yml'")
    with pytest.raises(NotIncremental, match=reason.replace("(", r"\(").replace(")", r"\)")):
        plan(raw, path, as_of)


def test_plan_needs_a_served_build_with_state(tmp_path: Path, demo_raw: Path) -> None:
    with pytest.raises(NotIncremental, match="no served warehouse"):
        plan(demo_raw, tmp_path / "missing.duckdb", None)
    old = tmp_path / "old.duckdb"
    with duckdb.connect(str(old)) as con:
        con.execute("create schema meta")
        con.execute("create table meta.build_info as "
                    "select 'B0' as build_id, date '2026-06-30' as as_of_date")
    with pytest.raises(NotIncremental, match="has no incremental state"):
        plan(demo_raw, old, None)


def test_a_later_as_of_date_with_rows_quarantined_as_too_late_needs_a_full_build(
        served: tuple[Path, Path]) -> None:
    """A deal closing 2036-07-01 is beyond as-of 2026-06-30 + 10 years (quarantined by the
    served build) but within 2026-07-02 + 10 years: only a full build can take it back."""
    raw, path = served
    base = plan(raw, path, None)
    with duckdb.connect() as con:
        con.execute("create schema meta")
        con.execute("create table meta.dq_quarantine (table_name varchar, detail varchar)")
        refuse_moved_date_bounds(con, base, date(2026, 7, 2))  # nothing of the kind: fine
        con.execute("insert into meta.dq_quarantine values ('opportunities', "
                    "'out_of_range:close_date=2036-07-01 (after 2036-06-30, the as-of date "
                    "+ 10 years)')")
        refuse_moved_date_bounds(con, base, date(2026, 6, 30))  # same as-of date: fine
        with pytest.raises(NotIncremental, match="1 row.s. of other tables were quarantined "
                                                 "as too far after the as-of date 2026-06-30"):
            refuse_moved_date_bounds(con, base, date(2026, 7, 2))

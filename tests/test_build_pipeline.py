"""`rapport build` / `rollback` end to end: real files, real dbt, real GX.

One module-wide data folder starts as a copy of the shared built warehouse (one good build);
the tests then build again, fail a build on purpose, roll back, and race a second build.
Structural breaks get a data folder of their own.
"""

from __future__ import annotations

import csv
import shutil
import time
from pathlib import Path

import duckdb
import pytest
from support.pipeline import (
    build_id_from,
    copy_data_dir,
    kill_group,
    run_cli,
    start_cli,
    wait_for_line,
    warehouse_state,
)

from rapport.pipeline.publish import sha256_file

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("pipeline-build")]


def _records(data_dir: Path) -> dict[str, str]:
    import json

    folder = data_dir / "warehouse" / "builds"
    return {p.stem: json.loads(p.read_text())["status"] for p in sorted(folder.glob("*.json"))}


@pytest.fixture(scope="module")
def pipeline(tmp_path_factory: pytest.TempPathFactory, built_warehouse: Path, demo_raw: Path):
    """A data folder with two good builds: the shared one (copied) and a new one."""
    data_dir = copy_data_dir(built_warehouse.parent.parent,
                             tmp_path_factory.mktemp("pipeline"))
    first = warehouse_state(data_dir / "warehouse" / "rapport.duckdb")["build_id"]
    started = time.monotonic()
    result = run_cli("build", "--raw", str(demo_raw), data_dir=data_dir)
    return {"data_dir": data_dir, "first": first, "result": result, "raw": demo_raw,
            "seconds": time.monotonic() - started}


def test_build_publishes_and_keeps_the_two_good_builds(pipeline):
    result, data_dir = pipeline["result"], pipeline["data_dir"]
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    second = build_id_from(result.stdout)
    served = data_dir / "warehouse" / "rapport.duckdb"
    assert warehouse_state(served)["build_id"] == second
    records = _records(data_dir)
    assert [b for b, s in records.items() if s == "passed"] == [pipeline["first"], second]
    for build_id in (pipeline["first"], second):
        assert (data_dir / "warehouse" / "builds" / f"{build_id}.duckdb").exists()
    # one readable progress line per stage, with its seconds
    for stage in ("ingest", "gate", "input checks", "dbt", "checks", "publish"):
        assert f"{stage}: done in " in result.stdout, stage
    assert f"build {second}: published" in result.stdout


def test_published_warehouse_records_the_build_and_its_checks(pipeline):
    assert pipeline["result"].returncode == 0
    second = build_id_from(pipeline["result"].stdout)
    with duckdb.connect(str(pipeline["data_dir"] / "warehouse" / "rapport.duckdb"),
                        read_only=True) as con:
        info = con.execute("select build_id, status, as_of_date, started_at <= finished_at, "
                           "raw_rows, clean_rows + quarantined_rows, git_commit "
                           "from meta.build_info").fetchall()
        history = [r[0] for r in con.execute(
            "select build_id from meta.build_history order by build_id").fetchall()]
        statuses = dict(con.execute(
            "select status, count(*) from meta.dq_results where build_id = ? group by status",
            [second]).fetchall())
        suites = {r[0] for r in con.execute("select distinct suite from meta.dq_results")
                  .fetchall()}
        raw_interactions = con.execute("select count(*) from raw.interactions").fetchone()[0]
    assert len(info) == 1
    build_id, status, as_of, ordered, raw_rows, accounted, commit = info[0]
    assert (build_id, status, ordered) == (second, "passed", True)
    assert as_of is not None and commit
    assert raw_rows == accounted                       # raw = clean + quarantined, all tables
    # the generated data has 30,000 interactions (conftest TEST_SCALE)
    assert raw_interactions == 30_000
    assert history == sorted([pipeline["first"], second])
    assert statuses.get("fail", 0) == 0 and statuses.get("error", 0) == 0
    assert statuses["pass"] > 100
    for suite in ("raw_interactions", "mart_fct_rep_performance", "reconciliation",
                  "quarantine", "dbt"):
        assert suite in suites


def _break_activity_types(src: Path, dst: Path, share: float) -> int:
    """Copy raw files; give `share` of the interactions an activity type outside the taxonomy."""
    shutil.copytree(src, dst, ignore=shutil.ignore_patterns(".*"))
    path = dst / "interactions.csv"
    with path.open(newline="", encoding="utf-8") as handle:
        rows = list(csv.reader(handle))
    column = rows[0].index("activity_type")
    every = round(1 / share)
    broken = 0
    for i, row in enumerate(rows[1:]):
        if i % every == 0:
            row[column] = "karaoke_marathon"
            broken += 1
    with path.open("w", newline="", encoding="utf-8") as handle:
        csv.writer(handle, lineterminator="\n").writerows(rows)
    return broken


def test_failed_checks_keep_the_served_file_byte_identical_and_exit_1(pipeline, tmp_path):
    data_dir = pipeline["data_dir"]
    served = data_dir / "warehouse" / "rapport.duckdb"
    before = sha256_file(served)
    # 1 in 10 of 30,000 interactions = 3,000 not_allowed rows: a 10% quarantine rate, above
    # the 5% fail threshold of expectations/thresholds.yml
    assert _break_activity_types(pipeline["raw"], tmp_path / "raw", share=0.10) == 3_000
    result = run_cli("build", "--raw", str(tmp_path / "raw"), data_dir=data_dir)
    assert result.returncode == 1, result.stdout[-3000:] + result.stderr[-3000:]
    failed = build_id_from(result.stdout)
    assert sha256_file(served) == before
    assert "NOT published" in result.stderr
    assert "dbt was not run" in result.stderr and "dbt: done" not in result.stdout
    assert "quarantine_rate_fail [interactions]" in result.stderr
    assert "observed 0.1" in result.stderr                   # 3,000 / 30,000
    assert _records(data_dir)[failed] == "checks_failed"
    kept = data_dir / "warehouse" / "builds" / f"{failed}.duckdb"
    with duckdb.connect(str(kept), read_only=True) as con:
        assert con.execute("select status from meta.build_info").fetchone()[0] == "checks_failed"
        assert con.execute(
            "select status, observed_value from meta.dq_results "
            "where expectation = 'quarantine_rate_fail' and \"column\" = 'interactions'"
        ).fetchone() == ("fail", "0.1")


def test_rollback_serves_the_previous_good_build_then_refuses_to_go_further(pipeline):
    data_dir = pipeline["data_dir"]
    served = data_dir / "warehouse" / "rapport.duckdb"
    second = build_id_from(pipeline["result"].stdout)
    result = run_cli("rollback", data_dir=data_dir, timeout=120)
    assert result.returncode == 0, result.stderr
    assert f"now serving build {pipeline['first']} (was {second})" in result.stdout
    assert warehouse_state(served)["build_id"] == pipeline["first"]
    assert _records(data_dir)[second] == "rolled_back"

    before = sha256_file(served)
    again = run_cli("rollback", data_dir=data_dir, timeout=120)
    assert again.returncode == 1
    assert "no earlier good build" in again.stderr
    assert sha256_file(served) == before


def test_a_second_build_is_refused_at_once_naming_the_running_build(pipeline):
    data_dir = pipeline["data_dir"]
    first = start_cli("build", "--raw", str(pipeline["raw"]), data_dir=data_dir,
                      RAPPORT_TEST_PAUSE_AT="ingest")
    try:
        _, lines = wait_for_line(first, r"paused at ingest", timeout=120)
        running = build_id_from("\n".join(lines))
        started = time.monotonic()
        second = run_cli("build", "--raw", str(pipeline["raw"]), data_dir=data_dir,
                         timeout=120)
        elapsed = time.monotonic() - started
    finally:
        kill_group(first)
    assert second.returncode == 1
    assert f"build {running} (pid {first.pid}" in second.stderr
    assert "is running" in second.stderr
    assert elapsed < 15          # python start-up only: the refusal does not wait
    assert "ingest" not in second.stdout


# --------------------------------------------------------------------------- structural breaks


@pytest.fixture(scope="module")
def structural_dir(tmp_path_factory: pytest.TempPathFactory, built_warehouse: Path) -> Path:
    return copy_data_dir(built_warehouse.parent.parent, tmp_path_factory.mktemp("structural"))


def _missing_file(raw: Path) -> tuple[str, str]:
    # a core table (an optional one, e.g. interactions, narrows the coverage instead)
    (raw / "reps.csv").unlink()
    return "reps", "missing"


def _missing_column(raw: Path) -> tuple[str, str]:
    path = raw / "opportunities.csv"
    with path.open(newline="", encoding="utf-8") as handle:
        rows = list(csv.reader(handle))
    drop = rows[0].index("account_id")
    with path.open("w", newline="", encoding="utf-8") as handle:
        csv.writer(handle, lineterminator="\n").writerows(
            [r[:drop] + r[drop + 1:] for r in rows])
    return "opportunities.csv", "account_id"


def _truncated_parquet(raw: Path) -> tuple[str, str]:
    csv_path, parquet = raw / "accounts.csv", raw / "accounts.parquet"
    with duckdb.connect() as con:
        con.execute(f"copy (select * from read_csv('{csv_path}', all_varchar = true)) "
                    f"to '{parquet}' (format parquet)")
    csv_path.unlink()
    data = parquet.read_bytes()
    parquet.write_bytes(data[: len(data) // 2])
    return "accounts.parquet", "Parquet"


def _truncated_csv(raw: Path) -> tuple[str, str]:
    path = raw / "contact_assessments.csv"
    text = path.read_text(encoding="utf-8")
    cut = text.rstrip("\n").rfind(",")             # cut the last line after its last comma
    path.write_text(text[:cut - 1], encoding="utf-8")
    return "contact_assessments.csv", "fields"


def _semicolons(raw: Path) -> tuple[str, str]:
    path = raw / "contacts.csv"
    with path.open(newline="", encoding="utf-8") as handle:
        rows = list(csv.reader(handle))
    with path.open("w", newline="", encoding="utf-8") as handle:
        csv.writer(handle, delimiter=";", lineterminator="\n").writerows(rows)
    return "contacts.csv", "semicolons"


def _latin1(raw: Path) -> tuple[str, str]:
    path = raw / "reps.csv"
    with path.open(newline="", encoding="utf-8") as handle:
        rows = list(csv.reader(handle))
    rows[1][rows[0].index("rep_name")] = "José Müller"
    with path.open("w", newline="", encoding="latin-1") as handle:
        csv.writer(handle, lineterminator="\n").writerows(rows)
    return "reps.csv", "UTF-8"


@pytest.mark.parametrize("damage", [_missing_file, _missing_column, _truncated_parquet,
                                    _truncated_csv, _semicolons, _latin1],
                         ids=lambda f: f.__name__.strip("_"))
def test_a_structural_break_exits_2_naming_the_file_and_leaves_the_served_file(
        damage, structural_dir: Path, demo_raw: Path, tmp_path: Path):
    raw = tmp_path / "raw"
    shutil.copytree(demo_raw, raw, ignore=shutil.ignore_patterns(".*"))
    names_file, names_problem = damage(raw)
    served = structural_dir / "warehouse" / "rapport.duckdb"
    before = sha256_file(served)
    result = run_cli("build", "--raw", str(raw), data_dir=structural_dir, timeout=300)
    assert result.returncode == 2, result.stdout[-2000:] + result.stderr[-2000:]
    message = result.stderr
    assert names_file in message and names_problem in message, message
    assert "served warehouse is unchanged" in message
    assert sha256_file(served) == before
    assert "dbt:" not in result.stdout           # stopped before any transformation
    assert _records(structural_dir)[build_id_from(result.stdout)] == "structural_error"

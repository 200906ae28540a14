"""Readers in other processes poll the served warehouse while a build publishes.

Each read opens the served file read-only (short-lived connection, as docs/operations.md
tells the dashboard to), reads the build id and several row counts in that one connection,
and closes it. Zero reads may fail, and every read must match exactly one build's counts.
"""

from __future__ import annotations

import csv
import json
import shutil
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
from support.pipeline import build_id_from, copy_data_dir, run_cli, warehouse_state

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("pipeline-readers")]

READER = textwrap.dedent("""
    import json, os, sys, time
    import duckdb
    served, out, stop = sys.argv[1], sys.argv[2], sys.argv[3]
    tables = ["raw.interactions", "validated.interactions", "marts.fct_interactions",
              "marts.dim_accounts", "meta.dq_results"]
    with open(out, "w") as log:
        while not os.path.exists(stop):
            record = {"t": time.time()}
            try:
                st = os.stat(served)
                record["identity"] = [st.st_ino, st.st_mtime_ns]
                with duckdb.connect(served, read_only=True) as con:
                    record["build_id"] = con.execute(
                        "select build_id from meta.build_info").fetchone()[0]
                    for table in tables:
                        record[table] = con.execute(
                            f"select count(*) from {table}").fetchone()[0]
            except Exception as exc:
                record["error"] = f"{type(exc).__name__}: {exc}"
            log.write(json.dumps(record) + "\\n")
            log.flush()
            time.sleep(0.05)
""")


def _fewer_interactions(src: Path, dst: Path, keep: int) -> None:
    shutil.copytree(src, dst, ignore=shutil.ignore_patterns(".*"))
    path = dst / "interactions.csv"
    with path.open(newline="", encoding="utf-8") as handle:
        rows = list(csv.reader(handle))
    with path.open("w", newline="", encoding="utf-8") as handle:
        csv.writer(handle, lineterminator="\n").writerows(rows[: keep + 1])


def test_readers_see_whole_builds_and_no_errors_while_a_build_publishes(
        tmp_path: Path, built_warehouse: Path, demo_raw: Path):
    data_dir = copy_data_dir(built_warehouse.parent.parent, tmp_path / "data")
    served = data_dir / "warehouse" / "rapport.duckdb"
    truth = {}
    initial = warehouse_state(served)
    truth[initial["build_id"]] = initial
    # the new build differs visibly: 25,000 of the 30,000 interactions (one build only: a
    # second publish tested nothing new and cost a whole build, about 70 CPU-s)
    _fewer_interactions(demo_raw, tmp_path / "raw_b", keep=25_000)

    stop = tmp_path / "stop"
    readers = [
        subprocess.Popen([sys.executable, "-c", READER, str(served),
                          str(tmp_path / f"reads_{i}.jsonl"), str(stop)])
        for i in range(2)
    ]
    try:
        time.sleep(1.0)
        builds = []
        for raw in (tmp_path / "raw_b",):
            result = run_cli("build", "--raw", str(raw), data_dir=data_dir)
            assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
            builds.append(build_id_from(result.stdout))
            time.sleep(1.0)
    finally:
        stop.touch()
        for reader in readers:
            reader.wait(timeout=60)
    for build_id in builds:     # among the two good builds kept
        truth[build_id] = warehouse_state(data_dir / "warehouse" / "builds"
                                          / f"{build_id}.duckdb")
    assert initial["raw.interactions"] == 30_000
    assert truth[builds[0]]["raw.interactions"] == 25_000

    reads = [json.loads(line) for i in range(2)
             for line in (tmp_path / f"reads_{i}.jsonl").read_text().splitlines()]
    errors = [r["error"] for r in reads if "error" in r]
    assert errors == []
    assert len(reads) > 100
    mixed = [r for r in reads
             if {k: v for k, v in r.items() if k not in ("t", "identity")}
             != truth[r["build_id"]]]
    assert mixed == []
    seen = [r["build_id"] for r in sorted(reads, key=lambda r: r["t"])]
    assert set(seen) == {initial["build_id"], *builds}
    # each reader saw the builds in publish order, never going back
    for i in range(2):
        order = [json.loads(line)["build_id"]
                 for line in (tmp_path / f"reads_{i}.jsonl").read_text().splitlines()]
        firsts = list(dict.fromkeys(order))
        assert firsts == [initial["build_id"], *builds]
    print(f"reads: {len(reads)}, errors: {len(errors)}, builds seen: {len(set(seen))}")

"""SIGKILL a build at several points: the served warehouse stays intact and openable.

RAPPORT_TEST_PAUSE_AT=<stage> makes the build announce "paused at <stage>" and sleep there, so
the kill lands at a known point: after ingest (gate), while dbt runs (during_dbt: announced
2 s into dbt), after the checks ran but before anything was recorded (checks), and in the
publish step after the new file was linked beside the served one but before os.replace
(publish).
"""

from __future__ import annotations

import json
from pathlib import Path

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

from rapport.publish import sha256_file

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("pipeline-kill")]

KILL_POINTS = ["gate", "during_dbt", "checks", "publish"]


@pytest.fixture(scope="module")
def served_dir(tmp_path_factory: pytest.TempPathFactory, built_warehouse: Path) -> dict:
    data_dir = copy_data_dir(built_warehouse.parent.parent, tmp_path_factory.mktemp("kill"))
    served = data_dir / "warehouse" / "rapport.duckdb"
    return {"data_dir": data_dir, "served": served, "sha": sha256_file(served),
            "state": warehouse_state(served), "killed": []}


@pytest.mark.parametrize("stage", KILL_POINTS)
def test_sigkill_at_a_stage_leaves_the_served_warehouse_intact(stage, served_dir, demo_raw):
    proc = start_cli("build", "--raw", str(demo_raw), data_dir=served_dir["data_dir"],
                     RAPPORT_TEST_PAUSE_AT=stage)
    try:
        _, lines = wait_for_line(proc, rf"paused at {stage} \(pid")
    finally:
        kill_group(proc)
    served_dir["killed"].append(build_id_from("\n".join(lines)))
    # the served file opens (read-only) and shows the same build with the same row counts
    assert warehouse_state(served_dir["served"]) == served_dir["state"]
    assert sha256_file(served_dir["served"]) == served_dir["sha"]


def test_the_next_build_takes_over_the_lock_and_marks_the_killed_builds(served_dir, tmp_path):
    """After the kills, a new command is not refused: the dead builds' lock is taken over."""
    assert len(served_dir["killed"]) == len(KILL_POINTS)
    result = run_cli("build", "--raw", str(tmp_path / "no-such-folder"),
                     data_dir=served_dir["data_dir"], timeout=300)
    assert result.returncode == 2, result.stdout + result.stderr      # the folder is missing
    assert f"took over the lock left by build {served_dir['killed'][-1]}" in result.stdout
    warehouse = served_dir["data_dir"] / "warehouse"
    statuses = {p.stem: json.loads(p.read_text())["status"]
                for p in (warehouse / "builds").glob("*.json")}
    # keep 3 failed builds: the structural failure just now and the last two killed builds
    assert statuses[served_dir["killed"][-1]] == "interrupted"
    assert statuses[served_dir["killed"][-2]] == "interrupted"
    assert served_dir["killed"][0] not in statuses
    # the publish kill left a temporary link beside the served file; retention removed it
    assert sorted(p.name for p in warehouse.iterdir()) == ["build.lock", "builds",
                                                          "rapport.duckdb"]
    assert sha256_file(served_dir["served"]) == served_dir["sha"]

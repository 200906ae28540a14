"""SIGKILL a build at several points: the served warehouse stays intact and openable.

RAPPORT_TEST_PAUSE_AT=<stage> makes the build announce "paused at <stage>" and sleep there, so
the kill lands at a known point: after ingest (gate), while dbt runs (during_dbt: announced
2 s into dbt), and in the publish step after the new file was linked beside the served one
but before os.replace (publish). The build also pauses after its mart checks (checks) on
request; that point is not killed here: like during_dbt it leaves an unpublished build file,
and each point costs a whole build in the suite's 15 minutes.
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

KILL_POINTS = ["gate", "during_dbt", "publish"]


def test_sigkill_at_each_stage_leaves_the_served_warehouse_intact_and_the_next_build_runs(
        tmp_path_factory: pytest.TempPathFactory, built_warehouse: Path, demo_raw: Path,
        tmp_path: Path):
    """Builds killed at three stages, then a new command takes over the dead lock.

    One test, not five: the kills leave state (killed builds, a stale lock) that the last part
    checks, and pytest-xdist may run the tests of one module on different workers.
    """
    data_dir = copy_data_dir(built_warehouse.parent.parent, tmp_path_factory.mktemp("kill"))
    served = data_dir / "warehouse" / "rapport.duckdb"
    sha, state = sha256_file(served), warehouse_state(served)
    killed = []
    for stage in KILL_POINTS:
        proc = start_cli("build", "--raw", str(demo_raw), data_dir=data_dir,
                         RAPPORT_TEST_PAUSE_AT=stage)
        try:
            _, lines = wait_for_line(proc, rf"paused at {stage} \(pid")
        finally:
            kill_group(proc)
        killed.append(build_id_from("\n".join(lines)))
        # the served file opens (read-only) and shows the same build with the same row counts
        assert warehouse_state(served) == state, f"after the kill at {stage}"
        assert sha256_file(served) == sha, f"after the kill at {stage}"

    # after the kills, a new command is not refused: the dead builds' lock is taken over
    result = run_cli("build", "--raw", str(tmp_path / "no-such-folder"), data_dir=data_dir,
                     timeout=300)
    assert result.returncode == 2, result.stdout + result.stderr      # the folder is missing
    assert f"took over the lock left by build {killed[-1]}" in result.stdout
    warehouse = data_dir / "warehouse"
    statuses = {p.stem: json.loads(p.read_text())["status"]
                for p in (warehouse / "builds").glob("*.json")}
    # keep 3 failed builds: the structural failure just now and the last two killed builds
    assert statuses[killed[-1]] == "interrupted"
    assert statuses[killed[-2]] == "interrupted"
    assert killed[0] not in statuses
    # the publish kill left a temporary link beside the served file; retention removed it
    assert sorted(p.name for p in warehouse.iterdir()) == ["build.lock", "builds",
                                                          "rapport.duckdb"]
    assert sha256_file(served) == sha

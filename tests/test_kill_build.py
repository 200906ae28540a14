"""SIGKILL, SIGINT and SIGTERM a build at several points: the served warehouse stays intact.

RAPPORT_TEST_PAUSE_AT=<stage> makes the build announce "paused at <stage>" and sleep there, so
the kill lands at a known point: after ingest (gate), while dbt runs (during_dbt: announced
2 s into dbt), and in the publish step after the new file was linked beside the served one
but before os.replace (publish). The build also pauses after its mart checks (checks) on
request; that point is not killed here: like during_dbt it leaves an unpublished build file,
and each point costs a whole build in the suite's 15 minutes.

SIGINT and SIGTERM must stop a build at once at any stage (exit 130 / 143), record it
`interrupted`, publish nothing and leave no lock or temporary file: after ingest, during the
input checks, and while dbt's threads run nodes (once; twice; SIGTERM; and SIGINT to a build
started with SIGINT ignored, as in the background of a script). Each is stopped early, so
none costs a whole build. Stops at the mart checks and the publish step are tested by hand
(docs/operations.md) and the publish's rules in tests/test_publish.py, without a build.
"""

from __future__ import annotations

import fcntl
import json
import os
import signal
import time
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pytest
from support.pipeline import (
    build_id_from,
    copy_data_dir,
    finish,
    group_gone,
    kill_group,
    run_cli,
    start_cli,
    wait_for_line,
    warehouse_state,
)

from rapport.pipeline.publish import sha256_file

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


# --------------------------------------------------------------------------- SIGINT, SIGTERM

# A line rapport prints (RAPPORT_VERBOSE) when dbt finished a node: dbt's threads are running
# models and tests, so the signal has to stop them, not only dbt's start-up.
DBT_NODE = r"^  \S+\s+(success|pass)\s+\d+\.\d\ds$"
STOP_SECONDS = 60  # from the signal to the exit; about 1 s on a quiet machine


@dataclass(frozen=True)
class Stop:
    signals: tuple[int, ...]  # sent in order; a second one once the first was acknowledged
    wait_for: str  # the output line that marks the moment
    where: str  # how the message names it
    env: dict[str, str]
    ignore_sigint: bool = False  # started with SIGINT ignored (background of a script)


STOPS = {
    "sigterm_after_ingest": Stop((signal.SIGTERM,), r"paused at gate \(pid", "after ingest",
                                 {"RAPPORT_TEST_PAUSE_AT": "gate"}),
    "sigint_during_input_checks": Stop((signal.SIGINT,), r"input checks: great-expectations",
                                       "during input checks", {}),
    # the reported bug: started in the background of a script (SIGINT ignored), `kill -INT`
    # did nothing and the build published
    "sigint_during_dbt": Stop((signal.SIGINT,), DBT_NODE, "during dbt",
                              {"RAPPORT_VERBOSE": "1"}, ignore_sigint=True),
    "sigint_twice_during_dbt": Stop((signal.SIGINT, signal.SIGINT), DBT_NODE, "during dbt",
                                    {"RAPPORT_VERBOSE": "1"}),
    "sigterm_during_dbt": Stop((signal.SIGTERM,), DBT_NODE, "during dbt",
                               {"RAPPORT_VERBOSE": "1"}),
}


@pytest.fixture(scope="module")
def stop_dir(tmp_path_factory: pytest.TempPathFactory, built_warehouse: Path) -> Path:
    """One data folder for the stop tests: none of them may change what it serves."""
    return copy_data_dir(built_warehouse.parent.parent, tmp_path_factory.mktemp("stop"))


@pytest.mark.parametrize("case", list(STOPS), ids=list(STOPS))
def test_sigint_and_sigterm_stop_the_build_at_once_and_publish_nothing(
        case: str, stop_dir: Path, demo_raw: Path):
    """Each costs a build up to the moment of the signal (the dbt ones: ingest, gate, input
    checks and dbt's first nodes), never a whole build."""
    stop = STOPS[case]
    served = stop_dir / "warehouse" / "rapport.duckdb"
    sha, state = sha256_file(served), warehouse_state(served)
    proc = start_cli("build", "--raw", str(demo_raw), data_dir=stop_dir,
                     ignore_sigint=stop.ignore_sigint, **stop.env)
    try:
        _, lines = wait_for_line(proc, stop.wait_for)
        build_id = build_id_from("\n".join(lines))
        os.killpg(proc.pid, stop.signals[0])
        sent = time.monotonic()
        for again in stop.signals[1:]:
            _, more = wait_for_line(proc, r"received: stopping", timeout=STOP_SECONDS)
            lines += more
            os.killpg(proc.pid, again)
        code, rest = finish(proc, timeout=STOP_SECONDS)
        took = time.monotonic() - sent
    finally:
        if proc.poll() is None:
            kill_group(proc)
    output = "\n".join(lines + rest)
    name = signal.Signals(stop.signals[0]).name
    print(f"{case}: exit {code}, {took:.1f} s after the signal")  # pytest -s shows it

    assert code == 128 + stop.signals[0], output[-3000:]          # 130 SIGINT, 143 SIGTERM
    assert took < STOP_SECONDS
    assert group_gone(proc)                      # nothing of the build (dbt's work) is left
    assert f"build {build_id} interrupted by {name} {stop.where}" in output, output[-3000:]
    assert f"Nothing was published: the served warehouse is still build {state['build_id']}" \
        in output
    assert "Traceback" not in output
    if len(stop.signals) > 1:
        assert f"{name} again: already stopping" in output
    # the served file: byte-identical, and what readers see is the same build
    assert sha256_file(served) == sha and warehouse_state(served) == state
    warehouse = stop_dir / "warehouse"
    record = json.loads((warehouse / "builds" / f"{build_id}.json").read_text())
    assert record["status"] == "interrupted"
    assert record["summary"] == f"interrupted by {name} {stop.where}; not published"
    assert record["finished_at"]
    # the lock is free (and says so), no temporary file is left anywhere
    assert (warehouse / "build.lock").read_text() == ""
    with (warehouse / "build.lock").open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)      # raises if still held
    assert sorted(p.name for p in warehouse.iterdir()) == ["build.lock", "builds",
                                                          "rapport.duckdb"]
    assert not [p.name for p in (warehouse / "builds").iterdir() if p.name.startswith(".")]
    if stop.where == "during dbt":
        # dbt saw the stop: it logs this after cancelling its running queries and joining
        # its thread pool (dbt/task/runnable.py, execute_nodes)
        dbt_log = (warehouse / "builds" / f"{build_id}.dbt" / "logs" / "dbt.log").read_text()
        assert "Exited because of keyboard interrupt" in dbt_log
        # and nothing holds the build's file any more: it opens read-write
        duckdb.connect(str(warehouse / "builds" / f"{build_id}.duckdb")).close()

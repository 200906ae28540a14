"""Shared test settings and fixtures.

`built_warehouse` is a real warehouse: synthetic data from the generator, built by the real
`rapport build` (ingest, quarantine gate, dbt, great-expectations, publish) in a temporary
data folder. It is built once per test run and shared by the pytest-xdist workers through a
file lock, because a build costs tens of seconds.
"""

from __future__ import annotations

import os
import pickle
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import pytest
from support.locks import exclusive

os.environ.setdefault("DBT_SEND_ANONYMOUS_USAGE_STATS", "False")
os.environ.setdefault("DO_NOT_TRACK", "1")
os.environ.setdefault("GX_ANALYTICS_ENABLED", "False")
# The dashboard runs in local mode in the tests (as `rapport serve --local` runs it): no login,
# bound to 127.0.0.1 by .streamlit/config.toml. Tests of the login itself unset it.
os.environ.setdefault("RAPPORT_LOCAL_MODE", "1")
# Tests must not append to the project's own audit log.
os.environ.setdefault(
    "RAPPORT_AUDIT_LOG", os.path.join(tempfile.gettempdir(), f"rapport-test-audit-{os.getpid()}.log"))
# ... nor read or write the project's capture store (data/capture/): builds and pages see none.
os.environ.setdefault(
    "RAPPORT_CAPTURE_DB",
    os.path.join(tempfile.gettempdir(), f"rapport-test-capture-{os.getpid()}.sqlite"))

# Size of the shared test dataset: enough accounts, reps and regions for every page to
# have something to show, small enough to build in well under a minute.
TEST_SCALE = 30_000
TEST_SEED = 7
HAND_MADE = Path(__file__).parent / "fixtures"



@pytest.fixture(scope="session")
def shared_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder shared by all workers of this test run (one per run, not per worker)."""
    run_id = os.environ.get("PYTEST_XDIST_TESTRUNUID")
    if run_id:  # a worker's base folder is pytest-N/popen-gwK: the run's is pytest-N
        path = tmp_path_factory.getbasetemp().parent / f"shared-{run_id}"
    else:  # no workers: inside the run's own base folder, which pytest cleans up
        path = tmp_path_factory.getbasetemp() / "shared"
    path.mkdir(parents=True, exist_ok=True)
    return path


@pytest.fixture(scope="session", autouse=True)
def dbt_parse_state(shared_dir: Path) -> Path:
    """dbt's parse state (rapport/pipeline/dbt_runner.py) is shared by every build of this test run, in
    every worker and subprocess, and by no other run: each run starts with a full parse. It
    lives in the run's shared folder, which pytest removes with its old temporary folders."""
    folder = shared_dir / "dbt-parse"
    if "RAPPORT_DBT_PARSE_CACHE" not in os.environ:
        os.environ["RAPPORT_DBT_PARSE_CACHE"] = str(folder)
    return folder


@pytest.fixture(scope="session")
def demo_raw(shared_dir: Path) -> Path:
    """Generated raw files (small scale), made once per test run."""
    out = shared_dir / "raw"
    with exclusive(shared_dir / "raw.lock"):
        if not (out / ".done").exists():
            from rapport.generator.command import generate

            generate(scale=TEST_SCALE, seed=TEST_SEED, out_dir=out, fmt="csv")
            (out / ".done").touch()
    return out


def run_rapport(*args: str, data_dir: Path, check: bool = False, **kwargs):
    """Run the real `rapport` command line in a subprocess against data_dir."""
    env = {**os.environ, "RAPPORT_DATA_DIR": str(data_dir)}
    env.pop("RAPPORT_WAREHOUSE", None)
    return subprocess.run(
        [sys.executable, "-m", "rapport.cli", *args],
        env=env, capture_output=True, text=True, check=check, **kwargs,
    )


@pytest.fixture(scope="session")
def built_warehouse(shared_dir: Path, demo_raw: Path) -> Path:
    """Path of a real published warehouse built from demo_raw, built once per test run."""
    data_dir = shared_dir / "data"
    served = data_dir / "warehouse" / "rapport.duckdb"
    with exclusive(shared_dir / "build.lock"):
        if not served.exists():
            result = run_rapport("build", "--raw", str(demo_raw), data_dir=data_dir)
            if result.returncode != 0 or not served.exists():
                pytest.fail(
                    f"rapport build failed (exit {result.returncode}):\n"
                    f"{result.stdout[-4000:]}\n{result.stderr[-4000:]}"
                )
    return served


@pytest.fixture()
def warehouse_env(monkeypatch, built_warehouse: Path) -> Path:
    """The dashboard (AppTest) reads the shared built warehouse, as the local demo user."""
    monkeypatch.setenv("RAPPORT_WAREHOUSE", str(built_warehouse))
    monkeypatch.delenv("RAPPORT_AS_USER", raising=False)
    return built_warehouse


@dataclass(frozen=True)
class FixtureBuild:
    """A hand-made fixture through the real ingest, gate and dbt build (read it, never write)."""

    db_path: Path
    result: object  # rapport.pipeline.dbt_runner.DbtResult
    seconds: float  # of the dbt build

    @property
    def target(self) -> Path:
        """dbt's target folder of the build (manifest.json, run_results.json)."""
        return self.db_path.parent / "dbt-target"


@pytest.fixture(scope="session")
def fixture_build(shared_dir: Path):
    """fixture_build(name, as_of, unit_tests=False) -> FixtureBuild of tests/fixtures/<name>.

    Built once per test run, whichever worker asks first, and shared by every test module
    that reads the same fixture at the same date (a build costs about 30 s). The build id is
    "<name>-fixture". A failed build fails every test that asks for it."""
    import time

    from support.pipeline import gate_fixture

    from rapport.pipeline.dbt_runner import build

    def get(name: str, as_of: date, unit_tests: bool = False) -> FixtureBuild:
        key = f"{name}-{as_of.isoformat()}{'-unit' if unit_tests else ''}"
        folder = shared_dir / "fixture-builds" / key
        outcome = folder / "outcome.pickle"
        with exclusive(shared_dir / "fixture-builds" / f"{key}.lock"):
            if not outcome.exists():
                folder.mkdir(parents=True, exist_ok=True)
                db_path = folder / "warehouse.duckdb"
                db_path.unlink(missing_ok=True)
                gate_fixture(db_path, HAND_MADE / name, f"{name}-fixture", as_of)
                started = time.perf_counter()
                result = build(db_path, as_of, f"{name}-fixture", target_path=folder / "dbt-target",
                               echo=None, unit_tests=unit_tests)
                made = FixtureBuild(db_path, result, time.perf_counter() - started)
                outcome.write_bytes(pickle.dumps(made))
        made = pickle.loads(outcome.read_bytes())
        if not made.result.success:
            pytest.fail(f"dbt build of tests/fixtures/{name} failed:\n" + (
                "\n".join(str(f) for f in made.result.failures) or made.result.error))
        return made

    return get

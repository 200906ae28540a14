"""Run dbt on a build's DuckDB file, in process, through dbt's programmatic runner.

    result = build(db_path, as_of_date=date(2024, 6, 30), build_id="20240630-1")
    if not result.success:
        for failure in result.failures:
            print(failure)

One line of progress per finished node (name, status, seconds) goes to the logger
`rapport.dbt` and, by default, to stdout. The dbt project and its profiles.yml live in
rapport.paths.TRANSFORMS_DIR; the profile reads the database path from the environment
variable RAPPORT_DBT_DB_PATH, which run_dbt sets for the duration of the call.
"""

from __future__ import annotations

import json
import logging
import os
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from rapport.errors import deferred_stop, raise_if_stopping
from rapport.paths import TRANSFORMS_DIR

log = logging.getLogger("rapport.dbt")

DB_PATH_ENV = "RAPPORT_DBT_DB_PATH"
_QUIET_ENV = {"DBT_SEND_ANONYMOUS_USAGE_STATS": "False", "DO_NOT_TRACK": "1"}
# dbt's runner keeps global state (flags, adapters): one invocation at a time per process.
_LOCK = threading.Lock()


@dataclass(frozen=True)
class NodeResult:
    """What happened to one node (model, seed, test, unit test) in a dbt invocation."""

    name: str
    unique_id: str
    resource_type: str
    status: str
    seconds: float
    message: str = ""

    @property
    def failed(self) -> bool:
        return self.status in ("error", "fail", "runtime error")

    def __str__(self) -> str:
        text = f"{self.resource_type} {self.name}: {self.status}"
        return f"{text} - {self.message}" if self.message else text


@dataclass
class DbtResult:
    """The outcome of one dbt invocation."""

    success: bool
    command: list[str]
    nodes: list[NodeResult] = field(default_factory=list)
    error: str = ""  # set when dbt could not run at all (bad project, parse error...)
    seconds: float = 0.0

    @property
    def failures(self) -> list[NodeResult]:
        return [n for n in self.nodes if n.failed]

    @property
    def timings(self) -> dict[str, float]:
        return {n.unique_id: n.seconds for n in self.nodes}

    def summary(self) -> str:
        if self.error:
            return f"dbt {' '.join(self.command[:1])} could not run: {self.error}"
        counts: dict[str, int] = {}
        for node in self.nodes:
            counts[node.status] = counts.get(node.status, 0) + 1
        parts = ", ".join(f"{n} {s}" for s, n in sorted(counts.items()))
        return f"dbt {' '.join(self.command[:1])}: {parts or 'nothing selected'} in {self.seconds:.1f}s"


@contextmanager
def _environment(values: dict[str, str]) -> Iterator[None]:
    saved = {k: os.environ.get(k) for k in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for key, old in saved.items():
            if old is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = old


def _progress_callback(echo: Callable[[str], None]) -> Callable[[Any], None]:
    lock = threading.Lock()  # dbt's threads finish nodes concurrently: one line at a time

    def on_event(event: Any) -> None:
        if event.info.name != "NodeFinished":
            return
        info, result = event.data.node_info, event.data.run_result
        line = f"  {info.node_name:<60} {result.status:<8} {result.execution_time:6.2f}s"
        with lock:
            log.info(line)
            echo(line)

    return on_event


def _node_result(result: Any) -> NodeResult:
    node = result.node
    status = str(getattr(result.status, "value", result.status))
    message = result.message or ""
    if status in ("pass", "success"):
        message = ""
    elif status == "fail" and result.failures:
        message = f"{result.failures} failing row(s)" + (f": {message}" if message else "")
    return NodeResult(
        name=node.name,
        unique_id=node.unique_id,
        resource_type=str(getattr(node.resource_type, "value", node.resource_type)),
        status=status,
        seconds=float(result.execution_time or 0.0),
        message=" ".join(str(message).split()),
    )


def _release_database() -> None:
    """Close the DuckDB database dbt-duckdb keeps open in this process after a run.

    dbt-duckdb caches one database instance per process; left open, it holds the file's
    write lock and makes any later duckdb.connect(path, read_only=True) in this process fail
    ("different configuration than existing connections").
    """
    from dbt.adapters.duckdb.connections import DuckDBConnectionManager
    from dbt.adapters.factory import reset_adapters

    with DuckDBConnectionManager._LOCK:
        env = DuckDBConnectionManager._ENV
        DuckDBConnectionManager._ENV = None
        if env is not None:
            env.close()
    reset_adapters()


# dbt build arguments that leave the unit tests out (see build()).
WITHOUT_UNIT_TESTS: tuple[str, ...] = ("--exclude-resource-type", "unit_test")


def run_dbt(
    command: Sequence[str],
    db_path: Path,
    vars: dict[str, Any] | None = None,
    target_path: Path | None = None,
    echo: Callable[[str], None] | None = print,
) -> DbtResult:
    """Run one dbt command (e.g. ["build"], ["docs", "generate"]) against db_path.

    target_path holds dbt's artefacts and logs (default: a fresh temporary folder, so that
    parallel runs never share transforms/target). echo=None silences the progress lines.
    """
    from dbt.cli.main import dbtRunner  # heavy import: only when dbt actually runs

    command = list(command)
    db_path = Path(db_path).resolve()
    if not db_path.parent.is_dir():
        raise FileNotFoundError(f"{db_path.parent}: the folder for the warehouse file does not exist")
    if target_path is None:
        target_path = Path(tempfile.mkdtemp(prefix="rapport-dbt-"))
    target_path = Path(target_path)
    target_path.mkdir(parents=True, exist_ok=True)

    args = [
        *command,
        "--project-dir", str(TRANSFORMS_DIR),
        "--profiles-dir", str(TRANSFORMS_DIR),
        "--target-path", str(target_path),
        "--log-path", str(target_path / "logs"),
        # nothing from dbt on the console (its errors come back in the result, and the
        # progress lines through the callback); everything in logs/dbt.log. On an interrupt
        # dbt would otherwise print a traceback of where the stop signal landed.
        "--quiet", "--log-level", "none", "--log-level-file", "debug",
    ]
    if vars:
        args += ["--vars", json.dumps(vars, default=str)]

    callbacks = [_progress_callback(echo or (lambda _line: None))]
    env = {DB_PATH_ENV: str(db_path), **_QUIET_ENV}
    started = time.perf_counter()
    with _LOCK, _environment(env):
        if echo:
            echo(f"dbt {' '.join(command)} on {db_path.name}")
        try:
            # SIGINT/SIGTERM under rapport.errors.stop_signals raise Interrupted (a
            # KeyboardInterrupt) here: dbt then cancels its running queries, waits for its
            # threads and returns the exception instead of raising it, so look again.
            outcome = dbtRunner(callbacks=callbacks).invoke(args)
        finally:
            with deferred_stop():  # never left half closed by a stop signal
                _release_database()
    raise_if_stopping()
    if isinstance(outcome.exception, KeyboardInterrupt):  # Ctrl-C without stop_signals
        raise outcome.exception
    seconds = time.perf_counter() - started

    nodes: list[NodeResult] = []
    result = outcome.result
    if result is not None and hasattr(result, "results"):
        nodes = [_node_result(r) for r in result.results]
    error = ""
    if outcome.exception is not None:
        error = " ".join(str(outcome.exception).split())
    elif not outcome.success and not any(n.failed for n in nodes):
        error = f"dbt failed without a failing node; see the logs in {target_path / 'logs'}"
    dbt_result = DbtResult(
        success=bool(outcome.success),
        command=command,
        nodes=nodes,
        error=error,
        seconds=seconds,
    )
    if echo:
        echo(dbt_result.summary())
        for failure in dbt_result.failures:
            echo(f"  FAILED {failure}")
    return dbt_result


def build(
    db_path: Path,
    as_of_date: date | str | None,
    build_id: str,
    target_path: Path | None = None,
    echo: Callable[[str], None] | None = print,
    unit_tests: bool = False,
) -> DbtResult:
    """`dbt build` (seeds, models, data tests) with the build's as-of date and id.

    Unit tests check the SQL code on hand-made inputs, not the data: they give the same
    answer on every build of the same code, so a production build leaves them out (as dbt
    recommends) and the test suite runs them (unit_tests=True) against the code it ships.
    """
    vars: dict[str, Any] = {"build_id": build_id}
    if as_of_date is not None:
        vars["as_of_date"] = str(as_of_date)
    command = ["build"] if unit_tests else ["build", *WITHOUT_UNIT_TESTS]
    return run_dbt(command, db_path, vars=vars, target_path=target_path, echo=echo)


if __name__ == "__main__":  # python -m rapport.dbt_runner <db> [dbt args...]
    outcome = run_dbt(sys.argv[2:] or ["build"], Path(sys.argv[1]))
    sys.exit(0 if outcome.success else 1)

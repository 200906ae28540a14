"""Run dbt on a build's DuckDB file, in process, through dbt's programmatic runner.

    result = build(db_path, as_of_date=date(2024, 6, 30), build_id="20240630-1")
    if not result.success:
        for failure in result.failures:
            print(failure)

One line of progress per finished node (name, status, seconds) goes to the logger
`rapport.dbt` and, by default, to stdout. The dbt project and its profiles.yml live in
rapport.paths.TRANSFORMS_DIR; the profile reads the database path from the environment
variable RAPPORT_DBT_DB_PATH, which run_dbt sets for the duration of the call.

Parsing the project costs dbt about 6 s; re-reading what changed since the last parse
(partial parsing) well under one. dbt re-parses everything when its command-line vars or
the profile's connection settings change, so run_dbt keeps both the same from one build to
the next:
- the build's settings (as_of_date, build_id, incremental_since) go to the models as the
  environment variables RAPPORT_DBT_<NAME> (macro build_setting), not as --vars;
- dbt opens the database as the relative path `build.duckdb`, a hard link in dbt's target
  folder (the working folder for the call) to the build's file. (DuckDB names the database
  after the file it finds at the end of a symbolic link, so a symbolic link would not do.)
dbt's parse state (partial_parse.msgpack) is kept between calls in the folder
RAPPORT_DBT_PARSE_CACHE (default: data/warehouse/dbt-parse; "off" keeps none). dbt checks
every file of the project against it and re-parses what changed, so a cache left by other
code is safe, only slower.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
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
from rapport.paths import TRANSFORMS_DIR, warehouse_dir

log = logging.getLogger("rapport.dbt")

DB_PATH_ENV = "RAPPORT_DBT_DB_PATH"
PARSE_CACHE_ENV = "RAPPORT_DBT_PARSE_CACHE"
# The build's settings: passed as environment variables RAPPORT_DBT_<NAME> (macro
# build_setting reads the var first, then the variable), so that dbt's parse stays valid.
BUILD_SETTINGS = ("as_of_date", "build_id", "incremental_since")
# What dbt opens: a hard link in its target folder (the working folder) to the build's file.
DB_LINK = "build.duckdb"
PARSE_STATE = "partial_parse.msgpack"
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


@contextmanager
def _working_dir(path: Path) -> Iterator[None]:
    saved = os.getcwd()
    os.chdir(path)
    try:
        yield
    finally:
        os.chdir(saved)


def _link_database(target_path: Path, db_path: Path) -> str:
    """The path dbt's profile opens: `build.duckdb`, relative to the target folder, a hard
    link to db_path (the same path on every call keeps dbt's parse state valid). Where no
    link can be made (another file system), db_path itself."""
    link = target_path / DB_LINK
    try:
        link.unlink(missing_ok=True)
        stale_wal = target_path / f"{DB_LINK}.wal"
        if stale_wal.exists():  # of a killed call: never replay it onto another file
            stale_wal.unlink()
        os.link(db_path, link)
    except OSError:
        return str(db_path)
    return DB_LINK


def _unlink_database(target_path: Path) -> None:
    """Remove the link once dbt closed the database. DuckDB writes its log next to the path
    it opened and folds it into the file when it closes; should a log remain, opening and
    closing the file once folds it in."""
    link = target_path / DB_LINK
    if not link.exists():
        return
    if (target_path / f"{DB_LINK}.wal").exists():
        import duckdb

        duckdb.connect(str(link)).close()
    link.unlink()


def parse_cache_file(command: Sequence[str], vars: dict[str, Any]) -> Path | None:
    """The file that keeps dbt's parse state for this kind of call, or None ("off").

    One file per project folder, dbt version, target and remaining vars: a call that would
    make dbt parse everything again does not overwrite the state of the usual build."""
    setting = os.environ.get(PARSE_CACHE_ENV, "")
    if setting.strip().lower() == "off":
        return None
    from dbt.version import __version__ as dbt_version

    folder = Path(setting) if setting.strip() else warehouse_dir() / "dbt-parse"
    target = command[command.index("--target") + 1] if "--target" in command[:-1] else ""
    key = json.dumps([str(TRANSFORMS_DIR.resolve()), dbt_version, target, vars],
                     sort_keys=True, default=str)
    return folder / f"{hashlib.sha256(key.encode()).hexdigest()[:16]}.msgpack"


def _restore_parse_state(cache: Path | None, target_path: Path) -> None:
    if cache is not None and cache.is_file() and not (target_path / PARSE_STATE).exists():
        shutil.copyfile(cache, target_path / PARSE_STATE)


def _keep_parse_state(cache: Path | None, target_path: Path) -> None:
    """Copy dbt's parse state to the cache (atomically: parallel builds may share it)."""
    state = target_path / PARSE_STATE
    if cache is None or not state.is_file():
        return
    try:
        cache.parent.mkdir(parents=True, exist_ok=True)
        partial = cache.with_name(f"{cache.name}.{os.getpid()}.tmp")
        shutil.copyfile(state, partial)
        os.replace(partial, cache)
    except OSError as exc:  # a cache that cannot be written costs time, not correctness
        log.warning("dbt parse state not kept in %s: %s", cache.parent, exc)


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
    parallel runs never share transforms/target, removed after a successful run and kept, for
    its logs, after a failed one). echo=None silences the progress lines.
    """
    from dbt.cli.main import dbtRunner  # heavy import: only when dbt actually runs

    command = list(command)
    db_path = Path(db_path).resolve()
    if not db_path.parent.is_dir():
        raise FileNotFoundError(f"{db_path.parent}: the folder for the warehouse file does not exist")
    temporary = target_path is None
    if target_path is None:
        target_path = Path(tempfile.mkdtemp(prefix="rapport-dbt-"))
    target_path = Path(target_path)
    target_path.mkdir(parents=True, exist_ok=True)

    target_path = target_path.resolve()
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
    other_vars = dict(vars or {})
    settings = {f"RAPPORT_DBT_{name.upper()}": other_vars.pop(name, None)
                for name in BUILD_SETTINGS}
    if other_vars:
        args += ["--vars", json.dumps(other_vars, default=str)]

    callbacks = [_progress_callback(echo or (lambda _line: None))]
    env = {**{k: "" if v is None else str(v) for k, v in settings.items()}, **_QUIET_ENV}
    cache = parse_cache_file(command, other_vars)
    started = time.perf_counter()
    env[DB_PATH_ENV] = _link_database(target_path, db_path)
    if env[DB_PATH_ENV] != DB_LINK:
        cache = None  # an absolute path differs from call to call: dbt parses anyway
    _restore_parse_state(cache, target_path)
    with _LOCK, _environment(env), _working_dir(target_path):
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
                _unlink_database(target_path)
    _keep_parse_state(cache, target_path)
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
    if temporary and dbt_result.success:
        shutil.rmtree(target_path, ignore_errors=True)
    elif temporary and echo:
        echo(f"  dbt's logs: {target_path / 'logs' / 'dbt.log'}")
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


if __name__ == "__main__":  # python -m rapport.pipeline.dbt_runner <db> [dbt args...]
    outcome = run_dbt(sys.argv[2:] or ["build"], Path(sys.argv[1]))
    sys.exit(0 if outcome.success else 1)

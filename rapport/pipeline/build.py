"""`rapport build`, `rapport check`, `rapport rollback`: the blue/green build pipeline.

A build takes the warehouse lock, then works only on its own file
(data/warehouse/builds/<build_id>.duckdb): ingest -> quarantine gate -> input checks
(great-expectations on the raw tables and quarantine rates; a failure stops here, before
dbt) -> dbt build -> mart and reconciliation checks -> meta.dq_results, meta.dbt_tests (one
row per dbt test), meta.build_info,
meta.build_history. Only when no blocking check failed is the file published onto the
served path (rapport.pipeline.publish.publish_file).

`rapport build --incremental` starts from a copy of the served build and processes only the
interactions appended since (rapport/pipeline/incremental.py); when that cannot give the same result
as a full build it says why and does a full build.

`rapport build --engine spark` runs the dbt step on Apache Spark (rapport/pipeline/spark.py, the same
models; docs/scale-out.md): everything else is the same, and the marts end in the build's
DuckDB file as a DuckDB build leaves them.

Exit codes: 0 published; 1 checks failed, or the build was refused or crashed (the previous
warehouse, if any, is still served); 2 structural break in the input, or no space left on device
(nothing published); 3 the requested engine cannot run here (`--engine spark` without the
spark extra or Java 17); 130 / 143 interrupted by SIGINT / SIGTERM (nothing published).

SIGINT and SIGTERM stop a build at any stage (rapport.errors.stop_signals): the running
DuckDB query is interrupted, dbt cancels its queries and waits for its threads, the build is
recorded `interrupted`, temporary files are removed and the lock released; the served file
is untouched. Only a signal that arrives after the served file was replaced lets the build
finish recording its publish (exit 0, said on stderr).
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import threading
import time
import traceback
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path

import duckdb

from rapport.check_results import ERROR, FAIL, SEVERITY_FAIL, CheckReport, CheckResult
from rapport.errors import (
    BuildRefused,
    DamagedWarehouse,
    Interrupted,
    StructuralError,
    deferred_stop,
    disk_full,
    interrupt_on_stop,
    raise_if_stopping,
    stop_requested,
    stop_signals,
    write_crash_log,
)
from rapport.paths import PROJECT_ROOT, duckdb_memory_limit, served_warehouse, warehouse_dir
from rapport.paths import raw_dir as default_raw_dir
from rapport.pipeline.incremental import NotIncremental, Plan, copy_base
from rapport.pipeline.publish import (
    GOOD,
    INTERRUPTED,
    RUNNING,
    BuildRecord,
    BuildRunning,
    PublishError,
    WarehouseLock,
    apply_retention,
    build_file,
    build_id_of,
    builds_dir,
    disk_full_for_test,
    list_records,
    log_file,
    mark_interrupted,
    new_build_id,
    open_served,
    publish_file,
    remove_temp_files,
    rollback,
    served_damaged,
    write_record,
)
from rapport.pipeline.stage_hook import pause_at

EXIT_OK, EXIT_CHECKS_FAILED, EXIT_STRUCTURAL, EXIT_ENGINE_UNAVAILABLE = 0, 1, 2, 3
EXIT_DISK_FULL = EXIT_DAMAGED = 2  # the environment, not the data: say what to do, exit 2
ENGINES = ("duckdb", "spark")

BUILD_INFO_DDL = """
create table if not exists meta.{name} (
    build_id varchar not null,
    started_at timestamp not null,
    finished_at timestamp,
    as_of_date date,
    status varchar not null,
    raw_row_counts varchar,
    raw_rows bigint,
    clean_rows bigint,
    quarantined_rows bigint,
    checks_summary varchar,
    git_commit varchar,
    rapport_version varchar,
    raw_dir varchar
)
"""


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("rapport")
    except PackageNotFoundError:
        return "unknown"


def _utcnow() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


class Progress:
    """One readable line per stage start and end, with elapsed seconds."""

    def __init__(self) -> None:
        self.t0 = time.perf_counter()
        self.stage_t0 = self.t0
        self.stage = "start"  # the last stage started
        self.where = "at the start"  # "during gate", "after gate": for a stopped build's message

    def line(self, text: str) -> None:
        print(f"[{time.perf_counter() - self.t0:6.1f}s] {text}", flush=True)

    def start(self, stage: str, what: str) -> None:
        raise_if_stopping()  # every stage boundary: a stop some library swallowed ends here
        self.stage = stage
        self.where = f"during {stage}"
        self.stage_t0 = time.perf_counter()
        self.line(f"{stage}: {what}")

    def done(self, stage: str, what: str) -> None:
        self.where = f"after {stage}"
        self.line(f"{stage}: done in {time.perf_counter() - self.stage_t0:.1f} s - {what}")


@dataclass
class BuildState:
    build_id: str
    raw_dir: Path
    started_at: datetime = field(default_factory=_utcnow)
    as_of_date: date | None = None
    raw_counts: dict[str, int] = field(default_factory=dict)
    clean_rows: int | None = None
    quarantined_rows: int | None = None
    checks_summary: str = ""
    engine: str = "duckdb"


# --------------------------------------------------------------------------- build


def run_build(raw: str | Path | None = None, as_of: str | date | None = None,
              incremental: bool = False, engine: str = "duckdb") -> int:
    """`rapport build`; returns the exit code (module docstring). SIGINT and SIGTERM stop it
    at any stage with 130 / 143, nothing published."""
    with stop_signals():
        try:
            return _run_build(raw, as_of, incremental, engine)
        except Interrupted as exc:  # before the build had a record (or while refusing)
            print(f"rapport build: interrupted by {exc.signal_name} before the build started. "
                  f"Nothing was built or published; {_served_text()}.", file=sys.stderr,
                  flush=True)
            return exc.exit_code
        except Exception as exc:  # noqa: BLE001 - before the build had a record
            return _command_crashed("build", exc, f"nothing was built or published: "
                                                  f"{_served_text()}")


def _run_build(raw: str | Path | None, as_of: str | date | None, incremental: bool,
               engine: str) -> int:
    raw_path = Path(raw) if raw else default_raw_dir()
    try:
        as_of_date = _parse_as_of(as_of)
    except ValueError as exc:
        print(f"rapport build: {exc}", file=sys.stderr)
        return EXIT_STRUCTURAL
    if engine not in ENGINES:
        print(f"rapport build: unknown engine {engine!r}; choose one of {', '.join(ENGINES)}",
              file=sys.stderr)
        return EXIT_ENGINE_UNAVAILABLE
    if engine == "spark":
        # Before anything starts (and before the background GX import hides pyspark).
        from rapport.pipeline import spark

        reason = spark.unavailable()
        if reason:
            print(f"rapport build --engine spark: Spark cannot run here: {reason}. Nothing was "
                  f"built; the served warehouse is unchanged. Without Spark, build on DuckDB "
                  f"(`rapport build`, the default engine).", file=sys.stderr)
            return EXIT_ENGINE_UNAVAILABLE
        if incremental:
            print("rapport build --engine spark: incremental builds are DuckDB only; doing a "
                  "full build on Spark.", flush=True)
            incremental = False
    build_id = new_build_id()
    lock = WarehouseLock(build_id)
    try:
        with deferred_stop():
            lock.acquire()
    except BuildRunning as exc:
        print(f"rapport build: {exc}", file=sys.stderr)
        return BuildRefused.exit_code
    except OSError as exc:
        return _cannot_start("build", exc)
    try:
        return _build(build_id, lock, raw_path.resolve(), as_of_date, incremental, engine)
    finally:
        with deferred_stop(raise_after=False):
            lock.release()


def _cannot_start(command: str, exc: OSError) -> int:
    """The lock file cannot be created or written (disk full, permissions)."""
    full = disk_full(exc)
    if full is not None:
        print(f"rapport {command}: no space left on device while writing {full or exc.filename}; "
              f"free space and run again. Nothing was started; the served warehouse is "
              f"unchanged.", file=sys.stderr)
        return EXIT_DISK_FULL
    print(f"rapport {command}: cannot take the warehouse lock ({exc}). Check that "
          f"{warehouse_dir()} exists and is writable, and run again; the served warehouse is "
          f"unchanged.", file=sys.stderr)
    return EXIT_DISK_FULL


def _parse_as_of(value: str | date | None) -> date | None:
    if value is None or isinstance(value, date):
        return value
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise ValueError(f"--as-of {value!r} is not a date; write it as YYYY-MM-DD") from None


def _build(build_id: str, lock: WarehouseLock, raw_dir: Path, as_of_date: date | None,
           incremental: bool, engine: str = "duckdb") -> int:
    progress = Progress()
    state = BuildState(build_id=build_id, raw_dir=raw_dir, as_of_date=as_of_date, engine=engine)
    record = BuildRecord(build_id=build_id, status=RUNNING,
                         started_at=state.started_at.strftime("%Y-%m-%d %H:%M:%S"),
                         pid=os.getpid(), extra={"raw_dir": str(raw_dir)})
    path = build_file(build_id)
    try:
        progress.line(f"build {build_id} started (pid {os.getpid()}); raw files: {raw_dir}"
                      + ("; engine: spark" if engine == "spark" else ""))
        if lock.stale is not None:
            progress.line(f"took over the lock left by build {lock.stale.build_id} "
                          f"(pid {lock.stale.pid} is no longer running)")
        for dead in mark_interrupted(build_id):
            progress.line(f"build {dead} was interrupted (its process died); kept for "
                          f"inspection")
        builds_dir().mkdir(parents=True, exist_ok=True)
        write_record(record)
        plan = _incremental_plan(state, progress) if incremental else None
        if plan is not None:
            try:
                return _stages(state, record, path, progress, plan)
            except NotIncremental as exc:
                progress.line(f"incremental: not possible ({exc}); doing a full build instead")
                _discard(path)
                state = BuildState(build_id=build_id, raw_dir=raw_dir, as_of_date=as_of_date,
                                   started_at=state.started_at, engine=engine)
        return _stages(state, record, path, progress, None)
    except BaseException as exc:  # noqa: BLE001 - every way a build stops gets a message
        with deferred_stop(raise_after=False):
            return _stopped(exc, state, record, path, progress)


def _stopped(exc: BaseException, state: BuildState, record: BuildRecord, path: Path,
             progress: Progress) -> int:
    """A build that did not finish: say why, record it, keep the served file as it is.

    A stop signal wins over the exception it caused (a query interrupted by SIGINT raises a
    plain RuntimeError inside DuckDB)."""
    signum = stop_requested()
    if signum is not None:
        return _interrupted(signum, state, record, path, progress)
    if isinstance(exc, StructuralError):  # from a stage other than the full ingest
        return _structural_failure(None, state, record, path, progress, exc)
    if not isinstance(exc, Exception):
        raise exc  # SystemExit and the like: not ours to explain
    full = disk_full(exc)
    if full is not None:
        return _disk_full(full, state, record, path, progress)
    return _crashed(exc, state, record, path, progress)


def _save_record(record: BuildRecord) -> str:
    """Write the record; "" when done, else why not (the caller says so, never crashes)."""
    try:
        write_record(record)
    except OSError as exc:
        return f"its record {exc.filename or ''} could not be updated ({exc.strerror or exc})"
    return ""


def _finish_record(record: BuildRecord, state: BuildState, status: str, summary: str) -> str:
    record.status = status
    record.summary = summary
    record.finished_at = _utcnow().strftime("%Y-%m-%d %H:%M:%S")
    if state.as_of_date is not None:
        record.as_of_date = str(state.as_of_date)
    return _save_record(record)


def _served_text() -> str:
    """What readers get now, for the messages of a build that did not publish."""
    served = served_warehouse()
    if not served.exists():
        return f"nothing is served yet ({served} does not exist)"
    build_id = build_id_of(served)
    if build_id is None:
        return f"the served file {served} cannot be read (see `rapport check`)"
    return f"the served warehouse is still build {build_id} ({served}), unchanged"


def _interrupted(signum: int, state: BuildState, record: BuildRecord, path: Path,
                 progress: Progress) -> int:
    name = signal.Signals(signum).name
    where = progress.where
    problem = _finish_record(record, state, INTERRUPTED,
                             f"interrupted by {name} {where}; not published")
    removed = remove_temp_files(state.build_id)
    kept = (f"this build's file is kept in {path} for inspection (status interrupted)"
            if path.exists() else "this build had written no file yet")
    print(f"rapport build: build {state.build_id} interrupted by {name} {where}. "
          f"Nothing was published: {_served_text()}; {kept}"
          + (f"; {problem}" if problem else "")
          + (f"; removed {len(removed)} temporary file(s)" if removed else "") + ".",
          file=sys.stderr, flush=True)
    return 128 + signum


def _disk_full(full: str, state: BuildState, record: BuildRecord, path: Path,
               progress: Progress) -> int:
    """No space left: give the space of the unfinished build file back, mark it failed."""
    what = full or "the build's files"
    freed = 0
    for leftover in (path, Path(f"{path}.wal")):
        with contextlib.suppress(OSError):
            freed += leftover.stat().st_size
            leftover.unlink()
    remove_temp_files(state.build_id)
    summary = f"no space left on device while writing {what} {progress.where}"
    problem = _finish_record(record, state, "error", summary)
    print(f"rapport build: no space left on device while writing {what}; free space and run "
          f"again. Build {state.build_id} stopped {progress.where} and was not "
          f"published: {_served_text()}. Its unfinished file was deleted"
          + (f" ({freed / 1e6:,.0f} MB given back)" if freed else "")
          + (f"; {problem}" if problem else "; its record says error") + ".",
          file=sys.stderr, flush=True)
    return EXIT_DISK_FULL


def _crashed(exc: Exception, state: BuildState, record: BuildRecord, path: Path,
             progress: Progress) -> int:
    """An unexpected error (a bug, or the machine): a clear message, the traceback in a log."""
    log = write_crash_log(log_file(state.build_id),
                          f"rapport build {state.build_id}: error {progress.where} "
                          f"({_utcnow():%Y-%m-%d %H:%M:%S} UTC)")
    first = (str(exc).strip().splitlines() or [""])[0]
    record.extra["log"] = str(log) if log else None
    problem = _finish_record(record, state, "error", f"{type(exc).__name__} {progress.where}: "
                                                     f"{first}")
    remove_temp_files(state.build_id)
    if log is None:
        traceback.print_exc()
    print(f"rapport build: build {state.build_id} failed {progress.where} with an "
          f"unexpected error: {type(exc).__name__}: {first}. "
          + (f"The traceback is in {log}; report it with that file if it is a bug. "
             if log else "The traceback is above. ")
          + f"Nothing was published: {_served_text()}; the failed build is kept in {path}"
          + (f"; {problem}" if problem else "") + ".", file=sys.stderr, flush=True)
    with contextlib.suppress(Exception):
        apply_retention(protect=(state.build_id,))
    return EXIT_CHECKS_FAILED


def _incremental_plan(state: BuildState, progress: Progress) -> Plan | None:
    """The incremental plan, or None (with the reason printed) for a full build."""
    from rapport.pipeline.incremental import plan

    progress.start("incremental", "comparing the raw files with the served build's")
    try:
        found = plan(state.raw_dir, served_warehouse(), state.as_of_date)
    except NotIncremental as exc:
        progress.line(f"incremental: not possible ({exc}); doing a full build instead")
        return None
    progress.done("incremental", f"starting from build {found.base_build_id} (as-of date "
                                 f"{found.base_as_of}); {found.appended_bytes:,} bytes appended "
                                 f"to {found.interactions_file.name}"
                                 + ("; new rows in the capture store" if found.captures
                                    else ""))
    return found


def _discard(path: Path) -> None:
    for leftover in (path, Path(f"{path}.wal")):
        with contextlib.suppress(FileNotFoundError):
            leftover.unlink()


def _stages(state: BuildState, record: BuildRecord, path: Path, progress: Progress,
            plan: Plan | None = None) -> int:
    from rapport.check_results import write_results
    from rapport.pipeline.checks.dbt_tests import write_dbt_tests
    from rapport.pipeline.coverage import record_coverage
    from rapport.pipeline.incremental import BackgroundFingerprints, write_state

    build_id = state.build_id
    gx_import = _import_gx_in_background()  # ~5 s, overlaps ingest and gate
    if state.engine == "spark":  # Spark's start (20-50 s) overlaps ingest, gate, input checks
        from rapport.pipeline import spark

        spark.warm_up(after=gx_import)
    # full DuckDB builds hash the raw files on a thread (for the next incremental build); a
    # Spark build records no incremental state, so the next --incremental build is full
    on_duckdb = state.engine == "duckdb"
    fingerprints = BackgroundFingerprints(state.raw_dir) if plan is None and on_duckdb else None
    since = None
    if plan is not None:
        progress.start("copy", f"copying the served build {plan.base_build_id} to {path.name}")
        copy_base(plan, path)
        progress.done("copy", f"{path.stat().st_size / 1e6:,.0f} MB")
    with _open_build_file(path) as con:
        if plan is None:
            result = _ingest_and_gate(con, state, record, path, progress)
            if result is not None:
                return result
        else:
            since = _append_and_gate(con, state, plan, progress)
        record_coverage(con)  # meta.coverage, meta.layers, meta.defaults_applied

        # Input checks (raw tables, quarantine rates) need no dbt: a bad input stops here.
        progress.start("input checks", "great-expectations suites on the gated input")
        gx_import.join()
        from rapport.pipeline.checks.runner import run_checks

        report = run_checks(con, build_id, state.as_of_date, phase="input")
        progress.done("input checks", report.one_line())
        input_failed = not report.passed
        if input_failed:
            state.checks_summary = f"input checks failed, dbt not run: {report.one_line()}"
            write_results(con, build_id, report)
            _write_build_meta(con, state, "checks_failed")
            con.execute("checkpoint")
        else:
            disk_full_for_test("input_checks", path)
            con.execute("checkpoint")
    if input_failed:  # reported once the build's connection is closed (its file is read)
        return _checks_failed(state, record, path, report, "dbt was not run")

    pause_at("dbt")
    if state.engine == "spark":
        progress.start("dbt", "dbt build (seeds, models, tests) on Spark, marts back into "
                              f"{path.name}")
    elif since is None:
        progress.start("dbt", "dbt build (seeds, models, tests)")
    else:
        progress.start("dbt", f"dbt build of what depends on the interactions, incremental "
                              f"models from {since}")
    dbt = _run_dbt(path, state, progress, since)
    progress.done("dbt", dbt.summary())

    progress.start("checks", "great-expectations suites on the marts")
    with _open_build_file(path) as con:
        output = run_checks(con, build_id, state.as_of_date, phase="output")
        pause_at("checks")  # checks ran, nothing recorded yet
        report.results += _dbt_results(dbt) + output.results
        disk_full_for_test("checks", path)
        write_results(con, build_id, report)
        # one row per dbt test in the file itself (Data quality needs no artefacts folder)
        write_dbt_tests(con, build_id, builds_dir() / f"{build_id}.dbt")
        state.checks_summary = report.one_line()
        progress.done("checks", f"{output.one_line()}; with dbt and input checks: "
                                f"{state.checks_summary}")
        passed = report.passed
        _write_build_meta(con, state, GOOD if passed else "checks_failed")
        if not on_duckdb:
            found = None
        elif fingerprints is not None:
            found = fingerprints.result()
        else:
            found = (plan.code, plan.files)
        if found is not None:
            write_state(con, build_id, *found, state.raw_counts)
        elif not on_duckdb:
            progress.line("incremental state not recorded (built on Spark): the next "
                          "--incremental build will be a full build")
        else:
            progress.line(f"incremental state not recorded ({fingerprints.error}): the next "
                          f"--incremental build will be a full build")
        con.execute("checkpoint")

    if not passed:
        return _checks_failed(state, record, path, report, "")

    record.finished_at = _utcnow().strftime("%Y-%m-%d %H:%M:%S")
    record.as_of_date = str(state.as_of_date)
    record.summary = state.checks_summary
    progress.start("publish", f"serving {path.name} as {served_warehouse()}")

    def served() -> None:  # runs right after the served file was replaced
        record.status = GOOD
        problem = _save_record(record)
        if problem:
            print(f"rapport build: build {build_id} is published, but {problem}; the next "
                  f"build will mark it interrupted (it is served all the same)",
                  file=sys.stderr, flush=True)

    publish_file(path, on_commit=served)
    signum = stop_requested()
    if signum is not None:  # too late to stop: the new file was already served
        print(f"rapport build: {signal.Signals(signum).name} came after build {build_id} was "
              f"published: it is served at {served_warehouse()}. Old builds were not cleaned "
              f"up this time.", file=sys.stderr, flush=True)
        return EXIT_OK
    deleted = apply_retention(protect=(build_id,))
    progress.done("publish", f"served {served_warehouse()}"
                  + (f"; removed old builds {', '.join(deleted)}" if deleted else ""))
    if any(r.status == "warn" for r in report.results):
        print(report.summary(), flush=True)
    progress.line(f"build {build_id}: published")
    return EXIT_OK


@contextlib.contextmanager
def _open_build_file(path: Path):
    """The build's own file, read-write; a stop signal interrupts its running query."""
    con = duckdb.connect(str(path), config={"memory_limit": duckdb_memory_limit()})
    try:
        with interrupt_on_stop(con.interrupt):
            yield con
    finally:
        con.close()


def _ingest_and_gate(con: duckdb.DuckDBPyConnection, state: BuildState, record: BuildRecord,
                     path: Path, progress: Progress) -> int | None:
    """Full build: every raw file into raw.*, then the gate. An exit code on a structural
    break, else None."""
    from rapport.pipeline.ingest import load_raw
    from rapport.pipeline.quarantine import run_gate

    pause_at("ingest")
    progress.start("ingest", f"loading raw files into {path.name}")
    try:
        state.raw_counts = load_raw(con, state.raw_dir)
        from rapport.pipeline.captures import merge_for_build  # recorded assessments: an input too
        from rapport.pipeline.quarantine import default_as_of_date

        as_of = state.as_of_date or default_as_of_date(con)  # the date the gate will use
        progress.line(f"captures: {merge_for_build(con, state.raw_counts, as_of=as_of)}")
    except StructuralError as exc:
        return _structural_failure(con, state, record, path, progress, exc)
    progress.done("ingest", f"{len(state.raw_counts)} tables, "
                            f"{sum(state.raw_counts.values()):,} rows")

    pause_at("gate")
    progress.start("gate", "quarantine gate (contract rules)")
    gate = run_gate(con, state.build_id, state.as_of_date)
    state.as_of_date = gate.as_of_date
    state.clean_rows = sum(c.clean for c in gate.counts.values())
    state.quarantined_rows = sum(c.quarantined for c in gate.counts.values())
    progress.done("gate", f"as-of date {gate.as_of_date}, {state.clean_rows:,} clean rows, "
                          f"{state.quarantined_rows:,} quarantined")
    return None


def _append_and_gate(con: duckdb.DuckDBPyConnection, state: BuildState, plan: Plan,
                     progress: Progress) -> date | None:
    """Incremental build: the appended interactions into raw.interactions, then the gate on
    them (and on the rows the served build quarantined). Returns the first day that changed,
    or None when new recorded assessments (rapport/serving/capture_store.py) need a full dbt
    build."""
    from rapport.pipeline.incremental import (
        choose_as_of,
        gate_appended,
        load_appended,
        prepare,
        refuse_moved_date_bounds,
    )
    from rapport.pipeline.incremental import row_counts as stored_row_counts

    prepare(con, state.build_id)
    pause_at("ingest")
    progress.start("ingest", f"loading the lines appended to {plan.interactions_file.name}")
    appended = load_appended(con, plan)
    progress.done("ingest", f"{appended:,} interactions appended")

    pause_at("gate")
    progress.start("gate", "quarantine gate on the appended and previously quarantined rows")
    as_of = state.as_of_date or choose_as_of(con, plan)
    if as_of < plan.base_as_of:
        raise NotIncremental(f"the as-of date would move back from {plan.base_as_of} to {as_of}")
    refuse_moved_date_bounds(con, plan, as_of)
    captures = plan.captures
    if captures is None and as_of != plan.base_as_of:
        from rapport.pipeline.captures import recorded_after
        from rapport.serving.capture_store import current_state

        if recorded_after(plan.base_as_of):  # dated on the old as-of date: date them again
            captures = current_state()
    if captures is not None:  # new captures: contacts and assessments gated again
        from rapport.pipeline.captures import regate

        regate(con, state.build_id, state.raw_dir, as_of, captures)
    gate = gate_appended(con, state.build_id, plan, as_of, appended)
    state.as_of_date = as_of
    state.raw_counts, state.clean_rows, state.quarantined_rows = stored_row_counts(con)
    progress.done("gate", f"as-of date {as_of}, {gate.regated:,} rows gated, "
                          f"{gate.clean_added:,} clean rows added; "
                          f"{state.quarantined_rows:,} quarantined in all; "
                          f"data changed from {gate.since}"
                          + ("; new recorded assessments: contacts and assessments gated "
                             "again, every model rebuilt" if captures else ""))
    return None if captures is not None else gate.since


def _checks_failed(state: BuildState, record: BuildRecord, path: Path, report: CheckReport,
                   note: str) -> int:
    record.status = "checks_failed"
    record.finished_at = _utcnow().strftime("%Y-%m-%d %H:%M:%S")
    record.as_of_date = str(state.as_of_date)
    record.summary = state.checks_summary
    write_record(record)
    apply_retention(protect=(state.build_id,))
    served = _served_text()
    print(f"build {state.build_id}: blocking checks failed{' (' + note + ')' if note else ''}; "
          f"NOT published: {served}. The failed build is kept in {path} (status "
          f"checks_failed; the Data quality page shows it).\n{report.summary()}",
          file=sys.stderr, flush=True)
    print(_refusal_report(record, path, report), file=sys.stderr, flush=True)
    return EXIT_CHECKS_FAILED


def _refusal_report(record: BuildRecord, path: Path, report: CheckReport) -> str:
    """The top quarantine reasons per table (from meta.dq_quarantine of the kept file), what
    the quarantine limit is when it refused the build, and where the kept file is: what a
    refused build is diagnosed from."""
    from rapport.serving.builds import Attempt, details

    try:
        attempt = details(Attempt(build_id=record.build_id, status=record.status,
                                  kept_file=str(path)), path)
        lines = attempt.report_lines(per_table=3, max_tables=20, checks=False)
    except Exception as exc:  # noqa: BLE001 - the report is a help, never a second failure
        lines = [f"(the quarantine reasons could not be read: {exc})"]
    over = sorted({r.column for r in report.blocking
                   if r.expectation == "quarantine_rate_fail" and r.column})
    if over:
        lines.append(
            f"quarantine limit exceeded by {', '.join(over)}: a table with a larger share of "
            "its rows quarantined than its limit refuses the build (the limits are per table "
            "in expectations/thresholds.yml, quarantine_rate: fail_above and per_table). So "
            "many rejected rows usually mean a wrong column mapping or date format: look at "
            "the reasons above and at the rows in the kept file's meta.dq_quarantine.")
    return "\n".join([*lines, f"kept build file: {path}"])


def _structural_failure(con: duckdb.DuckDBPyConnection | None, state: BuildState,
                        record: BuildRecord, path: Path, progress: Progress,
                        exc: StructuralError) -> int:
    raise_if_stopping()  # an interrupted read is reported as the interrupt, not as the file
    progress.line(f"{progress.stage}: stopped - structural problem in the input")
    state.checks_summary = str(exc)
    if con is not None:
        try:
            _write_build_meta(con, state, "structural_error")
            con.execute("checkpoint")
        except duckdb.Error:
            pass
        con.close()
    problem = _finish_record(record, state, "structural_error", str(exc))
    if problem:
        print(f"rapport build: {problem}", file=sys.stderr)
    remove_temp_files(state.build_id)
    with contextlib.suppress(Exception):
        apply_retention(protect=(state.build_id,))
    print(f"rapport build: {exc}\nNothing was published: the served warehouse is unchanged.",
          file=sys.stderr, flush=True)
    return getattr(exc, "exit_code", EXIT_STRUCTURAL)


def _import_gx_in_background() -> threading.Thread:
    """Import great-expectations (~5 s) on a thread while the ingest and gate run.

    Through rapport.pipeline.checks.gx_import, which hides pyspark from GX's optional Spark probe:
    with the spark extra installed that probe costs seconds and, in a process whose __main__
    has no file (pytest-xdist workers), pyspark.sql.connect calls sys.exit(0). While the
    thread runs, `import pyspark` fails: nothing may import pyspark before the thread is
    joined (the pipeline joins it before the input checks, long before a Spark dbt step).
    """
    from rapport.pipeline.checks.gx_import import import_great_expectations

    def work() -> None:
        with contextlib.suppress(Exception):  # the real import later reports the problem
            import_great_expectations()

    thread = threading.Thread(target=work, name="import-great_expectations", daemon=True)
    thread.start()
    return thread


def _run_dbt(path: Path, state: BuildState, progress: Progress, since: date | None = None):
    """dbt build. Incremental (since set): only what depends on the interactions is built
    (`source:validated.interactions+`, which includes everything that depends on the as-of
    date), and the incremental models recompute from `since` on. Seeds, the models of the
    other tables and their tests are left as the copied file holds them. Unit tests are left
    out of every build: they test the code, and the test suite runs them
    (rapport.pipeline.dbt_runner.build)."""
    from rapport.pipeline import dbt_runner

    target = builds_dir() / f"{state.build_id}.dbt"
    pause_at("during_dbt", running=True)
    echo = _echo if os.environ.get("RAPPORT_VERBOSE") else None
    if state.engine == "spark":
        from rapport.pipeline import spark

        result = spark.build(path, state.as_of_date, state.build_id, target_path=target,
                             echo=echo)
        progress.line(f"spark: {spark.last_build.timings}")
    elif since is None:
        result = dbt_runner.build(path, state.as_of_date, state.build_id, target_path=target,
                                  echo=echo)
    else:
        result = dbt_runner.run_dbt(
            ["build", "--select", "source:validated.interactions+",
             "--exclude-resource-type", "unit_test"], path,
            vars={"build_id": state.build_id, "as_of_date": str(state.as_of_date),
                  "incremental_since": since.isoformat()},
            target_path=target, echo=echo)
    pause_at("during_dbt")  # dbt finished before the test killed the build
    return result


def _echo(line: str) -> None:
    """RAPPORT_VERBOSE: dbt's line per node, at once (stdout may be a pipe)."""
    print(line, flush=True)


def _dbt_results(dbt) -> list[CheckResult]:
    """dbt's outcome as check results (suite 'dbt'): every failing node blocks."""
    results = []
    if dbt.error:
        results.append(CheckResult("dbt", "dbt_build", None, False, ERROR, SEVERITY_FAIL,
                                   detail=dbt.error))
    for node in dbt.failures:
        status = FAIL if node.status == "fail" else ERROR
        results.append(CheckResult("dbt", f"{node.resource_type}:{node.name}", None, False,
                                   status, SEVERITY_FAIL, detail=node.message or node.status))
    if not results:
        results.append(CheckResult("dbt", "dbt_build", None, True, "pass", SEVERITY_FAIL,
                                   observed_value=f"{len(dbt.nodes)} nodes",
                                   detail=dbt.summary()))
    return results


# --------------------------------------------------------------------------- meta tables


def _git_commit() -> str | None:
    try:
        out = subprocess.run(["git", "-C", str(PROJECT_ROOT), "rev-parse", "--short=12", "HEAD"],
                             check=False, capture_output=True, text=True, timeout=5)
    except (OSError, subprocess.SubprocessError):
        return None
    return out.stdout.strip() or None if out.returncode == 0 else None


def _write_build_meta(con: duckdb.DuckDBPyConnection, state: BuildState, status: str) -> None:
    """meta.build_info (this build) and meta.build_history (previous history + this build)."""
    con.execute("create schema if not exists meta")
    for name in ("build_info", "build_history"):
        con.execute(f"drop table if exists meta.{name}")
        con.execute(BUILD_INFO_DDL.format(name=name))
    row = [
        state.build_id, state.started_at, _utcnow(), state.as_of_date, status,
        json.dumps(state.raw_counts, sort_keys=True), sum(state.raw_counts.values()),
        state.clean_rows, state.quarantined_rows, state.checks_summary, _git_commit(),
        _version(), str(state.raw_dir),
    ]
    marks = ", ".join("?" * len(row))
    con.execute(f"insert into meta.build_info values ({marks})", row)
    _copy_history(con, state.build_id)
    con.execute("insert into meta.build_history select * from meta.build_info")


def _copy_history(con: duckdb.DuckDBPyConnection, build_id: str) -> None:
    """Copy meta.build_history forward from the newest earlier build that finished.

    That is the newest finished build file (passed or failed), else the served file, so the
    history also lists failed builds. A source that cannot be read is skipped.
    """
    sources = [build_file(r.build_id) for r in reversed(list_records())
               if r.build_id < build_id and r.status not in (RUNNING, "interrupted")]
    sources.append(served_warehouse())
    for source in sources:
        if not source.exists():
            continue
        try:
            con.execute(f"attach '{_sql_text(str(source))}' as previous (read_only)")
        except duckdb.Error:
            continue
        try:
            con.execute("insert into meta.build_history by name "
                        "select * from previous.meta.build_history where build_id <> ?",
                        [build_id])
            return
        except duckdb.Error:
            continue
        finally:
            con.execute("detach previous")


def _sql_text(value: str) -> str:
    return value.replace("'", "''")


# --------------------------------------------------------------------------- check, rollback


def run_check() -> int:
    """Re-run the data checks on the served warehouse, read-only; print a summary.

    Exit 0 no blocking check fails; 1 one does (or nothing is served); 2 the served file is
    damaged or cannot be opened (the message says what to do); 130 / 143 interrupted."""
    unchanged = "nothing was changed (rapport check only reads the served file)"
    with stop_signals():
        try:
            return _check()
        except Interrupted as exc:
            print(f"rapport check: interrupted by {exc.signal_name}; {unchanged}.",
                  file=sys.stderr, flush=True)
            return exc.exit_code
        except DamagedWarehouse as exc:
            print(f"rapport check: {exc}", file=sys.stderr, flush=True)
            return exc.exit_code
        except Exception as exc:  # noqa: BLE001 - a clear message and the traceback's log
            signum = stop_requested()
            if signum is not None:  # an interrupted query raises a plain error
                print(f"rapport check: interrupted by {signal.Signals(signum).name}; "
                      f"{unchanged}.", file=sys.stderr, flush=True)
                return 128 + signum
            return _command_crashed("check", exc, unchanged)


def _check() -> int:
    from rapport.check_results import ERROR

    served = served_warehouse()
    if not served.exists():
        print(f"rapport check: no served warehouse at {served}; run `rapport build` first.",
              file=sys.stderr)
        return EXIT_CHECKS_FAILED
    progress = Progress()
    progress.start("checks", f"great-expectations suites on {served} (read-only)")
    from rapport.pipeline.checks.runner import run_checks

    try:
        con = open_served()
    except duckdb.Error as exc:
        raise _damaged(served, exc) from None
    with con, interrupt_on_stop(con.interrupt):
        try:
            build_id, as_of = con.execute(
                "select build_id, as_of_date from meta.build_info").fetchone()
        except (duckdb.Error, TypeError) as exc:
            if _unreadable(str(exc)):
                raise _damaged(served, exc) from None
            build_id, as_of = "unknown", None
        report: CheckReport = run_checks(con, build_id, as_of)
    unreadable = [r for r in report.results if r.status == ERROR and _unreadable(r.detail or "")]
    if unreadable:  # the file opened, but some of its data cannot be read
        raise _damaged(served, unreadable[0].detail or "", build_id)
    progress.done("checks", report.one_line())
    print(f"served build {build_id}, as-of date {as_of}")
    print(report.summary())
    if not report.passed:
        print("rapport check: blocking checks fail on the served warehouse. "
              "Consider `rapport rollback`.", file=sys.stderr)
        return EXIT_CHECKS_FAILED
    return EXIT_OK


_UNREADABLE = ("IO Error", "Corrupt", "corrupt", "not a valid DuckDB database file",
               "Serialization Error", "checksum")


def _unreadable(message: str) -> bool:
    return any(marker in message for marker in _UNREADABLE)


def _damaged(served: Path, exc: BaseException | str, build_id: str | None = None
             ) -> DamagedWarehouse:
    """The message for a served file DuckDB cannot read: which file, that it is damaged, and
    what to do (roll back onto a kept good build, or build again)."""
    build_id = None if build_id == "unknown" else build_id
    text = str(exc)
    detail = (text.strip().splitlines() or [""])[0]
    if "Permission denied" in text:
        return DamagedWarehouse(
            f"the served warehouse {served} cannot be read: permission denied ({detail}). "
            f"Give this user read access to it (and to {served.parent}) and run again.")
    if "Could not set lock" in text or "Conflicting lock" in text:
        return DamagedWarehouse(
            f"the served warehouse {served} is held open read-write by another process "
            f"({detail}). Nothing may open it read-write (docs/operations.md): stop that "
            f"process and run again.")
    good = [r.build_id for r in list_records()
            if r.status == GOOD and build_id_of(build_file(r.build_id)) == r.build_id]
    older = [g for g in good if build_id is None or g < build_id]
    if good and served_damaged():  # what `rapport rollback` does then: serve a kept copy
        keep = build_id if build_id in good else good[-1]
        fix = (f"run `rapport rollback`: it serves build {keep} again from its kept copy "
               f"({build_file(keep)}); or run `rapport build`")
    elif older:
        fix = (f"run `rapport rollback` to serve the previous good build {older[-1]}, or "
               f"`rapport build` to build a new warehouse")
    else:
        fix = ("no other good build is kept under builds/ to roll back to: run "
               "`rapport build` to build a new warehouse")
    which = f" (build {build_id})" if build_id and build_id != "unknown" else ""
    return DamagedWarehouse(
        f"the served warehouse {served}{which} is damaged: DuckDB cannot read it ({detail}). "
        f"The file may be truncated or overwritten; the dashboard cannot read it either. "
        f"To fix it, {fix}.")


def _command_crashed(command: str, exc: Exception, unchanged: str) -> int:
    """An unexpected error in check or rollback: a clear message, the traceback in a log."""
    stamp = _utcnow().strftime("%Y%m%dT%H%M%S")
    log = write_crash_log(warehouse_dir() / "logs" / f"{command}-{stamp}-{os.getpid()}.log",
                          f"rapport {command}: unexpected error ({stamp} UTC)")
    first = (str(exc).strip().splitlines() or [""])[0]
    if log is None:
        traceback.print_exc()
    print(f"rapport {command}: failed with an unexpected error: {type(exc).__name__}: {first}. "
          + (f"The traceback is in {log}; report it with that file if it is a bug. "
             if log else "The traceback is above. ")
          + f"{unchanged[0].upper()}{unchanged[1:]}.", file=sys.stderr, flush=True)
    return EXIT_CHECKS_FAILED


def run_rollback() -> int:
    """Serve the previous good build again (atomically). Exit 0 rolled back; 1 nothing to
    roll back to, a build is running, or an unexpected error; 2 no space left on device;
    130 / 143 interrupted (nothing changed)."""
    with stop_signals():
        try:
            return _rollback()
        except Interrupted as exc:
            remove_temp_files()
            print(f"rapport rollback: interrupted by {exc.signal_name}; nothing was changed: "
                  f"{_served_text()}.", file=sys.stderr, flush=True)
            return exc.exit_code


def _rollback() -> int:
    lock = WarehouseLock(f"rollback-{new_build_id()}", command="rollback")
    try:
        with deferred_stop():
            lock.acquire()
    except BuildRunning as exc:
        print(f"rapport rollback: {exc}", file=sys.stderr)
        return BuildRefused.exit_code
    except OSError as exc:
        return _cannot_start("rollback", exc)
    served = served_warehouse()
    try:
        damaged = served_damaged()
        before, after = rollback()
    except PublishError as exc:
        print(f"rapport rollback: {exc}", file=sys.stderr)
        return EXIT_CHECKS_FAILED
    except Exception as exc:  # noqa: BLE001 - a clear message, never a bare traceback
        remove_temp_files()
        raise_if_stopping()  # an interrupted query raises a plain error: report the stop
        full = disk_full(exc)
        if full is not None:
            print(f"rapport rollback: no space left on device while writing "
                  f"{full or 'the copy beside the served file'}; free space and run again. "
                  f"Nothing was changed: {_served_text()}.", file=sys.stderr, flush=True)
            return EXIT_DISK_FULL
        return _command_crashed("rollback", exc, f"nothing was changed: {_served_text()}")
    finally:
        with deferred_stop(raise_after=False):
            lock.release()
    if damaged:
        what = f"build {before}" if before else "its build id could not be read"
        print(f"repaired: the served file was damaged ({what}); now serving build {after} "
              f"again from its kept copy at {served}")
    else:
        print(f"rolled back: now serving build {after} (was {before or 'nothing'}) at {served}")
    signum = stop_requested()
    if signum is not None:
        print(f"rapport rollback: {signal.Signals(signum).name} came after the served file was "
              f"replaced: the rollback is done.", file=sys.stderr, flush=True)
    return EXIT_OK

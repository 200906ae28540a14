"""Build the marts on Apache Spark instead of DuckDB, from the same dbt models.

    from rapport.pipeline import spark
    reason = spark.unavailable()          # None, or why Spark cannot run here
    result = spark.build(db_path, as_of_date="2024-06-30", build_id="b1")

`build` has the signature of rapport.pipeline.dbt_runner.build and leaves the DuckDB file as a DuckDB
build would, so the pipeline (checks, publish, dashboard) needs no change:

1. export: every table of the schemas validated, meta and raw in the DuckDB file is written
   to Parquet (one folder per table) in a temporary exchange folder;
2. register: each folder becomes an external Spark table <schema>.<table> (Spark databases
   validated, meta, raw) in a local Spark session (dbt-spark `session` mode, target `spark`
   of transforms/profiles.yml, whose parameters this module reads to start the session);
3. dbt: `dbt build --target spark` (seeds, models, data tests; unit tests run in the test suite) in this process;
4. import: every relation dbt built in the Spark databases config, staging, intermediate and
   marts is written to Parquet and loaded into the DuckDB file as a table of the same schema
   and name (DECIMAL columns as DOUBLE, as the DuckDB build has them).

Spark runs in this process (PySpark starts a JVM: Java 17 or 21 on the PATH or JAVA_HOME).
One Spark session serves every build of the process; warm_up() starts it on a thread, so
`rapport build --engine spark` overlaps Spark's start with its ingest, gate and input checks. Its warehouse folder and Derby
metastore (RAPPORT_SPARK_DIR, else a temporary folder removed at exit) are fixed when the
JVM starts; each build drops rapport's Spark databases before registering its own tables.
docs/scale-out.md says when to use it and how to point rapport at a real cluster.
"""

from __future__ import annotations

import atexit
import contextlib
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import duckdb
import yaml

from rapport.paths import TRANSFORMS_DIR
from rapport.pipeline.dbt_runner import WITHOUT_UNIT_TESTS, DbtResult, run_dbt

SPARK_DIR_ENV = "RAPPORT_SPARK_DIR"
INPUT_SCHEMAS = ("validated", "meta", "raw")
OUTPUT_SCHEMAS = ("config", "staging", "intermediate", "marts")
DBT_SPARK_FLAGS = ("--target", "spark")
MIN_JAVA = 17
PARALLEL_STATEMENTS = 4  # Spark statements at a time when registering and exporting tables

_LOCK = threading.Lock()
_SESSION_DIR: Path | None = None  # warehouse + metastore folder of the running session


class SparkUnavailable(RuntimeError):
    """Spark cannot run here: pyspark/dbt-spark missing or no suitable Java."""


@dataclass
class SparkBuildTimings:
    """Seconds per stage of the last Spark build."""

    export: float = 0.0
    session: float = 0.0
    register: float = 0.0
    dbt: float = 0.0
    import_: float = 0.0

    @property
    def total(self) -> float:
        return self.export + self.session + self.register + self.dbt + self.import_

    def __str__(self) -> str:
        return (f"export {self.export:.1f}s, Spark start {self.session:.1f}s, "
                f"register {self.register:.1f}s, dbt {self.dbt:.1f}s, "
                f"import {self.import_:.1f}s (total {self.total:.1f}s)")


@dataclass
class ImportedTable:
    schema: str
    name: str
    rows: int


@dataclass
class SparkBuildInfo:
    timings: SparkBuildTimings = field(default_factory=SparkBuildTimings)
    imported: list[ImportedTable] = field(default_factory=list)


last_build = SparkBuildInfo()  # filled by build(): timings and imported tables


# --------------------------------------------------------------------------- availability


def java_major_version() -> int | None:
    """Major version of the `java` that PySpark will start (JAVA_HOME first), or None."""
    java_home = os.environ.get("JAVA_HOME")
    java = str(Path(java_home) / "bin" / "java") if java_home else shutil.which("java")
    if not java:
        return None
    try:
        out = subprocess.run([java, "-version"], capture_output=True, text=True, timeout=30,
                             check=False)
    except (OSError, subprocess.SubprocessError):
        return None
    match = re.search(r'version "(\d+)(?:\.(\d+))?', out.stderr + out.stdout)
    if not match:
        return None
    major = int(match.group(1))
    return int(match.group(2) or 0) if major == 1 else major  # "1.8.0" is Java 8


def unavailable() -> str | None:
    """None when a Spark build can run here, else the reason and what to install."""
    import importlib.util

    missing = []  # looked up, not imported: importing pyspark early slows GX's import
    for module, package in (("pyspark", "pyspark"), ("dbt.adapters.spark", "dbt-spark[session]")):
        try:
            found = importlib.util.find_spec(module) is not None
        except ImportError:
            found = False
        if not found:
            missing.append(package)
    if missing:
        return (f"{', '.join(missing)} not installed: install the spark extra "
                f"(pip install 'rapport[spark]')")
    major = java_major_version()
    if major is None:
        return (f"no Java found (JAVA_HOME or java on the PATH): Spark needs Java {MIN_JAVA} "
                f"or 21 (Debian: apt-get install openjdk-17-jre-headless)")
    if major < MIN_JAVA:
        return f"Java {major} found; Spark 4 needs Java {MIN_JAVA} or 21 (set JAVA_HOME)"
    return None


# --------------------------------------------------------------------------- session


def spark_parameters(work_dir: Path) -> dict[str, str]:
    """The spark target's server_side_parameters (transforms/profiles.yml) for work_dir.

    Rendered the way dbt renders them: env_var('NAME', 'default'), with RAPPORT_SPARK_DIR
    set to work_dir; so the session started here and the one dbt-spark asks for agree.
    """
    import jinja2

    profile = yaml.safe_load((TRANSFORMS_DIR / "profiles.yml").read_text())
    try:
        params = profile["rapport"]["outputs"]["spark"]["server_side_parameters"]
    except (KeyError, TypeError):
        raise SparkUnavailable(f"{TRANSFORMS_DIR / 'profiles.yml'}: no target `spark` with "
                               "server_side_parameters under profile rapport") from None
    env = {**os.environ, SPARK_DIR_ENV: str(work_dir)}

    def env_var(name: str, default: str | None = None) -> str:
        if name in env:
            return env[name]
        if default is None:
            raise SparkUnavailable(f"profiles.yml needs the environment variable {name}")
        return default

    jinja = jinja2.Environment()
    return {str(key): jinja.from_string(str(value)).render(env_var=env_var)
            for key, value in params.items()}


def session_dir() -> Path:
    """Folder of the process's Spark warehouse and Derby metastore.

    RAPPORT_SPARK_DIR when set (kept), else a temporary folder removed when the process
    exits. Fixed when the session starts: a JVM's warehouse and metastore cannot move.
    """
    global _SESSION_DIR
    if _SESSION_DIR is None:
        chosen = os.environ.get(SPARK_DIR_ENV)
        if chosen:
            _SESSION_DIR = Path(chosen).resolve()
            _SESSION_DIR.mkdir(parents=True, exist_ok=True)
        else:
            _SESSION_DIR = Path(tempfile.mkdtemp(prefix="rapport-spark-"))
            atexit.register(shutil.rmtree, _SESSION_DIR, True)
    return _SESSION_DIR


def get_session() -> Any:
    """The process's Spark session, started with the spark target's parameters on first use."""
    reason = unavailable()
    if reason:
        raise SparkUnavailable(reason)
    from pyspark.sql import SparkSession

    builder = SparkSession.builder.enableHiveSupport()
    for key, value in spark_parameters(session_dir()).items():
        builder = builder.config(key, value)
    session = builder.getOrCreate()
    session.sparkContext.setLogLevel("ERROR")
    return session


def warm_up(after: threading.Thread | None = None) -> threading.Thread:
    """Start the process's Spark session on a thread (Java and Spark take 20-50 s to start).

    `rapport build --engine spark` calls it at the start of a build, so the start overlaps
    the ingest, gate and input checks. The thread first waits for `after` (the pipeline's
    background great-expectations import, during which `import pyspark` fails on purpose).
    build() waits for the thread (the module lock); an error here is left for build() to
    report, as it starts the session itself when this did not.
    """
    def work() -> None:
        if after is not None:
            after.join()
        with _LOCK, contextlib.suppress(Exception):
            get_session()

    thread = threading.Thread(target=work, name="spark-warm-up", daemon=True)
    thread.start()
    return thread


# --------------------------------------------------------------------------- data moves


def _q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _sql_text(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def _tables(con: duckdb.DuckDBPyConnection, schemas: tuple[str, ...]) -> list[tuple[str, str]]:
    marks = ", ".join("?" * len(schemas))
    return con.execute(
        f"select table_schema, table_name from information_schema.tables "
        f"where table_catalog = current_database() and table_schema in ({marks}) "
        f"order by table_schema, table_name",
        list(schemas),
    ).fetchall()


def export_inputs(db_path: Path, parquet_dir: Path) -> list[tuple[str, str, Path]]:
    """Write every table of validated, meta and raw to parquet_dir/<schema>/<table>/."""
    exported = []
    con = duckdb.connect(str(db_path), read_only=True)
    try:
        tables = _tables(con, INPUT_SCHEMAS)
        if not any(schema == "validated" for schema, _ in tables):
            raise FileNotFoundError(
                f"{db_path}: no validated.* tables; run the ingest and quarantine gate first "
                "(rapport build does)")
        for schema, table in tables:
            folder = parquet_dir / schema / table
            folder.mkdir(parents=True, exist_ok=True)
            con.execute(f"copy (select * from {_q(schema)}.{_q(table)}) to "
                        f"{_sql_text(str(folder / 'part-0.parquet'))} (format parquet)")
            exported.append((schema, table, folder))
    finally:
        con.close()
    return exported


def reset_databases(session: Any) -> None:
    """Drop rapport's Spark databases, so a build starts from nothing."""
    for schema in (*INPUT_SCHEMAS, *OUTPUT_SCHEMAS):
        session.sql(f"drop database if exists `{schema}` cascade")


def _each(work: Callable[[Any], Any], items: Sequence[Any]) -> list[Any]:
    """work(item) for every item, a few at a time: Spark runs concurrent jobs of one session,
    and on small tables each statement's time is mostly waiting (planning, job start,
    metastore), not CPU. Results in the items' order; the first error is raised."""
    if len(items) <= 1:
        return [work(item) for item in items]
    with ThreadPoolExecutor(max_workers=PARALLEL_STATEMENTS,
                            thread_name_prefix="rapport-spark") as pool:
        return list(pool.map(work, items))


def register_inputs(session: Any, exported: list[tuple[str, str, Path]]) -> None:
    """Each exported folder becomes the external Spark table `schema`.`table`."""
    for schema in sorted({schema for schema, _, _ in exported}):
        session.sql(f"create database if not exists `{schema}`")
    _each(lambda item: session.sql(f"create table `{item[0]}`.`{item[1]}` using parquet "
                                   f"location '{item[2].as_uri()}'"), exported)


def export_outputs(session: Any, parquet_dir: Path) -> list[tuple[str, str, Path]]:
    """Write every relation of config, staging, intermediate and marts to Parquet."""
    exported = []
    databases = {row[0] for row in session.sql("show databases").collect()}
    for schema in OUTPUT_SCHEMAS:
        if schema not in databases:
            continue
        for row in session.sql(f"show tables in `{schema}`").collect():
            if not row.isTemporary:
                exported.append((schema, row.tableName, parquet_dir / schema / row.tableName))

    def write(item: tuple[str, str, Path]) -> None:
        schema, table, folder = item
        session.table(f"`{schema}`.`{table}`").write.mode("overwrite").parquet(folder.as_uri())

    _each(write, exported)
    return exported


def import_outputs(db_path: Path, exported: list[tuple[str, str, Path]]) -> list[ImportedTable]:
    """Load Spark's relations into the DuckDB file (replacing any of the same name)."""
    imported = []
    con = duckdb.connect(str(db_path))
    try:
        con.execute("begin")
        for schema, table, folder in exported:
            con.execute(f"create schema if not exists {_q(schema)}")
            source = f"read_parquet({_sql_text(str(folder / '*.parquet'))})"
            columns = con.execute(f"describe select * from {source}").fetchall()
            select = ", ".join(
                f"cast({_q(name)} as double) as {_q(name)}" if str(kind).startswith("DECIMAL")
                else _q(name)
                for name, kind, *_ in columns
            )
            existing = con.execute(
                "select table_type from information_schema.tables where table_catalog = "
                "current_database() and table_schema = ? and table_name = ?", [schema, table]
            ).fetchone()
            if existing and existing[0] == "VIEW":  # e.g. a DuckDB build's staging view
                con.execute(f"drop view {_q(schema)}.{_q(table)}")
            con.execute(f"create or replace table {_q(schema)}.{_q(table)} as "
                        f"select {select} from {source}")
            rows = con.execute(f"select count(*) from {_q(schema)}.{_q(table)}").fetchone()[0]
            imported.append(ImportedTable(schema, table, int(rows)))
        con.execute("commit")
        con.execute("checkpoint")
    finally:
        con.close()
    return imported


# --------------------------------------------------------------------------- build


def build(
    db_path: Path,
    as_of_date: date | str | None,
    build_id: str,
    target_path: Path | None = None,
    echo: Callable[[str], None] | None = print,
    work_dir: Path | None = None,
    dbt_args: Sequence[str] = (),
) -> DbtResult:
    """`dbt build --target spark` over db_path's validated tables; the results back into db_path.

    Same arguments and result as rapport.pipeline.dbt_runner.build. work_dir holds the Parquet files
    exchanged with Spark (default: a temporary folder, removed afterwards). dbt_args are
    added to the dbt command, e.g. ("--exclude-resource-type", "test") for models only.
    """
    global last_build
    db_path = Path(db_path).resolve()
    if not db_path.exists():
        raise FileNotFoundError(f"{db_path}: no such warehouse file; run the ingest and "
                                "quarantine gate first (rapport build does)")
    say = echo or (lambda _line: None)
    info = last_build = SparkBuildInfo()
    timings = info.timings
    exchange = Path(tempfile.mkdtemp(prefix=f"rapport-spark-{_safe(build_id)}-",
                                     dir=str(work_dir) if work_dir else None))
    try:
        with _LOCK:
            started = time.perf_counter()
            exported = export_inputs(db_path, exchange / "in")
            timings.export = time.perf_counter() - started
            say(f"spark: exported {len(exported)} tables of {', '.join(INPUT_SCHEMAS)} "
                f"to Parquet in {timings.export:.1f}s")

            started = time.perf_counter()
            session = get_session()
            timings.session = time.perf_counter() - started
            say(f"spark: Spark {session.version} session ready in {timings.session:.1f}s")

            started = time.perf_counter()
            reset_databases(session)
            register_inputs(session, exported)
            timings.register = time.perf_counter() - started

            vars: dict[str, Any] = {"build_id": build_id}
            if as_of_date is not None:
                vars["as_of_date"] = str(as_of_date)
            with _environment({SPARK_DIR_ENV: str(session_dir())}):
                result = run_dbt(["build", *DBT_SPARK_FLAGS, *WITHOUT_UNIT_TESTS, *dbt_args], db_path, vars=vars,
                                 target_path=target_path, echo=echo)
            timings.dbt = result.seconds
            if result.nodes:
                started = time.perf_counter()
                outputs = export_outputs(session, exchange / "out")
                info.imported = import_outputs(db_path, outputs)
                timings.import_ = time.perf_counter() - started
                say(f"spark: imported {len(info.imported)} relations into {db_path.name} "
                    f"in {timings.import_:.1f}s")
            say(f"spark: {timings}")
    finally:
        shutil.rmtree(exchange, ignore_errors=True)
    return result


def _safe(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]", "_", text)[:40]


class _environment:
    def __init__(self, values: dict[str, str]) -> None:
        self.values = values
        self.saved: dict[str, str | None] = {}

    def __enter__(self) -> None:
        self.saved = {k: os.environ.get(k) for k in self.values}
        os.environ.update(self.values)

    def __exit__(self, *exc: object) -> None:
        for key, old in self.saved.items():
            if old is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = old


# python -m rapport.pipeline.spark <warehouse.duckdb> [as_of_date] [build_id]
if __name__ == "__main__":
    if len(sys.argv) < 2:
        print("usage: python -m rapport.pipeline.spark <warehouse.duckdb> [as_of_date] [build_id]",
              file=sys.stderr)
        sys.exit(2)
    outcome = build(Path(sys.argv[1]), sys.argv[2] if len(sys.argv) > 2 else None,
                    sys.argv[3] if len(sys.argv) > 3 else "spark")
    sys.exit(0 if outcome.success else 1)

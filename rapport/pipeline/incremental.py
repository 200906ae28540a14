"""Incremental builds: process only the interactions appended since the served build.

`rapport build --incremental` starts from a copy of the served build's file instead of an
empty one. It is allowed only when the result can equal a full build of the same raw files:

- the transforms, seeds, contract and gate code are the ones the served build used (sha256
  of each file, `code_files`);
- every raw file other than interactions is byte-identical to the one the served build read
  (sha256), and interactions is a CSV file that only grew: its first bytes are exactly the
  file the served build read (sha256 of that prefix) and the old file ended with a newline;
- the as-of date does not move backwards.

Otherwise the build says why and runs as a full build. When it is allowed:

1. the appended lines are loaded into raw.interactions (row numbers continue);
2. the appended rows, and the interactions quarantined by the served build (a later as-of
   date can make an "interaction in the future" valid), go through the same contract rules
   as a full build; clean ones are appended to validated.interactions, rejected ones to
   meta.dq_quarantine;
3. dbt runs with the var `incremental_since`: the first day whose data changed (the
   earliest newly clean interaction, or the day after the previous as-of date when it
   moved). Incremental models (fct_interactions and the per-month interaction models)
   recompute only the rows from that day / that day's month on; every other model is
   rebuilt in full as usual (they are small).

Every build (full or incremental) records what it read in meta.incremental_state, so the
next incremental build can compare. docs/operations.md, "Incremental builds".
"""

from __future__ import annotations

import hashlib
import shutil
import tempfile
import threading
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path

import duckdb

from rapport.contract import contract
from rapport.errors import disk_full
from rapport.paths import PACKAGE_DIR, TRANSFORMS_DIR
from rapport.pipeline.captures import changed_since, state_of_rows
from rapport.pipeline.ingest import (
    check_columns,
    explain_read_error,
    find_table_file,
    quote_identifier,
    read_expression,
    read_header,
    sql_string,
)
from rapport.serving.capture_store import StoreState

STATE_TABLE = "meta.incremental_state"
APPENDABLE = "interactions"
CODE_KIND = "code_file"
FILE_KIND = "raw_file"
_CHUNK = 8 * 1024 * 1024

# What the marts are computed with: a change to any of these makes history stale.
_CODE_GLOBS = [
    (TRANSFORMS_DIR, ("models/**/*", "macros/**/*", "seeds/**/*", "tests/**/*",
                      "dbt_project.yml", "packages.yml")),
    (PACKAGE_DIR, ("contract.yml", "contract.py", "pipeline/quarantine.py", "pipeline/ingest.py",
                   "pipeline/incremental.py", "pipeline/captures.py",
                   "serving/capture_store.py")),
]

STATE_DDL = f"""
create table if not exists {STATE_TABLE} (
    build_id varchar not null,
    kind varchar not null,
    item varchar not null,
    file_name varchar,
    file_bytes bigint,
    sha256 varchar,
    raw_rows bigint
)
"""


class NotIncremental(Exception):
    """This build cannot be incremental; the message says why (a full build runs instead)."""


# --------------------------------------------------------------------------- fingerprints


@dataclass(frozen=True)
class FileState:
    """A raw file as a build read it (file_name None: the optional table had no file)."""

    table: str
    file_name: str | None
    file_bytes: int | None
    sha256: str | None


def sha256_file(path: Path, prefix_bytes: int | None = None) -> tuple[str, str | None]:
    """sha256 of the whole file, and (when prefix_bytes is given) of its first prefix_bytes
    bytes, in one pass. hashlib releases the GIL, so this runs well on a thread."""
    whole = hashlib.sha256()
    prefix_digest = None
    done = 0
    with path.open("rb") as handle:
        while True:
            if prefix_bytes is not None and prefix_digest is None and done == prefix_bytes:
                prefix_digest = whole.copy().hexdigest()
            size = _CHUNK
            if prefix_bytes is not None and prefix_digest is None:
                size = min(size, prefix_bytes - done)
            chunk = handle.read(size)
            if not chunk:
                break
            whole.update(chunk)
            done += len(chunk)
    if prefix_bytes is not None and prefix_digest is None and done == prefix_bytes:
        prefix_digest = whole.copy().hexdigest()
    return whole.hexdigest(), prefix_digest


def code_files() -> dict[str, str]:
    """sha256 of every file the marts are computed with (dbt project, contract, gate code),
    by path relative to the project, plus the DuckDB version (it computes every number)."""
    found = {"duckdb": hashlib.sha256(duckdb.__version__.encode()).hexdigest()}
    for root, patterns in _CODE_GLOBS:
        for pattern in patterns:
            for path in root.glob(pattern):
                if path.is_file() and "__pycache__" not in path.parts:
                    # 'transforms/models/...', 'rapport/contract.yml' (also when installed)
                    rel = str(path.relative_to(root.parent))
                    found[rel] = hashlib.sha256(path.read_bytes()).hexdigest()
    return dict(sorted(found.items()))


def raw_file_states(raw_dir: Path, tables: Iterable[str] | None = None) -> dict[str, FileState]:
    """The sha256 of every contract table's raw file (two files hashed at a time)."""
    from concurrent.futures import ThreadPoolExecutor

    spec = contract()
    names = list(tables) if tables is not None else list(spec.tables)
    paths = {name: find_table_file(raw_dir, spec.tables[name]) for name in names}

    def state(name: str) -> FileState:
        path = paths[name]
        if path is None:
            return FileState(name, None, None, None)
        return FileState(name, path.name, path.stat().st_size, sha256_file(path)[0])

    # biggest first, so the two threads finish together
    order = sorted(names, key=lambda n: -(paths[n].stat().st_size if paths[n] else 0))
    with ThreadPoolExecutor(max_workers=2) as pool:
        return dict(zip(order, pool.map(state, order), strict=True))


class BackgroundFingerprints:
    """Hash the raw files on a thread while the build ingests them (full builds)."""

    def __init__(self, raw_dir: Path) -> None:
        self._result: tuple[dict[str, str], dict[str, FileState]] | None = None
        self.error = ""
        self._thread = threading.Thread(target=self._work, args=(raw_dir,),
                                        name="raw-fingerprints", daemon=True)
        self._thread.start()

    def _work(self, raw_dir: Path) -> None:
        try:
            self._result = (code_files(), raw_file_states(raw_dir))
        except Exception as exc:  # noqa: BLE001 - a build never fails for this: see result()
            self.error = f"{type(exc).__name__}: {exc}"

    def result(self) -> tuple[dict[str, str], dict[str, FileState]] | None:
        """(code files, raw file states), or None when they could not be computed
        (`error` says why; the next incremental build is then a full one)."""
        self._thread.join()
        return self._result


def write_state(con: duckdb.DuckDBPyConnection, build_id: str, code: dict[str, str],
                files: dict[str, FileState], raw_counts: dict[str, int]) -> None:
    """Record what this build read, for the next incremental build (replaces any old state)."""
    con.execute("create schema if not exists meta")
    con.execute(f"drop table if exists {STATE_TABLE}")
    con.execute(STATE_DDL)
    rows = [(build_id, CODE_KIND, path, None, None, digest, None)
            for path, digest in code.items()]
    rows += [(build_id, FILE_KIND, f.table, f.file_name, f.file_bytes, f.sha256,
              raw_counts.get(f.table)) for f in files.values()]
    from rapport.pipeline.captures import state_rows

    rows += state_rows(con, build_id)  # what the build merged of the capture store
    con.executemany(f"insert into {STATE_TABLE} values (?, ?, ?, ?, ?, ?, ?)", rows)


# --------------------------------------------------------------------------- the plan


@dataclass
class Plan:
    """An incremental build that is allowed: start from base_path, load the bytes of
    interactions after appended_from."""

    base_path: Path
    base_build_id: str
    base_as_of: date
    base_raw_rows: int  # rows of raw.interactions in the base
    appended_from: int  # byte offset in the interactions file where new lines start
    interactions_file: Path
    code: dict[str, str]
    files: dict[str, FileState] = field(default_factory=dict)  # the new files' states
    # the capture store (rapport/serving/capture_store.py) up to its new rows, when it has
    # some; None: nothing new recorded since the served build
    captures: StoreState | None = None

    @property
    def appended_bytes(self) -> int:
        return (self.files[APPENDABLE].file_bytes or 0) - self.appended_from


def _read_base(served: Path) -> tuple[str, date, dict[str, tuple]]:
    if not served.exists():
        raise NotIncremental(f"no served warehouse at {served} to start from")
    try:
        with duckdb.connect(str(served), read_only=True) as con:
            info = con.execute("select build_id, as_of_date from meta.build_info").fetchone()
            rows = con.execute(f"select kind, item, file_name, file_bytes, sha256, raw_rows "
                               f"from {STATE_TABLE}").fetchall()
    except duckdb.Error as exc:
        first = str(exc).splitlines()[0]
        raise NotIncremental(f"the served warehouse {served} has no incremental state "
                             f"(built before incremental builds existed?): {first}") from None
    if info is None or info[1] is None:
        raise NotIncremental(f"the served warehouse {served} has no build_info/as-of date")
    return info[0], info[1], {(r[0], r[1]): r for r in rows}


def plan(raw_dir: Path, served: Path, as_of: date | None) -> Plan:
    """Decide whether an incremental build from the served file is exact; NotIncremental
    (with the reason) when it is not."""
    base_id, base_as_of, state = _read_base(served)
    if as_of is not None and as_of < base_as_of:
        raise NotIncremental(f"--as-of {as_of} is before the served build's as-of date "
                             f"{base_as_of}: rows it accepted would now be rejected")
    code = code_files()
    stored = {item: row[4] for (kind, item), row in state.items() if kind == CODE_KIND}
    changed = sorted(p for p in set(code) | set(stored) if code.get(p) != stored.get(p))
    if changed:
        more = f" and {len(changed) - 3} more" if len(changed) > 3 else ""
        raise NotIncremental(f"the code changed since build {base_id} ({', '.join(changed[:3])}"
                             f"{more}): the history must be recomputed")
    spec = contract()
    others = [name for name in spec.tables if name != APPENDABLE]
    files = raw_file_states(raw_dir, others)
    for name in others:
        old = state.get((FILE_KIND, name))
        new = files[name]
        if old is None or (old[2], old[3], old[4]) != (new.file_name, new.file_bytes,
                                                       new.sha256):
            what = new.file_name or f"{name} (no file)"
            raise NotIncremental(f"{what} changed since build {base_id}: only appended "
                                 f"interactions can be built incrementally")
    captures = changed_since(state_of_rows(state), base_id)
    old = state.get((FILE_KIND, APPENDABLE))
    path = find_table_file(raw_dir, spec.tables[APPENDABLE])
    if path is None or old is None or old[2] is None:
        raise NotIncremental("no interactions file in the served build or in the raw folder")
    if path.suffix != ".csv" or old[2] != path.name:
        raise NotIncremental(f"{path.name}: incremental builds need interactions as the same "
                             f"CSV file the served build read ({old[2]}), with rows appended")
    old_bytes, old_sha, old_rows = old[3], old[4], old[5]
    size = path.stat().st_size
    if size < old_bytes:
        raise NotIncremental(f"{path} is smaller than when build {base_id} read it "
                             f"({size:,} < {old_bytes:,} bytes): not an append")
    whole, prefix = sha256_file(path, old_bytes)
    if prefix != old_sha:
        raise NotIncremental(f"{path}: its first {old_bytes:,} bytes differ from the file "
                             f"build {base_id} read: rows were changed, not only appended")
    if old_bytes:
        with path.open("rb") as handle:
            handle.seek(old_bytes - 1)
            if handle.read(1) != b"\n":
                raise NotIncremental(f"{path}: the file build {base_id} read did not end with "
                                     f"a line break, so its last line may have grown")
    files[APPENDABLE] = FileState(APPENDABLE, path.name, size, whole)
    return Plan(base_path=served, base_build_id=base_id, base_as_of=base_as_of,
                base_raw_rows=int(old_rows or 0), appended_from=old_bytes,
                interactions_file=path, code=code, files=files, captures=captures)


def copy_base(plan_: Plan, path: Path) -> None:
    """The new build's file starts as a copy of the served one (never a link: the served
    file must stay untouched)."""
    if Path(f"{plan_.base_path}.wal").exists():
        raise NotIncremental(f"{plan_.base_path} has a write-ahead log beside it")
    tmp = path.with_name(f".{path.name}.copy")
    shutil.copyfile(plan_.base_path, tmp)
    tmp.replace(path)


def prepare(con: duckdb.DuckDBPyConnection, build_id: str) -> None:
    """Make the copied file's meta tables this build's: results are re-checked, quarantine
    and row counts carried over under the new build id."""
    found = {r[0] for r in con.execute(
        "select table_schema || '.' || table_name from information_schema.tables "
        "where table_schema in ('meta', 'raw', 'validated')").fetchall()}
    missing = {"meta.dq_results", "meta.dq_quarantine", "meta.dq_row_counts",
               f"raw.{APPENDABLE}", f"validated.{APPENDABLE}"} - found
    if missing:
        raise NotIncremental(f"the served build has no {', '.join(sorted(missing))}")
    con.execute("delete from meta.dq_results")
    con.execute("update meta.dq_quarantine set build_id = ?", [build_id])
    con.execute("update meta.dq_row_counts set build_id = ?", [build_id])


# --------------------------------------------------------------------------- load and gate


def load_appended(con: duckdb.DuckDBPyConnection, plan_: Plan) -> int:
    """Append the new lines of the interactions file to raw.interactions (same text
    columns, row numbers continuing); returns the rows appended."""
    if plan_.appended_bytes <= 0:
        return 0
    table = contract().tables[APPENDABLE]
    source = plan_.interactions_file
    header = read_header(con, source)
    check_columns(source, table, header)
    with source.open("rb") as handle:
        header_line = handle.readline()
        handle.seek(plan_.appended_from)
        tail = handle.read(plan_.appended_bytes)
    with tempfile.TemporaryDirectory(prefix="rapport-append-") as tmp_dir:
        tail_file = Path(tmp_dir) / source.name
        tail_file.write_bytes(header_line + tail)
        select = ", ".join(
            f"cast({quote_identifier(c)} as varchar) as {quote_identifier(c)}" if c in header
            else f"cast(null as varchar) as {quote_identifier(c)}"
            for c in table.columns
        )
        before = con.execute(f"select count(*) from raw.{quote_identifier(APPENDABLE)}").fetchone()[0]
        if before != plan_.base_raw_rows:
            raise NotIncremental(f"raw.interactions in the served file has {before:,} rows, "
                                 f"its state says {plan_.base_raw_rows:,}")
        try:
            con.execute(
                f"insert into raw.{quote_identifier(APPENDABLE)} "
                f"select {select}, {sql_string(source.name)} as _source_file, "
                f"{before} + row_number() over () as _row_number "
                f"from {read_expression(tail_file, header)}"
            )
        except duckdb.Error as exc:
            if disk_full(exc) is not None:
                raise  # the disk, not the input: not a structural problem
            # the same message as a full build's ingest: the whole file, its own line number
            raise explain_read_error(source, _in_whole_file(exc, source, plan_.appended_from)) from None
    after = con.execute(f"select count(*) from raw.{quote_identifier(APPENDABLE)}").fetchone()[0]
    return after - before


def _in_whole_file(exc: duckdb.Error, source: Path, appended_from: int) -> Exception:
    """DuckDB's error on the appended part (read as a file of the header line plus the new
    lines) with its line number turned into the line number in the whole file."""
    import re

    message = str(exc).replace(str(Path(tempfile.gettempdir())), "")
    found = re.search(r"CSV Error on Line: (\d+)", message)
    if found:
        lines_before = 0
        with source.open("rb") as handle:
            remaining = appended_from
            while remaining > 0:
                chunk = handle.read(min(_CHUNK, remaining))
                if not chunk:
                    break
                lines_before += chunk.count(b"\n")
                remaining -= len(chunk)
        # line 1 of the appended part is the header again: line k is line
        # lines_before + k - 1 of the whole file
        whole_line = lines_before + int(found.group(1)) - 1
        message = message.replace(found.group(0), f"CSV Error on Line: {whole_line}")
    return Exception(message)


def _regate_condition(base_raw_rows: int) -> str:
    """Raw interactions to (re-)gate: the appended ones and the ones the base quarantined."""
    return (f"_row_number > {int(base_raw_rows)} or _row_number in (select row_number "
            f"from meta.dq_quarantine where table_name = '{APPENDABLE}')")


def choose_as_of(con: duckdb.DuckDBPyConnection, plan_: Plan, today: date | None = None
                 ) -> date:
    """The default as-of date a full build would choose: the latest interaction date not
    after today, over every raw row (old clean rows are read from validated; only appended
    and quarantined rows are parsed from text)."""
    from rapport.pipeline.quarantine import timestamp_expression

    today = today or date.today()
    # the day as the full gate reads it (an offset applied: the UTC day), as
    # rapport.pipeline.quarantine.default_as_of_date does
    text = "nullif(trim(occurred_at), '')"
    ts = f"cast({timestamp_expression(text)} as date)"
    found = con.execute(
        f"""
        select max(day) from (
            select cast(occurred_at as date) as day from validated.{quote_identifier(APPENDABLE)}
            union all
            select {ts} as day from raw.{quote_identifier(APPENDABLE)}
            where {_regate_condition(plan_.base_raw_rows)}
        ) as days
        where day <= ?
        """, [today]).fetchone()[0]
    if found is None:
        raise NotIncremental("no interaction dated on or before today: the as-of date comes "
                             "from other tables")
    return found


def refuse_moved_date_bounds(con: duckdb.DuckDBPyConnection, plan_: Plan, as_of: date
                             ) -> None:
    """Only interactions are gated again. Rows of other tables that the served build
    quarantined as later than its as-of date + N years (the contract's latest-date bound)
    might be clean against a later as-of date: only a full build can judge them."""
    if as_of <= plan_.base_as_of:
        return
    moved = con.execute(
        f"""
        select count(*) from meta.dq_quarantine
        where table_name <> '{APPENDABLE}' and detail like '%the as-of date + % years)%'
        """).fetchone()[0]
    if moved:
        raise NotIncremental(
            f"{moved} row(s) of other tables were quarantined as too far after the as-of date "
            f"{plan_.base_as_of}; with the as-of date {as_of} only a full build can judge them")


@dataclass(frozen=True)
class AppendGate:
    appended_raw: int  # raw rows appended
    regated: int  # rows gated (appended + previously quarantined)
    clean_added: int  # rows added to validated.interactions
    since: date  # the first day whose data changed


def gate_appended(con: duckdb.DuckDBPyConnection, build_id: str, plan_: Plan,
                  as_of_date: date, appended_raw: int) -> AppendGate:
    """Run the contract rules on the appended and previously quarantined interactions,
    exactly as the full gate would judge them against the rows already clean."""
    from rapport.pipeline.quarantine import quarantine_sql, typed_rows_sql

    table = contract().tables[APPENDABLE]
    name = quote_identifier(APPENDABLE)
    pk = ", ".join(quote_identifier(c) for c in table.primary_key)
    con.execute(typed_rows_sql(table, as_of_date, only=_regate_condition(plan_.base_raw_rows)))
    regated = con.execute("select count(*) from gate_rows").fetchone()[0]
    # A full build keeps the first clean row of a key. A previously quarantined row that is
    # clean now and comes before a row already kept with its key would change which row is
    # kept: only a full build can do that.
    clash = con.execute(
        f"""
        select count(*) from gate_rows
        inner join validated.{name} as kept using ({pk})
        where not gate_rows.is_bad and gate_rows._row_number < kept._row_number
        """).fetchone()[0]
    if clash:
        raise NotIncremental(f"{clash} previously quarantined interaction(s) are clean now and "
                             f"come before a kept row with the same id")
    con.execute(
        f"""
        create or replace temp table gate_duplicates as
        with good as (
            select {pk}, _row_number from gate_rows where not is_bad
        ),
        ranked as (
            select _row_number,
                row_number() over (partition by {pk} order by _row_number) as key_rank
            from good
        )
        select _row_number from ranked where key_rank > 1
        union
        select good._row_number from good inner join validated.{name} as kept using ({pk})
        """)
    con.execute(f"delete from meta.dq_quarantine where table_name = '{APPENDABLE}'")
    columns = ", ".join(quote_identifier(c) for c in table.columns)
    before = con.execute(f"select count(*) from validated.{name}").fetchone()[0]
    con.execute(
        f"insert into validated.{name} "
        f"select {columns}, _source_file, _row_number from gate_rows "
        "where not is_bad and _row_number not in (select _row_number from gate_duplicates) "
        "order by _row_number")
    clean = con.execute(f"select count(*) from validated.{name}").fetchone()[0]
    first_new = con.execute(
        "select min(cast(occurred_at as date)) from gate_rows "
        "where not is_bad and _row_number not in (select _row_number from gate_duplicates)"
    ).fetchone()[0]
    con.execute(quarantine_sql(table, as_of_date), [build_id, APPENDABLE])
    raw = con.execute(f"select count(*) from raw.{name}").fetchone()[0]
    bad = con.execute("select count(*) from meta.dq_quarantine where table_name = ?",
                      [APPENDABLE]).fetchone()[0]
    con.execute("drop table gate_rows")
    con.execute("drop table gate_duplicates")
    if raw != clean + bad:
        raise AssertionError(f"{APPENDABLE}: raw {raw} != clean {clean} + quarantined {bad}")
    con.execute("update meta.dq_row_counts set raw_rows = ?, clean_rows = ?, "
                "quarantined_rows = ? where table_name = ?", [raw, clean, bad, APPENDABLE])
    candidates = [d for d in (first_new,) if d is not None]
    if as_of_date != plan_.base_as_of:
        candidates.append(plan_.base_as_of + timedelta(days=1))
    since = min(candidates) if candidates else as_of_date + timedelta(days=1)
    return AppendGate(appended_raw=appended_raw, regated=regated, clean_added=clean - before,
                      since=since)


def row_counts(con: duckdb.DuckDBPyConnection) -> tuple[dict[str, int], int, int]:
    """(raw rows per table, clean rows, quarantined rows) from meta.dq_row_counts."""
    rows = con.execute("select table_name, raw_rows, clean_rows, quarantined_rows "
                       "from meta.dq_row_counts").fetchall()
    return ({r[0]: r[1] for r in rows}, sum(r[2] for r in rows), sum(r[3] for r in rows))


__all__ = [
    "APPENDABLE", "AppendGate", "BackgroundFingerprints", "FileState",
    "NotIncremental", "Plan", "choose_as_of", "code_files", "copy_base",
    "gate_appended", "load_appended", "plan", "prepare", "raw_file_states", "row_counts",
    "sha256_file", "write_state",
]

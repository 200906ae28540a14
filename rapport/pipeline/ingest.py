"""Load raw files into the build's DuckDB file, exactly as they are (all text).

Structural problems (a required file or column is missing, a header names a column twice or
has an empty name, a file cannot be read, is not UTF-8, uses another delimiter, is
truncated, has an unclosed quote or a line over the line limit, a Parquet column is nested)
stop the build with a StructuralError that names the file, the line or column, the problem
and what to do. Row-level problems are not judged here: the quarantine gate
(rapport/pipeline/quarantine.py) does that on the loaded text.

Parquet columns are read as text too; a TIMESTAMP WITH TIME ZONE column as its instant in
UTC ('YYYY-MM-DD HH:MM:SS[.ffffff]'), whatever the session's TimeZone.
"""

from __future__ import annotations

import csv
import logging
import re
from pathlib import Path

import duckdb

from rapport.contract import Contract, Table, contract
from rapport.errors import StructuralError

log = logging.getLogger(__name__)

FORMATS = ("csv", "parquet")
_OTHER_DELIMITERS = {";": "semicolons", "\t": "tabs", "|": "pipes"}
# The longest CSV line read (DuckDB's max_line_size; its default, stated so that the message
# can name it). A longer line is nearly always a quote that is never closed.
MAX_LINE_BYTES = 2_097_152
_NESTED = re.compile(r"^(STRUCT|MAP|UNION|LIST)\b|\]$", re.IGNORECASE)
_ZONED_TIMESTAMP = "TIMESTAMP WITH TIME ZONE"
# Comments on the raw tables that rapport.pipeline.coverage reads (meta.coverage): an optional table
# whose file was absent, a contract column the file did not have.
NO_FILE = "rapport: no file"
NOT_IN_FILE = "rapport: not in the file"
_NO_SPACE = re.compile(r"no space left on device|disk quota exceeded", re.IGNORECASE)


def find_table_file(raw_dir: Path, table: Table) -> Path | None:
    """The raw file for a table, or None when there is none."""
    found = [raw_dir / f"{table.name}.{fmt}" for fmt in FORMATS]
    found = [p for p in found if p.exists()]
    if len(found) > 1:
        raise StructuralError(
            f"{raw_dir}: both {found[0].name} and {found[1].name} exist for table "
            f"'{table.name}'. Keep exactly one file per table and run the build again."
        )
    return found[0] if found else None


def quote_identifier(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def sql_string(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def read_expression(path: Path, header: list[str]) -> str:
    if path.suffix == ".parquet":
        return f"read_parquet({sql_string(str(path))})"
    columns = ", ".join(f"{sql_string(c)}: 'VARCHAR'" for c in header)
    return (
        f"read_csv({sql_string(str(path))}, columns = {{{columns}}}, auto_detect = false, "
        "header = true, delim = ',', quote = '\"', escape = '\"', encoding = 'utf-8', "
        f"strict_mode = true, null_padding = false, max_line_size = {MAX_LINE_BYTES})"
    )


def read_header(con: duckdb.DuckDBPyConnection, path: Path) -> list[str]:
    """Column names of a raw file, or a StructuralError saying why it cannot be read."""
    if path.suffix == ".parquet":
        try:
            rel = con.execute(f"select * from {read_expression(path, [])} limit 0")
        except duckdb.Error as exc:
            raise explain_read_error(path, exc) from None
        return [d[0] for d in rel.description]
    with path.open("rb") as handle:
        first_line = handle.readline()
    try:
        text = first_line.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise StructuralError(
            f"{path}: the header line is not UTF-8 ({exc.reason} at byte {exc.start}). "
            "Export the file as UTF-8 (in Excel: 'CSV UTF-8') and run the build again."
        ) from None
    if not text.strip():
        raise StructuralError(
            f"{path}: the file is empty (no header line). Export it again with a header "
            "row of the contract's column names (docs/data-contract.md)."
        )
    header = [name.strip() for name in next(csv.reader([text.rstrip("\r\n")]))]
    _check_header_names(path, header)
    return header


def _check_header_names(path: Path, header: list[str]) -> None:
    """Every header field names one column, once (DuckDB compares names without case)."""
    if len(header) > 1 and not header[-1]:
        raise StructuralError(
            f"{path}: line 1 (the header) ends with a comma: field {len(header)} has no "
            "column name. Remove the trailing comma from the header line (and from the data "
            "lines, if they end with one too) and run the build again."
        )
    for i, name in enumerate(header, start=1):
        if not name and len(header) > 1:
            raise StructuralError(
                f"{path}: line 1 (the header): field {i} of {len(header)} has no column name. "
                "Name the column (or remove it from the header and the data lines) and run "
                "the build again."
            )
    first: dict[str, int] = {}
    for i, name in enumerate(header, start=1):
        key = name.lower()
        if key in first:
            earlier = header[first[key] - 1]
            what = (f"column '{name}' twice (fields {first[key]} and {i})" if earlier == name
                    else f"the same column twice: '{earlier}' (field {first[key]}) and "
                         f"'{name}' (field {i}); case does not tell columns apart")
            raise StructuralError(
                f"{path}: line 1 (the header) names {what}. Each column may appear once: "
                "remove or rename one of them and run the build again."
            )
        first[key] = i


def explain_read_error(path: Path, exc: Exception) -> StructuralError:
    message = str(exc)
    first = message.splitlines()[0] if message else type(exc).__name__
    line = re.search(r"CSV Error on Line: (\d+)", message)
    where = f" (line {line.group(1)})" if line else ""
    if path.suffix == ".parquet":
        return StructuralError(
            f"{path}: cannot be read as Parquet ({first}). The file is truncated or not a "
            "Parquet file: export it again, or replace it with a CSV file of the same table."
        )
    if "Invalid unicode" in message:
        return StructuralError(
            f"{path}: the file is not valid UTF-8{where}. Export it as UTF-8 "
            "(in Excel: 'CSV UTF-8') and run the build again."
        )
    at = f"line {line.group(1)}" if line else "a line"
    if "max_line_size" in message or "Maximum line size" in message:
        return StructuralError(
            f"{path}: {at} is longer than the limit of {MAX_LINE_BYTES:,} bytes per line "
            f"(2 MiB, DuckDB's max_line_size). Usually a quote (\") opened in a value is "
            f"never closed, which runs the lines after it together: check {at} and close or "
            "double the quote. If a value really is that long, shorten it in the export; "
            "then run the build again."
        )
    if "unterminated quote" in message:
        return StructuralError(
            f"{path}: {at} has a value whose quote (\") is never closed. Close the quote, or "
            "double a quote inside a quoted value (\"\"), as RFC 4180 says; then run the "
            "build again."
        )
    found = re.search(r"Expected Number of Columns: (\d+) Found: (\d+)", message)
    if found:
        return StructuralError(
            f"{path}: line {line.group(1) if line else '?'} has {found.group(2)} fields but the "
            f"header has {found.group(1)}. The file is truncated or has unquoted commas: "
            "export it again with quoting (RFC 4180) and check that line."
        )
    return StructuralError(
        f"{path}: cannot be read as CSV ({first}). rapport expects UTF-8, comma-delimited "
        "files with a header row (docs/data-contract.md)."
    )


def check_columns(path: Path, table: Table, header: list[str]) -> None:
    missing = [c for c in table.needed_columns if c not in header]
    if not missing:
        return
    if len(header) == 1:
        for delimiter, name in _OTHER_DELIMITERS.items():
            if delimiter in header[0]:
                raise StructuralError(
                    f"{path}: the header looks delimited by {name}, not commas "
                    f"({header[0][:80]!r}). Export the file comma-delimited and run the "
                    "build again."
                )
    raise StructuralError(
        f"{path}: required column(s) missing: {', '.join(missing)}. The header has "
        f"{', '.join(header) or 'no columns'}. Rename or add the columns as "
        "docs/data-contract.md lists them (or import the export with a mapping file)."
    )


def load_table(con: duckdb.DuckDBPyConnection, raw_dir: Path, table: Table) -> int:
    """Load one table into raw.<table> as text; returns its row count."""
    path = find_table_file(raw_dir, table)
    target = f"raw.{quote_identifier(table.name)}"
    if path is None:
        if table.core:
            raise StructuralError(
                f"{raw_dir}: the required table '{table.name}' is missing (expected "
                f"{table.name}.csv or {table.name}.parquet). It is a core table: "
                f"{', '.join(contract().core_tables)} are the least a build publishes from "
                "(every other table is optional). Add the file and run the build again; "
                "docs/data-contract.md lists its columns."
            )
        columns = ", ".join(f"{quote_identifier(c)} varchar" for c in table.columns)
        con.execute(
            f"create or replace table {target} ({columns}, _source_file varchar, "
            "_row_number bigint)"
        )
        # an optional table without a file: empty; meta.coverage tells 'no file' from 'no rows'
        con.execute(f"comment on table {target} is {sql_string(NO_FILE)}")
        return 0

    header = read_header(con, path)
    check_columns(path, table, header)
    unknown = [c for c in header if c not in table.columns]
    if unknown:
        log.warning("%s: ignoring columns not in the contract: %s", path, ", ".join(unknown))
    types = _parquet_types(con, path, table) if path.suffix == ".parquet" else {}
    select = ", ".join(
        f"{_as_text(c, types.get(c))} as {quote_identifier(c)}" if c in header
        else f"cast(null as varchar) as {quote_identifier(c)}"
        for c in table.columns
    )
    try:
        con.execute(
            f"create or replace table {target} as "
            f"select {select}, {sql_string(path.name)} as _source_file "
            f"from {read_expression(path, header)}"
        )
    except duckdb.Error as exc:
        if _NO_SPACE.search(str(exc)):
            raise  # the disk, not the input: not a structural problem
        raise explain_read_error(path, exc) from None
    number_rows(con, target)
    for c in table.columns:
        if c not in header:  # the file has no such column: meta.coverage says so
            con.execute(f"comment on column {target}.{quote_identifier(c)} is {sql_string(NOT_IN_FILE)}")
    return con.execute(f"select count(*) from {target}").fetchone()[0]


def number_rows(con: duckdb.DuckDBPyConnection, target: str) -> None:
    """Give every row of a freshly loaded raw table its line in the file (1 = the first data
    row) as _row_number.

    DuckDB keeps a file's order when it loads it (preserve_insertion_order, on by default),
    and a new table's rowid counts its rows in insertion order from 0, so rowid + 1 is the
    row's place in the file. An update of the new column costs well under a second at 10M
    rows; `row_number() over ()` in the load itself cost about 7 s there, because it read
    the file on one thread."""
    con.execute(f"alter table {target} add column _row_number bigint")
    con.execute(f"update {target} set _row_number = rowid + 1")


def _parquet_types(con: duckdb.DuckDBPyConnection, path: Path, table: Table) -> dict[str, str]:
    """The Parquet type of each contract column of the file; a nested one stops the build."""
    try:
        described = con.execute(
            f"describe select * from {read_expression(path, [])}").fetchall()
    except duckdb.Error as exc:
        raise explain_read_error(path, exc) from None
    types = {row[0]: str(row[1]) for row in described}
    for name, kind in types.items():
        if name in table.columns and _NESTED.search(kind.strip()):
            raise StructuralError(
                f"{path}: column '{name}' is a nested Parquet column ({kind}); the contract "
                f"wants a plain {table.columns[name].type} there. Write the column flat "
                "(one value per row: flatten the struct, pick one element of the list or map) "
                "and run the build again."
            )
    return types


def _as_text(column: str, kind: str | None) -> str:
    """A raw column as text. A TIMESTAMP WITH TIME ZONE is written as its UTC instant, so the
    server's TimeZone cannot shift it (a plain cast would render it in that zone)."""
    if kind is not None and kind.upper() == _ZONED_TIMESTAMP:
        return f"cast(make_timestamp(epoch_us({quote_identifier(column)})) as varchar)"
    return f"cast({quote_identifier(column)} as varchar)"


def load_raw(
    con: duckdb.DuckDBPyConnection, raw_dir: Path, spec: Contract | None = None
) -> dict[str, int]:
    """Load every contract table from raw_dir into schema raw; returns rows per table."""
    spec = spec or contract()
    raw_dir = Path(raw_dir)
    if not raw_dir.is_dir():
        raise StructuralError(
            f"{raw_dir}: the raw data folder does not exist. Run `rapport generate` for demo "
            "data, or put your files there (docs/data-contract.md)."
        )
    known = {f"{t}.{fmt}" for t in spec.tables for fmt in FORMATS}
    for extra in sorted(p.name for p in raw_dir.iterdir() if p.is_file()):
        if extra not in known and not extra.startswith("."):
            log.warning("%s: not a contract table, ignored", raw_dir / extra)
    con.execute("create schema if not exists raw")
    return {t.name: load_table(con, raw_dir, t) for t in spec.in_dependency_order()}

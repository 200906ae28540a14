"""Coverage of a build's data: what it got, what it can show, which defaults it applied.

A partial export (accounts, reps and deals only) is not a failure: the build publishes and
records here what it covers. Written after the quarantine gate by every build (full and
incremental), from the contract (rapport/contract.yml: core tables, `feeds`, `layers`,
column `default`s) and the gate's output:

meta.coverage          one row per contract table x column
    table_name varchar, column_name varchar,
    table_present boolean    the table's file was there (an optional table without a file
                             is an empty table)
    table_rows bigint        clean rows (validated.<table>)
    column_present boolean   the file had the column (false when the table is absent)
    filled_rows bigint       clean rows with a value in the column
    filled_share double      filled_rows / table_rows; null when table_rows = 0

meta.layers            one row per contract layer
    layer varchar, available boolean,
    needs varchar            what it needs, for people: 'interactions and contacts'
    reason varchar           why it is not available ('no interactions file'); null when it is

meta.defaults_applied  one row per contract column with a `default`
    table_name varchar, column_name varchar,
    default_rule varchar     what is put in an empty value ('UNASSIGNED', 'first activity or
                             deal'); the staging models apply it
    rows bigint              clean rows that get the default

No great_expectations or dbt import: the checks and the dashboard may import this module.
"""

from __future__ import annotations

from dataclasses import dataclass

import duckdb

from rapport.contract import Contract, contract
from rapport.pipeline.ingest import NO_FILE, NOT_IN_FILE

COVERAGE_DDL = """
create table meta.coverage (
    table_name varchar, column_name varchar, table_present boolean, table_rows bigint,
    column_present boolean, filled_rows bigint, filled_share double
)
"""
LAYERS_DDL = """
create table meta.layers (
    layer varchar, available boolean, needs varchar, reason varchar
)
"""
DEFAULTS_DDL = """
create table meta.defaults_applied (
    table_name varchar, column_name varchar, default_rule varchar, rows bigint
)
"""


@dataclass(frozen=True)
class LayerStatus:
    layer: str
    available: bool
    needs: str
    reason: str | None


def _q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _relations(con: duckdb.DuckDBPyConnection) -> dict[str, str | None]:
    """{'schema.table': comment} of every table."""
    rows = con.execute("select schema_name || '.' || table_name, comment "
                       "from duckdb_tables() where database_name = current_database()"
                       ).fetchall()
    return {r[0]: r[1] for r in rows}


def _absent_columns(con: duckdb.DuckDBPyConnection) -> set[tuple[str, str]]:
    """(table, column) of the raw columns the ingest marked as not in the file."""
    rows = con.execute("select table_name, column_name from duckdb_columns() "
                       "where database_name = current_database() and schema_name = 'raw' "
                       "and comment = ?", [NOT_IN_FILE]).fetchall()
    return {(r[0], r[1]) for r in rows}


def _count(con: duckdb.DuckDBPyConnection, sql: str) -> int:
    return int(con.execute(sql).fetchone()[0] or 0)


def table_facts(con: duckdb.DuckDBPyConnection, spec: Contract | None = None,
                only: str | None = None) -> dict[str, dict]:
    """Per contract table (or only the one named): present (file there), raw rows, clean
    rows, and per column (present in the file, rows filled)."""
    spec = spec or contract()
    relations = _relations(con)
    absent = _absent_columns(con)
    facts = {}
    for table in spec.tables.values():
        if only is not None and table.name != only:
            continue
        raw, clean = f"raw.{table.name}", f"validated.{table.name}"
        present = raw in relations and relations[raw] != NO_FILE
        raw_rows = _count(con, f"select count(*) from raw.{_q(table.name)}") \
            if raw in relations else 0
        if clean in relations:
            counts = ", ".join(f"count({_q(c)})" for c in table.columns)
            row = con.execute(f"select count(*), {counts} from validated.{_q(table.name)}"
                              ).fetchone()
            clean_rows, filled = int(row[0]), dict(zip(table.columns, row[1:], strict=True))
        else:
            clean_rows, filled = 0, dict.fromkeys(table.columns, 0)
        facts[table.name] = {
            "known": clean in relations,  # the gate's output is there to judge from
            "present": present,
            "raw_rows": raw_rows,
            "clean_rows": clean_rows,
            "columns": {c: (present and (table.name, c) not in absent, int(filled[c] or 0))
                        for c in table.columns},
        }
    return facts


def _table_reason(name: str, fact: dict) -> str | None:
    if not fact["known"]:  # no gate output (a warehouse of marts only): cannot tell, not judged
        return None
    if not fact["present"]:
        return f"no {name} file"
    if fact["raw_rows"] == 0:
        return f"the {name} file has no rows"
    if fact["clean_rows"] == 0:
        return f"no clean {name} rows ({fact['raw_rows']:,} quarantined)"
    return None


def table_reason(con: duckdb.DuckDBPyConnection, table: str,
                 spec: Contract | None = None) -> str | None:
    """Why a table has no clean rows ('no interactions file'), or None when it has some."""
    spec = spec or contract()
    return _table_reason(table, table_facts(con, spec, only=table)[table])


def layer_status(con: duckdb.DuckDBPyConnection, spec: Contract | None = None,
                 facts: dict[str, dict] | None = None) -> dict[str, LayerStatus]:
    """Whether each contract layer is available in the warehouse open on `con`, and why not."""
    spec = spec or contract()
    facts = facts if facts is not None else table_facts(con, spec)
    status = {}
    for layer in spec.layers.values():
        reasons = [r for r in (_table_reason(t, facts[t]) for t in layer.tables) if r]
        known = all(facts[t]["known"] for t, _ in layer.columns_any)
        if layer.columns_any and not reasons and known:
            filled = sum(facts[t]["columns"][c][1] for t, c in layer.columns_any)
            if not filled:
                names = " or ".join(c for _, c in layer.columns_any)
                tables = sorted({t for t, _ in layer.columns_any})
                present = any(facts[t]["columns"][c][0] for t, c in layer.columns_any)
                reasons.append(f"no {names} on any {' or '.join(tables)} row" if present
                               else f"the {' and '.join(tables)} file has no {names} column")
        status[layer.name] = LayerStatus(layer.name, not reasons, layer.needs,
                                         "; ".join(reasons) or None)
    return status


def unavailable_layers(con: duckdb.DuckDBPyConnection, spec: Contract | None = None
                       ) -> dict[str, LayerStatus]:
    """The layers that are not available (from the raw and validated tables on `con`)."""
    return {n: s for n, s in layer_status(con, spec).items() if not s.available}


def defaults_applied(con: duckdb.DuckDBPyConnection, spec: Contract | None = None,
                     facts: dict[str, dict] | None = None) -> list[tuple[str, str, str, int]]:
    """(table, column, default rule, rows) for every contract column with a `default`: the
    clean rows whose value is empty, which the staging models fill with the default."""
    spec = spec or contract()
    facts = facts if facts is not None else table_facts(con, spec)
    rows = []
    for table in spec.tables.values():
        for col in table.columns.values():
            if col.default is None:
                continue
            fact = facts[table.name]
            rows.append((table.name, col.name, col.default,
                         fact["clean_rows"] - fact["columns"][col.name][1]))
    return rows


def record_coverage(con: duckdb.DuckDBPyConnection, spec: Contract | None = None,
                    echo: bool = True) -> dict[str, LayerStatus]:
    """Write meta.coverage, meta.layers and meta.defaults_applied (replacing this file's
    earlier ones: an incremental build starts from the served build's copy); with `echo`,
    print what is not available and the defaults used. Returns the layers' status."""
    spec = spec or contract()
    facts = table_facts(con, spec)
    con.execute("create schema if not exists meta")
    for name, ddl in (("coverage", COVERAGE_DDL), ("layers", LAYERS_DDL),
                      ("defaults_applied", DEFAULTS_DDL)):
        con.execute(f"drop table if exists meta.{name}")
        con.execute(ddl)
    coverage = []
    for table in spec.tables.values():
        fact = facts[table.name]
        n = fact["clean_rows"]
        for col, (present, filled) in fact["columns"].items():
            coverage.append((table.name, col, fact["present"], n, present, filled,
                             filled / n if n else None))
    con.executemany("insert into meta.coverage values (?, ?, ?, ?, ?, ?, ?)", coverage)
    status = layer_status(con, spec, facts)
    con.executemany("insert into meta.layers values (?, ?, ?, ?)",
                    [(s.layer, s.available, s.needs, s.reason) for s in status.values()])
    defaults = defaults_applied(con, spec, facts)
    if defaults:
        con.executemany("insert into meta.defaults_applied values (?, ?, ?, ?)", defaults)
    if echo:
        print(f"coverage: {coverage_line(status)}", flush=True)
        used = [f"{t}.{c} -> {rule} on {n:,} rows" for t, c, rule, n in defaults if n]
        if used:
            print(f"coverage: defaults applied: {'; '.join(used)}", flush=True)
    return status


def coverage_line(status: dict[str, LayerStatus]) -> str:
    """One line for the build's console: which layers are not available and why."""
    missing = [s for s in status.values() if not s.available]
    if not missing:
        return "every layer available"
    return (f"{len(status) - len(missing)} of {len(status)} layers available; not available: "
            + "; ".join(f"{s.layer} ({s.reason})" for s in missing))

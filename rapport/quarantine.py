"""The quarantine gate: split every raw table into clean typed rows and quarantined rows.

Nothing is dropped. For each contract table, in dependency order (parents first), the gate
reads raw.<table> (all text), normalises and types every column as the contract says, and
gives each row its reasons for rejection:

- missing_required   a required column is empty
- unparseable        a number, date, timestamp or boolean that does not parse
- not_allowed        a value outside the allowed set (after trimming and case-normalising)
- out_of_range       a number outside the contract's min..max
- impossible_value   a cross-column check fails (close before create, future interaction...)
- orphan_fk          a reference that is not among the parent table's clean rows
- duplicate_key      a primary key seen on an earlier clean row (first kept, rest rejected)

Clean rows go to validated.<table>; rejected rows to meta.dq_quarantine with their raw
values, reasons, source file and row number. meta.dq_row_counts holds, per table,
raw rows = clean rows + quarantined rows (checked here and again by a dbt test).

The SQL is generated from rapport/contract.yml, so a new column or rule needs no code.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from datetime import date

import duckdb

from rapport.contract import Column, Contract, Table, contract

log = logging.getLogger(__name__)

TRUE_WORDS = ("true", "t", "1", "yes", "y")
FALSE_WORDS = ("false", "f", "0", "no", "n")
_SQL_TYPES = {
    "string": "varchar",
    "integer": "bigint",
    "decimal": "double",
    "date": "date",
    "timestamp": "timestamp",
    "boolean": "boolean",
}


@dataclass(frozen=True)
class TableCounts:
    raw: int
    clean: int
    quarantined: int


@dataclass(frozen=True)
class GateResult:
    as_of_date: date
    counts: dict[str, TableCounts]

    @property
    def quarantined_total(self) -> int:
        return sum(c.quarantined for c in self.counts.values())


def _q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _lit(value: object) -> str:
    if isinstance(value, str):
        return "'" + value.replace("'", "''") + "'"
    return repr(value)


def _text(column: Column) -> str:
    """The raw text of a column, trimmed; empty means missing."""
    return f"nullif(trim({_q(column.name)}), '')"


def typed_expression(column: Column, text: str) -> str:
    """SQL turning a column's trimmed text (the expression `text`) into its contract type."""
    if column.type == "string":
        if column.case == "lower":
            return f"lower({text})"
        if column.case == "upper":
            return f"upper({text})"
        return text
    if column.type == "boolean":
        words_true = ", ".join(_lit(w) for w in TRUE_WORDS)
        words_false = ", ".join(_lit(w) for w in FALSE_WORDS)
        return (
            f"case when lower({text}) in ({words_true}) then true "
            f"when lower({text}) in ({words_false}) then false end"
        )
    return f"try_cast({text} as {_SQL_TYPES[column.type]})"


def _row_rules(table: Table, as_of_date: date) -> list[tuple[str, str]]:
    """(condition, reason) pairs: the row is rejected with `reason` when `condition` holds.

    Conditions read the trimmed text (`<col>__text`) and typed (`<col>`) columns.
    """
    rules = []
    for col in table.columns.values():
        name, text, typed = col.name, _q(col.name + "__text"), _q(col.name)
        if col.required:
            rules.append((f"{text} is null", f"'missing_required:{name}'"))
        if col.type != "string":
            rules.append(
                (f"{text} is not null and {typed} is null", f"'unparseable:{name}=' || {text}")
            )
        if col.allowed is not None:
            allowed = ", ".join(_lit(v) for v in col.allowed)
            rules.append(
                (f"{typed} not in ({allowed})", f"'not_allowed:{name}=' || {text}")
            )
        bounds = []
        if col.min is not None:
            bounds.append(f"{typed} < {col.min}")
        if col.max is not None:
            bounds.append(f"{typed} > {col.max}")
        if bounds:
            rules.append((" or ".join(bounds), f"'out_of_range:{name}=' || {text}"))
    as_of = f"date '{as_of_date.isoformat()}'"
    for check in table.checks:
        rule = re.sub(r"\bas_of_date\b", as_of, check.rule)
        rules.append((f"not ({rule})", f"'impossible_value:{check.name}'"))
    for i, col in enumerate(c for c in table.columns.values() if c.references):
        rules.append(
            (f"_orphan_{i}", f"'orphan_fk:{col.name}=' || {_q(col.name + '__text')}")
        )
    return rules


def _typed_rows_sql(table: Table, as_of_date: date) -> str:
    """Phase 1, over every row: trimmed text, typed values, orphan flags and is_bad."""
    cols = list(table.columns.values())
    texts = ", ".join(f"{_text(c)} as {_q(c.name + '__text')}" for c in cols)
    typed = ", ".join(
        f"{typed_expression(c, _q(c.name + '__text'))} as {_q(c.name)}" for c in cols
    )
    fk_joins, fk_flags = [], []
    for i, col in enumerate(c for c in cols if c.references):
        parent, parent_col = col.references
        alias = f"parent_{i}"
        fk_joins.append(
            f"left join (select distinct {_q(parent_col)} as parent_key "
            f"from validated.{_q(parent)}) as {alias} "
            f"on rows_typed.{_q(col.name)} = {alias}.parent_key"
        )
        fk_flags.append(
            f"(rows_typed.{_q(col.name)} is not null and {alias}.parent_key is null) "
            f"as _orphan_{i}"
        )
    flags = "".join(f", {f}" for f in fk_flags)
    is_bad = " or ".join(f"coalesce(({cond}), false)" for cond, _ in _row_rules(table, as_of_date))
    return f"""
    create or replace temp table gate_rows as
    with rows_text as (
        select _source_file, _row_number, {texts}
        from raw.{_q(table.name)}
    ),
    rows_typed as (
        select *, {typed}
        from rows_text
    ),
    flagged as (
        select rows_typed.*{flags}
        from rows_typed
        {' '.join(fk_joins)}
    )
    select *, ({is_bad}) as is_bad
    from flagged
    """


def _duplicates_sql(table: Table) -> str:
    """Phase 2: later rows whose primary key an earlier good row already has."""
    pk = ", ".join(_q(c) for c in table.primary_key)
    return f"""
    create or replace temp table gate_duplicates as
    with repeated_keys as (
        select {pk}
        from gate_rows
        where not is_bad
        group by {pk}
        having count(*) > 1
    ),
    ranked as (
        select gate_rows._row_number,
            row_number() over (
                partition by {', '.join(f'gate_rows.{_q(c)}' for c in table.primary_key)}
                order by gate_rows._row_number) as key_rank
        from gate_rows
        inner join repeated_keys using ({pk})
        where not gate_rows.is_bad
    )
    select _row_number from ranked where key_rank > 1
    """


def _quarantine_sql(table: Table, as_of_date: date) -> str:
    """Phase 3, over rejected rows only: reasons, detail and the raw values as JSON."""
    reasons = ",\n            ".join(
        f"case when coalesce(({cond}), false) then {label} end"
        for cond, label in _row_rules(table, as_of_date)
    )
    pk = ", ".join(f"bad.{_q(c)}" for c in table.primary_key)
    raw_json = ", ".join(f"{_lit(c)}: raw_row.{_q(c)}" for c in table.columns)
    return f"""
    insert into meta.dq_quarantine
    with bad as (
        select gate_rows.*,
            gate_duplicates._row_number is not null as is_duplicate
        from gate_rows
        left join gate_duplicates using (_row_number)
        where gate_rows.is_bad or gate_duplicates._row_number is not null
    ),
    reasoned as (
        select bad._source_file, bad._row_number,
            list_filter([
            {reasons},
            case when bad.is_duplicate
                then 'duplicate_key:' || concat_ws('|', {pk}) end
            ], lambda reason: reason is not null) as reason_list
        from bad
    )
    select
        ? as build_id,
        ? as table_name,
        reasoned._source_file as source_file,
        reasoned._row_number as row_number,
        to_json({{{raw_json}}}) as raw_values,
        array_to_string(list_sort(list_distinct(
            list_transform(reason_list, lambda reason: split_part(reason, ':', 1)))), ',')
            as reasons,
        array_to_string(reason_list, '; ') as detail
    from reasoned
    inner join raw.{_q(table.name)} as raw_row using (_row_number)
    order by reasoned._row_number
    """


def _gate_table(
    con: duckdb.DuckDBPyConnection, table: Table, build_id: str, as_of_date: date
) -> TableCounts:
    con.execute(_typed_rows_sql(table, as_of_date))
    con.execute(_duplicates_sql(table))
    columns = ", ".join(_q(c) for c in table.columns)
    con.execute(
        f"create or replace table validated.{_q(table.name)} as "
        f"select {columns}, _source_file, _row_number from gate_rows "
        "where not is_bad "
        "and _row_number not in (select _row_number from gate_duplicates) "
        "order by _row_number"
    )
    before = con.execute(
        "select count(*) from meta.dq_quarantine where build_id = ? and table_name = ?",
        [build_id, table.name],
    ).fetchone()[0]
    con.execute(_quarantine_sql(table, as_of_date), [build_id, table.name])
    raw = con.execute(f"select count(*) from raw.{_q(table.name)}").fetchone()[0]
    clean = con.execute(f"select count(*) from validated.{_q(table.name)}").fetchone()[0]
    bad = con.execute(
        "select count(*) from meta.dq_quarantine where build_id = ? and table_name = ?",
        [build_id, table.name],
    ).fetchone()[0] - before
    con.execute("drop table gate_rows")
    con.execute("drop table gate_duplicates")
    if raw != clean + bad:  # cannot happen by construction; guard the invariant anyway
        raise AssertionError(f"{table.name}: raw {raw} != clean {clean} + quarantined {bad}")
    return TableCounts(raw=raw, clean=clean, quarantined=bad)


def default_as_of_date(con: duckdb.DuckDBPyConnection, today: date | None = None) -> date:
    """The latest interaction date not after today (else the latest deal date, else today)."""
    today = today or date.today()
    candidates = [
        ("interactions", "occurred_at"),
        ("opportunities", "close_date"),
        ("opportunities", "created_date"),
    ]
    for table, column in candidates:
        found = con.execute(
            f"select max(try_cast(try_cast(nullif(trim({_q(column)}), '') as timestamp) as date)) "
            f"from raw.{_q(table)} "
            f"where try_cast(try_cast(nullif(trim({_q(column)}), '') as timestamp) as date) <= ?",
            [today],
        ).fetchone()[0]
        if found is not None:
            return found
    return today


def create_meta_tables(con: duckdb.DuckDBPyConnection) -> None:
    con.execute("create schema if not exists meta")
    con.execute("create schema if not exists validated")
    con.execute(
        """
        create table if not exists meta.dq_quarantine (
            build_id varchar, table_name varchar, source_file varchar, row_number bigint,
            raw_values varchar, reasons varchar, detail varchar
        )
        """
    )
    con.execute(
        """
        create table if not exists meta.dq_row_counts (
            build_id varchar, table_name varchar, raw_rows bigint, clean_rows bigint,
            quarantined_rows bigint
        )
        """
    )


def run_gate(
    con: duckdb.DuckDBPyConnection,
    build_id: str,
    as_of_date: date | None = None,
    spec: Contract | None = None,
    today: date | None = None,
) -> GateResult:
    """Split every raw.<table> into validated.<table> and meta.dq_quarantine."""
    spec = spec or contract()
    create_meta_tables(con)
    as_of = as_of_date or default_as_of_date(con, today)
    counts: dict[str, TableCounts] = {}
    for table in spec.in_dependency_order():
        counts[table.name] = _gate_table(con, table, build_id, as_of)
        c = counts[table.name]
        con.execute(
            "insert into meta.dq_row_counts values (?, ?, ?, ?, ?)",
            [build_id, table.name, c.raw, c.clean, c.quarantined],
        )
        if c.quarantined:
            log.info("%s: %d of %d rows quarantined", table.name, c.quarantined, c.raw)
    return GateResult(as_of_date=as_of, counts=counts)

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


def _row_reasons(table: Table, as_of_date: date) -> list[str]:
    """SQL expressions, one per possible reason, each a reason string or null."""
    reasons = []
    for col in table.columns.values():
        name, text, typed = col.name, _q(col.name + "__text"), _q(col.name)
        if col.required:
            reasons.append(f"case when {text} is null then 'missing_required:{name}' end")
        if col.type != "string":
            reasons.append(
                f"case when {text} is not null and {typed} is null "
                f"then 'unparseable:{name}=' || {text} end"
            )
        if col.allowed is not None:
            allowed = ", ".join(_lit(v) for v in col.allowed)
            reasons.append(
                f"case when {typed} is not null and {typed} not in ({allowed}) "
                f"then 'not_allowed:{name}=' || {text} end"
            )
        bounds = []
        if col.min is not None:
            bounds.append(f"{typed} < {col.min}")
        if col.max is not None:
            bounds.append(f"{typed} > {col.max}")
        if bounds:
            reasons.append(
                f"case when {' or '.join(bounds)} then 'out_of_range:{name}=' || {text} end"
            )
    as_of = f"date '{as_of_date.isoformat()}'"
    for check in table.checks:
        rule = re.sub(r"\bas_of_date\b", as_of, check.rule)
        reasons.append(
            f"case when not coalesce(({rule}), true) then 'impossible_value:{check.name}' end"
        )
    return reasons


def _gate_sql(table: Table, as_of_date: date) -> str:
    cols = list(table.columns.values())
    texts = ", ".join(f"{_text(c)} as {_q(c.name + '__text')}" for c in cols)
    typed = ", ".join(
        f"{typed_expression(c, _q(c.name + '__text'))} as {_q(c.name)}" for c in cols
    )
    raw_json = ", ".join(f"{_lit(c.name)}: {_q(c.name)}" for c in cols)
    row_reasons = ",\n            ".join(_row_reasons(table, as_of_date))

    fk_joins, fk_reasons = [], []
    for i, col in enumerate(c for c in cols if c.references):
        parent, parent_col = col.references
        alias = f"parent_{i}"
        fk_joins.append(
            f"left join (select distinct {_q(parent_col)} as key from validated.{_q(parent)}) "
            f"as {alias} on rows_typed.{_q(col.name)} = {alias}.key"
        )
        fk_reasons.append(
            f"case when rows_typed.{_q(col.name)} is not null and {alias}.key is null "
            f"then 'orphan_fk:{col.name}=' || rows_typed.{_q(col.name + '__text')} end"
        )
    fk_list = ", ".join(fk_reasons) if fk_reasons else ""
    pk = ", ".join(_q(c) for c in table.primary_key)
    return f"""
    create or replace temp table gate_rows as
    with rows_text as (
        select *, {texts}, to_json({{{raw_json}}}) as raw_values
        from raw.{_q(table.name)}
    ),
    rows_typed as (
        select *, {typed}
        from (select * exclude ({', '.join(_q(c.name) for c in cols)}) from rows_text)
    ),
    with_row_reasons as (
        select rows_typed.*,
            list_filter([
            {row_reasons}{',' if fk_list else ''}
            {fk_list}
            ], lambda reason: reason is not null) as reasons
        from rows_typed
        {' '.join(fk_joins)}
    ),
    with_duplicates as (
        select *,
            case when len(reasons) = 0
                then row_number() over (
                    partition by (len(reasons) = 0), {pk} order by _row_number)
            end as key_rank
        from with_row_reasons
    )
    select * exclude (reasons, key_rank),
        case when key_rank > 1
            then list_append(reasons, 'duplicate_key:' || concat_ws('|', {pk}))
            else reasons
        end as reasons
    from with_duplicates
    """


def _gate_table(
    con: duckdb.DuckDBPyConnection, table: Table, build_id: str, as_of_date: date
) -> TableCounts:
    con.execute(_gate_sql(table, as_of_date))
    columns = ", ".join(_q(c) for c in table.columns)
    con.execute(
        f"create or replace table validated.{_q(table.name)} as "
        f"select {columns}, _source_file, _row_number from gate_rows "
        "where len(reasons) = 0 order by _row_number"
    )
    con.execute(
        """
        insert into meta.dq_quarantine
        select ? as build_id, ? as table_name, _source_file as source_file,
            _row_number as row_number, raw_values,
            array_to_string(list_sort(list_distinct(
                list_transform(reasons, lambda reason: split_part(reason, ':', 1)))), ',')
                as reasons,
            array_to_string(reasons, '; ') as detail
        from gate_rows
        where len(reasons) > 0
        order by _row_number
        """,
        [build_id, table.name],
    )
    raw, clean, bad = con.execute(
        "select count(*), count(*) filter (where len(reasons) = 0), "
        "count(*) filter (where len(reasons) > 0) from gate_rows"
    ).fetchone()
    con.execute("drop table gate_rows")
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

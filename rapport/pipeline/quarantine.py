"""The quarantine gate: split every raw table into clean typed rows and quarantined rows.

Nothing is dropped. For each contract table, in dependency order (parents first), the gate
reads raw.<table> (all text), normalises and types every column as the contract says, and
gives each row its reasons for rejection:

- missing_required   a required column is empty (a column `required_when` a status: only on
                     rows with that status; an open deal without an amount is kept)
- unparseable        a number, date, timestamp or boolean that does not parse strictly (no
                     inf/NaN, hex, digit separators, fractions in integers, special date words,
                     negative years), or any value with a NUL byte
- not_allowed        a value outside the allowed set (after trimming and case-normalising)
- out_of_range       a number outside the contract's min..max (a side left open: the contract's
                     bounds.number_abs_max), a date before the column's earliest date or later
                     than the as-of date plus bounds.latest_years_after_as_of
- impossible_value   a cross-column check fails (close before create, future interaction...),
                     or a referenced row disagrees with the row (belongs_to: the contact of an
                     interaction works for another account)
- orphan_fk          a reference that is not among the parent table's clean rows
- duplicate_key      a primary key seen on an earlier clean row (first kept, rest rejected)

Typing never coerces: a value is accepted as written or the row is rejected. Timestamps
with an offset (2026-03-01T10:00:00+02:00, ...Z) are converted to UTC; without one they are
UTC already. -0 is read as 0.

Clean rows go to validated.<table>; rejected rows to meta.dq_quarantine with their raw
values, reasons, source file and row number. meta.dq_row_counts holds, per table,
raw rows = clean rows + quarantined rows (checked here and again by a dbt test).

How, per table (sized for tens of millions of rows):
1. one pass over raw.<table> types every column and evaluates one combined "is bad"
   predicate (and the parent-key joins), writing only the clean rows, typed, straight into
   validated.<table>; nothing else is materialised;
2. repeated primary keys among those rows: a hash aggregate, then the later rows of the few
   repeated keys (gate_duplicates);
3. the rejected rows are the raw rows missing from validated (an anti join on the row
   number, skipped when the counts match) plus the duplicates, which are deleted from
   validated;
4. only for those rows the reason codes are evaluated, from their raw text with the same
   rules, into meta.dq_quarantine;
5. every required column of validated.<table> is declared NOT NULL: the engine checks it
   over the clean rows now and refuses a null on every later insert (an incremental build's
   appended rows), so the dbt project does not test it again on the staging views.

The SQL is generated from rapport/contract.yml, so a new column or rule needs no code.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from datetime import date, timedelta

import duckdb

from rapport.contract import SQL_TYPES, Column, Contract, Table, contract

log = logging.getLogger(__name__)

TRUE_WORDS = ("true", "t", "1", "yes", "y")
FALSE_WORDS = ("false", "f", "0", "no", "n")


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


# Strict spellings (regular expressions, matched in full). What DuckDB's casts accept beyond
# them (inf, NaN, 0x10, 1_000, 'epoch', 'infinity', -0001-06-01, 2024-01-01 (BC), 12345-01-01,
# 3.5 rounded to an integer, an offset dropped) is rejected, never coerced.
NUMERAL = r"[+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)([eE][+-]?[0-9]+)?"
INTEGRAL = r"[+-]?[0-9]+(\.0*)?"  # 3 and 3.0 (a float column's export), not 3.5
_ZONE = r"(Z| ?UTC|[+-](0[0-9]|1[0-4])(:?[0-5][0-9])?)"  # offsets -14:59..+14:59
MOMENT = (r"[0-9]{4}-[0-9]{1,2}-[0-9]{1,2}"
          r"([T ][0-9]{1,2}:[0-9]{2}(:[0-9]{2}(\.[0-9]{1,9})?)?" + _ZONE + "?)?")
_HAS_ZONE = r":[0-9]{2}(\.[0-9]+)?" + _ZONE + "$"
# The usual spelling, parsed by the fast path (strptime); anything else by the strict slow one.
_FAST_TIMESTAMP = "%Y-%m-%d %H:%M:%S"
_FAST_DATE = "%Y-%m-%d"
NON_FINITE_WORDS = ("inf", "+inf", "-inf", "infinity", "+infinity", "-infinity",
                    "nan", "+nan", "-nan")
DATE_WORDS = ("epoch", "infinity", "+infinity", "-infinity", "now", "today", "tomorrow",
              "yesterday", "allballs")
NUL = "chr(0)"


def _fast(text: str, fmt: str) -> str:
    """strptime, for text that starts with a digit (strptime reads 'epoch' and 'infinity')."""
    return (f"case when {text}[1] between '0' and '9' "
            f"then try_strptime({text}, {_lit(fmt)}) end")


def timestamp_expression(text: str) -> str:
    """A timestamp in UTC from strict text: an offset (Z, UTC, +02, +02:00, +0200) is
    applied, independently of the session's TimeZone; no offset means UTC already."""
    with_zone = f"make_timestamp(epoch_us(try_cast({text} as timestamptz)))"
    return (
        f"coalesce({_fast(text, _FAST_TIMESTAMP)}, "
        f"case when regexp_full_match({text}, {_lit(MOMENT)}) then "
        f"case when regexp_matches({text}, {_lit(_HAS_ZONE)}) then {with_zone} "
        f"else try_cast({text} as timestamp) end end)"
    )


def typed_expression(column: Column, text: str) -> str:
    """SQL turning a column's trimmed text (the expression `text`) into its contract type;
    NULL when the text is not a strict spelling of that type (the row is then rejected)."""
    if column.type == "string":
        value = text
        if column.case == "lower":
            value = f"lower({text})"
        elif column.case == "upper":
            value = f"upper({text})"
        return f"case when not contains({text}, {NUL}) then {value} end"
    if column.type == "boolean":
        words_true = ", ".join(_lit(w) for w in TRUE_WORDS)
        words_false = ", ".join(_lit(w) for w in FALSE_WORDS)
        return (
            f"case when lower({text}) in ({words_true}) then true "
            f"when lower({text}) in ({words_false}) then false end"
        )
    if column.type == "decimal":
        # + 0.0 turns -0 into 0; 1e400 parses as inf and is then out of range
        return (f"case when regexp_full_match({text}, {_lit(NUMERAL)}) "
                f"then try_cast({text} as double) + 0.0 end")
    if column.type == "integer":
        return (f"case when regexp_full_match({text}, {_lit(INTEGRAL)}) "
                f"then try_cast(split_part({text}, '.', 1) as bigint) end")
    if column.type == "timestamp":
        return timestamp_expression(text)
    if column.type == "date":
        # a timestamp in a date column gives its date in UTC
        return (f"coalesce(cast({_fast(text, _FAST_DATE)} as date), "
                f"cast({timestamp_expression(text)} as date))")
    return f"try_cast({text} as {SQL_TYPES[column.type]})"


def _unparseable_hint(column: Column, text: str) -> str:
    """Why a value that does not parse was refused (' (NUL byte)'...), for the reason
    string; evaluated on rejected rows only."""
    cases = [f"when contains({text}, {NUL}) then ' (NUL byte)'"]
    if column.type in ("decimal", "integer"):
        words = ", ".join(_lit(w) for w in NON_FINITE_WORDS)
        cases += [
            f"when lower({text}) in ({words}) then ' (not a finite number)'",
            (f"when regexp_matches(lower({text}), '^[+-]?0[xob]') "
            "then ' (hexadecimal, octal or binary)'"),
            f"when contains({text}, '_') then ' (digit separator)'",
        ]
    if column.type == "integer":
        cases += [
            (f"when regexp_full_match({text}, {_lit(INTEGRAL)}) "
            "then ' (beyond the 64-bit integer range)'"),
            f"when regexp_full_match({text}, {_lit(NUMERAL)}) then ' (not an integer)'",
        ]
    if column.type in ("date", "timestamp"):
        words = ", ".join(_lit(w) for w in DATE_WORDS)
        cases += [
            f"when lower({text}) in ({words}) then ' (special date word)'",
            (f"when starts_with({text}, '-') or ends_with(lower({text}), 'bc') "
            f"or ends_with(lower({text}), '(bc)') "
            "then ' (negative or BC year)'"),
            (f"when try_cast({text} as timestamp) is not null "
            "then ' (not YYYY-MM-DD or YYYY-MM-DD HH:MM:SS with an optional offset)'"),
        ]
    return f"case {' '.join(cases)} else '' end"


def _shown(text: str) -> str:
    """A value as the reason shows it: NUL bytes as \\0."""
    return f"replace({text}, {NUL}, '\\0')"


def _years_after(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February
        return day.replace(year=day.year + years, day=28)


def _number(value: float) -> str:
    return f"{value:g}"


def _bound_rule(table: Table, col: Column, as_of_date: date) -> tuple[str, str] | None:
    """(condition, reason) of a number or date column's range, or None."""
    name, text, typed = col.name, _q(col.name + "__text"), _q(col.name)
    bounds = table.bounds
    if col.type in ("integer", "decimal"):
        lo = col.min if col.min is not None else -bounds.number_abs_max
        hi = col.max if col.max is not None else bounds.number_abs_max
        hints = []
        if col.min is None:
            hints.append(f"when {typed} < {lo!r} then "
                         f"' (below -{_number(bounds.number_abs_max)}, the contract bound)'")
        if col.max is None:
            hints.append(f"when {typed} > {hi!r} then "
                         f"' (above {_number(bounds.number_abs_max)}, the contract bound)'")
        hint = f" || case {' '.join(hints)} else '' end" if hints else ""
        return (f"{typed} < {lo!r} or {typed} > {hi!r}",
                f"'out_of_range:{name}=' || {text}{hint}")
    if col.type in ("date", "timestamp"):
        earliest = col.earliest or bounds.earliest_date
        low = f"{col.type} '{earliest}'"
        if _judged_by_an_as_of_check(table, col):
            return (f"{typed} < {low}",
                    f"'out_of_range:{name}=' || {text} || ' (before {earliest})'")
        latest = _years_after(as_of_date, bounds.latest_years_after_as_of)
        if col.type == "date":
            high = f"{typed} > date '{latest}'"
        else:  # every instant of the latest day is accepted
            high = f"{typed} >= timestamp '{latest + timedelta(days=1)}'"
        years = bounds.latest_years_after_as_of
        return (
            f"{typed} < {low} or {high}",
            (f"'out_of_range:{name}=' || {text} || case when {typed} < {low} "
             f"then ' (before {earliest})' "
             f"else ' (after {latest}, the as-of date + {years} years)' end"),
        )
    return None


def _judged_by_an_as_of_check(table: Table, col: Column) -> bool:
    """A column that one of the table's checks compares with as_of_date (interactions:
    occurred_at <= as_of_date + 1) is judged by that tighter check alone, not also by the
    latest bound: a future interaction keeps its one reason, interaction_in_future."""
    return any(re.search(r"\bas_of_date\b", check.rule)
               and re.search(rf"\b{re.escape(col.name)}\b", check.rule)
               for check in table.checks)


def _row_rules(table: Table, as_of_date: date) -> list[tuple[str, str]]:
    """(condition, reason) pairs: the row is rejected with `reason` when `condition` holds.

    Conditions read the trimmed text (`<col>__text`) and typed (`<col>`) columns.
    """
    rules = []
    for col in table.columns.values():
        name, text, typed = col.name, _q(col.name + "__text"), _q(col.name)
        if col.required:
            rules.append((f"{text} is null", f"'missing_required:{name}'"))
        elif col.required_when is not None:  # required on some rows only: won deals' amount
            other, values = col.required_when
            listed = ", ".join(_lit(v) for v in values)
            reason = (f"'missing_required:{name} (needed when {other} is "
                      f"{' or '.join(values)})'")
            rules.append((f"{text} is null and {_q(other)} in ({listed})", reason))
        rules.append(
            (f"{text} is not null and {typed} is null",
             f"'unparseable:{name}=' || {_shown(text)} || {_unparseable_hint(col, text)}")
        )
        if col.allowed is not None:
            allowed = ", ".join(_lit(v) for v in col.allowed)
            rules.append(
                (f"{typed} not in ({allowed})", f"'not_allowed:{name}=' || {text}")
            )
        bound = _bound_rule(table, col, as_of_date)
        if bound:
            rules.append(bound)
    as_of = f"date '{as_of_date.isoformat()}'"
    for check in table.checks:
        rule = re.sub(r"\bas_of_date\b", as_of, check.rule)
        rules.append((f"not ({rule})", f"'impossible_value:{check.name}'"))
    referencing = [c for c in table.columns.values() if c.references]
    for i, col in enumerate(referencing):
        rules.append(
            (f"_orphan_{i}", f"'orphan_fk:{col.name}=' || {_q(col.name + '__text')}")
        )
    for i, col in enumerate(referencing):
        if col.belongs_to:
            parent, other = col.references[0], col.belongs_to
            rules.append((
                f"_mismatch_{i}",
                (f"'impossible_value:{col.name}=' || {_q(col.name + '__text')} || "
                f"' ({parent}.{other} is ' || _belongs_{i} || ', the row''s {other} is ' || "
                f"{_q(other + '__text')} || ')'"),
            ))
    return rules


def _flagged_select(table: Table, as_of_date: date, keep: str, source: str) -> str:
    """A select over `source` (rows of raw text): the columns `keep`, the trimmed text
    (`<col>__text`), the typed values, the orphan flags (`_orphan_<i>`) and is_bad."""
    cols = list(table.columns.values())
    texts = ", ".join(f"{_text(c)} as {_q(c.name + '__text')}" for c in cols)
    typed = ", ".join(
        f"{typed_expression(c, _q(c.name + '__text'))} as {_q(c.name)}" for c in cols
    )
    fk_joins, fk_flags = [], []
    for i, col in enumerate(c for c in cols if c.references):
        parent, parent_col = col.references
        alias = f"parent_{i}"
        # belongs_to: the parent's column rides along (parent_col is the parent's primary
        # key, so the join still finds at most one row)
        belongs = (f", {_q(col.belongs_to)} as parent_belongs" if col.belongs_to else "")
        fk_joins.append(
            f"left join (select distinct {_q(parent_col)} as parent_key{belongs} "
            f"from validated.{_q(parent)}) as {alias} "
            f"on rows_typed.{_q(col.name)} = {alias}.parent_key"
        )
        fk_flags.append(
            f"(rows_typed.{_q(col.name)} is not null and {alias}.parent_key is null) "
            f"as _orphan_{i}"
        )
        if col.belongs_to:
            mine = f"rows_typed.{_q(col.belongs_to)}"
            fk_flags.append(
                f"({alias}.parent_key is not null and {mine} is not null "
                f"and {alias}.parent_belongs is distinct from {mine}) as _mismatch_{i}"
            )
            fk_flags.append(f"{alias}.parent_belongs as _belongs_{i}")
    flags = "".join(f", {f}" for f in fk_flags)
    is_bad = " or ".join(f"coalesce(({cond}), false)" for cond, _ in _row_rules(table, as_of_date))
    return f"""
    with rows_text as (
        select {keep}, {texts}
        from {source}
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


def typed_rows_sql(table: Table, as_of_date: date, only: str | None = None) -> str:
    """Every row of raw.<table> (only: a SQL condition on its columns that restricts the
    rows, e.g. the incremental build's appended ones) with its trimmed text, typed values,
    orphan flags and is_bad, as the temp table gate_rows. The incremental build
    (rapport/pipeline/incremental.py) gates the appended rows with it; the full gate writes
    validated.<table> straight from `_flagged_select` instead."""
    name = _q(table.name)
    source = f"raw.{name}" if only is None else (
        f"(select * from raw.{name} where {only}) as {name}")
    select = _flagged_select(table, as_of_date, "_source_file, _row_number", source)
    return f"create or replace temp table gate_rows as {select}"


def _validated_sql(table: Table, as_of_date: date) -> str:
    """Phase 1, over every row: the clean (not is_bad) rows, typed, into validated.<table>.

    Only the typed columns are written; the trimmed text and the flags are computed on the
    fly. Rows stay in raw (file) order: `order by _row_number` (the joins to the parent
    tables do not promise to keep it)."""
    columns = ", ".join(_q(c) for c in table.columns)
    select = _flagged_select(table, as_of_date, "_source_file, _row_number",
                             f"raw.{_q(table.name)}")
    return (
        f"create or replace table validated.{_q(table.name)} as "
        f"select {columns}, _source_file, _row_number from ({select}) as gated "
        f"where not is_bad order by _row_number"
    )


def _duplicates_sql(table: Table) -> str:
    """Phase 2: clean rows whose primary key an earlier clean row already has (the first
    row of a key, by row number, is kept)."""
    pk = ", ".join(_q(c) for c in table.primary_key)
    name = _q(table.name)
    return f"""
    create or replace temp table gate_duplicates as
    with repeated_keys as (
        select {pk}, min(_row_number) as first_row
        from validated.{name}
        group by {pk}
        having count(*) > 1
    )
    select clean._row_number
    from validated.{name} as clean
    inner join repeated_keys using ({pk})
    where clean._row_number > repeated_keys.first_row
    """


# The rows the quarantine SQL explains, as (_row_number, is_duplicate). By default the
# rejected rows of gate_rows (the incremental build); the full gate passes gate_rejected.
_GATE_ROWS_REJECTED = """
    select _row_number, false as is_duplicate from gate_rows where is_bad
    union all
    select _row_number, true as is_duplicate from gate_duplicates
"""


def quarantine_sql(table: Table, as_of_date: date, rejected: str = _GATE_ROWS_REJECTED) -> str:
    """Phase 3, over rejected rows only: reasons, detail and the raw values as JSON.

    `rejected` is a select of (_row_number, is_duplicate). The reasons are computed again
    from the raw text of those rows only, with the same rules as the gate, so clean rows
    never pay for them."""
    name = _q(table.name)
    raw_json = ", ".join(f"{_lit(c)}: raw_row.{_q(c)}" for c in table.columns)
    keep = (
        "raw_row._source_file, raw_row._row_number, rejected.is_duplicate, "
        f"to_json({{{raw_json}}}) as _raw_values"
    )
    source = (
        f"raw.{name} as raw_row\n"
        f"        inner join ({rejected}) as rejected using (_row_number)"
    )
    reasons = ",\n            ".join(
        f"case when coalesce(({cond}), false) then {label} end"
        for cond, label in _row_rules(table, as_of_date)
    )
    pk = ", ".join(f"bad.{_q(c)}" for c in table.primary_key)
    return f"""
    insert into meta.dq_quarantine
    with bad as (
        {_flagged_select(table, as_of_date, keep, source).strip()}
    ),
    reasoned as (
        select bad._source_file, bad._row_number, bad._raw_values,
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
        reasoned._raw_values as raw_values,
        array_to_string(list_sort(list_distinct(
            list_transform(reason_list, lambda reason: split_part(reason, ':', 1)))), ',')
            as reasons,
        array_to_string(reason_list, '; ') as detail
    from reasoned
    order by reasoned._row_number
    """


def _count(con: duckdb.DuckDBPyConnection, relation: str) -> int:
    return con.execute(f"select count(*) from {relation}").fetchone()[0]


def gate_table(
    con: duckdb.DuckDBPyConnection, table: Table, build_id: str, as_of_date: date
) -> TableCounts:
    name = _q(table.name)
    con.execute(_validated_sql(table, as_of_date))
    con.execute(_duplicates_sql(table))
    raw = _count(con, f"raw.{name}")
    passed = _count(con, f"validated.{name}")
    duplicates = _count(con, "gate_duplicates")
    # Rejected rows: those the rules rejected (raw rows not in validated; looked for only
    # when there are any) and the duplicates, which are then taken out of validated.
    rejected_by_rules = (
        f"select _row_number, false as is_duplicate from raw.{name} "
        f"anti join validated.{name} using (_row_number)"
        if raw != passed else "select null::bigint as _row_number, false as is_duplicate where false"
    )
    con.execute(
        f"create or replace temp table gate_rejected as {rejected_by_rules} "
        "union all select _row_number, true as is_duplicate from gate_duplicates"
    )
    if duplicates:
        con.execute(
            f"delete from validated.{name} "
            "where _row_number in (select _row_number from gate_duplicates)"
        )
    recorded = (
        "(select * from meta.dq_quarantine "
        f"where build_id = {_lit(build_id)} and table_name = {_lit(table.name)})"
    )
    before = _count(con, recorded)
    if _count(con, "gate_rejected"):
        con.execute(
            quarantine_sql(table, as_of_date, "select * from gate_rejected"),
            [build_id, table.name],
        )
    bad = _count(con, recorded) - before
    for column in table.required_columns:  # never null on a clean row: declared, so kept so
        con.execute(f"alter table validated.{name} alter column {_q(column)} set not null")
    clean = _count(con, f"validated.{name}")
    con.execute("drop table gate_rejected")
    con.execute("drop table gate_duplicates")
    if raw != clean + bad:  # cannot happen by construction; guard the invariant anyway
        raise AssertionError(f"{table.name}: raw {raw} != clean {clean} + quarantined {bad}")
    return TableCounts(raw=raw, clean=clean, quarantined=bad)


def default_as_of_date(con: duckdb.DuckDBPyConnection, today: date | None = None) -> date:
    """The latest day something is known to have happened, not after today: the latest
    interaction; without interactions, the latest closed deal (won or lost) or deal
    creation (an open deal's close date is only expected, so it does not count); else
    today."""
    today = today or date.today()

    def day(column: str) -> str:
        # the day as the gate reads it (an offset applied: the UTC day)
        text = f"nullif(trim({_q(column)}), '')"
        return f"cast({timestamp_expression(text)} as date)"

    closed = "lower(trim(status)) in ('won', 'lost')"
    candidates = [
        f"select {day('occurred_at')} as day from raw.interactions",
        (f"select {day('close_date')} as day from raw.opportunities where {closed} "
        f"union all select {day('created_date')} as day from raw.opportunities"),
    ]
    for select in candidates:
        found = con.execute(
            f"select max(day) from ({select}) as days where day <= ?", [today],
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
        counts[table.name] = gate_table(con, table, build_id, as_of)
        c = counts[table.name]
        con.execute(
            "insert into meta.dq_row_counts values (?, ?, ?, ?, ?)",
            [build_id, table.name, c.raw, c.clean, c.quarantined],
        )
        if c.quarantined:
            log.info("%s: %d of %d rows quarantined", table.name, c.quarantined, c.raw)
    return GateResult(as_of_date=as_of, counts=counts)

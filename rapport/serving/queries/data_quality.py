"""Queries of the Data quality page (meta schema, written by the pipeline)."""

from __future__ import annotations

import re
from collections.abc import Sequence
from functools import lru_cache

import polars as pl

from rapport.contract import contract
from rapport.serving import builds
from rapport.serving.queries._base import (
    Sql,
    fetch,
    text_literal,
)
from rapport.serving.queries.options import columns_of
from rapport.serving.reader import Reader
from rapport.serving.scope import Scope

# What a personal value (a column marked `pii: true` in rapport/contract.yml) reads as in
# quarantine details, sample rows and check results for a scope that may not see it.
HIDDEN = "<personal data hidden>"
# The gate's reason codes (rapport/pipeline/quarantine.py): a detail joins reasons with "; ", and a
# reason that quotes a column's value reads `<code>:<column>=<value>[ (hint)]`.
_REASONS = ("missing_required", "unparseable", "not_allowed", "out_of_range",
            "impossible_value", "orphan_fk", "duplicate_key")
_IDENTIFIER = re.compile(r"^[a-z_][a-z0-9_]*$")


@lru_cache(maxsize=1)
def pii_columns() -> dict[str, tuple[str, ...]]:
    """table -> its columns marked `pii: true` in the contract (tables without any left out)."""
    found: dict[str, tuple[str, ...]] = {}
    for table in contract().tables.values():
        cols = tuple(c.name for c in table.columns.values() if c.pii)
        if cols:
            for name in (table.name, *cols):
                if not _IDENTIFIER.match(name):  # names are written into SQL below
                    raise ValueError(f"contract: unexpected table or column name {name!r}")
            found[table.name] = cols
    return found


def _primary_key_is_pii(table_name: str) -> bool:
    table = contract().tables[table_name]
    return bool(set(table.primary_key) & set(pii_columns().get(table_name, ())))


def _masked_detail(table_name: str, detail: str, raw_values: str | None) -> str:
    """SQL: a quarantine detail of a row of `table_name` with the values of its personal
    columns replaced by HIDDEN ("unparseable:birthday=31/12/1975" ->
    "unparseable:birthday=<personal data hidden>").

    Two layers. First the exact value, taken from the row's raw values (the gate quotes the
    trimmed raw text). Then, whatever the raw values hold, everything from `<code>:<column>=`
    to the next reason of the detail (a "; " followed by a reason code) or its end, hints
    included (the gate may show a value differently, e.g. NUL bytes as \\0); a chr(1) in the
    text is replaced first, as the second layer uses it to mark where reasons start."""
    cols = pii_columns()[table_name]
    out = detail
    if raw_values is not None:
        for col in cols:
            value = (f"case when json_valid({raw_values}) then "
                     f"nullif(trim(json_extract_string({raw_values}, '$.{col}')), '') end")
            # replace(text, '', ...) leaves the text as it is
            out = (f"replace({out}, coalesce(':{col}=' || {value}, ''), "
                   f"':{col}={HIDDEN}')")
    out = f"replace({out}, chr(1), chr(65533))"
    codes = "|".join(_REASONS)
    out = f"regexp_replace({out}, '; ({codes}):', chr(1) || '\\1:', 'g')"
    out = (f"regexp_replace({out}, '(^|\\x01)(({codes}):"
           f"({'|'.join(cols)})=)[^\\x01]*', '\\1\\2{HIDDEN}', 'g')")
    if _primary_key_is_pii(table_name):
        out = (f"regexp_replace({out}, '(^|\\x01)duplicate_key:[^\\x01]*', "
               f"'\\1duplicate_key:{HIDDEN}', 'g')")
    return f"replace({out}, chr(1), '; ')"


def _masked_raw_values(table_name: str, raw_values: str) -> str:
    """SQL: a row's raw values (a JSON object) with the values of its personal columns
    replaced by HIDDEN (null values stay null); null when the text is not valid JSON."""
    out = raw_values
    for col in pii_columns()[table_name]:
        present = f"json_extract_string({raw_values}, '$.{col}') is not null"
        out = (f"json_merge_patch({out}, case when {present} "
               f"then json_object('{col}', {text_literal(HIDDEN)}) else '{{}}' end)")
    return f"case when json_valid({raw_values}) then cast({out} as varchar) end"


def quarantine_detail_sql(scope: Scope, table_name: str, detail: str = "detail",
                          raw_values: str | None = "raw_values") -> str:
    """SQL for a quarantine row's detail as the scope may see it: the detail itself, or the
    detail with the values of the table's personal columns hidden (see _masked_detail)."""
    if scope.may_see_pii or table_name not in pii_columns():
        return detail
    return _masked_detail(table_name, detail, raw_values)


def _order_by_first(cols: Sequence[str], candidates: Sequence[str], desc: bool = True) -> str:
    found = [c for c in candidates if c in cols]
    if not found:
        return ""
    return " order by " + ", ".join(f'"{c}" {"desc" if desc else "asc"}' for c in found[:1])


def build_history(reader: Reader, scope: Scope, limit: int = 50) -> pl.DataFrame:
    """Builds, newest first (meta.build_history)."""
    cols = columns_of(reader, scope, "meta.build_history")
    if not cols:
        return pl.DataFrame()
    q = Sql()
    order = _order_by_first(cols, ("started_at", "built_at", "finished_at", "build_id"))
    sql = f"select * from meta.build_history{order} limit {q.bind(int(limit))}"
    return fetch(reader, scope, sql, q)


def dq_results(reader: Reader, scope: Scope, build_id: str | None) -> pl.DataFrame:
    """Check results of one build (meta.dq_results), failures first.

    For a scope that may not see personal data, the observed value of a check on a column
    marked `pii: true` (any table) is hidden: a count of unexpected rows keeps its count and
    loses its examples ("3 of 120 unexpected, e.g. [...]")."""
    cols = columns_of(reader, scope, "meta.dq_results")
    if not cols:
        return pl.DataFrame()
    q = Sql()
    replace = ""
    if not scope.may_see_pii and {"column", "observed_value"} <= set(cols):
        names = sorted({c for table_cols in pii_columns().values() for c in table_cols})
        personal = ", ".join(text_literal(n) for n in names)
        replace = f"""replace (
            case
                when "column" not in ({personal}) or observed_value is null
                    then observed_value
                when regexp_matches(observed_value, '^[0-9]+ of [0-9]+ unexpected$')
                    then observed_value
                when regexp_matches(observed_value, '^[0-9]+ of [0-9]+ unexpected, e\\.g\\. ')
                    then regexp_extract(observed_value, '^[0-9]+ of [0-9]+ unexpected')
                        || ', e.g. {HIDDEN}'
                else {text_literal(HIDDEN)}
            end as observed_value)"""
    where = f"where build_id = {q.bind(build_id)}" if build_id and "build_id" in cols else ""
    status_order = (
        "case status when 'error' then 1 when 'fail' then 2 when 'warn' then 3 else 4 end, "
        if "status" in cols else ("success, " if "success" in cols else "")
    )
    keys = ", ".join(f'"{c}"' for c in ("suite", "expectation", "column") if c in cols)
    sql = f"select * {replace} from meta.dq_results {where} order by {status_order}{keys or 1}"
    return fetch(reader, scope, sql, q)


def quarantine_counts(reader: Reader, scope: Scope, build_id: str | None) -> pl.DataFrame:
    """Quarantined rows of one build per table and reason code (a row with two reasons
    counts under both): table_name, reason, rows."""
    cols = columns_of(reader, scope, "meta.dq_quarantine")
    if not cols:
        return pl.DataFrame()
    q = Sql()
    where = f"where build_id = {q.bind(build_id)}" if build_id and "build_id" in cols else ""
    sql = f"""
    with quarantined as (
        select table_name, reasons
        from meta.dq_quarantine
        {where}
    ),

    reasons as (
        select table_name, trim(reason.reason) as reason
        from quarantined, unnest(string_split(quarantined.reasons, ',')) as reason(reason)
    )

    select table_name, reason, count(*) as rows
    from reasons
    where reason <> ''
    group by table_name, reason
    order by rows desc, table_name, reason
    """
    return fetch(reader, scope, sql, q)


def quarantine_samples(reader: Reader, scope: Scope, build_id: str | None, table_name: str,
                       reason: str, pii_tables: Sequence[str] = (),
                       limit: int = 20) -> pl.DataFrame:
    """Sample quarantined rows of one table and reason.

    Raw rows cannot be attributed to a region before they are validated, so only a scope
    that sees every region gets them. For a scope that may not see personal data, the
    values of the columns marked `pii: true` in the contract are replaced by HIDDEN in the
    detail and in the raw values, in SQL; the raw values of any other table named in
    pii_tables are withheld: raw_values is null and `raw_values_withheld` true (a null
    raw_values without it: the row's raw text was not a JSON object, or not recorded)."""
    cols = columns_of(reader, scope, "meta.dq_quarantine")
    if not cols or not scope.sees_all_regions:
        return pl.DataFrame()
    q = Sql()
    where_build = f"build_id = {q.bind(build_id)}" if build_id and "build_id" in cols else "true"
    masked = pii_columns()
    has_raw = "raw_values" in cols
    withheld = "false"
    if not has_raw:
        raw = "cast(null as varchar)"
    elif scope.may_see_pii:
        raw = "raw_values"
    elif table_name in masked:
        raw = _masked_raw_values(table_name, "raw_values")
    elif table_name in set(pii_tables):
        raw, withheld = "cast(null as varchar)", "true"
    else:
        raw = "raw_values"
    detail = quarantine_detail_sql(scope, table_name, "detail",
                                   "raw_values" if has_raw else None)
    sql = f"""
    select
        table_name,
        source_file,
        row_number,
        reasons,
        {detail} as detail,
        {raw} as raw_values,
        {withheld} as raw_values_withheld
    from meta.dq_quarantine
    where {where_build}
        and table_name = {q.bind(table_name)}
        and list_contains(list_transform(string_split(reasons, ','), lambda x: trim(x)),
                          {q.bind(reason)})
    order by source_file, row_number
    limit {q.bind(int(limit))}
    """
    return fetch(reader, scope, sql, q)


def row_counts(reader: Reader, scope: Scope, build_id: str | None) -> pl.DataFrame:
    """Raw, clean and quarantined rows per table of one build (meta.dq_row_counts)."""
    cols = columns_of(reader, scope, "meta.dq_row_counts")
    if not cols:
        return pl.DataFrame()
    q = Sql()
    where = f"where build_id = {q.bind(build_id)}" if build_id and "build_id" in cols else ""
    sql = f"select * from meta.dq_row_counts {where} order by table_name"
    return fetch(reader, scope, sql, q)


def freshness(reader: Reader, scope: Scope) -> pl.DataFrame:
    """The latest date each dated mart reaches (one cheap aggregate per mart)."""
    q = Sql()
    sql = f"""
    select 'fct_relationship_health' as mart, 'month_end_date' as column_name,
        max(month_end_date) as latest_date
    from marts.fct_relationship_health where {q.scope(scope, 'region_id')}
    union all
    select 'fct_account_tiers', 'quarter_end_date', max(quarter_end_date)
    from marts.fct_account_tiers where {q.scope(scope, 'region_id')}
    union all
    select 'fct_rep_performance', 'quarter_end_date', max(quarter_end_date)
    from marts.fct_rep_performance where {q.scope(scope, 'region_id')}
    union all
    select 'dim_contacts', 'last_touch_date', max(contacts.last_touch_date)
    from marts.dim_contacts as contacts
    inner join marts.dim_accounts as accounts on accounts.account_id = contacts.account_id
    where {q.scope(scope, 'accounts.region_id')}
    union all
    select 'fct_attitude_history', 'assessed_date', max(history.assessed_date)
    from marts.fct_attitude_history as history
    inner join marts.dim_accounts as accounts on accounts.account_id = history.account_id
    where {q.scope(scope, 'accounts.region_id')}
    """
    return fetch(reader, scope, sql, q)


def build_attempts(reader: Reader, scope: Scope, limit: int = 20,
                   details_for: int = 3) -> list[builds.Attempt]:
    """The latest build records beside the served file, newest first, published or not
    (rapport.serving.builds): a refused build is never in the served warehouse, so this is
    where the page learns about it. The `details_for` newest refused builds carry their
    failed checks and quarantine reasons, read-only from their kept files. Nothing in them is
    about a region; the scope is taken for the signature's sake."""
    del scope
    return builds.attempts(builds.builds_folder(reader.identity.path), limit=limit,
                           details_for=details_for)


# -- dbt tests, one row each (meta.dbt_tests) -----------------------------------------------
# The build records dbt as one check row (suite `dbt`, `dbt_build`: "830 nodes") plus a row
# per failing node (rapport/pipeline/build.py, _dbt_results), and one row per dbt test in
# meta.dbt_tests (rapport/pipeline/checks/dbt_tests.py, from dbt's run_results.json at build time):
# the page reads them from the warehouse file alone. A warehouse built before that has no
# meta.dbt_tests: dbt_tests_recorded() is False and the page says so.

_DBT_SCHEMA = {
    "build_id": pl.String, "suite": pl.String, "expectation": pl.String, "column": pl.String,
    "success": pl.Boolean, "status": pl.String, "observed_value": pl.String,
    "unexpected_count": pl.Int64, "severity": pl.String, "checked_at": pl.Datetime("us"),
    "detail": pl.String,
}
# a failing test's message that quotes no data value: "Got 3 results, configured to fail if != 0"
_SAFE_MESSAGE = re.compile(r"^Got \d+ results?, configured to (fail|warn) if [!=<>]+ ?\d+$")


def dbt_tests_recorded(reader: Reader, scope: Scope) -> bool:
    """True when the warehouse has meta.dbt_tests (builds since it was recorded)."""
    return bool(columns_of(reader, scope, "meta.dbt_tests"))


def dbt_tests(reader: Reader, scope: Scope, build_id: str | None) -> pl.DataFrame:
    """One row per dbt test of a build (data tests and unit tests, plus any model or seed
    that failed or was skipped; exposures and models that ran are not checks), from
    meta.dbt_tests, shaped like dq_results: suite `dbt_<model>` (`dbt_unit_<model>` for unit
    tests), expectation (the test: not_null, accepted_values, a singular test's name...),
    column, status (pass / warn / fail / error; a skipped node is an error: an upstream node
    failed), observed_value ("3 failing rows"), unexpected_count, severity (fail when the
    test blocks the build, warn when it only warns), detail (dbt's message).
    Empty when the build recorded none (or built before meta.dbt_tests: see
    dbt_tests_recorded). For a scope that may not see personal data a message that could
    quote a data value is replaced by a pointer to the build log."""
    if not build_id or not dbt_tests_recorded(reader, scope):
        return pl.DataFrame(schema=_DBT_SCHEMA)
    q = Sql()
    sql = f"""
    select
        build_id,
        case
            when kind = 'unit_test' then 'dbt_unit_' || coalesce(model, '')
            when kind = 'test' then coalesce('dbt_' || nullif(model, ''), 'dbt_tests')
            else 'dbt_build'
        end as suite,
        name as expectation,
        "column",
        status = 'pass' as success,
        status,
        case
            when failures is not null
                then failures::varchar || ' failing row' || case when failures = 1
                                                                  then '' else 's' end
            else dbt_status
        end as observed_value,
        failures as unexpected_count,
        severity,
        checked_at::timestamp as checked_at,
        case when dbt_status = 'skipped' then 'skipped: ' || coalesce(message, '')
             else message end as detail
    from meta.dbt_tests
    where build_id = {q.bind(build_id)}
    order by
        case status when 'error' then 1 when 'fail' then 2 when 'warn' then 3 else 4 end,
        suite, expectation, "column" nulls last
    """
    frame = fetch(reader, scope, sql, q)
    if not scope.may_see_pii and frame.height:
        pointer = "dbt's message is in the build log (it may quote data values)"
        frame = frame.with_columns(
            pl.col("detail").map_elements(
                lambda m: m if _SAFE_MESSAGE.match(m.removeprefix("skipped: ")) else (
                    f"skipped: {pointer}" if m.startswith("skipped: ") else pointer),
                return_dtype=pl.String))
    return frame.cast({k: v for k, v in _DBT_SCHEMA.items() if k in frame.columns})

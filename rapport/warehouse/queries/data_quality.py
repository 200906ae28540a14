"""Queries of the Data quality page (meta schema, written by the pipeline)."""

from __future__ import annotations

from collections.abc import Sequence

import polars as pl

from rapport.warehouse.queries._base import (
    Sql,
    fetch,
)
from rapport.warehouse.queries.options import columns_of
from rapport.warehouse.reader import Reader
from rapport.warehouse.scope import Scope


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
    """Check results of one build (meta.dq_results), failures first."""
    cols = columns_of(reader, scope, "meta.dq_results")
    if not cols:
        return pl.DataFrame()
    q = Sql()
    where = f"where build_id = {q.bind(build_id)}" if build_id and "build_id" in cols else ""
    status_order = (
        "case status when 'error' then 1 when 'fail' then 2 when 'warn' then 3 else 4 end, "
        if "status" in cols else ("success, " if "success" in cols else "")
    )
    keys = ", ".join(f'"{c}"' for c in ("suite", "expectation", "column") if c in cols)
    sql = f"select * from meta.dq_results {where} order by {status_order}{keys or 1}"
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
    that sees every region gets them; raw values of tables holding personal data
    (pii_tables) are withheld from a scope that may not see personal data."""
    cols = columns_of(reader, scope, "meta.dq_quarantine")
    if not cols or not scope.sees_all_regions:
        return pl.DataFrame()
    q = Sql()
    where_build = f"build_id = {q.bind(build_id)}" if build_id and "build_id" in cols else "true"
    hide_raw = not scope.may_see_pii and table_name in set(pii_tables)
    raw = "cast(null as varchar)" if hide_raw else "raw_values"
    sql = f"""
    select
        table_name,
        source_file,
        row_number,
        reasons,
        detail,
        {raw} as raw_values
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

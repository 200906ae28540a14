"""Sidebar options, build information and what the warehouse holds."""

from __future__ import annotations

from typing import Any

import polars as pl

from rapport.serving.queries._base import (
    Sql,
    fetch,
)
from rapport.serving.reader import Reader
from rapport.serving.scope import Scope


def columns_of(reader: Reader, scope: Scope, relation: str) -> list[str]:
    """Column names of a table (empty if it is absent)."""
    schema, _, table = relation.partition(".")
    q = Sql()
    sql = f"""
    select column_name
    from information_schema.columns
    where table_schema = {q.bind(schema)} and table_name = {q.bind(table)}
    order by ordinal_position
    """
    return fetch(reader, scope, sql, q)["column_name"].to_list()


def quarters(reader: Reader, scope: Scope) -> pl.DataFrame:
    """Quarters with tiers or rep results, newest first: year, quarter, quarter_end_date."""
    q = Sql()
    sql = f"""
    select distinct year, quarter, quarter_end_date
    from marts.fct_account_tiers
    where {q.scope(scope, 'region_id')}
    union
    select distinct year, quarter, quarter_end_date
    from marts.fct_rep_performance
    where {q.scope(scope, 'region_id')}
    order by quarter_end_date desc
    """
    return fetch(reader, scope, sql, q)


def regions(reader: Reader, scope: Scope) -> pl.DataFrame:
    """Regions visible to the scope: region_id, region_name."""
    q = Sql()
    sql = f"""
    select region_id, max(region_name) as region_name
    from (
        select region_id, region_name from marts.dim_reps
        where {q.scope(scope, 'region_id')}
        union all
        select region_id, region_name from marts.dim_accounts
        where {q.scope(scope, 'region_id')}
    ) as found
    group by region_id
    order by region_name, region_id
    """
    return fetch(reader, scope, sql, q)


def industries(reader: Reader, scope: Scope) -> list[str]:
    q = Sql()
    sql = f"""
    select distinct industry
    from marts.dim_accounts
    where industry is not null and {q.scope(scope, 'region_id')}
    order by industry
    """
    return fetch(reader, scope, sql, q)["industry"].to_list()


def build_info(reader: Reader, scope: Scope) -> dict[str, Any]:
    """The served build's row of meta.build_info as a dict (empty if there is none)."""
    cols = columns_of(reader, scope, "meta.build_info")
    if not cols:
        return {}
    order = next((c for c in ("built_at", "finished_at", "published_at", "started_at")
                  if c in cols), None)
    sql = "select * from meta.build_info" + (f" order by {order} desc" if order else "")
    df = fetch(reader, scope, sql + " limit 1", Sql())
    return df.row(0, named=True) if df.height else {}


def interactions_loaded(reader: Reader, scope: Scope) -> bool:
    """Whether the warehouse holds any interaction the scope may see (reads one row)."""
    q = Sql()
    sql = f"""
    select count(*) as found
    from (
        select 1
        from marts.fct_interactions as interactions
        inner join marts.dim_accounts as accounts
            on accounts.account_id = interactions.account_id
        where {q.scope(scope, 'accounts.region_id')}
        limit 1
    ) as probe
    """
    return bool(fetch(reader, scope, sql, q)["found"][0])

"""Queries of the Tiers page: distribution, Pareto curve, migration, element scores."""

from __future__ import annotations

import polars as pl

from rapport.serving.queries._base import (
    TIER_ORDER,
    Filters,
    Sql,
    accounts_in_view,
    fetch,
)
from rapport.serving.queries.options import columns_of
from rapport.serving.reader import Reader
from rapport.serving.scope import Scope

TIER_GROUPINGS = {"region": "region_name", "industry": "industry"}


def tier_distribution(reader: Reader, scope: Scope, f: Filters, by: str) -> pl.DataFrame:
    """Accounts and revenue per tier within each region or industry (`by` from
    TIER_GROUPINGS): grp, tier, accounts, revenue_ttm, revenue_share (of the group)."""
    if by not in TIER_GROUPINGS:
        raise ValueError(f"cannot group tiers by {by!r}; choose one of {sorted(TIER_GROUPINGS)}")
    column = TIER_GROUPINGS[by]
    q = Sql()
    accounts = accounts_in_view(q, scope, f)
    sql = f"""
    with {accounts},

    final as (
        select
            {column} as grp,
            tier,
            count(*) as accounts,
            sum(revenue_ttm) as revenue_ttm,
            sum(revenue_ttm)
                / nullif(sum(sum(revenue_ttm)) over (partition by {column}), 0) as revenue_share
        from accounts_in_view
        where tier is not null
        group by {column}, tier
    )

    select * from final
    order by grp, {TIER_ORDER.format(col='tier')}
    """
    return fetch(reader, scope, sql, q)


def pareto(reader: Reader, scope: Scope, f: Filters) -> pl.DataFrame:
    """Accounts by trailing-12-month revenue, largest first, with cumulative shares."""
    q = Sql()
    accounts = accounts_in_view(q, scope, f)
    sql = f"""
    with {accounts},

    ranked as (
        select
            account_id,
            account_name,
            tier,
            coalesce(revenue_ttm, 0) as revenue_ttm,
            row_number() over (order by coalesce(revenue_ttm, 0) desc, account_id) as revenue_rank,
            count(*) over () as accounts,
            sum(coalesce(revenue_ttm, 0)) over () as total_revenue,
            sum(coalesce(revenue_ttm, 0)) over (
                order by coalesce(revenue_ttm, 0) desc, account_id
                rows between unbounded preceding and current row
            ) as cumulative_revenue
        from accounts_in_view
        where tier is not null
    ),

    final as (
        select
            revenue_rank,
            account_id,
            account_name,
            tier,
            revenue_ttm,
            cast(revenue_rank as double) / accounts as account_share,
            cumulative_revenue / nullif(total_revenue, 0) as cumulative_revenue_share
        from ranked
    )

    select * from final
    order by revenue_rank
    """
    return fetch(reader, scope, sql, q)


def tier_migration(reader: Reader, scope: Scope, f: Filters, from_year: int, from_quarter: int,
                   to_year: int, to_quarter: int) -> pl.DataFrame:
    """One row per account in view with a tier in both quarters: from_tier, to_tier and
    movement (up / down / same). The tier filter is not applied (it would hide the movers)."""
    q = Sql()
    accounts = accounts_in_view(q, scope, Filters(
        year=to_year, quarter=to_quarter, region_ids=f.region_ids, industries=f.industries,
    ), apply_tier=False)
    sql = f"""
    with {accounts},

    before as (
        select account_id, tier
        from marts.fct_account_tiers
        where year = {q.bind(from_year)} and quarter = {q.bind(from_quarter)}
    ),

    final as (
        select
            accounts_in_view.account_id,
            accounts_in_view.account_name,
            accounts_in_view.region_name,
            accounts_in_view.industry,
            before.tier as from_tier,
            accounts_in_view.tier as to_tier,
            case
                when {TIER_ORDER.format(col='accounts_in_view.tier')}
                    < {TIER_ORDER.format(col='before.tier')} then 'up'
                when {TIER_ORDER.format(col='accounts_in_view.tier')}
                    > {TIER_ORDER.format(col='before.tier')} then 'down'
                else 'same'
            end as movement,
            accounts_in_view.revenue_ttm
        from accounts_in_view
        inner join before on before.account_id = accounts_in_view.account_id
        where accounts_in_view.tier is not null
    )

    select * from final
    order by
        case movement when 'up' then 1 when 'down' then 2 else 3 end,
        {TIER_ORDER.format(col='to_tier')},
        account_name
    """
    return fetch(reader, scope, sql, q)


def accounts_by_tier(reader: Reader, scope: Scope, f: Filters) -> pl.DataFrame:
    """Accounts in view with their tier and the four element scores of the quarter."""
    q = Sql()
    accounts = accounts_in_view(q, scope, f)
    sql = f"""
    with {accounts}

    select
        tier,
        rank_in_population,
        account_name,
        region_name,
        industry,
        revenue_ttm,
        revenue_score,
        potential_score,
        demonstration_score,
        winnability_score,
        composite_score,
        previous_tier,
        tier_change,
        account_id
    from accounts_in_view
    where tier is not null
    order by {TIER_ORDER.format(col='tier')}, rank_in_population, account_name
    """
    return fetch(reader, scope, sql, q)


def tier_windows(reader: Reader, scope: Scope, f: Filters) -> dict[str, bool]:
    """Whether the quarter's revenue (12 months) and win-rate (24 months) windows are
    complete: {"revenue": bool, "winnability": bool}. The windows end on the quarter's
    snapshot day, the same for every account; a warehouse built before the warm-up flags
    reads as complete, a quarter without tiers as complete."""
    have = set(columns_of(reader, scope, "marts.fct_account_tiers"))
    if not {"revenue_window_complete", "winnability_window_complete"} <= have or f.year is None:
        return {"revenue": True, "winnability": True}
    q = Sql()
    sql = f"""
    select
        coalesce(bool_and(revenue_window_complete), true) as revenue,
        coalesce(bool_and(winnability_window_complete), true) as winnability
    from marts.fct_account_tiers
    where year = {q.bind(f.year)} and quarter = {q.bind(f.quarter)}
    """
    return fetch(reader, scope, sql, q).row(0, named=True)

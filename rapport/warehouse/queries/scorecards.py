"""Queries of the Scorecards page: reps of a region, key-action cells, regions."""

from __future__ import annotations

import polars as pl

from rapport.warehouse.queries._base import (
    Filters,
    Sql,
    fetch,
)
from rapport.warehouse.queries.coverage import without_profit
from rapport.warehouse.queries.options import columns_of
from rapport.warehouse.reader import Reader
from rapport.warehouse.scope import Scope


def scorecard(reader: Reader, scope: Scope, region_id: str, year: int,
              quarter: int) -> pl.DataFrame:
    """The reps of one region in one quarter: dimension 1 measures, dimension 1 and 2
    scores, the market type's weights, total and rank (best first). `ranked` is false for a
    rep scored on fewer key actions than the seed's minimum (no rank then), and
    owned_accounts / owned_accounts_inferred say how many of the accounts the rep was
    measured on were the rep's by inference (warehouses built before these columns get
    ranked = rank given, owned counts null)."""
    have = set(columns_of(reader, scope, "marts.fct_rep_scorecard"))
    ranked = ("scorecards.ranked" if "ranked" in have
              else "scorecards.rank_in_region is not null")
    owned = ", ".join(
        f"scorecards.{c}" if c in have else f"cast(null as bigint) as {c}"
        for c in ("owned_accounts", "owned_accounts_inferred"))
    q = Sql()
    sql = f"""
    with scorecards as (
        select *
        from marts.fct_rep_scorecard
        where region_id = {q.bind(region_id)} and year = {q.bind(year)}
            and quarter = {q.bind(quarter)} and {q.scope(scope, 'region_id')}
    ),

    final as (
        select
            scorecards.rank_in_region,
            reps.rep_name,
            scorecards.total_score,
            scorecards.dimension1_score,
            scorecards.dimension2_score,
            scorecards.weight_dimension1,
            scorecards.weight_dimension2,
            scorecards.market_type,
            scorecards.actions_scored,
            {ranked} as ranked,
            {owned},
            performance.revenue,
            performance.profit,
            performance.fte,
            performance.revenue_per_head,
            performance.profit_per_head,
            performance.revenue_yoy_growth,
            performance.profit_yoy_growth,
            performance.revenue_target_completion,
            performance.profit_target_completion,
            scorecards.rep_id
        from scorecards
        inner join marts.dim_reps as reps on reps.rep_id = scorecards.rep_id
        left join marts.fct_rep_performance as performance
            on performance.rep_id = scorecards.rep_id
            and performance.year = scorecards.year
            and performance.quarter = scorecards.quarter
    )

    select * from final
    order by rank_in_region nulls last, rep_name
    """
    return without_profit(reader, scope, fetch(reader, scope, sql, q))


def key_actions(reader: Reader, scope: Scope, region_id: str, year: int, quarter: int, *,
                rep_id: str | None = None) -> pl.DataFrame:
    """The nine key-action cells of a region's reps (or one rep) in one quarter:
    numerator, denominator, score (0..1, null when not scored) and not_scored_reason."""
    q = Sql()
    one = f"actions.rep_id = {q.bind(rep_id)}" if rep_id is not None else "true"
    sql = f"""
    select
        reps.rep_name,
        actions.action_no,
        actions.action_group,
        actions.action_name,
        actions.numerator,
        actions.denominator,
        actions.score,
        actions.not_scored_reason,
        actions.rep_id
    from marts.fct_key_actions as actions
    inner join marts.dim_reps as reps on reps.rep_id = actions.rep_id
    where actions.region_id = {q.bind(region_id)} and actions.year = {q.bind(year)}
        and actions.quarter = {q.bind(quarter)} and {q.scope(scope, 'actions.region_id')}
        and {one}
    order by reps.rep_name, actions.action_no
    """
    return fetch(reader, scope, sql, q)


def rep_performance(reader: Reader, scope: Scope, rep_id: str, year: int,
                    quarter: int) -> pl.DataFrame:
    """Dimension 1 of one rep in one quarter (fct_rep_performance), 0 or 1 row."""
    q = Sql()
    sql = f"""
    select performance.*
    from marts.fct_rep_performance as performance
    where performance.rep_id = {q.bind(rep_id)} and performance.year = {q.bind(year)}
        and performance.quarter = {q.bind(quarter)} and {q.scope(scope, 'performance.region_id')}
    """
    return without_profit(reader, scope, fetch(reader, scope, sql, q))


def region_comparison(reader: Reader, scope: Scope, f: Filters, year: int,
                      quarter: int) -> pl.DataFrame:
    """Regions side by side in one quarter: results, per-head, completion, and the mean
    and best scorecard total of their reps."""
    q = Sql()
    sql = f"""
    with names as (
        select region_id, max(region_name) as region_name
        from marts.dim_reps
        group by region_id
    ),

    scores as (
        select
            region_id,
            avg(total_score) as mean_total_score,
            max(total_score) as best_total_score,
            count(*) as reps_scored
        from marts.fct_rep_scorecard
        where year = {q.bind(year)} and quarter = {q.bind(quarter)}
        group by region_id
    ),

    final as (
        select
            names.region_name,
            performance.market_type,
            performance.revenue,
            performance.profit,
            performance.fte,
            performance.revenue_per_head,
            performance.profit_per_head,
            performance.revenue_yoy_growth,
            performance.revenue_target_completion,
            performance.profit_target_completion,
            scores.mean_total_score,
            scores.best_total_score,
            scores.reps_scored,
            performance.region_id
        from marts.fct_region_performance as performance
        left join names on names.region_id = performance.region_id
        left join scores on scores.region_id = performance.region_id
        where performance.year = {q.bind(year)} and performance.quarter = {q.bind(quarter)}
            and {q.scope(scope, 'performance.region_id')}
            and {q.one_of('performance.region_id', f.region_ids)}
    )

    select * from final
    order by revenue_per_head desc nulls last, region_name
    """
    return without_profit(reader, scope, fetch(reader, scope, sql, q))

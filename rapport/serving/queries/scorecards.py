"""Queries of the Scorecards page: reps of a region, key-action cells, regions."""

from __future__ import annotations

import polars as pl

from rapport.serving.queries._base import (
    Filters,
    Sql,
    fetch,
    previous_quarter,
)
from rapport.serving.queries.coverage import without_profit
from rapport.serving.queries.options import columns_of
from rapport.serving.reader import Reader
from rapport.serving.scope import Scope

# The measures of fct_rep_performance a dimension-1 component may name
# (scorecard_dimension1_components.component; int_perf_dimension1_scored lists the same).
DIMENSION1_MEASURES = (
    "revenue", "profit", "revenue_per_head", "profit_per_head", "revenue_yoy_growth",
    "profit_yoy_growth", "revenue_target_completion", "profit_target_completion",
    "cash_collected",
)


def scorecard(reader: Reader, scope: Scope, region_id: str, year: int,
              quarter: int) -> pl.DataFrame:
    """The reps of one region in one quarter: dimension 1 measures, dimension 1 and 2
    scores, the market type's weights, total and rank (best first). `ranked` is false for a
    rep scored on fewer key actions than the seed's minimum (no rank then; the minimum in
    force is `min_scored_actions`), and owned_accounts / owned_accounts_inferred say how
    many of the accounts the rep was measured on were the rep's by inference (warehouses
    built before these columns get ranked = rank given, owned counts and minimum null);
    is_market_type_defaulted: the region had no market type that year (the default).

    previous_rank_in_region / previous_total_score / previous_ranked: the same rep's row of
    the previous quarter in the same region (null when the rep had none); total_change =
    total_score - previous_total_score."""
    have = set(columns_of(reader, scope, "marts.fct_rep_scorecard"))
    ranked = ("{t}.ranked" if "ranked" in have else "{t}.rank_in_region is not null")
    optional = ", ".join(
        f"scorecards.{c}" if c in have else f"cast(null as {kind}) as {c}"
        for c, kind in (("owned_accounts", "bigint"), ("owned_accounts_inferred", "bigint"),
                        ("min_scored_actions", "integer"),
                        ("is_market_type_defaulted", "boolean")))
    py, pq = previous_quarter(year, quarter)
    q = Sql()
    sql = f"""
    with scorecards as (
        select *
        from marts.fct_rep_scorecard
        where region_id = {q.bind(region_id)} and year = {q.bind(year)}
            and quarter = {q.bind(quarter)} and {q.scope(scope, 'region_id')}
    ),

    previous as (
        select rep_id, rank_in_region, total_score, {ranked.format(t='previous')} as ranked
        from marts.fct_rep_scorecard as previous
        where region_id = {q.bind(region_id)} and year = {q.bind(py)}
            and quarter = {q.bind(pq)} and {q.scope(scope, 'region_id')}
    ),

    final as (
        select
            scorecards.rank_in_region,
            reps.rep_name,
            scorecards.total_score,
            scorecards.total_score - previous.total_score as total_change,
            previous.rank_in_region as previous_rank_in_region,
            scorecards.dimension1_score,
            scorecards.dimension2_score,
            performance.revenue_per_head,
            performance.profit_per_head,
            performance.revenue_target_completion,
            performance.profit_target_completion,
            scorecards.weight_dimension1,
            scorecards.weight_dimension2,
            scorecards.market_type,
            scorecards.actions_scored,
            {ranked.format(t='scorecards')} as ranked,
            {optional},
            previous.total_score as previous_total_score,
            previous.ranked as previous_ranked,
            performance.revenue,
            performance.profit,
            performance.fte,
            performance.revenue_yoy_growth,
            performance.profit_yoy_growth,
            scorecards.rep_id
        from scorecards
        inner join marts.dim_reps as reps on reps.rep_id = scorecards.rep_id
        left join marts.fct_rep_performance as performance
            on performance.rep_id = scorecards.rep_id
            and performance.year = scorecards.year
            and performance.quarter = scorecards.quarter
        left join previous on previous.rep_id = scorecards.rep_id
    )

    select * from final
    order by rank_in_region nulls last, total_score desc nulls last, rep_name
    """
    return without_profit(reader, scope, fetch(reader, scope, sql, q))


def dimension1_components(reader: Reader, scope: Scope, region_id: str, year: int,
                          quarter: int, *, rep_id: str | None = None) -> pl.DataFrame:
    """Dimension 1 of a region's reps (or one rep) in one quarter, one row per rep and
    component of the region's market type (config.scorecard_dimension1_components), scored
    as fct_rep_scorecard scores it (the same rules as int_perf_dimension1_scored):

    component, description, scaling (percentile_in_region / capped_ratio), cap, weight (the
    seed's), component_value (the rep's measure in fct_rep_performance), reps_below /
    reps_tied (other reps of the region with a lower / the same value) and reps_with_value
    (reps of the region with a value, the rep included) for a percentile, component_score
    (0-100, null without a value), weight_used (weight / the weights of the rep's scored
    components: re-normalised when a component cannot be scored, null when it is not
    scored) and points = weight_used x component_score (dimension 1 = their sum)."""
    measure = "\n".join(f"when '{m}' then performance.{m}" for m in DIMENSION1_MEASURES)
    q = Sql()
    one = f"scored.rep_id = {q.bind(rep_id)}" if rep_id is not None else "true"
    sql = f"""
    with reps as (
        select rep_id, region_id, year, quarter, market_type
        from marts.fct_rep_scorecard
        where region_id = {q.bind(region_id)} and year = {q.bind(year)}
            and quarter = {q.bind(quarter)} and {q.scope(scope, 'region_id')}
    ),

    selected as (
        select
            reps.rep_id,
            components.component,
            components.description,
            components.scaling,
            components.cap,
            components.weight,
            cast(case components.component {measure} end as double) as component_value
        from reps
        inner join config.scorecard_dimension1_components as components
            on components.market_type = reps.market_type
        left join marts.fct_rep_performance as performance
            on performance.rep_id = reps.rep_id
            and performance.year = reps.year
            and performance.quarter = reps.quarter
    ),

    ranked as (
        select
            rep_id,
            component,
            rank() over (partition by component order by component_value) - 1 as reps_below,
            count(*) over (partition by component, component_value) - 1 as reps_tied,
            count(*) over (partition by component) as reps_with_value
        from selected
        where component_value is not null
    ),

    scored as (
        select
            selected.*,
            ranked.reps_below,
            ranked.reps_tied,
            ranked.reps_with_value,
            round(
                case
                    when selected.component_value is null then null
                    when selected.scaling = 'percentile_in_region'
                        and ranked.reps_with_value = 1 then 50.0
                    when selected.scaling = 'percentile_in_region'
                        then 100.0 * (ranked.reps_below + 0.5 * ranked.reps_tied)
                            / (ranked.reps_with_value - 1)
                    when selected.scaling = 'capped_ratio'
                        then 100.0 * least(greatest(selected.component_value, 0),
                                           selected.cap) / selected.cap
                end,
                6
            ) as component_score
        from selected
        left join ranked
            on ranked.rep_id = selected.rep_id and ranked.component = selected.component
    ),

    final as (
        select
            scored.rep_id,
            scored.component,
            scored.description,
            scored.scaling,
            scored.cap,
            scored.weight,
            scored.component_value,
            scored.reps_below,
            scored.reps_tied,
            scored.reps_with_value,
            scored.component_score,
            case when scored.component_score is not null then scored.weight / sum(
                case when scored.component_score is not null then scored.weight end
            ) over (partition by scored.rep_id) end as weight_used
        from scored
        where {one}
    )

    select *, weight_used * component_score as points
    from final
    order by rep_id, weight desc, component
    """
    return fetch(reader, scope, sql, q)


def region_fte_by_role(reader: Reader, scope: Scope, region_id: str, year: int,
                       quarter: int) -> pl.DataFrame:
    """Who makes up a region's FTE in one quarter, per role (AR, SR, FR...): reps employed,
    their FTE by days (the region's FTE in fct_region_performance is the sum over every
    role), and how many of them, with how much FTE, are on the scorecard (assessed reps)."""
    q = Sql()
    sql = f"""
    with performance as (
        select rep_id, fte
        from marts.fct_rep_performance
        where region_id = {q.bind(region_id)} and year = {q.bind(year)}
            and quarter = {q.bind(quarter)} and {q.scope(scope, 'region_id')}
    ),

    scorecards as (
        select rep_id
        from marts.fct_rep_scorecard
        where region_id = {q.bind(region_id)} and year = {q.bind(year)}
            and quarter = {q.bind(quarter)} and {q.scope(scope, 'region_id')}
    ),

    final as (
        select
            coalesce(reps.role, '?') as role,
            count(*) as reps,
            sum(performance.fte) as fte,
            count(scorecards.rep_id) as reps_on_scorecard,
            coalesce(sum(case when scorecards.rep_id is not null then performance.fte end),
                     0) as fte_on_scorecard
        from performance
        left join marts.dim_reps as reps on reps.rep_id = performance.rep_id
        left join scorecards on scorecards.rep_id = performance.rep_id
        group by coalesce(reps.role, '?')
    )

    select * from final
    order by case role when 'AR' then 1 when 'SR' then 2 when 'FR' then 3 else 4 end, role
    """
    return fetch(reader, scope, sql, q)


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


def company_benchmark(reader: Reader, scope: Scope, year: int, quarter: int) -> pl.DataFrame:
    """The whole company in one quarter, for comparing a region with it: aggregates over
    every region whatever the scope (no region's or rep's own row: sums, per-head over the
    summed FTE, growth of the regions with a prior year, completion of the regions with a
    target, the mean total of every scored rep), in region_comparison's columns, plus
    `regions`. One row; none when the scope sees no region (fail closed) or the quarter has
    no results."""
    q = Sql()
    sql = f"""
    with visible as (
        select count(*) as regions_visible
        from marts.fct_region_performance
        where year = {q.bind(year)} and quarter = {q.bind(quarter)}
            and {q.scope(scope, 'region_id')}
    ),

    performance as (
        select *
        from marts.fct_region_performance
        where year = {q.bind(year)} and quarter = {q.bind(quarter)}
    ),

    scores as (
        select avg(total_score) as mean_total_score, count(*) as reps_scored
        from marts.fct_rep_scorecard
        where year = {q.bind(year)} and quarter = {q.bind(quarter)}
    ),

    totals as (
        select
            sum(revenue) as revenue,
            sum(profit) as profit,
            sum(fte) as fte,
            sum(revenue) / nullif(sum(fte), 0) as revenue_per_head,
            sum(profit) / nullif(sum(fte), 0) as profit_per_head,
            sum(case when revenue_prior_year > 0 then revenue end)
                / nullif(sum(case when revenue_prior_year > 0 then revenue_prior_year end), 0)
                - 1 as revenue_yoy_growth,
            sum(case when revenue_target > 0 then revenue end)
                / nullif(sum(case when revenue_target > 0 then revenue_target end), 0)
                as revenue_target_completion,
            sum(case when profit_target > 0 then profit end)
                / nullif(sum(case when profit_target > 0 then profit_target end), 0)
                as profit_target_completion,
            count(*) as regions
        from performance
        having count(*) > 0
    ),

    final as (
        select
            totals.revenue,
            totals.profit,
            totals.fte,
            totals.revenue_per_head,
            totals.profit_per_head,
            totals.revenue_yoy_growth,
            totals.revenue_target_completion,
            totals.profit_target_completion,
            scores.mean_total_score,
            scores.reps_scored,
            totals.regions
        from totals
        cross join scores
        cross join visible
        where visible.regions_visible > 0
    )

    select * from final
    """
    return without_profit(reader, scope, fetch(reader, scope, sql, q))

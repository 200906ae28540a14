{#-
    One row per assessed rep per quarter per dimension-1 component of the rep's market type
    (scorecard_dimension1_components). component_value is the rep's measure in
    fct_rep_performance (the seed's accepted_values test lists the measures known here);
    component_score (0..100, null when the value is null) scales it:
      percentile_in_region: 100 x (reps of the same region and quarter with a lower value
                            + half of those with an equal value) / (other reps with a value);
                            50 when the rep is the only one with a value;
      capped_ratio:         100 x min(max(value, 0), cap) / cap (e.g. target completion,
                            100% and more scores 100).
-#}
with

rep_quarters as (

    select * from {{ ref('int_actions_rep_quarters') }}

),

rep_performance as (

    select * from {{ ref('fct_rep_performance') }}

),

components as (

    select * from {{ ref('scorecard_dimension1_components') }}

),

selected as (

    select
        rep_quarters.rep_id,
        rep_quarters.region_id,
        rep_quarters.year,
        rep_quarters.quarter,
        rep_quarters.market_type,
        components.component,
        components.weight,
        components.scaling,
        components.cap,
        cast(
            case components.component
                when 'revenue' then rep_performance.revenue
                when 'profit' then rep_performance.profit
                when 'revenue_per_head' then rep_performance.revenue_per_head
                when 'profit_per_head' then rep_performance.profit_per_head
                when 'revenue_yoy_growth' then rep_performance.revenue_yoy_growth
                when 'profit_yoy_growth' then rep_performance.profit_yoy_growth
                when 'revenue_target_completion' then rep_performance.revenue_target_completion
                when 'profit_target_completion' then rep_performance.profit_target_completion
                when 'cash_collected' then rep_performance.cash_collected
            end as {{ type_double() }}
        ) as component_value
    from rep_quarters
    inner join components
        on rep_quarters.market_type = components.market_type
    left join rep_performance
        on rep_quarters.rep_id = rep_performance.rep_id
            and rep_quarters.year = rep_performance.year
            and rep_quarters.quarter = rep_performance.quarter

),

ranked as (

    select
        rep_id,
        year,
        quarter,
        component,
        rank() over (
            partition by region_id, year, quarter, component
            order by component_value
        ) - 1 as reps_below,
        count(*) over (
            partition by region_id, year, quarter, component, component_value
        ) - 1 as reps_tied,
        count(*) over (
            partition by region_id, year, quarter, component
        ) as reps_with_value
    from selected
    where component_value is not null

),

final as (

    select
        selected.rep_id,
        selected.region_id,
        selected.year,
        selected.quarter,
        selected.market_type,
        selected.component,
        selected.weight,
        selected.scaling,
        selected.component_value,
        round(
            case
                when selected.component_value is null then null
                when selected.scaling = 'percentile_in_region' and ranked.reps_with_value = 1
                    then 50.0
                when selected.scaling = 'percentile_in_region'
                    then 100.0 * (ranked.reps_below + 0.5 * ranked.reps_tied)
                        / (ranked.reps_with_value - 1)
                when selected.scaling = 'capped_ratio'
                    then 100.0 * (
                            case
                                when selected.component_value <= 0 then 0
                                when selected.component_value >= selected.cap then selected.cap
                                else selected.component_value
                            end
                        ) / selected.cap
            end,
            6
        ) as component_score
    from selected
    left join ranked
        on selected.rep_id = ranked.rep_id
            and selected.year = ranked.year
            and selected.quarter = ranked.quarter
            and selected.component = ranked.component

)

select * from final

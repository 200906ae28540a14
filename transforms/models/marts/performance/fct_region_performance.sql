{#-
    One row per region per quarter (every region, every quarter of int_calendar_quarters).
    Revenue, profit and cash: sums over the region's reps (fct_rep_performance, home region).
    FTE: the summed FTE by days of the region's reps employed in the quarter (each rep's
    contracted FTE x days employed / days in the period); per head = sum / FTE.
    fte_contracted: the summed contracted FTE of the same reps (what fte was before FTE by days).
    Targets: targets with scope 'region'. Growth and completion as in fct_rep_performance
    (both: macros/performance_ratios.sql).
-#}
with

regions as (

    select region_id from {{ ref('stg_regions') }}

),

quarters as (

    select year, quarter, quarter_end_date, yoy_window_complete
    from {{ ref('int_calendar_quarters') }}

),

region_market_types as (

    select * from {{ ref('stg_region_market_types') }}

),

rep_performance as (

    select * from {{ ref('fct_rep_performance') }}

),

targets as (

    select * from {{ ref('stg_targets') }}
    where scope = 'region'

),

summed_over_reps as (

    select
        region_id,
        year,
        quarter,
        sum(revenue) as revenue,
        sum(profit) as profit,
        sum(fte) as fte,
        sum(fte_contracted) as fte_contracted,
        sum(cash_collected) as cash_collected,
        sum(revenue_without_profit) as revenue_without_profit,
        cast(sum(deals_won) as {{ dbt.type_bigint() }}) as deals_won,
        count(*) as reps_employed
    from rep_performance
    group by region_id, year, quarter

),

measured as (

    select
        regions.region_id,
        quarters.year,
        quarters.quarter,
        quarters.quarter_end_date,
        quarters.yoy_window_complete,
        region_market_types.market_type,
        coalesce(summed_over_reps.revenue, 0) as revenue,
        coalesce(summed_over_reps.profit, 0) as profit,
        coalesce(summed_over_reps.fte, 0) as fte,
        coalesce(summed_over_reps.fte_contracted, 0) as fte_contracted,
        coalesce(summed_over_reps.cash_collected, 0) as cash_collected,
        coalesce(summed_over_reps.revenue_without_profit, 0) as revenue_without_profit,
        coalesce(summed_over_reps.deals_won, 0) as deals_won,
        coalesce(summed_over_reps.reps_employed, 0) as reps_employed
    from regions
    cross join quarters
    left join summed_over_reps
        on regions.region_id = summed_over_reps.region_id
            and quarters.year = summed_over_reps.year
            and quarters.quarter = summed_over_reps.quarter
    left join region_market_types
        on regions.region_id = region_market_types.region_id
            and quarters.year = region_market_types.year

),

with_prior_year as (

    {{ with_prior_year_and_target('measured', 'targets', 'region_id') }}

),

final as (

    select
        region_id,
        year,
        quarter,
        quarter_end_date,
        market_type,
        revenue,
        profit,
        fte,
        {{ performance_ratios() }},
        cash_collected,
        revenue_without_profit,
        deals_won,
        reps_employed,
        fte_contracted,
        yoy_window_complete
    from with_prior_year

)

select * from final

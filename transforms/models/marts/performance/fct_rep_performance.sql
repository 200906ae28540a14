{#-
    One row per rep per quarter while the rep is employed (int_perf_rep_quarters).
    Revenue and profit: won deals credited to the opportunity's AR by close quarter.
    Per head: sum / the rep's FTE by days (int_perf_rep_quarters: contracted FTE x days
    employed in the period / days in the period). Prior year: the same quarter one year
    earlier (null when the rep was not employed then or the quarter precedes the data);
    yoy_window_complete says whether that quarter starts on or after the first deal data
    (int_calendar_quarters). Growth and target completion are null when their divisor is
    null or not positive (macros/performance_ratios.sql).
-#}
with

rep_quarters as (

    select * from {{ ref('int_perf_rep_quarters') }}

),

deals_won as (

    select * from {{ ref('int_perf_deals_won') }}

),

cash_collected as (

    select * from {{ ref('int_perf_cash_collected') }}

),

targets as (

    select * from {{ ref('stg_targets') }}
    where scope = 'rep'

),

won_by_rep_quarter as (

    select
        ar_rep_id as rep_id,
        year,
        quarter,
        sum(revenue) as revenue,
        sum(profit) as profit,
        sum(case when profit is null then revenue else 0 end) as revenue_without_profit,
        count(*) as deals_won
    from deals_won
    group by ar_rep_id, year, quarter

),

measured as (

    select
        rep_quarters.rep_id,
        rep_quarters.region_id,
        rep_quarters.year,
        rep_quarters.quarter,
        rep_quarters.quarter_end_date,
        rep_quarters.market_type,
        coalesce(won_by_rep_quarter.revenue, 0) as revenue,
        coalesce(won_by_rep_quarter.profit, 0) as profit,
        rep_quarters.fte,
        rep_quarters.fte_contracted,
        rep_quarters.days_employed,
        rep_quarters.days_in_period,
        rep_quarters.yoy_window_complete,
        coalesce(won_by_rep_quarter.revenue_without_profit, 0) as revenue_without_profit,
        coalesce(won_by_rep_quarter.deals_won, 0) as deals_won,
        coalesce(cash_collected.cash_collected, 0) as cash_collected
    from rep_quarters
    left join won_by_rep_quarter
        on rep_quarters.rep_id = won_by_rep_quarter.rep_id
            and rep_quarters.year = won_by_rep_quarter.year
            and rep_quarters.quarter = won_by_rep_quarter.quarter
    left join cash_collected
        on rep_quarters.rep_id = cash_collected.rep_id
            and rep_quarters.year = cash_collected.year
            and rep_quarters.quarter = cash_collected.quarter

),

with_prior_year as (

    {{ with_prior_year_and_target('measured', 'targets', 'rep_id') }}

),

final as (

    select
        rep_id,
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
        fte_contracted,
        days_employed,
        days_in_period,
        yoy_window_complete
    from with_prior_year

)

select * from final

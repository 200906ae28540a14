{#-
    One row per calendar quarter from the quarter of the first event (interaction or won
    deal) to the quarter of as_of_date. snapshot_date is the day the quarter's measures are
    taken: the quarter end, or as_of_date for the quarter still running.
    Warm-up of the tier windows (docs/metrics.md, "Warm-up"): first_deal_data_date is the
    first close date of a closed (won or lost) deal on or before as_of_date (the first
    interaction date when there is none); a trailing window is complete when its first day
    is on or after it:
      revenue_window_complete      the revenue window (revenue_window_months, 12)
      winnability_window_complete  the win-rate window (winnability_window_months, 24)
      yoy_window_complete          the same quarter one year earlier, which growth compares
                                   with, starts on or after first_deal_data_date
    Seed: tier_score_settings.
-#}
with

dates as (

    select * from {{ ref('int_dates') }}

),

opportunities as (

    select * from {{ ref('stg_opportunities') }}

),

first_won_deal as (

    select min(opportunities.close_date) as first_won_date
    from opportunities
    cross join dates
    where
        opportunities.status = 'won'
        and opportunities.close_date <= dates.as_of_date

),

first_closed_deal as (

    select min(opportunities.close_date) as first_closed_date
    from opportunities
    cross join dates
    where
        opportunities.status in ('won', 'lost')
        and opportunities.close_date <= dates.as_of_date

),

settings as (

    {{ pivot_settings('tier_score_settings', [
        'revenue_window_months', 'winnability_window_months'
    ]) }}

),

bounds as (

    select
        cast({{ dbt.date_trunc('quarter', 'coalesce(least(dates.first_interaction_date, first_won_deal.first_won_date), dates.first_interaction_date, first_won_deal.first_won_date)') }} as date)
            as first_quarter_start,
        cast({{ dbt.date_trunc('quarter', 'dates.as_of_date') }} as date) as last_quarter_start,
        dates.as_of_date,
        coalesce(first_closed_deal.first_closed_date, dates.first_interaction_date)
            as first_deal_data_date
    from dates
    cross join first_won_deal
    cross join first_closed_deal
    where coalesce(dates.first_interaction_date, first_won_deal.first_won_date) is not null

),

quarters as (

    {{ month_series('bounds', 'bounds.first_quarter_start', 'bounds.last_quarter_start', 3) }}

),

snapshots as (

    select
        quarters.period_start_date as quarter_start_date,
        cast({{ dbt.last_day('quarters.period_start_date', 'quarter') }} as date) as quarter_end_date,
        cast({{ date_part('year', 'quarters.period_start_date') }} as integer) as year,
        cast({{ date_part('quarter', 'quarters.period_start_date') }} as integer) as quarter,
        case
            when {{ dbt.last_day('quarters.period_start_date', 'quarter') }} > bounds.as_of_date
                then bounds.as_of_date
            else cast({{ dbt.last_day('quarters.period_start_date', 'quarter') }} as date)
        end as snapshot_date,
        bounds.first_deal_data_date
    from quarters
    cross join bounds

),

windows as (

    -- the first day of each trailing window: the window is (snapshot - months, snapshot]
    select
        snapshots.*,
        cast({{ dbt.dateadd('day', 1, dbt.dateadd('month', '-1 * cast(settings.revenue_window_months as integer)', 'snapshots.snapshot_date')) }} as date)
            as revenue_window_first_day,
        cast({{ dbt.dateadd('day', 1, dbt.dateadd('month', '-1 * cast(settings.winnability_window_months as integer)', 'snapshots.snapshot_date')) }} as date)
            as winnability_window_first_day
    from snapshots
    cross join settings

),

final as (

    select
        quarter_start_date,
        quarter_end_date,
        year,
        quarter,
        snapshot_date,
        first_deal_data_date,
        revenue_window_first_day >= first_deal_data_date as revenue_window_complete,
        winnability_window_first_day >= first_deal_data_date as winnability_window_complete,
        cast({{ dbt.dateadd('year', -1, 'quarter_start_date') }} as date) >= first_deal_data_date
            as yoy_window_complete
    from windows

)

select * from final

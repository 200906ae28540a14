{#-
    One row per calendar quarter from the quarter of the first event (interaction or won
    deal) to the quarter of as_of_date. snapshot_date is the day the quarter's measures are
    taken: the quarter end, or as_of_date for the quarter still running.
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

bounds as (

    select
        cast({{ dbt.date_trunc('quarter', 'coalesce(least(dates.first_interaction_date, first_won_deal.first_won_date), dates.first_interaction_date, first_won_deal.first_won_date)') }} as date)
            as first_quarter_start,
        cast({{ dbt.date_trunc('quarter', 'dates.as_of_date') }} as date) as last_quarter_start,
        dates.as_of_date
    from dates
    cross join first_won_deal
    where coalesce(dates.first_interaction_date, first_won_deal.first_won_date) is not null

),

quarters as (

    {{ month_series('bounds', 'bounds.first_quarter_start', 'bounds.last_quarter_start', 3) }}

),

final as (

    select
        quarters.period_start_date as quarter_start_date,
        cast({{ dbt.last_day('quarters.period_start_date', 'quarter') }} as date) as quarter_end_date,
        cast({{ date_part('year', 'quarters.period_start_date') }} as integer) as year,
        cast({{ date_part('quarter', 'quarters.period_start_date') }} as integer) as quarter,
        case
            when {{ dbt.last_day('quarters.period_start_date', 'quarter') }} > bounds.as_of_date
                then bounds.as_of_date
            else cast({{ dbt.last_day('quarters.period_start_date', 'quarter') }} as date)
        end as snapshot_date
    from quarters
    cross join bounds

)

select * from final

{#-
    One row per calendar month from the month of the first interaction to the month of
    as_of_date. snapshot_date is the day the month's measures are taken: the month end,
    or as_of_date for the month still running. Built once; every monthly model joins it.
-#}
with

dates as (

    select * from {{ ref('int_dates') }}

),

bounds as (

    select
        cast({{ dbt.date_trunc('month', 'first_interaction_date') }} as date) as first_month_start,
        cast({{ dbt.date_trunc('month', 'as_of_date') }} as date) as last_month_start,
        as_of_date
    from dates
    where first_interaction_date is not null

),

months as (

    {{ month_series('bounds', 'bounds.first_month_start', 'bounds.last_month_start', 1) }}

),

final as (

    select
        months.period_start_date as month_start_date,
        cast({{ dbt.last_day('months.period_start_date', 'month') }} as date) as month_end_date,
        case
            when {{ dbt.last_day('months.period_start_date', 'month') }} > bounds.as_of_date
                then bounds.as_of_date
            else cast({{ dbt.last_day('months.period_start_date', 'month') }} as date)
        end as snapshot_date,
        {{ month_index('months.period_start_date') }} as month_index
    from months
    cross join bounds

)

select * from final

{#-
    One row per calendar month from the month of the first interaction to the month of
    as_of_date. snapshot_date is the day the month's measures are taken: the month end,
    or as_of_date for the month still running. Built once; every monthly model joins it.
    Warm-up (docs/metrics.md, "Warm-up"): first_data_date is the first interaction date;
    a trailing window is complete when its first day is on or after it. Per month:
      key_window_complete            the intimacy window (intimacy_window_days, 365)
      general_window_complete        the general window (general_window_days, 90)
      org_window_complete            the org window (org_window_months, 24) and the
                                     executive-visit window (exec_visit_window_months, 12)
      concentration_window_complete  the concentration window (concentration_window_months
                                     calendar months ending with this month, 12): its first
                                     month is the month of first_data_date or later
      window_complete                all four
    Seed: relationship_score_settings.
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

first_data as (

    select
        first_interaction_date as first_data_date,
        {{ month_index('first_interaction_date') }} as first_data_month_index
    from dates

),

settings as (

    {{ pivot_settings('relationship_score_settings', [
        'intimacy_window_days', 'general_window_days', 'org_window_months',
        'exec_visit_window_months', 'concentration_window_months'
    ]) }}

),

months as (

    {{ month_series('bounds', 'bounds.first_month_start', 'bounds.last_month_start', 1) }}

),

snapshots as (

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

),

windows as (

    -- the first day of each trailing window: the window is (snapshot - length, snapshot]
    select
        snapshots.*,
        first_data.first_data_date,
        cast({{ dbt.dateadd('day', '1 - cast(settings.intimacy_window_days as integer)', 'snapshots.snapshot_date') }} as date)
            as key_window_first_day,
        cast({{ dbt.dateadd('day', '1 - cast(settings.general_window_days as integer)', 'snapshots.snapshot_date') }} as date)
            as general_window_first_day,
        cast({{ dbt.dateadd('day', 1, dbt.dateadd('month', '-1 * cast(settings.org_window_months as integer)', 'snapshots.snapshot_date')) }} as date)
            as org_window_first_day,
        cast({{ dbt.dateadd('day', 1, dbt.dateadd('month', '-1 * cast(settings.exec_visit_window_months as integer)', 'snapshots.snapshot_date')) }} as date)
            as exec_window_first_day,
        first_data.first_data_month_index,
        snapshots.month_index - cast(settings.concentration_window_months as integer) + 1
            as concentration_first_month_index
    from snapshots
    cross join settings
    cross join first_data

),

final as (

    select
        month_start_date,
        month_end_date,
        snapshot_date,
        month_index,
        first_data_date,
        key_window_first_day >= first_data_date as key_window_complete,
        general_window_first_day >= first_data_date as general_window_complete,
        org_window_first_day >= first_data_date
        and exec_window_first_day >= first_data_date as org_window_complete,
        concentration_first_month_index >= first_data_month_index
            as concentration_window_complete,
        key_window_first_day >= first_data_date
        and general_window_first_day >= first_data_date
        and org_window_first_day >= first_data_date
        and exec_window_first_day >= first_data_date
        and concentration_first_month_index >= first_data_month_index as window_complete
    from windows

)

select * from final

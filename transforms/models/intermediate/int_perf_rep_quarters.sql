{#-
    One row per rep per quarter in which the rep is employed at least one day: hired on or
    before the quarter's period end, and not left before the quarter starts (hire_date is
    the first day employed, leave_date the last). No row outside hire..leave.
    FTE by days (docs/metrics-scorecard.md, "FTE"): the period is quarter start .. period
    end (the quarter end, or as_of_date for the quarter still running);
      days_in_period = days of the period
      days_employed  = days of the period from max(hire, quarter start) to min(leave, period end)
      fte            = fte_contracted x days_employed / days_in_period
    so a rep employed 1 day of a 91-day quarter counts 1/91 of the contracted FTE.
    fte_contracted is the rep's current FTE (reps hold no FTE history). Carries the rep's
    home region, role and the market type recorded for the region that year (null when none
    is recorded). The 'Unassigned' placeholder rep of staging has no row.
-#}
with

reps as (

    -- the 'Unassigned' placeholder rep holds accounts but is nobody: no head-count, no rank
    select * from {{ ref('stg_reps') }}
    where not coalesce(is_placeholder, false)  -- null in unit-test inputs that omit it

),

quarters as (

    select
        year,
        quarter,
        quarter_start_date,
        quarter_end_date,
        snapshot_date as period_end_date,
        yoy_window_complete
    from {{ ref('int_calendar_quarters') }}

),

region_market_types as (

    select * from {{ ref('stg_region_market_types') }}

),

employed as (

    select
        reps.rep_id,
        reps.region_id,
        reps.role,
        reps.fte as fte_contracted,
        quarters.year,
        quarters.quarter,
        quarters.quarter_start_date,
        quarters.quarter_end_date,
        quarters.period_end_date,
        quarters.yoy_window_complete,
        {{ dbt.datediff('quarters.quarter_start_date', 'quarters.period_end_date', 'day') }} + 1
            as days_in_period,
        {{ dbt.datediff(
            'greatest(reps.hire_date, quarters.quarter_start_date)',
            'least(coalesce(reps.leave_date, quarters.period_end_date), quarters.period_end_date)',
            'day'
        ) }} + 1 as days_employed
    from reps
    inner join quarters
        on reps.hire_date <= quarters.period_end_date
            and (reps.leave_date is null or reps.leave_date >= quarters.quarter_start_date)

),

final as (

    select
        employed.rep_id,
        employed.region_id,
        employed.role,
        employed.fte_contracted
        * cast(employed.days_employed as {{ type_double() }})
        / employed.days_in_period as fte,
        employed.fte_contracted,
        employed.days_employed,
        employed.days_in_period,
        employed.year,
        employed.quarter,
        employed.quarter_start_date,
        employed.quarter_end_date,
        employed.period_end_date,
        employed.yoy_window_complete,
        region_market_types.market_type
    from employed
    left join region_market_types
        on employed.region_id = region_market_types.region_id
            and employed.year = region_market_types.year

)

select * from final

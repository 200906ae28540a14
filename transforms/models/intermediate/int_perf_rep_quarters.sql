{#-
    One row per rep per quarter in which the rep is employed: hired on or before the
    quarter's period end, and not left before the quarter starts. Carries the rep's home
    region, role, FTE (the rep's current FTE: reps hold no FTE history) and the market type
    recorded for the region that year (null when none is recorded).
-#}
with

reps as (

    select * from {{ ref('stg_reps') }}

),

quarters as (

    select
        year,
        quarter,
        quarter_start_date,
        quarter_end_date,
        snapshot_date as period_end_date
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
        reps.fte,
        quarters.year,
        quarters.quarter,
        quarters.quarter_start_date,
        quarters.quarter_end_date,
        quarters.period_end_date
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
        employed.fte,
        employed.year,
        employed.quarter,
        employed.quarter_start_date,
        employed.quarter_end_date,
        employed.period_end_date,
        region_market_types.market_type
    from employed
    left join region_market_types
        on employed.region_id = region_market_types.region_id
            and employed.year = region_market_types.year

)

select * from final

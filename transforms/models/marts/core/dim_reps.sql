{#- One row per rep, with the region's name; is_active = not left on or before as_of_date. -#}
with

reps as (

    select * from {{ ref('stg_reps') }}

),

regions as (

    select * from {{ ref('stg_regions') }}

),

dates as (

    select * from {{ ref('int_dates') }}

),

final as (

    select
        reps.rep_id,
        reps.rep_name,
        reps.email,
        reps.region_id,
        regions.region_name,
        reps.role,
        reps.fte,
        reps.hire_date,
        reps.leave_date,
        reps.manager_rep_id,
        (reps.leave_date is null or reps.leave_date > dates.as_of_date) as is_active
    from reps
    cross join dates
    left join regions
        on reps.region_id = regions.region_id

)

select * from final

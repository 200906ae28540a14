{#- targets.scope_id is a rep_id when scope = 'rep' and a region_id when scope = 'region'. -#}
with

targets as (

    select * from {{ ref('stg_targets') }}

),

reps as (

    select * from {{ ref('stg_reps') }}

),

regions as (

    select * from {{ ref('stg_regions') }}

),

final as (

    select
        targets.scope,
        targets.scope_id,
        targets.year,
        targets.quarter
    from targets
    left join reps
        on targets.scope = 'rep' and targets.scope_id = reps.rep_id
    left join regions
        on targets.scope = 'region' and targets.scope_id = regions.region_id
    where reps.rep_id is null and regions.region_id is null

)

select * from final

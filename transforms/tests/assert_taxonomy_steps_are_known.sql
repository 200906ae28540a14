{#-
    The monthly relationship models loop over the depth steps and org elements listed in
    the vars depth_steps and org_elements (dbt_project.yml). A taxonomy row using any
    other value would be silently ignored: fail instead, naming the activity type.
-#}
with

taxonomy as (

    select * from {{ ref('activity_taxonomy') }}

),

final as (

    select
        activity_type,
        depth_step,
        org_element
    from taxonomy
    where
        (depth_step is not null and depth_step not in ({{ var('depth_steps') | join(', ') }}))
        or (org_element is not null and org_element not in ({{ var('org_elements') | join(', ') }}))

)

select * from final

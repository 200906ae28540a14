{{ config(materialized='view') }}
{#-
    One row per interaction, with its activity type's layer, depth step, org element and
    executive-visit flag from the activity taxonomy, and its calendar month. A view: the
    interactions are read once by fct_interactions and once by each monthly aggregate.
-#}
with

interactions as (

    select * from {{ ref('stg_interactions') }}

),

taxonomy as (

    select * from {{ ref('activity_taxonomy') }}

),

final as (

    select
        interactions.interaction_id,
        interactions.occurred_at,
        cast(interactions.occurred_at as date) as occurred_date,
        cast(
            {{ dbt.date_trunc('month', 'interactions.occurred_at') }} as date
        ) as month_start_date,
        cast(
            {{ dbt.last_day('cast(interactions.occurred_at as date)', 'month') }} as date
        ) as month_end_date,
        interactions.logged_at,
        interactions.rep_id,
        interactions.account_id,
        interactions.contact_id,
        interactions.activity_type,
        taxonomy.layer,
        taxonomy.depth_step,
        taxonomy.org_element,
        coalesce(taxonomy.is_executive_visit, false) as is_executive_visit,
        interactions.outcome,
        interactions.plan_item_id
    from interactions
    left join taxonomy
        on interactions.activity_type = taxonomy.activity_type

)

select * from final

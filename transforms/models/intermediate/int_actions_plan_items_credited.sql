{#-
    The iron triangle: one row per plan item with the rep it is credited to on
    key actions 4-7 (credited_rep_id) and why (credited_to: 'owner', 'account_ar', 'current_ar',
    or null when nobody responsible was employed). Who, in which order: credited_items()
    in macros/employment.sql.
-#}
with

plan_items as (

    select * from {{ ref('stg_plan_items') }}

),

plans as (

    select plan_id, account_id from {{ ref('stg_relationship_plans') }}

),

plan_items_with_account as (

    select
        plan_items.*,
        plans.account_id
    from plan_items
    left join plans
        on plan_items.plan_id = plans.plan_id

),

final as (

    {{ credited_items('plan_items_with_account') }}

)

select * from final

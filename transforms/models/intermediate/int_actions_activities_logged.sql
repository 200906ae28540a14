{#-
    Key action 7 (contact activities standardised, done with quality). One row per assessed
    rep per quarter. denominator: the rep's planned activities due in the quarter up to its
    period end (plan items credited to the rep, int_actions_plan_items_credited, with a
    planned_activity_type); numerator: those
    executed and logged complete: at least one interaction linked by plan_item_id that
    occurred on or before the period end, is of the item's layer (the activity type's layer
    in activity_taxonomy), has an outcome, names the targeted contact when the item targets
    one, and was logged at most action7_log_within_days after it occurred.
    Not scored when no plan item is recorded at all, or no planned activity is due.
-#}
with

rep_quarters as (

    select * from {{ ref('int_actions_rep_quarters') }}

),

plan_items as (

    select * from {{ ref('int_actions_plan_items_credited') }}

),

interactions as (

    select * from {{ ref('stg_interactions') }}

),

activity_taxonomy as (

    select activity_type, layer from {{ ref('activity_taxonomy') }}

),

settings as (

    select
        max(case when setting_name = 'action7_log_within_days' then setting_value end)
            as log_within_days
    from {{ ref('key_action_settings') }}

),

plan_item_rows as (

    select count(*) as row_count from plan_items

),

planned_activities_due as (

    select
        rep_quarters.rep_id,
        rep_quarters.year,
        rep_quarters.quarter,
        rep_quarters.period_end_date,
        plan_items.plan_item_id,
        plan_items.layer,
        plan_items.target_contact_id
    from rep_quarters
    inner join plan_items
        on rep_quarters.rep_id = plan_items.credited_rep_id
            and plan_items.planned_activity_type is not null
            and plan_items.due_date >= rep_quarters.quarter_start_date
            and plan_items.due_date <= rep_quarters.period_end_date

),

logged_complete as (

    select distinct
        planned_activities_due.rep_id,
        planned_activities_due.year,
        planned_activities_due.quarter,
        planned_activities_due.plan_item_id
    from planned_activities_due
    inner join interactions
        on planned_activities_due.plan_item_id = interactions.plan_item_id
    inner join activity_taxonomy
        on interactions.activity_type = activity_taxonomy.activity_type
            and planned_activities_due.layer = activity_taxonomy.layer
    cross join settings
    where
        cast(interactions.occurred_at as date) <= planned_activities_due.period_end_date
        and interactions.outcome is not null
        and (
            planned_activities_due.target_contact_id is null
            or interactions.contact_id = planned_activities_due.target_contact_id
        )
        and interactions.logged_at is not null
        and {{ dbt.datediff('interactions.occurred_at', 'interactions.logged_at', 'second') }}
        <= settings.log_within_days * 86400

),

counted as (

    select
        planned_activities_due.rep_id,
        planned_activities_due.year,
        planned_activities_due.quarter,
        count(*) as activities_due,
        count(logged_complete.plan_item_id) as activities_logged_complete
    from planned_activities_due
    left join logged_complete
        on planned_activities_due.rep_id = logged_complete.rep_id
            and planned_activities_due.year = logged_complete.year
            and planned_activities_due.quarter = logged_complete.quarter
            and planned_activities_due.plan_item_id = logged_complete.plan_item_id
    group by planned_activities_due.rep_id, planned_activities_due.year, planned_activities_due.quarter

),

final as (

    select
        rep_quarters.rep_id,
        rep_quarters.year,
        rep_quarters.quarter,
        7 as action_no,
        cast(coalesce(counted.activities_logged_complete, 0) as {{ type_double() }}) as numerator,
        cast(coalesce(counted.activities_due, 0) as {{ type_double() }}) as denominator,
        case
            when plan_item_rows.row_count = 0 then 'no relationship plan items recorded'
            when coalesce(counted.activities_due, 0) = 0
                then 'no planned activities due in the quarter'
        end as not_scored_reason
    from rep_quarters
    cross join plan_item_rows
    left join counted
        on rep_quarters.rep_id = counted.rep_id
            and rep_quarters.year = counted.year
            and rep_quarters.quarter = counted.quarter

)

select * from final

{#-
    Key actions 4, 5 and 6 (key / organisational / general relationship improvement plan).
    One row per assessed rep per quarter per action whose key_actions.layer is set.
    denominator: the plan items credited to the rep (int_actions_plan_items_credited: the
    owner's, or the account AR's for items owned by SR/FR, the iron triangle) of that layer
    due in the quarter up to its period end; numerator: those done on or before their due date.
    Not scored when no plan item is recorded at all, or none of that layer is due.
-#}
with

rep_quarters as (

    select * from {{ ref('int_actions_rep_quarters') }}

),

plan_items as (

    select * from {{ ref('int_actions_plan_items_credited') }}

),

layer_actions as (

    select action_no, layer from {{ ref('key_actions') }}
    where layer is not null

),

plan_item_rows as (

    select count(*) as row_count from plan_items

),

items_due as (

    select
        rep_quarters.rep_id,
        rep_quarters.year,
        rep_quarters.quarter,
        plan_items.layer,
        count(*) as items_due,
        sum(
            case
                when plan_items.done_date is not null and plan_items.done_date <= plan_items.due_date
                    then 1
                else 0
            end
        ) as items_done_on_time
    from rep_quarters
    inner join plan_items
        on rep_quarters.rep_id = plan_items.credited_rep_id
            and plan_items.due_date >= rep_quarters.quarter_start_date
            and plan_items.due_date <= rep_quarters.period_end_date
    group by rep_quarters.rep_id, rep_quarters.year, rep_quarters.quarter, plan_items.layer

),

final as (

    select
        rep_quarters.rep_id,
        rep_quarters.year,
        rep_quarters.quarter,
        layer_actions.action_no,
        cast(coalesce(items_due.items_done_on_time, 0) as {{ type_double() }}) as numerator,
        cast(coalesce(items_due.items_due, 0) as {{ type_double() }}) as denominator,
        case
            when plan_item_rows.row_count = 0 then 'no relationship plan items recorded'
            when coalesce(items_due.items_due, 0) = 0
                then {{ dbt.concat(["'no '", 'layer_actions.layer', "'-layer plan items due in the quarter'"]) }}
        end as not_scored_reason
    from rep_quarters
    cross join layer_actions
    cross join plan_item_rows
    left join items_due
        on rep_quarters.rep_id = items_due.rep_id
            and rep_quarters.year = items_due.year
            and rep_quarters.quarter = items_due.quarter
            and layer_actions.layer = items_due.layer

)

select * from final

{#-
    The iron triangle: nothing owned is credited to nobody. Every plan item and
    complaint due in the measured history (a quarter of int_calendar_quarters, up to its
    snapshot day) counts for an assessed rep in the quarter it is due: its credited_rep_id
    (int_actions_plan_items_credited, int_actions_complaints_credited) is set and has a row
    of int_actions_rep_quarters for that quarter. An item credited to a rep that is nobody
    (a placeholder such as staging's 'Unassigned' rep of accounts without an AR, which has
    no int_perf_rep_quarters row at all) is credited to that placeholder, visibly, and not
    counted here.
    One row per item credited to nobody; the test passes when there is none.
-#}
with

quarters as (

    select year, quarter, quarter_start_date, snapshot_date from {{ ref('int_calendar_quarters') }}

),

rep_quarters as (

    select rep_id, year, quarter from {{ ref('int_actions_rep_quarters') }}

),

people as (

    select rep_id from {{ ref('int_perf_rep_quarters') }}
    group by rep_id

),

items as (

    select
        'plan_item' as item_type,
        plan_item_id as item_id,
        owner_rep_id,
        credited_rep_id,
        due_date
    from {{ ref('int_actions_plan_items_credited') }}

    union all

    select
        'complaint' as item_type,
        complaint_id as item_id,
        owner_rep_id,
        credited_rep_id,
        due_date
    from {{ ref('int_actions_complaints_credited') }}

),

due_in_history as (

    select
        items.*,
        quarters.year,
        quarters.quarter
    from items
    inner join quarters
        on items.due_date >= quarters.quarter_start_date
            and items.due_date <= quarters.snapshot_date

)

select
    due_in_history.item_type,
    due_in_history.item_id,
    due_in_history.owner_rep_id,
    due_in_history.credited_rep_id,
    due_in_history.due_date
from due_in_history
left join rep_quarters
    on due_in_history.credited_rep_id = rep_quarters.rep_id
        and due_in_history.year = rep_quarters.year
        and due_in_history.quarter = rep_quarters.quarter
left join people
    on due_in_history.credited_rep_id = people.rep_id
where
    rep_quarters.rep_id is null
    and (due_in_history.credited_rep_id is null or people.rep_id is not null)

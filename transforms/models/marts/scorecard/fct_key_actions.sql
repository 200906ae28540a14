{#-
    One row per assessed rep per quarter per key action 1..9 (int_actions_rep_quarters x
    key_actions). score = numerator / denominator (0..1), null when the action cannot be
    scored, not_scored_reason then says why. Each action's measure: its int_actions_* model
    and docs/metrics-scorecard.md.
-#}
with

rep_quarters as (

    select * from {{ ref('int_actions_rep_quarters') }}

),

key_actions as (

    select * from {{ ref('key_actions') }}

),

strategy_set as (

    select * from {{ ref('int_actions_strategy_set') }}

),

plan_made as (

    select * from {{ ref('int_actions_plan_made') }}

),

information_managed as (

    select * from {{ ref('int_actions_information_managed') }}

),

plan_items_done as (

    select * from {{ ref('int_actions_plan_items_done') }}

),

activities_logged as (

    select * from {{ ref('int_actions_activities_logged') }}

),

complaints_closed as (

    select * from {{ ref('int_actions_complaints_closed') }}

),

feedback_collected as (

    select * from {{ ref('int_actions_feedback_collected') }}

),

measured as (

    select
        rep_id,
        year,
        quarter,
        action_no,
        numerator,
        denominator,
        not_scored_reason,
        cast(null as {{ type_double() }}) as satisfaction_avg
    from strategy_set

    union all

    select
        rep_id,
        year,
        quarter,
        action_no,
        numerator,
        denominator,
        not_scored_reason,
        cast(null as {{ type_double() }}) as satisfaction_avg
    from plan_made

    union all

    select
        rep_id,
        year,
        quarter,
        action_no,
        numerator,
        denominator,
        not_scored_reason,
        cast(null as {{ type_double() }}) as satisfaction_avg
    from information_managed

    union all

    select
        rep_id,
        year,
        quarter,
        action_no,
        numerator,
        denominator,
        not_scored_reason,
        cast(null as {{ type_double() }}) as satisfaction_avg
    from plan_items_done

    union all

    select
        rep_id,
        year,
        quarter,
        action_no,
        numerator,
        denominator,
        not_scored_reason,
        cast(null as {{ type_double() }}) as satisfaction_avg
    from activities_logged

    union all

    select
        rep_id,
        year,
        quarter,
        action_no,
        numerator,
        denominator,
        not_scored_reason,
        satisfaction_avg
    from complaints_closed

    union all

    select
        rep_id,
        year,
        quarter,
        action_no,
        numerator,
        denominator,
        not_scored_reason,
        cast(null as {{ type_double() }}) as satisfaction_avg
    from feedback_collected

),

final as (

    select
        rep_quarters.rep_id,
        rep_quarters.region_id,
        rep_quarters.year,
        rep_quarters.quarter,
        rep_quarters.quarter_end_date,
        key_actions.action_no,
        key_actions.action_group,
        key_actions.action_name,
        measured.numerator,
        measured.denominator,
        case
            when measured.not_scored_reason is null and measured.denominator > 0
                then measured.numerator / measured.denominator
        end as score,
        case
            when measured.not_scored_reason is not null then measured.not_scored_reason
            when measured.denominator is null or measured.denominator <= 0
                then 'nothing to measure in the quarter'
        end as not_scored_reason,
        measured.satisfaction_avg
    from rep_quarters
    cross join key_actions
    left join measured
        on rep_quarters.rep_id = measured.rep_id
            and rep_quarters.year = measured.year
            and rep_quarters.quarter = measured.quarter
            and key_actions.action_no = measured.action_no

)

select * from final

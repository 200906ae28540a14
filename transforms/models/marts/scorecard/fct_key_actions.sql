{#-
    One row per assessed rep per quarter per key action 1..9 (int_actions_rep_quarters x
    key_actions). score = numerator / denominator (0..1), null when the action cannot be
    scored, not_scored_reason then says why. Each action's measure: its int_actions_* model
    and docs/metrics-scorecard.md.
-#}
{#-
    The models that measure the key actions, each with one row per rep x quarter x action_no
    it measures (1, 2, 3, 4-6, 7, 8, 9) and numerator, denominator, not_scored_reason. Only
    the complaints (action 8) carry a satisfaction average; the other rows give null.
-#}
{%- set action_models = [
    'int_actions_strategy_set',
    'int_actions_plan_made',
    'int_actions_information_managed',
    'int_actions_plan_items_done',
    'int_actions_activities_logged',
    'int_actions_complaints_closed',
    'int_actions_feedback_collected',
] %}
{%- set with_satisfaction = ['int_actions_complaints_closed'] %}
with

rep_quarters as (

    select * from {{ ref('int_actions_rep_quarters') }}

),

key_actions as (

    select * from {{ ref('key_actions') }}

),

measured as (
    {%- for action_model in action_models %}

    select
        rep_id,
        year,
        quarter,
        action_no,
        numerator,
        denominator,
        not_scored_reason,
        {%- if action_model in with_satisfaction %}
        satisfaction_avg
        {%- else %}
        cast(null as {{ type_double() }}) as satisfaction_avg
        {%- endif %}
    from {{ ref(action_model) }}
    {%- if not loop.last %}

    union all
    {%- endif %}
    {%- endfor %}

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

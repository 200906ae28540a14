{#-
    One row per assessed rep per quarter per key action 1..9 (int_actions_rep_quarters x
    key_actions). score = numerator / denominator (0..1), null when the action cannot be
    scored, not_scored_reason then says why. Each action's measure: its int_actions_* model
    and docs/metrics-scorecard.md.
-#}
{%- set action_models = [
    'int_actions_strategy_set',
    'int_actions_plan_made',
    'int_actions_information_managed',
    'int_actions_plan_items_done',
    'int_actions_activities_logged',
    'int_actions_complaints_closed',
    'int_actions_feedback_collected',
] -%}
with

rep_quarters as (

    select * from {{ ref('int_actions_rep_quarters') }}

),

key_actions as (

    select * from {{ ref('key_actions') }}

),

measured as (

    {% for model_name in action_models %}
    select
        rep_id,
        year,
        quarter,
        action_no,
        numerator,
        denominator,
        not_scored_reason,
        {% if model_name == 'int_actions_complaints_closed' -%}
        satisfaction_avg
        {%- else -%}
        cast(null as {{ type_double() }}) as satisfaction_avg
        {%- endif %}
    from {{ ref(model_name) }}
    {% if not loop.last %}union all{% endif %}
    {% endfor %}

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

{#-
    One row per interaction, classified by the activity taxonomy: layer (key, general,
    org), contact depth step, organisational element, executive-visit flag, and the month.
    Incremental (macros/incremental.sql): an incremental build inserts only the
    interactions from the var incremental_since on (replacing any with the same id).
-#}
{{ config(**incremental_by_month(unique_key='interaction_id')) }}
with

interactions as (

    select * from {{ ref('int_interactions_classified') }}
    {%- if incremental_since_set() %}
    where occurred_at >= {{ incremental_since_date() }}
    {%- endif %}

),

final as (

    select
        interaction_id,
        occurred_at,
        occurred_date,
        month_end_date,
        logged_at,
        rep_id,
        account_id,
        contact_id,
        activity_type,
        layer,
        depth_step,
        org_element,
        is_executive_visit,
        outcome,
        plan_item_id
    from interactions

)

select * from final
{%- if target.type == 'duckdb' %}
-- DuckDB keeps min/max per row group: stored by account, the dashboard's one-account reads
-- (health drill-down) skip almost all of the table (bench scale: 9 ms instead of 400 ms)
order by account_id, occurred_at
{%- endif %}

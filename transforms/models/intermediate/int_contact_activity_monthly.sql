{#-
    One row per account x contact x calendar month with at least one interaction (contact_id
    is null for company-level events). The one pass over the interactions that the monthly
    relationship scores window over: per month, the latest date of any touch, the latest
    date at or above each contact depth step and each organisational element, and the
    latest executive visit. "Latest date at or above step k" lets a later model find the
    deepest step inside any trailing window exactly, from monthly rows.
    Incremental (macros/incremental.sql): from the month of incremental_since on.
-#}
{{ config(**incremental_by_month()) }}
with

interactions as (

    select * from {{ ref('int_interactions_classified') }}
    {%- if incremental_since_set() %}
    where occurred_at >= {{ incremental_since_month() }}
    {%- endif %}

),

final as (

    select
        account_id,
        contact_id,
        month_start_date,
        count(*) as activity_count,
        max(occurred_date) as last_touch_date,
        {%- for step in var('depth_steps') %}
        max(case when depth_step >= {{ step }} then occurred_date end) as last_depth_{{ step }}_date,
        {%- endfor %}
        {%- for element in var('org_elements') %}
        max(case when org_element >= {{ element }} then occurred_date end) as last_org_{{ element }}_date,
        {%- endfor %}
        max(case when is_executive_visit then occurred_date end) as last_exec_visit_date
    from interactions
    group by
        account_id,
        contact_id,
        month_start_date

)

select * from final

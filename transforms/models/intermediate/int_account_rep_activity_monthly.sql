{#-
    One row per account x rep x calendar month with at least one interaction: how many
    relationship activities (every interaction of the taxonomy, any layer) the rep did at
    the account that month. Input of the relationship-concentration measures.
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

calendar as (

    select * from {{ ref('int_calendar_months') }}

),

monthly as (

    select
        account_id,
        rep_id,
        month_start_date,
        count(*) as activity_count
    from interactions
    group by
        account_id,
        rep_id,
        month_start_date

),

final as (

    select
        monthly.account_id,
        monthly.rep_id,
        monthly.month_start_date,
        calendar.month_index,
        monthly.activity_count
    from monthly
    inner join calendar
        on monthly.month_start_date = calendar.month_start_date

)

select * from final

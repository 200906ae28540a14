{#-
    One row per account per calendar month: the organisational relationship (docs/domain.md 2.3).
      org_level          = highest organisational element (1 communication, 2 matching,
                           3 joining, 4 identification) evidenced by an activity in the
                           trailing org window (default 24 months); 0 = none
      has_exec_visit_12m = an executive visit in the trailing exec-visit window (12 months)
      org_score          = max(0, 25 * org_level - (15 if no executive visit))
    Validity (macros/validity.sql): a row only for a month whose snapshot day the account
    exists on (created_date .. closed_date, both included; an empty side is open); the
    running maxima still see activity logged before creation.
    Seed: relationship_score_settings; activity_taxonomy says which activities evidence
    which element and which count as executive visits.
    Running maxima use a range frame: one row per month per partition, so it equals the rows
    frame, and DuckDB evaluates it as a cumulative aggregate (about twice as fast).
    Incremental (macros/incremental.sql): only the months from incremental_since's month on;
    the activity of earlier months is folded into the first of them, so the running maxima
    carry the whole history.
-#}
{{ config(**incremental_by_month()) }}
{%- set since = incremental_since_set() %}
with

accounts as (

    select * from {{ ref('stg_accounts') }}

),

calendar as (

    select * from {{ ref('int_calendar_months') }}

),

contact_activity as (

    select * from {{ ref('int_contact_activity_monthly') }}

),

settings as (

    {{ pivot_settings('relationship_score_settings', [
        'org_window_months', 'org_points_per_element', 'exec_visit_window_months',
        'exec_visit_penalty'
    ]) }}

),

windows as (

    select
        calendar.month_start_date,
        calendar.month_end_date,
        calendar.snapshot_date,
        cast({{ dbt.dateadd('month', '-1 * cast(settings.org_window_months as integer)', 'calendar.snapshot_date') }} as date)
            as org_window_start_exclusive,
        cast({{ dbt.dateadd('month', '-1 * cast(settings.exec_visit_window_months as integer)', 'calendar.snapshot_date') }} as date)
            as exec_window_start_exclusive
    from calendar
    cross join settings
    {%- if since %}
    where calendar.month_start_date >= {{ incremental_since_month() }}
    {%- endif %}

),
{%- if since %}

contact_activity_folded as (

    select
        account_id,
        case
            when month_start_date < {{ incremental_since_month() }}
                then {{ incremental_since_month() }}
            else month_start_date
        end as month_start_date,
        {%- for element in var('org_elements') %}
        last_org_{{ element }}_date,
        {%- endfor %}
        last_exec_visit_date
    from contact_activity

),
{%- endif %}

activity_by_account as (

    select
        account_id,
        month_start_date,
        {%- for element in var('org_elements') %}
        max(last_org_{{ element }}_date) as last_org_{{ element }}_date,
        {%- endfor %}
        max(last_exec_visit_date) as last_exec_visit_date
    from {{ 'contact_activity_folded' if since else 'contact_activity' }}
    group by
        account_id,
        month_start_date

),

account_months as (

    select
        accounts.account_id,
        accounts.created_date,
        accounts.closed_date,
        windows.month_start_date,
        windows.month_end_date,
        windows.snapshot_date,
        windows.org_window_start_exclusive,
        windows.exec_window_start_exclusive,
        {%- for element in var('org_elements') %}
        max(activity_by_account.last_org_{{ element }}_date) over (
            partition by accounts.account_id
            order by windows.month_start_date
            range between unbounded preceding and current row
        ) as last_org_{{ element }}_date,
        {%- endfor %}
        max(activity_by_account.last_exec_visit_date) over (
            partition by accounts.account_id
            order by windows.month_start_date
            range between unbounded preceding and current row
        ) as last_exec_visit_date
    from accounts
    cross join windows
    left join activity_by_account
        on
            accounts.account_id = activity_by_account.account_id
            and windows.month_start_date = activity_by_account.month_start_date

),

measured as (

    select
        account_id,
        month_start_date,
        month_end_date,
        case
            {%- for element in var('org_elements') | sort | reverse %}
            when last_org_{{ element }}_date > org_window_start_exclusive then {{ element }}
            {%- endfor %}
            else 0
        end as org_level,
        coalesce(last_exec_visit_date > exec_window_start_exclusive, false) as has_exec_visit_12m,
        last_exec_visit_date
    from account_months
    where {{ exists_on('created_date', 'closed_date', 'snapshot_date') }}

),

final as (

    select
        measured.account_id,
        measured.month_start_date,
        measured.month_end_date,
        measured.org_level,
        measured.has_exec_visit_12m,
        measured.last_exec_visit_date,
        greatest(
            0,
            settings.org_points_per_element * measured.org_level
            - case when measured.has_exec_visit_12m then 0 else settings.exec_visit_penalty end
        ) as org_score
    from measured
    cross join settings

)

select * from final

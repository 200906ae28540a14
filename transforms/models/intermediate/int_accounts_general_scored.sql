{#-
    One row per account per calendar month: the general relationship (docs/domain.md 2.2).
    Over the account's active contacts on the snapshot day (created on or before it, left
    on or after it; without a left_date, is_active not false), a contact is touched when
    its last activity falls in the general window (default the trailing 90 days):
      breadth             = touched contacts / active contacts
      department_coverage = departments touched / departments with active contacts
      level_coverage      = levels (high, middle, low) touched / level_count (3)
      general_score       = 100 * (0.5 * breadth + 0.3 * department_coverage + 0.2 * level_coverage)
    Validity (macros/validity.sql): a row only for a month whose snapshot day the account
    exists on (created_date .. closed_date, both included; an empty side is open).
    Seed: relationship_score_settings.
    Incremental (macros/incremental.sql): only the months from incremental_since's month on.
-#}
{{ config(**incremental_by_month()) }}
{%- set since = incremental_since_set() %}
with

accounts as (

    select * from {{ ref('stg_accounts') }}

),

contacts as (

    select * from {{ ref('stg_contacts') }}

),

calendar as (

    select * from {{ ref('int_calendar_months') }}
    {%- if since %}
    where month_start_date >= {{ incremental_since_month() }}
    {%- endif %}

),

contact_months as (

    select * from {{ ref('int_contacts_monthly') }}
    {%- if since %}
    where month_start_date >= {{ incremental_since_month() }}
    {%- endif %}

),

settings as (

    {{ pivot_settings('relationship_score_settings', [
        'general_breadth_weight', 'general_department_weight', 'general_level_weight',
        'level_count'
    ]) }}

),

active_contact_months as (

    select
        contacts.account_id,
        contacts.contact_id,
        contacts.department,
        contacts.level,
        contact_months.month_start_date,
        contact_months.is_touched_in_general_window
    from contacts
    inner join contact_months
        on contacts.contact_id = contact_months.contact_id
    where {{ contact_active_on('contacts', 'contact_months.snapshot_date') }}

),

department_groups as (

    -- one row per account, month and department (null: none recorded; a row of
    -- active_contact_months is one contact in one month), then per account and
    -- month from those: counts of distinct departments without a distinct aggregate (three
    -- of them over the contact x month rows cost 9.9 s at bench scale; these steps, 5.7 s)
    select
        account_id,
        month_start_date,
        department,
        count(*) as active_contacts,
        count(case when is_touched_in_general_window then 1 end) as touched_contacts
    from active_contact_months
    group by
        account_id,
        month_start_date,
        department

),

level_groups as (

    -- the levels of the touched contacts, once per account and month
    select
        account_id,
        month_start_date,
        level
    from active_contact_months
    where is_touched_in_general_window
    group by
        account_id,
        month_start_date,
        level

),

levels_touched as (

    select
        account_id,
        month_start_date,
        count(level) as levels_touched
    from level_groups
    group by
        account_id,
        month_start_date

),

department_coverage as (

    select
        account_id,
        month_start_date,
        -- sums of counts: a count's type (DuckDB sums a bigint into a hugeint)
        cast(sum(active_contacts) as {{ dbt.type_bigint() }}) as active_contacts,
        cast(sum(touched_contacts) as {{ dbt.type_bigint() }}) as touched_contacts,
        count(department) as departments,
        count(case when touched_contacts > 0 then department end) as departments_touched
    from department_groups
    group by
        account_id,
        month_start_date

),

coverage as (

    select
        department_coverage.account_id,
        department_coverage.month_start_date,
        department_coverage.active_contacts,
        department_coverage.touched_contacts,
        department_coverage.departments,
        department_coverage.departments_touched,
        coalesce(levels_touched.levels_touched, 0) as levels_touched
    from department_coverage
    left join levels_touched
        on
            department_coverage.account_id = levels_touched.account_id
            and department_coverage.month_start_date = levels_touched.month_start_date

),

measured as (

    select
        accounts.account_id,
        calendar.month_start_date,
        calendar.month_end_date,
        coalesce(coverage.active_contacts, 0) as active_contacts,
        coalesce(coverage.touched_contacts, 0) as touched_contacts,
        coalesce(
            cast(coverage.touched_contacts as {{ type_double() }})
            / nullif(coverage.active_contacts, 0),
            0
        ) as breadth,
        coalesce(
            cast(coverage.departments_touched as {{ type_double() }})
            / nullif(coverage.departments, 0),
            0
        ) as department_coverage,
        coalesce(
            cast(coverage.levels_touched as {{ type_double() }}) / settings.level_count,
            0
        ) as level_coverage,
        settings.general_breadth_weight,
        settings.general_department_weight,
        settings.general_level_weight
    from accounts
    cross join calendar
    cross join settings
    left join coverage
        on
            accounts.account_id = coverage.account_id
            and calendar.month_start_date = coverage.month_start_date
    where {{ account_exists_on('accounts', 'calendar.snapshot_date') }}

),

final as (

    select
        account_id,
        month_start_date,
        month_end_date,
        active_contacts,
        touched_contacts,
        breadth,
        department_coverage,
        level_coverage,
        round(
            100 * (
                general_breadth_weight * breadth
                + general_department_weight * department_coverage
                + general_level_weight * level_coverage
            ),
            6
        ) as general_score
    from measured

)

select * from final

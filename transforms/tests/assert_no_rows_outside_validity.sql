{#-
    Validity windows (macros/validity.sql): no mart row for an entity outside its
    window. Written out here on purpose (not through the macros), as a second statement of
    the rule.
      accounts  fct_relationship_health, fct_account_tiers: created_date <= snapshot_date
                <= closed_date
      contacts  fct_power_map, fct_opportunity_power_map: created_date <= as_of_date <=
                left_date, and the contact's account exists on as_of_date
                (created_date <= as_of_date <= closed_date)
      alerts    fct_account_alerts: the account exists on as_of_date; a contact alert names
                a contact at the account then
      reps      fct_rep_performance, fct_key_actions, fct_rep_scorecard: employed at least
                one day of the quarter (hire_date <= period end, leave_date null or >=
                quarter start)
    One row per offending mart row; the test passes when there is none.
-#}
with

accounts as (

    select account_id, created_date, closed_date from {{ ref('stg_accounts') }}

),

reps as (

    select rep_id, hire_date, leave_date from {{ ref('stg_reps') }}

),

contacts as (

    select contact_id, account_id, created_date, left_date from {{ ref('stg_contacts') }}

),

dates as (

    select as_of_date from {{ ref('int_dates') }}

),

quarters as (

    select year, quarter, quarter_start_date, snapshot_date from {{ ref('int_calendar_quarters') }}

),

health_outside as (

    select
        'fct_relationship_health' as mart,
        health.account_id as entity_id,
        health.snapshot_date
    from {{ ref('fct_relationship_health') }} as health
    inner join accounts
        on health.account_id = accounts.account_id
    where
        health.snapshot_date < accounts.created_date
        or health.snapshot_date > accounts.closed_date

),

tiers_outside as (

    select
        'fct_account_tiers' as mart,
        tiers.account_id as entity_id,
        tiers.snapshot_date
    from {{ ref('fct_account_tiers') }} as tiers
    inner join accounts
        on tiers.account_id = accounts.account_id
    where
        tiers.snapshot_date < accounts.created_date
        or tiers.snapshot_date > accounts.closed_date

),

rep_quarters as (

    select 'fct_rep_performance' as mart, rep_id, year, quarter
    from {{ ref('fct_rep_performance') }}
    union all
    select distinct 'fct_key_actions' as mart, rep_id, year, quarter
    from {{ ref('fct_key_actions') }}
    union all
    select 'fct_rep_scorecard' as mart, rep_id, year, quarter
    from {{ ref('fct_rep_scorecard') }}

),

reps_outside as (

    select
        rep_quarters.mart,
        rep_quarters.rep_id as entity_id,
        quarters.snapshot_date
    from rep_quarters
    inner join reps
        on rep_quarters.rep_id = reps.rep_id
    inner join quarters
        on
            rep_quarters.year = quarters.year
            and rep_quarters.quarter = quarters.quarter
    where
        reps.hire_date > quarters.snapshot_date
        or reps.leave_date < quarters.quarter_start_date

),

power_map_rows as (

    select 'fct_power_map' as mart, contact_id, as_of_date
    from {{ ref('fct_power_map') }}
    union all
    select 'fct_opportunity_power_map' as mart, contact_id, as_of_date
    from {{ ref('fct_opportunity_power_map') }}

),

contacts_outside as (

    select
        power_map_rows.mart,
        power_map_rows.contact_id as entity_id,
        power_map_rows.as_of_date as snapshot_date
    from power_map_rows
    inner join contacts
        on power_map_rows.contact_id = contacts.contact_id
    left join accounts
        on contacts.account_id = accounts.account_id
    where
        contacts.created_date > power_map_rows.as_of_date
        or contacts.left_date < power_map_rows.as_of_date
        or accounts.created_date > power_map_rows.as_of_date
        or accounts.closed_date < power_map_rows.as_of_date

),

alerts_outside as (

    select
        'fct_account_alerts' as mart,
        coalesce(alerts.contact_id, alerts.account_id) as entity_id,
        dates.as_of_date as snapshot_date
    from {{ ref('fct_account_alerts') }} as alerts
    cross join dates
    inner join accounts
        on alerts.account_id = accounts.account_id
    left join contacts
        on alerts.contact_id = contacts.contact_id
    where
        accounts.created_date > dates.as_of_date
        or accounts.closed_date < dates.as_of_date
        or contacts.created_date > dates.as_of_date
        or contacts.left_date < dates.as_of_date

)

select * from health_outside
union all
select * from tiers_outside
union all
select * from reps_outside
union all
select * from contacts_outside
union all
select * from alerts_outside

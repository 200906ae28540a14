{#-
    Validity windows (issue 16): no mart row for an entity outside its window.
      accounts  fct_relationship_health, fct_account_tiers: snapshot_date >= created_date
      reps      fct_rep_performance: employed at least one day of the quarter
                (hire_date <= period end, leave_date null or >= quarter start)
    One row per offending mart row; the test passes when there is none.
-#}
with

accounts as (

    select account_id, created_date from {{ ref('stg_accounts') }}

),

reps as (

    select rep_id, hire_date, leave_date from {{ ref('stg_reps') }}

),

quarters as (

    select year, quarter, quarter_start_date, snapshot_date from {{ ref('int_calendar_quarters') }}

),

health_before as (

    select
        'fct_relationship_health' as mart,
        health.account_id as entity_id,
        health.snapshot_date
    from {{ ref('fct_relationship_health') }} as health
    inner join accounts
        on health.account_id = accounts.account_id
    where health.snapshot_date < accounts.created_date

),

tiers_before as (

    select
        'fct_account_tiers' as mart,
        tiers.account_id as entity_id,
        tiers.snapshot_date
    from {{ ref('fct_account_tiers') }} as tiers
    inner join accounts
        on tiers.account_id = accounts.account_id
    where tiers.snapshot_date < accounts.created_date

),

reps_outside as (

    select
        'fct_rep_performance' as mart,
        performance.rep_id as entity_id,
        quarters.snapshot_date
    from {{ ref('fct_rep_performance') }} as performance
    inner join reps
        on performance.rep_id = reps.rep_id
    inner join quarters
        on
            performance.year = quarters.year
            and performance.quarter = quarters.quarter
    where
        reps.hire_date > quarters.snapshot_date
        or reps.leave_date < quarters.quarter_start_date

)

select * from health_before
union all
select * from tiers_before
union all
select * from reps_outside

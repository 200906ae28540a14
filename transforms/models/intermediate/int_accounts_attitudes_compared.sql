{#-
    One row per account per calendar month: our standing against competitors where their
    stance is recorded (docs/domain.md 2.4, "relationships are relative").
      our_avg_attitude        mean attitude toward us, in force on the snapshot day, over the
                              account's assessed contacts (null: none assessed)
      competitor_avg_attitude mean of the latest stance on or before the snapshot day of each
                              contact x competitor recorded at the account (null: none)
    Validity (macros/validity.sql): a row only for a month whose snapshot day the account
    exists on (created_date .. closed_date); contacts count from their creation to their
    left_date (ours: int_contacts_monthly; theirs: the same rule here).
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

competitor_stances as (

    select * from {{ ref('stg_competitor_stances') }}

),

ours as (

    select
        account_id,
        month_start_date,
        avg(cast(attitude as {{ type_double() }})) as our_avg_attitude,
        count(*) as contacts_assessed
    from contact_months
    where attitude is not null
    group by
        account_id,
        month_start_date

),

stances_versioned as (

    select
        competitor_stances.contact_id,
        contacts.account_id,
        competitor_stances.competitor,
        competitor_stances.attitude,
        contacts.created_date,
        contacts.left_date,
        competitor_stances.assessed_date as valid_from,
        lead(competitor_stances.assessed_date) over (
            partition by competitor_stances.contact_id, competitor_stances.competitor
            order by competitor_stances.assessed_date
        ) as next_assessed_date
    from competitor_stances
    inner join contacts
        on competitor_stances.contact_id = contacts.contact_id

),

theirs as (

    select
        stances_versioned.account_id,
        calendar.month_start_date,
        avg(cast(stances_versioned.attitude as {{ type_double() }})) as competitor_avg_attitude,
        count(*) as competitor_stances_in_force
    from stances_versioned
    inner join calendar
        on
            stances_versioned.valid_from <= calendar.snapshot_date
            and (
                stances_versioned.next_assessed_date is null
                or stances_versioned.next_assessed_date > calendar.snapshot_date
            )
            and {{ contact_exists_on('stances_versioned', 'calendar.snapshot_date') }}
    group by
        stances_versioned.account_id,
        calendar.month_start_date

),

final as (

    select
        accounts.account_id,
        calendar.month_start_date,
        calendar.month_end_date,
        ours.our_avg_attitude,
        coalesce(ours.contacts_assessed, 0) as contacts_assessed,
        theirs.competitor_avg_attitude,
        coalesce(theirs.competitor_stances_in_force, 0) as competitor_stances_in_force
    from accounts
    cross join calendar
    left join ours
        on
            accounts.account_id = ours.account_id
            and calendar.month_start_date = ours.month_start_date
    left join theirs
        on
            accounts.account_id = theirs.account_id
            and calendar.month_start_date = theirs.month_start_date
    where {{ account_exists_on('accounts', 'calendar.snapshot_date') }}

)

select * from final

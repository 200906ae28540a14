{#-
    One row per account per calendar month: the key relationship score (0..100), the
    influence-weighted mean over the account's active role holders (contacts with a
    decision role) of their contact key score = 100 * (0.6 * support_norm + 0.4 * intimacy).
    An account without an active role holder scores 0. docs/domain.md 2.1.
    Validity (macros/validity.sql): a row only for a month whose snapshot day the account
    exists on (created_date .. closed_date); role holders count from their creation to their
    left_date (int_contacts_monthly has no row for a contact outside that window), and a
    role holder without a left_date counts only while is_active is not false.
    Seeds: role_influence_weights, relationship_score_settings (via int_contacts_monthly).
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

role_weights as (

    select * from {{ ref('role_influence_weights') }}

),

role_holders as (

    select
        contacts.contact_id,
        contacts.account_id,
        role_weights.influence_weight
    from contacts
    inner join role_weights
        on contacts.decision_role = role_weights.decision_role
    where {{ contact_flagged_active('contacts') }}

),

weighted as (

    select
        role_holders.account_id,
        contact_months.month_start_date,
        sum(role_holders.influence_weight * contact_months.contact_key_score) as weighted_score_sum,
        sum(role_holders.influence_weight) as weight_sum,
        count(*) as role_holder_count
    from role_holders
    inner join contact_months
        on role_holders.contact_id = contact_months.contact_id
    group by
        role_holders.account_id,
        contact_months.month_start_date

),

final as (

    select
        accounts.account_id,
        calendar.month_start_date,
        calendar.month_end_date,
        coalesce(weighted.role_holder_count, 0) as role_holder_count,
        round(coalesce(weighted.weighted_score_sum / nullif(weighted.weight_sum, 0), 0), 6)
            as key_score
    from accounts
    cross join calendar
    left join weighted
        on
            accounts.account_id = weighted.account_id
            and calendar.month_start_date = weighted.month_start_date
    where {{ account_exists_on('accounts', 'calendar.snapshot_date') }}

)

select * from final

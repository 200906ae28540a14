{#-
    One row per opportunity x contact of opportunity_contacts: the power map of one deal
    (docs/domain.md 2.1, power map per opportunity and fishbone). The contact's role and
    evaluation group are the ones recorded for this deal (they may differ from the contact's
    account-level role in dim_contacts); the influence weight follows the deal role (seed
    role_influence_weights). Attitude, intimacy, the contact's key score, the last touch and
    "who moved" are the contact's, as on the account power map (int_contacts_current).
    contact_account_id is the contact's own account: a deal may list a contact of another
    account (a partner, a consultant); readers scope the contact by that account's region.
    Flags: untouched for 90 days or more (or never), opposes (-1), coach (3).
    Validity (macros/validity.sql): only contacts at their account on as_of_date, of an
    account that exists then (int_contacts_current.is_present_on_as_of): a contact created
    after it or left before it, or of an account created after it or closed before it, is
    left out. Warm-up: window_complete
    (int_contacts_current).
-#}
with

deal_contacts as (

    select * from {{ ref('stg_opportunity_contacts') }}

),

opportunities as (

    select * from {{ ref('stg_opportunities') }}

),

contacts as (

    select * from {{ ref('stg_contacts') }}

),

current_state as (

    select * from {{ ref('int_contacts_current') }}

),

role_weights as (

    select * from {{ ref('role_influence_weights') }}

),

final as (

    select
        opportunities.opportunity_id,
        opportunities.opportunity_name,
        opportunities.account_id,
        opportunities.ar_rep_id,
        opportunities.status as opportunity_status,
        opportunities.stage as opportunity_stage,
        opportunities.amount as opportunity_amount,
        opportunities.close_date,
        deal_contacts.contact_id,
        contacts.account_id as contact_account_id,
        contacts.full_name,
        contacts.title,
        contacts.department,
        contacts.level,
        deal_contacts.decision_role,
        deal_contacts.evaluation_group,
        role_weights.influence_weight,
        current_state.current_attitude,
        current_state.attitude_assessed_date,
        current_state.compare_date,
        current_state.attitude_at_compare_date,
        current_state.attitude_change,
        current_state.support_norm,
        current_state.intimacy,
        current_state.last_touch_date,
        current_state.days_since_last_touch,
        current_state.contact_key_score,
        current_state.is_untouched_90d,
        current_state.is_opposing,
        current_state.is_coach,
        current_state.is_active,
        current_state.as_of_date,
        current_state.window_complete
    from deal_contacts
    inner join opportunities
        on deal_contacts.opportunity_id = opportunities.opportunity_id
    inner join contacts
        on deal_contacts.contact_id = contacts.contact_id
    inner join current_state
        on deal_contacts.contact_id = current_state.contact_id
    left join role_weights
        on deal_contacts.decision_role = role_weights.decision_role
    where current_state.is_present_on_as_of

)

select * from final

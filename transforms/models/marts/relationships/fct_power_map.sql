{#-
    One row per account x contact, for contacts with a decision role or an attitude in
    force on as_of_date: the power map (docs/domain.md 2.1). Influence weight by role (seed
    role_influence_weights), support (attitude) and intimacy now, the contact's key score
    = 100 * (0.6 * support_norm + 0.4 * intimacy), and "who moved": the attitude on
    compare_date (as_of_date minus var compare_days, default 90) and the change since
    (null when the contact was not yet assessed then).
    Flags: untouched for 90 days or more (or never), opposes (-1), coach (3).
    Validity (macros/validity.sql): only contacts at the account on as_of_date, of an
    account that exists then (int_contacts_current.is_present_on_as_of): a contact created
    after it or whose left_date is before it, and every contact of an account created after
    it or closed before it, are left out. is_active: not left on as_of_date (a contact
    without a left_date: is_active, empty = true). Warm-up: window_complete
    (int_contacts_current): the intimacy and untouched windows start on or after the data.
-#}
with

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
        contacts.account_id,
        contacts.contact_id,
        contacts.full_name,
        contacts.title,
        contacts.department,
        contacts.level,
        contacts.decision_role,
        contacts.evaluation_group,
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
        coalesce(contacts.is_rising_star, false) as is_rising_star,
        current_state.as_of_date,
        current_state.window_complete
    from contacts
    inner join current_state
        on contacts.contact_id = current_state.contact_id
    left join role_weights
        on contacts.decision_role = role_weights.decision_role
    where
        current_state.is_present_on_as_of
        and (
            contacts.decision_role is not null
            or current_state.current_attitude is not null
        )

)

select * from final

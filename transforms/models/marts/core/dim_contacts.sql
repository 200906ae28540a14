{#-
    One row per contact, with what the warehouse knows on as_of_date: the attitude in force
    and its date, intimacy (0..1), the deepest depth step in the intimacy window (365 days),
    the last touch and the days since; window_complete (warm-up, int_contacts_current).
    Every contact is listed, also outside its validity window (macros/validity.sql): is_active
    says whether it is still at the account on as_of_date (with a left_date: left_date on or
    after as_of_date; without one: is_active, empty = true). A contact not at the account on
    as_of_date (left before it, created after it) has no state on as_of_date (intimacy 0).
-#}
with

contacts as (

    select * from {{ ref('stg_contacts') }}

),

current_state as (

    select * from {{ ref('int_contacts_current') }}

),

final as (

    select
        contacts.contact_id,
        contacts.account_id,
        contacts.reports_to_contact_id,
        contacts.full_name,
        contacts.title,
        contacts.department,
        contacts.level,
        contacts.decision_role,
        contacts.evaluation_group,
        coalesce(contacts.is_rising_star, false) as is_rising_star,
        current_state.is_active,
        contacts.birthday,
        contacts.private_notes,
        contacts.email,
        current_state.current_attitude,
        current_state.attitude_assessed_date,
        current_state.intimacy,
        coalesce(current_state.max_depth_step_365d, 0) as max_depth_step_365d,
        current_state.last_touch_date,
        current_state.days_since_last_touch,
        contacts.created_date,
        contacts.left_date,
        current_state.window_complete
    from contacts
    left join current_state
        on contacts.contact_id = current_state.contact_id

)

select * from final

{#-
    One row per contact: its state on as_of_date (the last month of int_contacts_monthly)
    and its attitude on compare_date (as_of_date minus var compare_days), for "who moved".
    reports_to_contact_id is passed on as recorded (fct_power_map resolves it).
    The flags the power maps show are derived here once: untouched for untouched_days or
    more (or never touched), opposes (-1), coach (3); intimacy is 0 for a contact never
    touched.
    Warm-up: window_complete says whether the intimacy window (intimacy_window_days, 365)
    and the untouched window (untouched_days, 90) ending on as_of_date both start on or after
    the first interaction date (else intimacy and the untouched flag still warm up).
    Validity (macros/validity.sql) on as_of_date:
      is_present_on_as_of  the contact is at the account on as_of_date (created_date ..
                           left_date) and its account exists then (created_date ..
                           closed_date); the power maps and alerts leave the others out (a
                           contact outside its window has no monthly state)
      is_active            not left on as_of_date: with a left_date, left_date on or after
                           as_of_date; without one, is_active (today's value, empty = true)
-#}
with

contacts as (

    select * from {{ ref('stg_contacts') }}

),

accounts as (

    select account_id, created_date, closed_date from {{ ref('stg_accounts') }}

),

dates as (

    select * from {{ ref('int_dates') }}

),

contact_months as (

    select * from {{ ref('int_contacts_monthly') }}

),

settings as (

    {{ pivot_settings('relationship_score_settings', ['intimacy_window_days', 'untouched_days']) }}

),

assessments as (

    select * from {{ ref('int_contact_assessments_versioned') }}

),

latest_month as (

    select max(month_start_date) as month_start_date from contact_months

),

current_state as (

    select contact_months.*
    from contact_months
    inner join latest_month
        on contact_months.month_start_date = latest_month.month_start_date

),

final as (

    select
        contacts.contact_id,
        contacts.account_id,
        contacts.reports_to_contact_id,
        dates.as_of_date,
        dates.compare_date,
        current_state.attitude as current_attitude,
        current_state.attitude_assessed_date,
        current_state.support_norm,
        coalesce(current_state.intimacy, 0) as intimacy,
        current_state.max_depth_step as max_depth_step_365d,
        current_state.last_touch_date,
        current_state.days_since_last_touch,
        current_state.contact_key_score,
        coalesce(current_state.is_untouched, true) as is_untouched_90d,
        coalesce(current_state.attitude = -1, false) as is_opposing,
        coalesce(current_state.attitude = 3, false) as is_coach,
        at_compare.attitude as attitude_at_compare_date,
        current_state.attitude - at_compare.attitude as attitude_change,
        cast({{ dbt.dateadd('day', '1 - cast(settings.intimacy_window_days as integer)', 'dates.as_of_date') }} as date)
        >= dates.first_interaction_date
        and cast({{ dbt.dateadd('day', '1 - cast(settings.untouched_days as integer)', 'dates.as_of_date') }} as date)
        >= dates.first_interaction_date as window_complete,
        {{ contact_exists_on('contacts', 'dates.as_of_date') }}
        and {{ account_exists_on('accounts', 'dates.as_of_date') }} as is_present_on_as_of,
        {{ contact_flagged_active('contacts') }}
        and coalesce(contacts.left_date >= dates.as_of_date, true) as is_active
    from contacts
    left join accounts
        on contacts.account_id = accounts.account_id
    cross join dates
    cross join settings
    left join current_state
        on contacts.contact_id = current_state.contact_id
    left join assessments as at_compare
        on
            contacts.contact_id = at_compare.contact_id
            and at_compare.valid_from <= dates.compare_date
            and (at_compare.valid_to is null or at_compare.valid_to >= dates.compare_date)

)

select * from final

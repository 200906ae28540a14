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
    Reporting lines (the org chart): reports_to_contact_id as recorded, and
      reports_to_status  'none'            no manager recorded
                         'ok'              the manager is on this account's map
                         'manager off map' the manager is a present contact of the account
                                           without a role or an assessment (not on the map)
                         'missing manager' not a present contact of the same account
                                           (unknown id, another account's contact, left)
                         'cycle'           following the chain returns to the contact (the
                                           contact itself, or a loop of up to
                                           {{ max_chain_depth }} lines)
      manager_contact_id the line drawn: reports_to_contact_id when the status is 'ok', and
                         for every member of a loop but the one with the smallest
                         contact_id, whose line is broken (is_cycle_break, also a contact
                         that reports to itself); null otherwise.
    Loops are found by following the lines {{ max_chain_depth }} steps (fixed-depth joins,
    portable to Spark; a longer loop is left to the page's layout, which breaks it too).
-#}
{%- set max_chain_depth = 10 %}
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

mapped as (

    select
        contacts.account_id,
        contacts.contact_id,
        contacts.reports_to_contact_id,
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

),

present as (

    select contact_id, account_id
    from current_state
    where is_present_on_as_of

),

lines as (

    select
        mapped.contact_id,
        mapped.reports_to_contact_id,
        case
            when mapped.reports_to_contact_id is null then 'none'
            when mapped.reports_to_contact_id = mapped.contact_id then 'cycle'
            when managers.contact_id is not null then 'ok'
            when present.contact_id is not null then 'manager off map'
            else 'missing manager'
        end as line_status
    from mapped
    left join mapped as managers
        on
            mapped.reports_to_contact_id = managers.contact_id
            and mapped.account_id = managers.account_id
    left join present
        on
            mapped.reports_to_contact_id = present.contact_id
            and mapped.account_id = present.account_id

),

edges as (

    select
        contact_id,
        reports_to_contact_id as parent_id
    from lines
    where line_status = 'ok'

),

chains as (

    select
        lines.contact_id,
        lines.line_status,
        {%- for depth in range(1, max_chain_depth + 1) %}
        hop_{{ depth }}.parent_id as hop_{{ depth }},
        {%- endfor %}
        lines.line_status = 'cycle' as reports_to_itself
    from lines
    left join edges as hop_1
        on lines.contact_id = hop_1.contact_id
    {%- for depth in range(2, max_chain_depth + 1) %}
    left join edges as hop_{{ depth }}
        on hop_{{ depth - 1 }}.parent_id = hop_{{ depth }}.contact_id
    {%- endfor %}

),

looped as (

    select
        contact_id,
        line_status,
        reports_to_itself,
        hop_1,
        coalesce(
            line_status = 'ok'
            and contact_id in (
                {%- for depth in range(1, max_chain_depth) %}
                hop_{{ depth }},
                {%- endfor %}
                hop_{{ max_chain_depth }}
            ),
            false
        ) as in_loop,
        least(
            {%- for depth in range(1, max_chain_depth) %}
            hop_{{ depth }},
            {%- endfor %}
            hop_{{ max_chain_depth }}
        ) as smallest_in_chain
    from chains

),

resolved as (

    select
        contact_id,
        hop_1,
        case when in_loop then 'cycle' else line_status end as reports_to_status,
        reports_to_itself or (in_loop and contact_id = smallest_in_chain) as is_cycle_break
    from looped

),

final as (

    select
        mapped.*,
        resolved.reports_to_status,
        case
            when
                resolved.reports_to_status in ('ok', 'cycle')
                and not resolved.is_cycle_break
                then resolved.hop_1
        end as manager_contact_id,
        coalesce(resolved.is_cycle_break, false) as is_cycle_break
    from mapped
    inner join resolved
        on mapped.contact_id = resolved.contact_id

)

select * from final

{#-
    One row per contact per calendar month (month-end snapshots from the first interaction
    month to the as-of month). What the warehouse knows about the contact on the snapshot
    day: the attitude in force, the last touch, the deepest contact depth step reached in
    the intimacy window, intimacy (that step scaled 0..1, halved every half-life since the
    last touch), support_norm = (attitude + 1) / 4, and the contact's key score.
    Validity (macros/validity.sql): a contact has a row in a month only when it is at the
    account on the snapshot day: created on or before it and left (left_date, its last day)
    on or after it; an empty side is open. So rows run from the month of creation to the
    last month whose snapshot day is on or before left_date. Activity logged before the
    created date still counts toward its maxima. is_active is not applied here (the key and
    general scores read it: contact_flagged_active).
    docs/domain.md 2.1. Settings: relationship_score_settings.
    Running maxima use a range frame: one row per month per partition, so it equals the rows
    frame, and DuckDB evaluates it as a cumulative aggregate (about twice as fast). They run
    over the active months only and are then spread to the months after (a third less CPU
    at bench scale than a window over all 18M contact x month rows).
    Incremental (macros/incremental.sql): only the months from incremental_since's month on;
    the activity of earlier months is folded into the first of them, so the running maxima
    carry the whole history.
-#}
{{ config(**incremental_by_month()) }}
{%- set since = incremental_since_set() %}
with

contacts as (

    select * from {{ ref('stg_contacts') }}

),

calendar as (

    select * from {{ ref('int_calendar_months') }}

),

contact_activity as (

    select * from {{ ref('int_contact_activity_monthly') }}

),

assessments as (

    select * from {{ ref('int_contact_assessments_versioned') }}

),

settings as (

    {{ pivot_settings('relationship_score_settings', [
        'key_support_weight', 'key_intimacy_weight', 'unassessed_attitude',
        'intimacy_window_days', 'intimacy_half_life_days', 'depth_ladder_top_step',
        'general_window_days', 'untouched_days'
    ]) }}

),

{%- if since %}

contact_activity_folded as (

    select
        contact_id,
        case
            when month_start_date < {{ incremental_since_month() }}
                then {{ incremental_since_month() }}
            else month_start_date
        end as month_start_date,
        last_touch_date,
        {%- for step in var('depth_steps') %}
        last_depth_{{ step }}_date,
        {%- endfor %}
        case
            when month_start_date < {{ incremental_since_month() }} then 0
            else activity_count
        end as activity_count
    from contact_activity

),
{%- endif %}

activity_by_contact as (

    -- one row per contact and month with activity. A full build reads the rows as they
    -- are: int_contact_activity_monthly has at most one per contact and month (the gate
    -- refuses an interaction whose account is not its contact's; the model's uniqueness
    -- test on contact_id, month_start_date guards it), and aggregating its 5.9M rows again
    -- cost 2.2 s of 12.2 at bench scale. An incremental build folds earlier months into one
    -- (contact_activity_folded above), so it aggregates.
    select
        contact_id,
        month_start_date,
        {%- if since %}
        max(last_touch_date) as last_touch_date,
        {%- for step in var('depth_steps') %}
        max(last_depth_{{ step }}_date) as last_depth_{{ step }}_date,
        {%- endfor %}
        -- a count's type, as in a full build (DuckDB sums a bigint into a hugeint)
        cast(sum(activity_count) as {{ dbt.type_bigint() }}) as activity_count
        {%- else %}
        last_touch_date,
        {%- for step in var('depth_steps') %}
        last_depth_{{ step }}_date,
        {%- endfor %}
        activity_count
        {%- endif %}
    from {{ 'contact_activity_folded' if since else 'contact_activity' }}
    where contact_id is not null
    {%- if since %}
    group by
        contact_id,
        month_start_date
    {%- endif %}

),

windows as (

    select
        calendar.month_start_date,
        calendar.month_end_date,
        calendar.snapshot_date,
        cast({{ dbt.dateadd('day', '-1 * cast(settings.intimacy_window_days as integer)', 'calendar.snapshot_date') }} as date)
            as intimacy_window_start_exclusive,
        cast({{ dbt.dateadd('day', '-1 * cast(settings.general_window_days as integer)', 'calendar.snapshot_date') }} as date)
            as general_window_start_exclusive
    from calendar
    cross join settings
    {%- if since %}
    where calendar.month_start_date >= {{ incremental_since_month() }}
    {%- endif %}

),

activity_running as (

    -- the running maxima are taken over the months with activity only (about a third of
    -- the contact x month rows at bench scale), then spread over the months up to the
    -- contact's next active month below: the same values as a window over every month
    select
        activity_by_contact.contact_id,
        activity_by_contact.month_start_date,
        activity_by_contact.activity_count,
        {%- for step in var('depth_steps') %}
        max(activity_by_contact.last_depth_{{ step }}_date) over (
            partition by activity_by_contact.contact_id
            order by activity_by_contact.month_start_date
            range between unbounded preceding and current row
        ) as last_depth_{{ step }}_date,
        {%- endfor %}
        max(activity_by_contact.last_touch_date) over (
            partition by activity_by_contact.contact_id
            order by activity_by_contact.month_start_date
            range between unbounded preceding and current row
        ) as last_touch_date,
        lead(activity_by_contact.month_start_date) over (
            partition by activity_by_contact.contact_id
            order by activity_by_contact.month_start_date
        ) as next_active_month_start_date,
        lag(activity_by_contact.month_start_date) over (
            partition by activity_by_contact.contact_id
            order by activity_by_contact.month_start_date
        ) as previous_active_month_start_date
    from activity_by_contact
    inner join contacts
        on activity_by_contact.contact_id = contacts.contact_id
    inner join windows
        on activity_by_contact.month_start_date = windows.month_start_date

),

touched_months as (

    -- each month from an active month up to the contact's next active month
    select
        contacts.contact_id,
        contacts.account_id,
        windows.month_start_date,
        windows.month_end_date,
        windows.snapshot_date,
        windows.intimacy_window_start_exclusive,
        windows.general_window_start_exclusive,
        case
            when windows.month_start_date = activity_running.month_start_date
                then activity_running.activity_count
            else 0
        end as activity_count_in_month,
        {%- for step in var('depth_steps') %}
        activity_running.last_depth_{{ step }}_date,
        {%- endfor %}
        activity_running.last_touch_date
    from activity_running
    inner join contacts
        on activity_running.contact_id = contacts.contact_id
    inner join windows
        on
            windows.month_start_date >= activity_running.month_start_date
            and (
                activity_running.next_active_month_start_date is null
                or windows.month_start_date < activity_running.next_active_month_start_date
            )
    where {{ contact_exists_on('contacts', 'windows.snapshot_date') }}

),

first_activity as (

    select
        contact_id,
        month_start_date
    from activity_running
    where previous_active_month_start_date is null

),

untouched_months as (

    -- the months before a contact's first activity (every month if it has none)
    select
        contacts.contact_id,
        contacts.account_id,
        windows.month_start_date,
        windows.month_end_date,
        windows.snapshot_date,
        windows.intimacy_window_start_exclusive,
        windows.general_window_start_exclusive,
        0 as activity_count_in_month,
        {%- for step in var('depth_steps') %}
        cast(null as date) as last_depth_{{ step }}_date,
        {%- endfor %}
        cast(null as date) as last_touch_date
    from contacts
    left join first_activity
        on contacts.contact_id = first_activity.contact_id
    inner join windows
        on
            first_activity.month_start_date is null
            or windows.month_start_date < first_activity.month_start_date
    where {{ contact_exists_on('contacts', 'windows.snapshot_date') }}

),

contact_months as (

    select * from touched_months
    union all
    select * from untouched_months

),

with_attitude as (

    select
        contact_months.*,
        assessments.attitude,
        assessments.assessed_date as attitude_assessed_date,
        case
            {%- for step in var('depth_steps') | sort | reverse %}
            when contact_months.last_depth_{{ step }}_date > contact_months.intimacy_window_start_exclusive
                then {{ step }}
            {%- endfor %}
            else 0
        end as max_depth_step,
        {{ dbt.datediff('contact_months.last_touch_date', 'contact_months.snapshot_date', 'day') }}
            as days_since_last_touch
    from contact_months
    left join assessments
        on
            contact_months.contact_id = assessments.contact_id
            and assessments.valid_from <= contact_months.snapshot_date
            and (assessments.valid_to is null or assessments.valid_to >= contact_months.snapshot_date)

),

scored as (

    select
        with_attitude.*,
        cast(with_attitude.max_depth_step as {{ type_double() }})
        / settings.depth_ladder_top_step
        * coalesce(
            power(
                0.5,
                cast(with_attitude.days_since_last_touch as {{ type_double() }})
                / settings.intimacy_half_life_days
            ),
            0
        ) as intimacy,
        (coalesce(with_attitude.attitude, settings.unassessed_attitude) + 1) / 4.0 as support_norm,
        settings.key_support_weight,
        settings.key_intimacy_weight,
        with_attitude.last_touch_date > with_attitude.general_window_start_exclusive
            as is_touched_in_general_window,
        coalesce(with_attitude.days_since_last_touch >= settings.untouched_days, true)
            as is_untouched
    from with_attitude
    cross join settings

),

final as (

    select
        contact_id,
        account_id,
        month_start_date,
        month_end_date,
        snapshot_date,
        activity_count_in_month,
        attitude,
        attitude_assessed_date,
        support_norm,
        last_touch_date,
        days_since_last_touch,
        max_depth_step,
        intimacy,
        round(
            100 * (key_support_weight * support_norm + key_intimacy_weight * intimacy), 6
        ) as contact_key_score,
        coalesce(is_touched_in_general_window, false) as is_touched_in_general_window,
        is_untouched
    from scored

)

select * from final

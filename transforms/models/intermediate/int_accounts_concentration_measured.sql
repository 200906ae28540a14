{#-
    One row per account per calendar month: how concentrated the account's relationship
    activities are on one rep (privatisation risk, docs/domain.md 2.4), over the concentration
    window (default the 12 calendar months ending with the snapshot month):
      activity_count = the account's activities in the window
      top_rep_id     = the rep with most of them (ties: the smallest rep_id)
      top_rep_share  = that rep's activities / activity_count (0..1)
      rep_hhi        = sum over reps of (rep's share)^2 (1 = a single rep)
    Null shares when the account had no activity in the window.
    Validity (macros/validity.sql): a row only for a month whose snapshot day the account
    exists on (created_date .. closed_date, both included; an empty side is open).
    Seed: relationship_score_settings.
    Incremental (macros/incremental.sql): only the months from incremental_since's month on.
-#}
{{ config(**incremental_by_month()) }}
{%- set since = incremental_since_set() %}
with

accounts as (

    select * from {{ ref('stg_accounts') }}

),

calendar as (

    select * from {{ ref('int_calendar_months') }}
    {%- if since %}
    where month_start_date >= {{ incremental_since_month() }}
    {%- endif %}

),

rep_activity as (

    select * from {{ ref('int_account_rep_activity_monthly') }}

),

settings as (

    {{ pivot_settings('relationship_score_settings', ['concentration_window_months']) }}

),

rep_windows as (

    select
        rep_activity.account_id,
        calendar.month_start_date,
        rep_activity.rep_id,
        sum(rep_activity.activity_count) as rep_activity_count
    from rep_activity
    cross join settings
    inner join calendar
        on
            rep_activity.month_index <= calendar.month_index
            and rep_activity.month_index > calendar.month_index - settings.concentration_window_months
    group by
        rep_activity.account_id,
        calendar.month_start_date,
        rep_activity.rep_id

),

rep_shares as (

    select
        account_id,
        month_start_date,
        rep_id,
        rep_activity_count,
        sum(rep_activity_count) over (
            partition by account_id, month_start_date
        ) as activity_count,
        row_number() over (
            partition by account_id, month_start_date
            order by rep_activity_count desc, rep_id asc
        ) as rep_rank
    from rep_windows

),

per_account as (

    select
        account_id,
        month_start_date,
        max(activity_count) as activity_count,
        max(case when rep_rank = 1 then rep_id end) as top_rep_id,
        round(
            max(
                case
                    when rep_rank = 1
                        then cast(rep_activity_count as {{ type_double() }}) / activity_count
                end
            ),
            6
        ) as top_rep_share,
        round(
            sum(
                (cast(rep_activity_count as {{ type_double() }}) / activity_count)
                * (cast(rep_activity_count as {{ type_double() }}) / activity_count)
            ),
            6
        ) as rep_hhi,
        count(*) as rep_count
    from rep_shares
    group by
        account_id,
        month_start_date

),

final as (

    select
        accounts.account_id,
        calendar.month_start_date,
        calendar.month_end_date,
        coalesce(per_account.activity_count, 0) as activity_count,
        coalesce(per_account.rep_count, 0) as rep_count,
        per_account.top_rep_id,
        per_account.top_rep_share,
        per_account.rep_hhi
    from accounts
    cross join calendar
    left join per_account
        on
            accounts.account_id = per_account.account_id
            and calendar.month_start_date = per_account.month_start_date
    where {{ account_exists_on('accounts', 'calendar.snapshot_date') }}

)

select * from final

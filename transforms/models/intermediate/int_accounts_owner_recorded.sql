{#-
    The AR of the period as the CRM recorded it (optional contract table account_owners, its
    AR rows; empty without the file). One row per account per quarter in which some recorded
    AR held the account at least one day of the period:
      period            greatest(quarter start, the account's created_date) .. least(the
                        quarter's snapshot day (the quarter end, or as_of_date for the
                        quarter running), the account's closed_date); quarters in which the
                        account existed on no day have no row (macros/validity.sql)
      holder of a day   the AR whose window (valid_from .. valid_to, empty valid_to: open)
                        covers the day; when several windows cover it (overlapping rows, an
                        error in the CRM flagged by the warning test
                        assert_account_owner_windows_do_not_overlap), the one with the latest
                        valid_from
      recorded_ar_rep_id  the rep who held the most days of the period (ties: the one who
                        held it later), days_held its days
      recorded_days     days of the period with a recorded holder (all reps)
      unrecorded_days   period_days - recorded_days: days nobody is recorded for
    int_accounts_owner_of_period uses recorded_ar_rep_id when days_held >= unrecorded_days
    (the unrecorded days count as one unknown holder, who must not have held it longer).
    Computed on segments: a window can only start or end where some window of the account
    starts or ends the day before, so the days between two such boundaries have one holder.
-#}
with

quarters as (

    select year, quarter, quarter_start_date, snapshot_date from {{ ref('int_calendar_quarters') }}

),

accounts as (

    select account_id, created_date, closed_date from {{ ref('stg_accounts') }}

),

windows as (

    select account_id, rep_id, valid_from, valid_to
    from {{ ref('stg_account_owners') }}
    where role = 'AR'

),

boundaries as (

    select account_id, valid_from as boundary_date
    from windows

    union

    select account_id, cast({{ dbt.dateadd('day', 1, 'valid_to') }} as date) as boundary_date
    from windows
    where valid_to is not null

),

segments as (

    select
        account_id,
        boundary_date as segment_start_date,
        cast({{ dbt.dateadd('day', -1, 'lead(boundary_date) over (partition by account_id order by boundary_date)') }} as date)
            as segment_end_date
    from boundaries

),

segment_holders as (

    select
        segments.account_id,
        segments.segment_start_date,
        segments.segment_end_date,
        windows.rep_id,
        row_number() over (
            partition by segments.account_id, segments.segment_start_date
            order by windows.valid_from desc, windows.rep_id
        ) as holder_rank
    from segments
    inner join windows
        on segments.account_id = windows.account_id
            and windows.valid_from <= segments.segment_start_date
            and (windows.valid_to is null or windows.valid_to >= segments.segment_start_date)

),

account_periods as (

    select
        accounts.account_id,
        quarters.year,
        quarters.quarter,
        case
            when accounts.created_date > quarters.quarter_start_date then accounts.created_date
            else quarters.quarter_start_date
        end as period_start_date,
        case
            when accounts.closed_date < quarters.snapshot_date then accounts.closed_date
            else quarters.snapshot_date
        end as period_end_date
    from accounts
    inner join quarters
        on {{ account_exists_during('accounts', 'quarters.quarter_start_date', 'quarters.snapshot_date') }}
    where accounts.account_id in (select windows.account_id from windows)

),

held as (

    select
        account_periods.account_id,
        account_periods.year,
        account_periods.quarter,
        account_periods.period_start_date,
        account_periods.period_end_date,
        segment_holders.rep_id,
        sum(
            {{ dbt.datediff(
                'greatest(segment_holders.segment_start_date, account_periods.period_start_date)',
                'least(coalesce(segment_holders.segment_end_date, account_periods.period_end_date), account_periods.period_end_date)',
                'day'
            ) }} + 1
        ) as days_held,
        max(
            least(
                coalesce(segment_holders.segment_end_date, account_periods.period_end_date),
                account_periods.period_end_date
            )
        ) as last_day_held
    from account_periods
    inner join segment_holders
        on account_periods.account_id = segment_holders.account_id
            and segment_holders.holder_rank = 1
            and segment_holders.segment_start_date <= account_periods.period_end_date
            and (
                segment_holders.segment_end_date is null
                or segment_holders.segment_end_date >= account_periods.period_start_date
            )
    group by
        account_periods.account_id,
        account_periods.year,
        account_periods.quarter,
        account_periods.period_start_date,
        account_periods.period_end_date,
        segment_holders.rep_id

),

ranked as (

    select
        held.*,
        sum(held.days_held) over (
            partition by held.account_id, held.year, held.quarter
        ) as recorded_days,
        row_number() over (
            partition by held.account_id, held.year, held.quarter
            order by held.days_held desc, held.last_day_held desc, held.rep_id
        ) as held_rank
    from held

),

final as (

    select
        account_id,
        year,
        quarter,
        period_start_date,
        period_end_date,
        rep_id as recorded_ar_rep_id,
        days_held,
        recorded_days,
        {{ dbt.datediff('period_start_date', 'period_end_date', 'day') }} + 1 as period_days,
        {{ dbt.datediff('period_start_date', 'period_end_date', 'day') }} + 1 - recorded_days
            as unrecorded_days
    from ranked
    where held_rank = 1

)

select * from final

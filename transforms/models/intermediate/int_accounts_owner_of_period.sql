{#-
    Ownership of the period: the AR who owned an account in a quarter, recorded
    history first, inference only without it. One row per account per quarter in which the
    account existed on at least one day, from its creation to its closing (the rows of
    int_accounts_owner_inferred):
      period_ar_rep_id = the recorded AR (int_accounts_owner_recorded.recorded_ar_rep_id,
                         the one who held the most days of the period), owner_source
                         'recorded', when that AR held the account at least as many days as
                         the period has without any recorded AR (days_held >= unrecorded_days)
                       = else the inferred AR (int_accounts_owner_inferred: most AR activity
                         + won deals that quarter, 'inferred'; nobody: today's AR, 'current')
    Without an account_owners file every row is 'inferred' or 'current', as before.
    Used for the owned accounts of key actions 1, 2, 3 and 9 (int_actions_owned_accounts),
    the assessed reps (int_actions_rep_quarters) and the account's AR of the iron triangle
    (int_actions_plan_items_credited, int_actions_complaints_credited). Only AR history is
    used: plan items and complaints name their own owner, and an SR or FR is credited
    through the account's AR (seed iron_triangle_credit).
-#}
with

inferred as (

    select * from {{ ref('int_accounts_owner_inferred') }}

),

recorded as (

    select * from {{ ref('int_accounts_owner_recorded') }}

),

joined as (

    select
        inferred.*,
        recorded.recorded_ar_rep_id,
        recorded.days_held as recorded_days_held,
        recorded.unrecorded_days,
        coalesce(recorded.days_held >= recorded.unrecorded_days, false) as is_recorded
    from inferred
    left join recorded
        on inferred.account_id = recorded.account_id
            and inferred.year = recorded.year
            and inferred.quarter = recorded.quarter

),

final as (

    select
        account_id,
        year,
        quarter,
        quarter_start_date,
        snapshot_date,
        case when is_recorded then recorded_ar_rep_id else period_ar_rep_id end as period_ar_rep_id,
        case when is_recorded then 'recorded' else owner_source end as owner_source,
        current_ar_rep_id,
        period_ar_rep_id as inferred_ar_rep_id,
        evidence,
        recorded_ar_rep_id,
        recorded_days_held,
        unrecorded_days
    from joined

)

select * from final

{#-
    Key action 9 (customer opinions collected, recorded, passed on). One row per assessed
    rep per quarter. Every owned account earns a feedback point between 0 and 1 from the
    feedback items recorded on it (by anyone) in the quarter up to its period end:
      recording = min(1, items recorded / action9_target_per_account)
      routing   = items routed to an owner (routed_to filled, routed_date empty or on or
                  before the period end) / items recorded (0 when none was recorded)
      point     = (1 - action9_routed_weight) x recording + action9_routed_weight x routing
    numerator = sum of the points, denominator = owned accounts.
    Not scored when no feedback item is recorded at all, or the rep owns no account.
-#}
with

rep_quarters as (

    select * from {{ ref('int_actions_rep_quarters') }}

),

owned_accounts as (

    select * from {{ ref('int_actions_owned_accounts') }}

),

feedback_items as (

    select * from {{ ref('stg_feedback_items') }}

),

settings as (

    select
        max(case when setting_name = 'action9_target_per_account' then setting_value end)
            as target_per_account,
        max(case when setting_name = 'action9_routed_weight' then setting_value end)
            as routed_weight
    from {{ ref('key_action_settings') }}

),

feedback_rows as (

    select count(*) as row_count from feedback_items

),

account_feedback as (

    select
        owned_accounts.rep_id,
        owned_accounts.year,
        owned_accounts.quarter,
        owned_accounts.account_id,
        count(feedback_items.feedback_id) as items_recorded,
        sum(
            case
                when feedback_items.routed_to is not null
                    and (
                        feedback_items.routed_date is null
                        or feedback_items.routed_date <= owned_accounts.period_end_date
                    )
                    then 1
                else 0
            end
        ) as items_routed
    from owned_accounts
    left join feedback_items
        on owned_accounts.account_id = feedback_items.account_id
            and feedback_items.recorded_date >= owned_accounts.quarter_start_date
            and feedback_items.recorded_date <= owned_accounts.period_end_date
    group by owned_accounts.rep_id, owned_accounts.year, owned_accounts.quarter, owned_accounts.account_id

),

account_parts as (

    select
        account_feedback.rep_id,
        account_feedback.year,
        account_feedback.quarter,
        account_feedback.account_id,
        case
            when account_feedback.items_recorded >= settings.target_per_account then 1
            else account_feedback.items_recorded / settings.target_per_account
        end as recording,
        case
            when account_feedback.items_recorded > 0
                then cast(account_feedback.items_routed as {{ type_double() }})
                    / account_feedback.items_recorded
            else 0
        end as routing,
        settings.routed_weight
    from account_feedback
    cross join settings

),

account_points as (

    select
        rep_id,
        year,
        quarter,
        account_id,
        (1 - routed_weight) * recording + routed_weight * routing as point
    from account_parts

),

counted as (

    select
        rep_id,
        year,
        quarter,
        sum(point) as points,
        count(*) as owned_accounts
    from account_points
    group by rep_id, year, quarter

),

final as (

    select
        rep_quarters.rep_id,
        rep_quarters.year,
        rep_quarters.quarter,
        9 as action_no,
        cast(coalesce(counted.points, 0) as {{ type_double() }}) as numerator,
        cast(coalesce(counted.owned_accounts, 0) as {{ type_double() }}) as denominator,
        case
            when feedback_rows.row_count = 0 then 'no feedback items recorded'
            when coalesce(counted.owned_accounts, 0) = 0 then 'no owned accounts'
        end as not_scored_reason
    from rep_quarters
    cross join feedback_rows
    left join counted
        on rep_quarters.rep_id = counted.rep_id
            and rep_quarters.year = counted.year
            and rep_quarters.quarter = counted.quarter

)

select * from final

{#-
    One row per alert on as_of_date (docs/domain.md 2.1, 2.4). alert_type:
      no_approver                  the account has no active contact with decision role A
      approver_or_decider_opposes  an active A or D contact opposes us (attitude -1)
      no_coach_on_s_a              an S or A account (tier_order <= setting
                                   coach_required_max_tier_order) has no coach (attitude 3)
      key_contact_untouched_90d    an active role holder not touched for untouched_days (90)
      privately_held               the account is privately held in the latest month
      competitor_stance_conflict   an active contact supports us exclusively or coaches us
                                   (attitude >= competitor_conflict_min_attitude, 2) while
                                   the latest stance toward a competitor on or before
                                   as_of_date is at least competitor_conflict_min_stance (1);
                                   one row per contact, naming the competitor with the
                                   highest stance (ties: first by name). Raised only when
                                   competitor_conflict_alert_enabled is 1 (the default).
    contact_id is null for account-level alerts; tier is the account's current tier.
    Validity (macros/validity.sql): an account that does not exist on as_of_date (created
    after it, closed before it) raises no alert, and a contact not at the account then
    (created after it, left before it; without a left_date, is_active false) counts for
    none (the power map and the latest health and tier rows leave them out already).
-#}
with

accounts as (

    select * from {{ ref('stg_accounts') }}

),

contacts as (

    select * from {{ ref('stg_contacts') }}

),

power_map as (

    select * from {{ ref('fct_power_map') }}

),

tiers as (

    select * from {{ ref('fct_account_tiers') }}

),

health as (

    select * from {{ ref('fct_relationship_health') }}

),

dates as (

    select as_of_date from {{ ref('int_dates') }}

),

settings as (

    {{ pivot_settings('relationship_score_settings', [
        'coach_required_max_tier_order',
        'competitor_conflict_alert_enabled',
        'competitor_conflict_min_attitude',
        'competitor_conflict_min_stance',
    ]) }}

),

competitor_stances as (

    select * from {{ ref('stg_competitor_stances') }}

),

current_tiers as (

    select tiers.account_id, tiers.tier, tiers.tier_order
    from tiers
    inner join (select max(quarter_end_date) as quarter_end_date from tiers) as latest
        on tiers.quarter_end_date = latest.quarter_end_date

),

latest_health as (

    select health.*
    from health
    inner join (select max(month_end_date) as month_end_date from health) as latest
        on health.month_end_date = latest.month_end_date

),

account_roles as (

    select
        accounts.account_id,
        count(case when contacts.decision_role = 'A' then 1 end) as approvers,
        count(case when power_map.is_coach then 1 end) as coaches
    from accounts
    cross join dates
    left join contacts
        on
            accounts.account_id = contacts.account_id
            and {{ contact_active_on('contacts', 'dates.as_of_date') }}
    left join power_map
        on contacts.contact_id = power_map.contact_id
    where {{ account_exists_on('accounts', 'dates.as_of_date') }}
    group by accounts.account_id

),

no_approver as (

    select
        account_id,
        'no_approver' as alert_type,
        cast(null as {{ dbt.type_string() }}) as contact_id,
        'No active contact holds the approver (A) role' as detail
    from account_roles
    where approvers = 0

),

opposes as (

    select
        account_id,
        'approver_or_decider_opposes' as alert_type,
        contact_id,
        full_name || ' (' || decision_role || ') opposes us (attitude -1)' as detail
    from power_map
    where is_active and is_opposing and decision_role in ('A', 'D')

),

no_coach as (

    select
        account_roles.account_id,
        'no_coach_on_s_a' as alert_type,
        cast(null as {{ dbt.type_string() }}) as contact_id,
        'Tier ' || current_tiers.tier || ' account without a coach (attitude 3)' as detail
    from account_roles
    inner join current_tiers
        on account_roles.account_id = current_tiers.account_id
    cross join settings
    where
        account_roles.coaches = 0
        and current_tiers.tier_order <= settings.coach_required_max_tier_order

),

untouched as (

    select
        account_id,
        'key_contact_untouched_90d' as alert_type,
        contact_id,
        case
            when last_touch_date is null then full_name || ' (' || decision_role || ') never touched'
            else
                full_name || ' (' || decision_role || ') last touched '
                || cast(days_since_last_touch as {{ dbt.type_string() }}) || ' days ago'
        end as detail
    from power_map
    where is_active and decision_role is not null and is_untouched_90d

),

privately_held as (

    select
        account_id,
        'privately_held' as alert_type,
        cast(null as {{ dbt.type_string() }}) as contact_id,
        'Rep ' || top_rep_id || ' did '
        || cast(cast(round(100 * top_rep_share, 0) as integer) as {{ dbt.type_string() }})
        || '% of the activities in 12 months; health '
        || cast(cast(round(health_score, 0) as integer) as {{ dbt.type_string() }}) as detail
    from latest_health
    where is_privately_held

),

latest_stances as (

    select
        competitor_stances.contact_id,
        competitor_stances.competitor,
        competitor_stances.attitude,
        row_number() over (
            partition by competitor_stances.contact_id, competitor_stances.competitor
            order by competitor_stances.assessed_date desc
        ) as recency_rank
    from competitor_stances
    cross join dates
    where competitor_stances.assessed_date <= dates.as_of_date

),

conflicting_stances as (

    select
        power_map.account_id,
        power_map.contact_id,
        power_map.full_name,
        power_map.current_attitude,
        latest_stances.competitor,
        latest_stances.attitude as competitor_attitude,
        row_number() over (
            partition by power_map.contact_id
            order by latest_stances.attitude desc, latest_stances.competitor
        ) as conflict_rank
    from power_map
    inner join latest_stances
        on power_map.contact_id = latest_stances.contact_id
            and latest_stances.recency_rank = 1
    cross join settings
    where
        settings.competitor_conflict_alert_enabled = 1
        and power_map.is_active
        and power_map.current_attitude >= settings.competitor_conflict_min_attitude
        and latest_stances.attitude >= settings.competitor_conflict_min_stance

),

competitor_conflict as (

    select
        account_id,
        'competitor_stance_conflict' as alert_type,
        contact_id,
        full_name || ' supports us (attitude '
        || cast(current_attitude as {{ dbt.type_string() }}) || ') and also ' || competitor
        || ' (stance ' || cast(competitor_attitude as {{ dbt.type_string() }}) || ')' as detail
    from conflicting_stances
    where conflict_rank = 1

),

alerts as (

    select * from no_approver
    union all
    select * from opposes
    union all
    select * from no_coach
    union all
    select * from untouched
    union all
    select * from privately_held
    union all
    select * from competitor_conflict

),

final as (

    select
        alerts.account_id,
        alerts.alert_type,
        alerts.contact_id,
        current_tiers.tier,
        alerts.detail
    from alerts
    left join current_tiers
        on alerts.account_id = current_tiers.account_id

)

select * from final

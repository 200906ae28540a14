{#-
    One row per account per month-end, from the first interaction month to the as-of month
    (the running month is measured on as_of_date). The three layers, health, band, trend,
    concentration and the competitor comparison (docs/domain.md 2.4):
      health_score = 0.5 * key_score + 0.25 * general_score + 0.25 * org_score
      health_band  = strong >= 70, developing 40..69, weak < 40 (seed health_bands)
      is_privately_held = top_rep_share >= 0.6 and health_score >= 70 (and at least 5
                          activities in the window)
    Validity (macros/validity.sql): a row only for a month whose snapshot day the account
    exists on (created on or before it, closed on or after it; an empty side is open), so
    the trend starts at creation (health_change_1m / _3m are null until there is a month
    that far back) and ends with the last month before closing.
    Warm-up (int_calendar_months): key_/general_/org_/concentration_window_complete say
    whether each trailing window starts on or after the first interaction date;
    window_complete = all four.
    Seeds: relationship_score_settings, health_bands.
    Incremental (macros/incremental.sql): only the months from incremental_since's month on,
    computed with the three months before them for the 1- and 3-month changes.
-#}
{{ config(**incremental_by_month(unique_key='month_end_date')) }}
{%- set since = incremental_since_set() %}
with

accounts as (

    select * from {{ ref('stg_accounts') }}

),

calendar as (

    select * from {{ ref('int_calendar_months') }}
    {%- if since %}
    -- 3: the longest lag of health_change_* below
    where month_index >= {{ month_index(incremental_since_month()) }} - 3
    {%- endif %}

),

key_scores as (

    select * from {{ ref('int_accounts_key_scored') }}

),

general_scores as (

    select * from {{ ref('int_accounts_general_scored') }}

),

org_scores as (

    select * from {{ ref('int_accounts_org_scored') }}

),

concentration as (

    select * from {{ ref('int_accounts_concentration_measured') }}

),

attitudes as (

    select * from {{ ref('int_accounts_attitudes_compared') }}

),

bands as (

    select * from {{ ref('health_bands') }}

),

settings as (

    {{ pivot_settings('relationship_score_settings', [
        'health_key_weight', 'health_general_weight', 'health_org_weight',
        'privately_held_min_top_rep_share', 'privately_held_min_health',
        'privately_held_min_activities'
    ]) }}

),

band_ranges as (

    select
        band,
        min_score,
        lead(min_score) over (order by min_score) as next_min_score
    from bands

),

layers as (

    select
        accounts.account_id,
        calendar.month_start_date,
        calendar.month_end_date,
        calendar.snapshot_date,
        accounts.region_id,
        accounts.industry,
        key_scores.key_score,
        key_scores.role_holder_count,
        general_scores.general_score,
        general_scores.breadth,
        general_scores.department_coverage,
        general_scores.level_coverage,
        general_scores.active_contacts,
        org_scores.org_score,
        org_scores.org_level,
        org_scores.has_exec_visit_12m,
        concentration.activity_count as activity_count_12m,
        concentration.top_rep_id,
        concentration.top_rep_share,
        concentration.rep_hhi,
        attitudes.our_avg_attitude,
        attitudes.competitor_avg_attitude,
        calendar.key_window_complete,
        calendar.general_window_complete,
        calendar.org_window_complete,
        calendar.concentration_window_complete,
        calendar.window_complete,
        -- rounded so that float noise never moves an account across a band boundary
        round(
            settings.health_key_weight * key_scores.key_score
            + settings.health_general_weight * general_scores.general_score
            + settings.health_org_weight * org_scores.org_score,
            6
        ) as health_score
    from accounts
    cross join calendar
    cross join settings
    inner join key_scores
        on
            accounts.account_id = key_scores.account_id
            and calendar.month_start_date = key_scores.month_start_date
    inner join general_scores
        on
            accounts.account_id = general_scores.account_id
            and calendar.month_start_date = general_scores.month_start_date
    inner join org_scores
        on
            accounts.account_id = org_scores.account_id
            and calendar.month_start_date = org_scores.month_start_date
    inner join concentration
        on
            accounts.account_id = concentration.account_id
            and calendar.month_start_date = concentration.month_start_date
    inner join attitudes
        on
            accounts.account_id = attitudes.account_id
            and calendar.month_start_date = attitudes.month_start_date
    where {{ account_exists_on('accounts', 'calendar.snapshot_date') }}

),

final as (

    select
        layers.account_id,
        layers.month_end_date,
        layers.snapshot_date,
        layers.region_id,
        layers.industry,
        round(layers.key_score, 6) as key_score,
        round(layers.general_score, 6) as general_score,
        round(layers.org_score, 6) as org_score,
        layers.health_score,
        band_ranges.band as health_band,
        layers.health_score - lag(layers.health_score, 1) over (
            partition by layers.account_id order by layers.month_start_date
        ) as health_change_1m,
        layers.health_score - lag(layers.health_score, 3) over (
            partition by layers.account_id order by layers.month_start_date
        ) as health_change_3m,
        layers.breadth,
        layers.department_coverage,
        layers.level_coverage,
        layers.org_level,
        layers.has_exec_visit_12m,
        layers.top_rep_id,
        layers.top_rep_share,
        layers.rep_hhi,
        coalesce(
            layers.top_rep_share >= settings.privately_held_min_top_rep_share
            and layers.health_score >= settings.privately_held_min_health
            and layers.activity_count_12m >= settings.privately_held_min_activities,
            false
        ) as is_privately_held,
        layers.our_avg_attitude,
        layers.competitor_avg_attitude,
        layers.role_holder_count,
        layers.active_contacts,
        layers.activity_count_12m,
        layers.window_complete,
        layers.key_window_complete,
        layers.general_window_complete,
        layers.org_window_complete,
        layers.concentration_window_complete
    from layers
    cross join settings
    left join band_ranges
        on
            layers.health_score >= band_ranges.min_score
            and (band_ranges.next_min_score is null or layers.health_score < band_ranges.next_min_score)

)

select * from final
{%- if since %}
where month_end_date >= {{ incremental_since_month() }}
{%- endif %}

{#-
    One row per account per quarter: the four tier elements and the composite score
    (docs/domain.md 3), measured on the quarter's snapshot day (quarter end, or as_of_date):
      revenue_ttm         won amount with close date in the trailing revenue window (12 months)
      revenue_score       100 * revenue_ttm / the highest revenue_ttm in the account's industry
      potential_score     100 * spend_potential / the highest spend_potential in the industry
      demonstration_score 100 * demonstration_value / demonstration_max_value (5)
      winnability_score   100 * (0.7 * win_rate + 0.3 * fit); win_rate = won / (won + lost)
                          deals closed in the trailing 24 months (0.5 when none closed);
                          fit = (has_strategic_agreement + is_exclusive_partner) / 2
      composite_score     sum of weight * element score, weights by industry (seed
                          tier_element_weights; the row 'default' for industries without one)
    Missing values (no potential, no demonstration value) score 0.
    Validity (macros/validity.sql): an account has a row in a quarter only when it exists on
    the quarter's snapshot day (created on or before it, closed on or after it; an empty
    side is open), so the industry maxima and the ranking take the accounts that existed
    then: an account closed during a quarter is not a tier candidate of that quarter (its
    won deals still count for the rep: revenue facts are never dropped).
    Warm-up (int_calendar_quarters): revenue_window_complete, winnability_window_complete.
    Seeds: tier_score_settings, tier_element_weights.
-#}
with

accounts as (

    select * from {{ ref('stg_accounts') }}

),

opportunities as (

    select * from {{ ref('stg_opportunities') }}

),

quarters as (

    select * from {{ ref('int_calendar_quarters') }}

),

element_weights as (

    select * from {{ ref('tier_element_weights') }}

),

settings as (

    {{ pivot_settings('tier_score_settings', [
        'revenue_window_months', 'demonstration_max_value', 'winnability_window_months',
        'winnability_win_rate_weight', 'winnability_fit_weight', 'winnability_default_win_rate'
    ]) }}

),

windows as (

    select
        quarters.quarter_start_date,
        quarters.quarter_end_date,
        quarters.year,
        quarters.quarter,
        quarters.snapshot_date,
        quarters.revenue_window_complete,
        quarters.winnability_window_complete,
        cast({{ dbt.dateadd('month', '-1 * cast(settings.revenue_window_months as integer)', 'quarters.snapshot_date') }} as date)
            as revenue_window_start_exclusive,
        cast({{ dbt.dateadd('month', '-1 * cast(settings.winnability_window_months as integer)', 'quarters.snapshot_date') }} as date)
            as win_window_start_exclusive
    from quarters
    cross join settings

),

closed_deals as (

    select
        account_id,
        status,
        close_date,
        amount
    from opportunities
    where status in ('won', 'lost') and close_date is not null

),

deal_measures as (

    select
        closed_deals.account_id,
        windows.quarter_start_date,
        sum(
            case
                when
                    closed_deals.status = 'won'
                    and closed_deals.close_date > windows.revenue_window_start_exclusive
                    then closed_deals.amount
                else 0
            end
        ) as revenue_ttm,
        sum(
            case
                when
                    closed_deals.status = 'won'
                    and closed_deals.close_date > windows.win_window_start_exclusive
                    then 1
                else 0
            end
        ) as deals_won,
        sum(
            case
                when
                    closed_deals.status = 'lost'
                    and closed_deals.close_date > windows.win_window_start_exclusive
                    then 1
                else 0
            end
        ) as deals_lost
    from closed_deals
    inner join windows
        on
            closed_deals.close_date <= windows.snapshot_date
            and (
                closed_deals.close_date > windows.revenue_window_start_exclusive
                or closed_deals.close_date > windows.win_window_start_exclusive
            )
    group by
        closed_deals.account_id,
        windows.quarter_start_date

),

account_quarters as (

    select
        accounts.account_id,
        accounts.industry,
        accounts.region_id,
        windows.quarter_start_date,
        windows.quarter_end_date,
        windows.year,
        windows.quarter,
        windows.snapshot_date,
        windows.revenue_window_complete,
        windows.winnability_window_complete,
        coalesce(deal_measures.revenue_ttm, 0) as revenue_ttm,
        coalesce(deal_measures.deals_won, 0) as deals_won,
        coalesce(deal_measures.deals_lost, 0) as deals_lost,
        coalesce(accounts.spend_potential, 0) as spend_potential,
        coalesce(accounts.demonstration_value, 0) as demonstration_value,
        (
            case when accounts.has_strategic_agreement then 1.0 else 0.0 end
            + case when accounts.is_exclusive_partner then 1.0 else 0.0 end
        ) / 2 as fit,
        coalesce(
            cast(deal_measures.deals_won as {{ type_double() }})
            / nullif(deal_measures.deals_won + deal_measures.deals_lost, 0),
            settings.winnability_default_win_rate
        ) as win_rate
    from accounts
    cross join windows
    cross join settings
    left join deal_measures
        on
            accounts.account_id = deal_measures.account_id
            and windows.quarter_start_date = deal_measures.quarter_start_date
    where {{ account_exists_on('accounts', 'windows.snapshot_date') }}

),

element_scores as (

    select
        account_quarters.*,
        coalesce(
            100 * account_quarters.revenue_ttm / nullif(
                max(account_quarters.revenue_ttm) over (
                    partition by account_quarters.industry, account_quarters.quarter_start_date
                ),
                0
            ),
            0
        ) as revenue_score,
        coalesce(
            100 * account_quarters.spend_potential / nullif(
                max(account_quarters.spend_potential) over (
                    partition by account_quarters.industry, account_quarters.quarter_start_date
                ),
                0
            ),
            0
        ) as potential_score,
        100 * account_quarters.demonstration_value / settings.demonstration_max_value
            as demonstration_score,
        round(
            100 * (
                settings.winnability_win_rate_weight * account_quarters.win_rate
                + settings.winnability_fit_weight * account_quarters.fit
            ),
            6
        ) as winnability_score
    from account_quarters
    cross join settings

),

weighted as (

    select
        element_scores.*,
        coalesce(industry_weights.revenue_weight, default_weights.revenue_weight)
            as revenue_weight,
        coalesce(industry_weights.potential_weight, default_weights.potential_weight)
            as potential_weight,
        coalesce(industry_weights.demonstration_weight, default_weights.demonstration_weight)
            as demonstration_weight,
        coalesce(industry_weights.winnability_weight, default_weights.winnability_weight)
            as winnability_weight
    from element_scores
    left join element_weights as industry_weights
        on element_scores.industry = industry_weights.industry
    left join element_weights as default_weights
        on default_weights.industry = 'default'

),

final as (

    select
        account_id,
        quarter_start_date,
        quarter_end_date,
        year,
        quarter,
        snapshot_date,
        industry,
        region_id,
        revenue_ttm,
        deals_won,
        deals_lost,
        win_rate,
        fit,
        revenue_score,
        potential_score,
        demonstration_score,
        winnability_score,
        revenue_window_complete,
        winnability_window_complete,
        -- rounded so that float noise never splits a tie in the ranking
        round(
            revenue_weight * revenue_score
            + potential_weight * potential_score
            + demonstration_weight * demonstration_score
            + winnability_weight * winnability_score,
            6
        ) as composite_score
    from weighted

)

select * from final

{#-
    One row per account per quarter, from the quarter of the first event (interaction or
    won deal) to the quarter of as_of_date: the S/A/B/C tier (docs/domain.md 3).
    The scoring population of a quarter is the accounts that existed at its snapshot day
    (created on or before it, int_accounts_tier_scored): no row before an account's
    creation, population_size varies by quarter, and an account's first quarter is 'new'.
    rank 1 = highest composite.
    Warm-up: revenue_window_complete, winnability_window_complete; window_complete = both.
    An account is in a tier's band when the share of the population ranked above it
    ((rank - 1) / population size) is below the tier's cumulative share: with the default
    cut-offs S < 5%, A < 20%, B < 50%, else C. Cut-offs by industry (seed tier_cutoffs; the
    rows 'default' for industries without their own). tier_change compares with the
    account's tier in the previous quarter (new, up, down, same).
    Seeds: tier_cutoffs (and, via int_accounts_tier_scored, tier_element_weights,
    tier_score_settings).
-#}
with

scores as (

    select * from {{ ref('int_accounts_tier_scored') }}

),

cutoffs as (

    select * from {{ ref('tier_cutoffs') }}

),

cutoff_sets as (

    select
        industry,
        tier,
        tier_order,
        sum(population_share) over (
            partition by industry
            order by tier_order
            rows between unbounded preceding and current row
        ) as cumulative_share,
        max(tier_order) over (partition by industry) as last_tier_order
    from cutoffs

),

industries_with_cutoffs as (

    select distinct industry from cutoffs

),

ranked as (

    select
        scores.*,
        coalesce(industries_with_cutoffs.industry, 'default') as cutoff_industry,
        rank() over (
            partition by scores.quarter_start_date
            order by scores.composite_score desc
        ) as rank_in_population,
        count(*) over (partition by scores.quarter_start_date) as population_size
    from scores
    left join industries_with_cutoffs
        on scores.industry = industries_with_cutoffs.industry

),

tier_candidates as (

    select
        ranked.account_id,
        ranked.quarter_start_date,
        cutoff_sets.tier,
        cutoff_sets.tier_order,
        row_number() over (
            partition by ranked.account_id, ranked.quarter_start_date
            order by cutoff_sets.tier_order
        ) as candidate_rank
    from ranked
    inner join cutoff_sets
        on
            ranked.cutoff_industry = cutoff_sets.industry
            and (
                cast(ranked.rank_in_population - 1 as {{ type_double() }}) / ranked.population_size
                < cutoff_sets.cumulative_share
                or cutoff_sets.tier_order = cutoff_sets.last_tier_order
            )

),

tiered as (

    select
        ranked.*,
        tier_candidates.tier,
        tier_candidates.tier_order,
        lag(tier_candidates.tier) over (
            partition by ranked.account_id order by ranked.quarter_start_date
        ) as previous_tier,
        lag(tier_candidates.tier_order) over (
            partition by ranked.account_id order by ranked.quarter_start_date
        ) as previous_tier_order
    from ranked
    inner join tier_candidates
        on
            ranked.account_id = tier_candidates.account_id
            and ranked.quarter_start_date = tier_candidates.quarter_start_date
            and tier_candidates.candidate_rank = 1

),

final as (

    select
        account_id,
        quarter_end_date,
        year,
        quarter,
        industry,
        region_id,
        revenue_ttm,
        revenue_score,
        potential_score,
        demonstration_score,
        winnability_score,
        composite_score,
        rank_in_population,
        tier,
        previous_tier,
        case
            when previous_tier is null then 'new'
            when tier_order < previous_tier_order then 'up'
            when tier_order > previous_tier_order then 'down'
            else 'same'
        end as tier_change,
        quarter_start_date,
        snapshot_date,
        population_size,
        tier_order,
        win_rate,
        fit,
        revenue_window_complete and winnability_window_complete as window_complete,
        revenue_window_complete,
        winnability_window_complete
    from tiered

)

select * from final

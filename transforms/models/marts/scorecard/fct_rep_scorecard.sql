{#-
    One row per assessed rep per quarter (int_actions_rep_quarters).
    dimension1_score: weighted mean of the rep's scored dimension-1 components
                      (int_perf_dimension1_scored), null when none can be scored.
    dimension2_score: 100 x mean of the key actions that could be scored (fct_key_actions).
    total_score:      weight_dimension1 x dimension1 + weight_dimension2 x dimension2
                      (market_type_weights), divided by the weights of the dimensions that
                      are not null (a dimension that cannot be scored drops out).
    ranked:           true when the rep has a total and at least min_scored_actions_to_rank
                      (key_action_settings, default 5) of the nine key actions scored;
                      scored_actions (= actions_scored) and min_scored_actions beside it, so
                      that the page can say "not ranked: n of 9 scored".
    rank_in_region:   1 = highest total among the region's ranked reps that quarter (ties
                      share); null when not ranked.
    owned_accounts:   accounts the rep owned in the quarter (int_actions_owned_accounts, the
                      AR of the period); owned_accounts_inferred: how many of them by
                      inference from the quarter's activity and deals (owner_source
                      'inferred'; the rest are recorded in account_owners, 'recorded', or
                      today's AR, 'current').
    Scores are rounded to 6 decimals so that every engine ranks the same numbers.
-#}
with

rep_quarters as (

    select * from {{ ref('int_actions_rep_quarters') }}

),

dimension1_components as (

    select * from {{ ref('int_perf_dimension1_scored') }}

),

key_actions as (

    select * from {{ ref('fct_key_actions') }}

),

market_type_weights as (

    select * from {{ ref('market_type_weights') }}

),

owned_accounts as (

    select
        rep_id,
        year,
        quarter,
        count(*) as owned_accounts,
        sum(case when owner_source = 'inferred' then 1 else 0 end) as owned_accounts_inferred
    from {{ ref('int_actions_owned_accounts') }}
    group by rep_id, year, quarter

),

settings as (

    select
        max(case when setting_name = 'min_scored_actions_to_rank' then setting_value end)
            as min_scored_actions
    from {{ ref('key_action_settings') }}

),

dimension1 as (

    select
        rep_id,
        year,
        quarter,
        round(sum(weight * component_score) / nullif(sum(weight), 0), 6) as dimension1_score,
        count(*) as dimension1_components_scored
    from dimension1_components
    where component_score is not null
    group by rep_id, year, quarter

),

dimension2 as (

    select
        rep_id,
        year,
        quarter,
        round(100.0 * avg(score), 6) as dimension2_score,
        count(score) as actions_scored
    from key_actions
    group by rep_id, year, quarter

),

combined as (

    select
        rep_quarters.rep_id,
        rep_quarters.region_id,
        rep_quarters.year,
        rep_quarters.quarter,
        rep_quarters.quarter_end_date,
        rep_quarters.market_type,
        rep_quarters.is_market_type_defaulted,
        dimension1.dimension1_score,
        dimension2.dimension2_score,
        market_type_weights.weight_dimension1,
        market_type_weights.weight_dimension2,
        coalesce(dimension2.actions_scored, 0) as actions_scored,
        coalesce(dimension1.dimension1_components_scored, 0) as dimension1_components_scored,
        case
            when dimension1.dimension1_score is null then 0
            else market_type_weights.weight_dimension1
        end as weight_dimension1_used,
        case
            when dimension2.dimension2_score is null then 0
            else market_type_weights.weight_dimension2
        end as weight_dimension2_used
    from rep_quarters
    left join dimension1
        on rep_quarters.rep_id = dimension1.rep_id
            and rep_quarters.year = dimension1.year
            and rep_quarters.quarter = dimension1.quarter
    left join dimension2
        on rep_quarters.rep_id = dimension2.rep_id
            and rep_quarters.year = dimension2.year
            and rep_quarters.quarter = dimension2.quarter
    left join market_type_weights
        on rep_quarters.market_type = market_type_weights.market_type

),

weighted as (

    select
        combined.*,
        coalesce(weight_dimension1_used * dimension1_score, 0) as weighted_dimension1,
        coalesce(weight_dimension2_used * dimension2_score, 0) as weighted_dimension2,
        weight_dimension1_used + weight_dimension2_used as weight_available
    from combined

),

totalled as (

    select
        weighted.*,
        case
            when weight_available > 0
                then round((weighted_dimension1 + weighted_dimension2) / weight_available, 6)
        end as total_score,
        cast(settings.min_scored_actions as integer) as min_scored_actions
    from weighted
    cross join settings

),

eligible as (

    select
        totalled.*,
        totalled.total_score is not null
        and totalled.actions_scored >= totalled.min_scored_actions as ranked
    from totalled

),

region_ranks as (

    select
        rep_id,
        year,
        quarter,
        rank() over (
            partition by region_id, year, quarter
            order by total_score desc
        ) as rank_in_region
    from eligible
    where ranked

),

final as (

    select
        eligible.rep_id,
        eligible.region_id,
        eligible.year,
        eligible.quarter,
        eligible.quarter_end_date,
        eligible.market_type,
        eligible.dimension1_score,
        eligible.dimension2_score,
        eligible.weight_dimension1,
        eligible.weight_dimension2,
        eligible.total_score,
        region_ranks.rank_in_region,
        eligible.actions_scored,
        eligible.dimension1_components_scored,
        eligible.is_market_type_defaulted,
        eligible.actions_scored as scored_actions,
        eligible.min_scored_actions,
        eligible.ranked,
        coalesce(owned_accounts.owned_accounts, 0) as owned_accounts,
        coalesce(owned_accounts.owned_accounts_inferred, 0) as owned_accounts_inferred
    from eligible
    left join region_ranks
        on eligible.rep_id = region_ranks.rep_id
            and eligible.year = region_ranks.year
            and eligible.quarter = region_ranks.quarter
    left join owned_accounts
        on eligible.rep_id = owned_accounts.rep_id
            and eligible.year = owned_accounts.year
            and eligible.quarter = owned_accounts.quarter

)

select * from final

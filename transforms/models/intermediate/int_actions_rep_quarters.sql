{#-
    One row per rep per quarter assessed on the key actions and the scorecard: reps employed
    in the quarter whose role is AR, who are the AR of at least one account (today, or of
    the period: int_accounts_owner_of_period), or who are
    credited as owners with plan items or complaints (SR/FR when iron_triangle_credit says
    'owner' for their role).
    market_type is the one the scorecard uses: the region's market type that year, or the
    default market type (market_type_weights.is_default) when none is recorded.
-#}
with

rep_quarters as (

    select * from {{ ref('int_perf_rep_quarters') }}

),

accounts as (

    select ar_rep_id from {{ ref('stg_accounts') }}

),

period_owners as (

    select period_ar_rep_id, year, quarter from {{ ref('int_accounts_owner_of_period') }}

),

plan_items_credited as (

    select credited_rep_id, credited_to from {{ ref('int_actions_plan_items_credited') }}

),

complaints_credited as (

    select credited_rep_id, credited_to from {{ ref('int_actions_complaints_credited') }}

),

market_type_weights as (

    select * from {{ ref('market_type_weights') }}

),

account_owners as (

    select distinct ar_rep_id as rep_id
    from accounts

),

period_account_owners as (

    select
        period_ar_rep_id as rep_id,
        year,
        quarter
    from period_owners
    group by period_ar_rep_id, year, quarter

),

item_owners as (

    select credited_rep_id as rep_id
    from plan_items_credited
    where credited_to = 'owner'
    group by credited_rep_id

    union

    select credited_rep_id as rep_id
    from complaints_credited
    where credited_to = 'owner'
    group by credited_rep_id

),

default_market_type as (

    select min(market_type) as market_type
    from market_type_weights
    where is_default

),

final as (

    select
        rep_quarters.rep_id,
        rep_quarters.region_id,
        rep_quarters.role,
        rep_quarters.year,
        rep_quarters.quarter,
        rep_quarters.quarter_start_date,
        rep_quarters.quarter_end_date,
        rep_quarters.period_end_date,
        coalesce(rep_quarters.market_type, default_market_type.market_type) as market_type,
        rep_quarters.market_type is null as is_market_type_defaulted
    from rep_quarters
    left join account_owners
        on rep_quarters.rep_id = account_owners.rep_id
    left join item_owners
        on rep_quarters.rep_id = item_owners.rep_id
    left join period_account_owners
        on rep_quarters.rep_id = period_account_owners.rep_id
            and rep_quarters.year = period_account_owners.year
            and rep_quarters.quarter = period_account_owners.quarter
    cross join default_market_type
    where
        rep_quarters.role = 'AR'
        or account_owners.rep_id is not null
        or period_account_owners.rep_id is not null
        or item_owners.rep_id is not null

)

select * from final

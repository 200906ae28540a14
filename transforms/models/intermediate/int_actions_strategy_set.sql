{#-
    Key action 1 (customer-group and customer strategy set). One row per assessed rep per
    quarter. denominator: owned accounts whose tier that quarter is listed for action 1 in
    key_action_tiers (all tiers and unranked by default); numerator: those with an account
    strategy current at the period end (approved on or before it, valid_to empty or on or
    after it). Not scored when no account strategy is recorded at all, or no account is in scope.
-#}
with

rep_quarters as (

    select * from {{ ref('int_actions_rep_quarters') }}

),

owned_accounts as (

    select * from {{ ref('int_actions_owned_accounts') }}

),

strategies as (

    select * from {{ ref('stg_account_strategies') }}

),

tiers_in_scope as (

    select tier from {{ ref('key_action_tiers') }}
    where action_no = 1

),

strategy_rows as (

    select count(*) as row_count from strategies

),

accounts_in_scope as (

    select owned_accounts.*
    from owned_accounts
    inner join tiers_in_scope
        on owned_accounts.tier = tiers_in_scope.tier

),

accounts_with_strategy as (

    select distinct
        accounts_in_scope.rep_id,
        accounts_in_scope.year,
        accounts_in_scope.quarter,
        accounts_in_scope.account_id
    from accounts_in_scope
    inner join strategies
        on accounts_in_scope.account_id = strategies.account_id
            and strategies.approved_date <= accounts_in_scope.period_end_date
            and (strategies.valid_to is null or strategies.valid_to >= accounts_in_scope.period_end_date)

),

counted as (

    select
        accounts_in_scope.rep_id,
        accounts_in_scope.year,
        accounts_in_scope.quarter,
        count(*) as accounts_in_scope,
        count(accounts_with_strategy.account_id) as accounts_with_strategy
    from accounts_in_scope
    left join accounts_with_strategy
        on accounts_in_scope.rep_id = accounts_with_strategy.rep_id
            and accounts_in_scope.year = accounts_with_strategy.year
            and accounts_in_scope.quarter = accounts_with_strategy.quarter
            and accounts_in_scope.account_id = accounts_with_strategy.account_id
    group by accounts_in_scope.rep_id, accounts_in_scope.year, accounts_in_scope.quarter

),

final as (

    select
        rep_quarters.rep_id,
        rep_quarters.year,
        rep_quarters.quarter,
        1 as action_no,
        cast(coalesce(counted.accounts_with_strategy, 0) as {{ type_double() }}) as numerator,
        cast(coalesce(counted.accounts_in_scope, 0) as {{ type_double() }}) as denominator,
        case
            when strategy_rows.row_count = 0 then 'no account strategies recorded'
            when coalesce(counted.accounts_in_scope, 0) = 0
                then 'no owned accounts in the tiers this action assesses'
        end as not_scored_reason
    from rep_quarters
    cross join strategy_rows
    left join counted
        on rep_quarters.rep_id = counted.rep_id
            and rep_quarters.year = counted.year
            and rep_quarters.quarter = counted.quarter

)

select * from final

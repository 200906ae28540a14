{#-
    Key action 2 (customer relationship plan made). One row per assessed rep per quarter.
    denominator: owned accounts whose tier that quarter is listed for action 2 in
    key_action_tiers (S and A by default); numerator: those with one relationship plan
    current at the period end (valid_from on or before it, valid_to empty or on or after it)
    that covers all three layers (covers_key, covers_general and covers_org all true).
    Not scored when no relationship plan is recorded at all, or no account is in scope.
-#}
with

rep_quarters as (

    select * from {{ ref('int_actions_rep_quarters') }}

),

owned_accounts as (

    select * from {{ ref('int_actions_owned_accounts') }}

),

plans as (

    select * from {{ ref('stg_relationship_plans') }}

),

tiers_in_scope as (

    select tier from {{ ref('key_action_tiers') }}
    where action_no = 2

),

plan_rows as (

    select count(*) as row_count from plans

),

accounts_in_scope as (

    select owned_accounts.*
    from owned_accounts
    inner join tiers_in_scope
        on owned_accounts.tier = tiers_in_scope.tier

),

accounts_with_plan as (

    select distinct
        accounts_in_scope.rep_id,
        accounts_in_scope.year,
        accounts_in_scope.quarter,
        accounts_in_scope.account_id
    from accounts_in_scope
    inner join plans
        on accounts_in_scope.account_id = plans.account_id
            and plans.valid_from <= accounts_in_scope.period_end_date
            and (plans.valid_to is null or plans.valid_to >= accounts_in_scope.period_end_date)
            and coalesce(plans.covers_key, false)
            and coalesce(plans.covers_general, false)
            and coalesce(plans.covers_org, false)

),

counted as (

    select
        accounts_in_scope.rep_id,
        accounts_in_scope.year,
        accounts_in_scope.quarter,
        count(*) as accounts_in_scope,
        count(accounts_with_plan.account_id) as accounts_with_plan
    from accounts_in_scope
    left join accounts_with_plan
        on accounts_in_scope.rep_id = accounts_with_plan.rep_id
            and accounts_in_scope.year = accounts_with_plan.year
            and accounts_in_scope.quarter = accounts_with_plan.quarter
            and accounts_in_scope.account_id = accounts_with_plan.account_id
    group by accounts_in_scope.rep_id, accounts_in_scope.year, accounts_in_scope.quarter

),

final as (

    select
        rep_quarters.rep_id,
        rep_quarters.year,
        rep_quarters.quarter,
        2 as action_no,
        cast(coalesce(counted.accounts_with_plan, 0) as {{ type_double() }}) as numerator,
        cast(coalesce(counted.accounts_in_scope, 0) as {{ type_double() }}) as denominator,
        case
            when plan_rows.row_count = 0 then 'no relationship plans recorded'
            when coalesce(counted.accounts_in_scope, 0) = 0
                then 'no owned accounts in the tiers this action assesses (S/A by default)'
        end as not_scored_reason
    from rep_quarters
    cross join plan_rows
    left join counted
        on rep_quarters.rep_id = counted.rep_id
            and rep_quarters.year = counted.year
            and rep_quarters.quarter = counted.quarter

)

select * from final

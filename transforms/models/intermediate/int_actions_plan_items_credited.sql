{#-
    The iron triangle (issue 16): one row per plan item with the rep it is credited to on the
    key actions 4-7 (credited_rep_id) and why (credited_to):
      'owner'       the item's owner (plan_items.owner_rep_id), when the owner's role is not
                    listed in iron_triangle_credit with credit_to = 'ar' (AR-owned items, and
                    SR/FR-owned items with credit_to = 'owner') and the owner is employed on
                    the due date;
      'account_ar'  otherwise the AR of the plan's account in the quarter of the due date
                    (int_accounts_owner_inferred; today's accounts.ar_rep_id when the due
                    date is after the as-of date), when
                    employed on the due date: SR/FR-owned items with credit_to = 'ar' (the
                    default), and items whose owner had left or was not yet hired;
      null          neither is employed on the due date (assert_owned_items_are_credited
                    fails on such an item when it is due in the measured history).
    Employed on a day: hire_date empty or on or before it, leave_date empty or on or after it.
-#}
with

plan_items as (

    select * from {{ ref('stg_plan_items') }}

),

plans as (

    select plan_id, account_id from {{ ref('stg_relationship_plans') }}

),

accounts as (

    select account_id, ar_rep_id from {{ ref('stg_accounts') }}

),

period_owners as (

    select account_id, quarter_start_date, snapshot_date, period_ar_rep_id
    from {{ ref('int_accounts_owner_inferred') }}

),

reps as (

    select rep_id, role, hire_date, leave_date from {{ ref('stg_reps') }}

),

credit_rules as (

    select role, credit_to from {{ ref('iron_triangle_credit') }}

),

candidates as (

    select
        plan_items.*,
        plans.account_id,
        owners.role as owner_role,
        coalesce(period_owners.period_ar_rep_id, accounts.ar_rep_id) as account_ar_rep_id,
        coalesce(credit_rules.credit_to, 'owner') as owner_credit_rule,
        owners.rep_id is not null
        and (owners.hire_date is null or owners.hire_date <= plan_items.due_date)
        and (owners.leave_date is null or owners.leave_date >= plan_items.due_date)
            as is_owner_employed,
        account_ars.rep_id is not null
        and (account_ars.hire_date is null or account_ars.hire_date <= plan_items.due_date)
        and (account_ars.leave_date is null or account_ars.leave_date >= plan_items.due_date)
            as is_account_ar_employed
    from plan_items
    left join plans
        on plan_items.plan_id = plans.plan_id
    left join accounts
        on plans.account_id = accounts.account_id
    left join reps as owners
        on plan_items.owner_rep_id = owners.rep_id
    left join period_owners
        on plans.account_id = period_owners.account_id
            and plan_items.due_date >= period_owners.quarter_start_date
            and plan_items.due_date <= period_owners.snapshot_date
    left join reps as account_ars
        on coalesce(period_owners.period_ar_rep_id, accounts.ar_rep_id) = account_ars.rep_id
    left join credit_rules
        on owners.role = credit_rules.role

),

final as (

    select
        candidates.*,
        case
            when owner_credit_rule = 'owner' and is_owner_employed then owner_rep_id
            when is_account_ar_employed then account_ar_rep_id
        end as credited_rep_id,
        case
            when owner_credit_rule = 'owner' and is_owner_employed then 'owner'
            when is_account_ar_employed then 'account_ar'
        end as credited_to
    from candidates

)

select * from final

{#-
    The iron triangle (issue 16): one row per plan item with the rep it is credited to on
    key actions 4-7 (credited_rep_id) and why (credited_to). The first that applies:
      1 'owner'       the owner (owner_rep_id) employed on the due date, unless the owner's
                      role is listed in iron_triangle_credit with credit_to = 'ar' (SR and
                      FR by default: their items go to the account's AR);
      2 'account_ar'  the account's AR of the period of the due date
                      (int_accounts_owner_of_period: recorded, else inferred)
                      employed on the due date;
      3 'current_ar'  today's AR of the account (accounts.ar_rep_id) employed on the due date;
      4 'owner'       the owner (rule as in 1) employed some day of the due date's quarter;
      5 'account_ar'  the AR of the period employed some day of that quarter;
      null            nobody responsible was employed (assert_owned_items_are_credited
                      fails on such an item when it is due in the measured history).
    Employed: macros/employment.sql.
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
    from {{ ref('int_accounts_owner_of_period') }}

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
        coalesce(credit_rules.credit_to, 'owner') as owner_credit_rule,
        period_owners.period_ar_rep_id,
        accounts.ar_rep_id as current_ar_rep_id,
        {{ employed_on('owners', 'plan_items.due_date') }} as is_owner_employed,
        {{ employed_on('period_ars', 'plan_items.due_date') }} as is_period_ar_employed,
        {{ employed_on('current_ars', 'plan_items.due_date') }} as is_current_ar_employed,
        {{ employed_between('owners', 'period_owners.quarter_start_date', 'period_owners.snapshot_date') }}
            as is_owner_in_quarter,
        {{ employed_between('period_ars', 'period_owners.quarter_start_date', 'period_owners.snapshot_date') }}
            as is_period_ar_in_quarter
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
    left join reps as period_ars
        on period_owners.period_ar_rep_id = period_ars.rep_id
    left join reps as current_ars
        on accounts.ar_rep_id = current_ars.rep_id
    left join credit_rules
        on owners.role = credit_rules.role

),

final as (

    select
        candidates.*,
        {{ credited('rep_id') }} as credited_rep_id,
        {{ credited('rule') }} as credited_to
    from candidates

)

select * from final

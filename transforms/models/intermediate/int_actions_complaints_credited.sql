{#-
    The iron triangle (issue 16): one row per complaint with its due date and the rep it is
    credited to on key action 8 (credited_rep_id) and why (credited_to), by the rule of
    int_actions_plan_items_credited on the complaint's due date:
      'owner'       the owner (complaints.owner_rep_id), unless the owner's role is listed in
                    iron_triangle_credit with credit_to = 'ar' (SR and FR by default), when
                    employed on the due date;
      'account_ar'  otherwise the AR of the complaint's account in the quarter of the due
                    date (int_accounts_owner_inferred; today's AR after the as-of date), when
                    employed on the due date;
      null          neither is employed then.
    due_date: the day sla_days after the day the complaint was opened (sla_days of the
    complaint, else the default of its severity in complaint_sla, else 'unspecified').
-#}
with

complaints as (

    select * from {{ ref('stg_complaints') }}

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

complaint_sla as (

    select severity, sla_days from {{ ref('complaint_sla') }}

),

with_due_date as (

    select
        complaints.*,
        cast(
            {{ dbt.dateadd(
                'day',
                'coalesce(complaints.sla_days, by_severity.sla_days, unspecified.sla_days)',
                'cast(complaints.opened_at as date)'
            ) }} as date
        ) as due_date
    from complaints
    left join complaint_sla as by_severity
        on complaints.severity = by_severity.severity
    left join complaint_sla as unspecified
        on unspecified.severity = 'unspecified'

),

candidates as (

    select
        with_due_date.*,
        owners.role as owner_role,
        coalesce(period_owners.period_ar_rep_id, accounts.ar_rep_id) as account_ar_rep_id,
        coalesce(credit_rules.credit_to, 'owner') as owner_credit_rule,
        owners.rep_id is not null
        and (owners.hire_date is null or owners.hire_date <= with_due_date.due_date)
        and (owners.leave_date is null or owners.leave_date >= with_due_date.due_date)
            as is_owner_employed,
        account_ars.rep_id is not null
        and (account_ars.hire_date is null or account_ars.hire_date <= with_due_date.due_date)
        and (account_ars.leave_date is null or account_ars.leave_date >= with_due_date.due_date)
            as is_account_ar_employed
    from with_due_date
    left join accounts
        on with_due_date.account_id = accounts.account_id
    left join reps as owners
        on with_due_date.owner_rep_id = owners.rep_id
    left join period_owners
        on with_due_date.account_id = period_owners.account_id
            and with_due_date.due_date >= period_owners.quarter_start_date
            and with_due_date.due_date <= period_owners.snapshot_date
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

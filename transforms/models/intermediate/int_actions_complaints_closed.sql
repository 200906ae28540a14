{#-
    Key action 8 (responsible for satisfaction; problems and complaints closed in a loop).
    One row per assessed rep per quarter. A complaint is due sla_days after it was opened
    (sla_days of the complaint, else the default of its severity in complaint_sla, else the
    'unspecified' row). denominator: the complaints credited to the rep
    (int_actions_complaints_credited: the owner's, or the account AR's for complaints owned
    by SR/FR, the iron triangle) due in the quarter
    up to its period end; numerator: those closed no later than due and, when
    action8_require_customer_confirmation is 1, confirmed by the customer.
    satisfaction_avg (shown beside, not scored): mean survey score (0..10) of the accounts the
    rep owned in the quarter (int_actions_owned_accounts, the AR of the period) answered in
    the quarter up to its period end.
-#}
with

rep_quarters as (

    select * from {{ ref('int_actions_rep_quarters') }}

),

complaints as (

    select * from {{ ref('int_actions_complaints_credited') }}

),

owned_accounts as (

    select rep_id, year, quarter, account_id from {{ ref('int_actions_owned_accounts') }}

),

surveys as (

    select * from {{ ref('stg_satisfaction_surveys') }}

),

complaint_sla as (

    select severity, sla_days from {{ ref('complaint_sla') }}

),

settings as (

    select
        max(
            case when setting_name = 'action8_require_customer_confirmation' then setting_value end
        ) as require_confirmation
    from {{ ref('key_action_settings') }}

),

complaints_with_sla as (

    select
        complaints.complaint_id,
        complaints.credited_rep_id,
        complaints.opened_at,
        complaints.closed_at,
        coalesce(complaints.is_customer_confirmed, false) as is_customer_confirmed,
        coalesce(complaints.sla_days, by_severity.sla_days, unspecified.sla_days) as sla_days
    from complaints
    left join complaint_sla as by_severity
        on complaints.severity = by_severity.severity
    left join complaint_sla as unspecified
        on unspecified.severity = 'unspecified'

),

complaints_due as (

    select
        complaint_id,
        credited_rep_id,
        is_customer_confirmed,
        -- due: sla_days x 24 hours after opened_at (compared in seconds, the same on every
        -- engine); the quarter it falls in: the date sla_days after the day it was opened
        closed_at is not null
        and {{ dbt.datediff('opened_at', 'closed_at', 'second') }} <= sla_days * 86400
            as is_closed_within_sla,
        cast({{ dbt.dateadd('day', 'sla_days', 'cast(opened_at as date)') }} as date) as due_date
    from complaints_with_sla

),

closed_in_loop as (

    select
        rep_quarters.rep_id,
        rep_quarters.year,
        rep_quarters.quarter,
        count(*) as complaints_due,
        sum(
            case
                when complaints_due.is_closed_within_sla
                    and (settings.require_confirmation = 0 or complaints_due.is_customer_confirmed)
                    then 1
                else 0
            end
        ) as complaints_closed_in_loop
    from rep_quarters
    inner join complaints_due
        on rep_quarters.rep_id = complaints_due.credited_rep_id
            and complaints_due.due_date >= rep_quarters.quarter_start_date
            and complaints_due.due_date <= rep_quarters.period_end_date
    cross join settings
    group by rep_quarters.rep_id, rep_quarters.year, rep_quarters.quarter

),

satisfaction as (

    select
        rep_quarters.rep_id,
        rep_quarters.year,
        rep_quarters.quarter,
        avg(surveys.score) as satisfaction_avg,
        count(*) as satisfaction_responses
    from rep_quarters
    inner join owned_accounts
        on rep_quarters.rep_id = owned_accounts.rep_id
            and rep_quarters.year = owned_accounts.year
            and rep_quarters.quarter = owned_accounts.quarter
    inner join surveys
        on owned_accounts.account_id = surveys.account_id
            and surveys.survey_date >= rep_quarters.quarter_start_date
            and surveys.survey_date <= rep_quarters.period_end_date
    group by rep_quarters.rep_id, rep_quarters.year, rep_quarters.quarter

),

final as (

    select
        rep_quarters.rep_id,
        rep_quarters.year,
        rep_quarters.quarter,
        8 as action_no,
        cast(coalesce(closed_in_loop.complaints_closed_in_loop, 0) as {{ type_double() }}) as numerator,
        cast(coalesce(closed_in_loop.complaints_due, 0) as {{ type_double() }}) as denominator,
        case
            when coalesce(closed_in_loop.complaints_due, 0) = 0
                then 'no complaints due in the quarter'
        end as not_scored_reason,
        satisfaction.satisfaction_avg,
        coalesce(satisfaction.satisfaction_responses, 0) as satisfaction_responses
    from rep_quarters
    left join closed_in_loop
        on rep_quarters.rep_id = closed_in_loop.rep_id
            and rep_quarters.year = closed_in_loop.year
            and rep_quarters.quarter = closed_in_loop.quarter
    left join satisfaction
        on rep_quarters.rep_id = satisfaction.rep_id
            and rep_quarters.year = satisfaction.year
            and rep_quarters.quarter = satisfaction.quarter

)

select * from final

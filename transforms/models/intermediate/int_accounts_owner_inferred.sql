{#-
    Ownership of the period, inferred: the AR who owned an account in a quarter,
    inferred from the quarter's own evidence. int_accounts_owner_of_period uses it where the
    CRM's owner history (account_owners, int_accounts_owner_recorded) does not decide.
    One row per account per quarter in which the account existed on at least one day up to
    the quarter's snapshot day (int_calendar_quarters; macros/validity.sql exists_during:
    created on or before the snapshot day, closed on or after the quarter start), so an
    account closed during a quarter is still owned that quarter, and not after:
      evidence of a rep = activities the rep logged on the account in the quarter, when the
                          rep's role is AR (int_account_rep_activity_monthly, the quarter's
                          months), + won deals on the account closed in the quarter up to its
                          snapshot day with the rep as the deal's AR (opportunities.ar_rep_id)
      period_ar_rep_id  = the rep with the most evidence (ties: today's AR, then the
                          smallest rep_id); owner_source = 'inferred'
                        = today's AR (accounts.ar_rep_id) when nobody has evidence that
                          quarter; owner_source = 'current'
    Through int_accounts_owner_of_period: the owned accounts of key actions 1, 2, 3 and 9
    (int_actions_owned_accounts) and the account's AR of the iron triangle
    (int_actions_*_credited). Revenue is not re-credited: a deal counts for the AR on the
    deal at close (docs/domain.md 7).
-#}
with

quarters as (

    select year, quarter, quarter_start_date, snapshot_date from {{ ref('int_calendar_quarters') }}

),

accounts as (

    select account_id, ar_rep_id, created_date, closed_date from {{ ref('stg_accounts') }}

),

reps as (

    select rep_id, role from {{ ref('stg_reps') }}

),

activity as (

    select * from {{ ref('int_account_rep_activity_monthly') }}

),

opportunities as (

    select * from {{ ref('stg_opportunities') }}

),

account_quarters as (

    select
        accounts.account_id,
        accounts.ar_rep_id as current_ar_rep_id,
        quarters.year,
        quarters.quarter,
        quarters.quarter_start_date,
        quarters.snapshot_date
    from accounts
    inner join quarters
        on {{ account_exists_during('accounts', 'quarters.quarter_start_date', 'quarters.snapshot_date') }}

),

ar_activity as (

    select
        activity.account_id,
        activity.rep_id,
        quarters.year,
        quarters.quarter,
        sum(activity.activity_count) as evidence
    from activity
    inner join reps
        on activity.rep_id = reps.rep_id
            and reps.role = 'AR'
    inner join quarters
        on activity.month_start_date >= quarters.quarter_start_date
            and activity.month_start_date <= quarters.snapshot_date
    group by activity.account_id, activity.rep_id, quarters.year, quarters.quarter

),

won_deals as (

    select
        opportunities.account_id,
        opportunities.ar_rep_id as rep_id,
        quarters.year,
        quarters.quarter,
        count(*) as evidence
    from opportunities
    inner join quarters
        on opportunities.close_date >= quarters.quarter_start_date
            and opportunities.close_date <= quarters.snapshot_date
    where opportunities.status = 'won' and opportunities.ar_rep_id is not null
    group by opportunities.account_id, opportunities.ar_rep_id, quarters.year, quarters.quarter

),

evidence as (

    select
        account_id,
        rep_id,
        year,
        quarter,
        sum(evidence) as evidence
    from (
        select account_id, rep_id, year, quarter, evidence from ar_activity
        union all
        select account_id, rep_id, year, quarter, evidence from won_deals
    ) as both_sources
    group by account_id, rep_id, year, quarter

),

ranked as (

    select
        evidence.account_id,
        evidence.rep_id,
        evidence.year,
        evidence.quarter,
        evidence.evidence,
        row_number() over (
            partition by evidence.account_id, evidence.year, evidence.quarter
            order by
                evidence.evidence desc,
                case when evidence.rep_id = accounts.ar_rep_id then 0 else 1 end,
                evidence.rep_id
        ) as evidence_rank
    from evidence
    inner join accounts
        on evidence.account_id = accounts.account_id

),

final as (

    select
        account_quarters.account_id,
        account_quarters.year,
        account_quarters.quarter,
        account_quarters.quarter_start_date,
        account_quarters.snapshot_date,
        coalesce(ranked.rep_id, account_quarters.current_ar_rep_id) as period_ar_rep_id,
        case when ranked.rep_id is not null then 'inferred' else 'current' end as owner_source,
        account_quarters.current_ar_rep_id,
        coalesce(ranked.evidence, 0) as evidence
    from account_quarters
    left join ranked
        on account_quarters.account_id = ranked.account_id
            and account_quarters.year = ranked.year
            and account_quarters.quarter = ranked.quarter
            and ranked.evidence_rank = 1

)

select * from final

{#-
    One row per assessed rep per quarter per account the rep owned in that quarter: the AR
    of the period (int_accounts_owner_of_period.period_ar_rep_id: recorded in account_owners,
    else inferred from the quarter's AR activity and won deals, else today's
    accounts.ar_rep_id; owner_source 'recorded', 'inferred' or 'current' says which).
    Accounts created after the quarter's period end or closed before the quarter started are
    left out (the owner models cover the quarters in which the account existed on at least
    one day, macros/validity.sql); an account closed during the quarter is still owned in
    it (unranked, as it has no tier that quarter). tier is the account's tier that quarter (fct_account_tiers), 'unranked' when
    it has none.
-#}
with

rep_quarters as (

    select * from {{ ref('int_actions_rep_quarters') }}

),

owners as (

    select * from {{ ref('int_accounts_owner_of_period') }}

),

account_tiers as (

    select account_id, year, quarter, tier from {{ ref('fct_account_tiers') }}

),

final as (

    select
        rep_quarters.rep_id,
        rep_quarters.year,
        rep_quarters.quarter,
        rep_quarters.quarter_start_date,
        rep_quarters.period_end_date,
        owners.account_id,
        coalesce(account_tiers.tier, 'unranked') as tier,
        owners.owner_source
    from rep_quarters
    inner join owners
        on rep_quarters.rep_id = owners.period_ar_rep_id
            and rep_quarters.year = owners.year
            and rep_quarters.quarter = owners.quarter
    left join account_tiers
        on owners.account_id = account_tiers.account_id
            and rep_quarters.year = account_tiers.year
            and rep_quarters.quarter = account_tiers.quarter

)

select * from final

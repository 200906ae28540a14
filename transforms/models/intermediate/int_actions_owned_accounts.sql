{#-
    One row per assessed rep per quarter per account the rep owns (accounts.ar_rep_id;
    ownership is the current one, accounts hold no owner history). Accounts created after
    the quarter's period end are left out. tier is the account's tier that quarter
    (fct_account_tiers), 'unranked' when it has none.
-#}
with

rep_quarters as (

    select * from {{ ref('int_actions_rep_quarters') }}

),

accounts as (

    select * from {{ ref('stg_accounts') }}

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
        accounts.account_id,
        coalesce(account_tiers.tier, 'unranked') as tier
    from rep_quarters
    inner join accounts
        on rep_quarters.rep_id = accounts.ar_rep_id
            and (accounts.created_date is null or accounts.created_date <= rep_quarters.period_end_date)
    left join account_tiers
        on accounts.account_id = account_tiers.account_id
            and rep_quarters.year = account_tiers.year
            and rep_quarters.quarter = account_tiers.quarter

)

select * from final

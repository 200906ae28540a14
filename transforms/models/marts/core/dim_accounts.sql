{#-
    One row per account, with its region's name, its tier and composite score in the
    latest quarter (fct_account_tiers) and its health in the latest month
    (fct_relationship_health). Every account is listed; one closed before the latest month
    (closed_date, macros/validity.sql) has no tier or health there, so those are empty.
-#}
with

accounts as (

    select * from {{ ref('stg_accounts') }}

),

regions as (

    select * from {{ ref('stg_regions') }}

),

tiers as (

    select * from {{ ref('fct_account_tiers') }}

),

health as (

    select * from {{ ref('fct_relationship_health') }}

),

latest_tiers as (

    select tiers.*
    from tiers
    inner join (select max(quarter_end_date) as quarter_end_date from tiers) as latest
        on tiers.quarter_end_date = latest.quarter_end_date

),

latest_health as (

    select health.*
    from health
    inner join (select max(month_end_date) as month_end_date from health) as latest
        on health.month_end_date = latest.month_end_date

),

final as (

    select
        accounts.account_id,
        accounts.account_name,
        accounts.industry,
        accounts.region_id,
        regions.region_name,
        accounts.ar_rep_id,
        accounts.sr_rep_id,
        accounts.fr_rep_id,
        accounts.spend_potential,
        accounts.demonstration_value,
        accounts.has_strategic_agreement,
        accounts.is_exclusive_partner,
        latest_tiers.tier as current_tier,
        latest_tiers.composite_score,
        latest_health.health_score,
        latest_health.health_band,
        accounts.created_date,
        accounts.closed_date,
        latest_tiers.previous_tier,
        latest_health.key_score,
        latest_health.general_score,
        latest_health.org_score,
        latest_health.is_privately_held
    from accounts
    left join regions
        on accounts.region_id = regions.region_id
    left join latest_tiers
        on accounts.account_id = latest_tiers.account_id
    left join latest_health
        on accounts.account_id = latest_health.account_id

)

select * from final

{#-
    One row per won opportunity closed on or before as_of_date, credited to its AR
    (opportunities.ar_rep_id) in the quarter of its close date.
    profit = amount x margin_pct; when margin_pct is empty, amount - cost; null when both
    are empty (the deal's amount then shows in revenue_without_profit).
-#}
with

dates as (

    select as_of_date from {{ ref('int_dates') }}

),

opportunities as (

    select * from {{ ref('stg_opportunities') }}

),

won as (

    select
        opportunities.opportunity_id,
        opportunities.account_id,
        opportunities.ar_rep_id,
        opportunities.close_date,
        opportunities.amount,
        opportunities.margin_pct,
        opportunities.cost
    from opportunities
    cross join dates
    where
        opportunities.status = 'won'
        and opportunities.close_date is not null
        and opportunities.close_date <= dates.as_of_date

),

final as (

    select
        opportunity_id,
        account_id,
        ar_rep_id,
        close_date,
        cast(extract(year from close_date) as integer) as year,
        cast(extract(quarter from close_date) as integer) as quarter,
        amount as revenue,
        case
            when margin_pct is not null then amount * margin_pct
            when cost is not null then amount - cost
        end as profit,
        case
            when margin_pct is not null then 'margin_pct'
            when cost is not null then 'cost'
            else 'unknown'
        end as profit_basis
    from won

)

select * from final

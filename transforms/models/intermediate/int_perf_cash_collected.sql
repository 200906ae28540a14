{#-
    One row per rep per quarter with cash received: payments (paid on or before as_of_date)
    credited to the AR of the opportunity paid for, in the quarter of the paid date.
-#}
with

dates as (

    select as_of_date from {{ ref('int_dates') }}

),

payments as (

    select * from {{ ref('stg_payments') }}

),

opportunities as (

    select opportunity_id, ar_rep_id from {{ ref('stg_opportunities') }}

),

credited as (

    select
        opportunities.ar_rep_id as rep_id,
        cast(extract(year from payments.paid_date) as integer) as year,
        cast(extract(quarter from payments.paid_date) as integer) as quarter,
        payments.amount
    from payments
    inner join opportunities
        on payments.opportunity_id = opportunities.opportunity_id
    cross join dates
    where payments.paid_date <= dates.as_of_date

),

final as (

    select
        rep_id,
        year,
        quarter,
        sum(amount) as cash_collected,
        count(*) as payments_count
    from credited
    group by rep_id, year, quarter

)

select * from final

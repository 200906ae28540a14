{#-
    Every health_band in fct_relationship_health is the band of the health_bands seed with
    the highest min_score at or below the account's health.
-#}
with

health as (

    select * from {{ ref('fct_relationship_health') }}

),

bands as (

    select * from {{ ref('health_bands') }}

),

expected as (

    select
        health.account_id,
        health.month_end_date,
        health.health_band,
        max(bands.min_score) as expected_min_score
    from health
    inner join bands
        on health.health_score >= bands.min_score
    group by
        health.account_id,
        health.month_end_date,
        health.health_band

),

final as (

    select
        expected.account_id,
        expected.month_end_date,
        expected.health_band,
        expected.expected_min_score
    from expected
    left join bands
        on expected.health_band = bands.band
    where bands.min_score is null or bands.min_score <> expected.expected_min_score

)

select * from final

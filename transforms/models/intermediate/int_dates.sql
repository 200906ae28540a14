{#-
    One row: the dates every other model measures from.
    as_of_date   the var `as_of_date`, or the latest interaction date (macro as_of_date_sql)
    compare_date as_of_date minus the var `compare_days` ("who moved", fct_power_map)
    first_interaction_date  the earliest interaction on or before as_of_date
-#}
with

interactions as (

    select occurred_at from {{ ref('stg_interactions') }}

),

as_of as (

    select {{ as_of_date_sql() }} as as_of_date

),

first_interaction as (

    select
        min(cast(interactions.occurred_at as date)) as first_interaction_date
    from interactions
    cross join as_of
    where cast(interactions.occurred_at as date) <= as_of.as_of_date

),

final as (

    select
        as_of.as_of_date,
        cast(
            {{ dbt.dateadd('day', -1 * var('compare_days', 90), 'as_of.as_of_date') }} as date
        ) as compare_date,
        first_interaction.first_interaction_date
    from as_of
    cross join first_interaction

)

select * from final

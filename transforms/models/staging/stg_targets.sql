with

source as (

    select * from {{ source('validated', 'targets') }}

),

renamed as (

    select
        ---------- ids
        cast(scope as {{ dbt.type_string() }}) as scope,
        cast(scope_id as {{ dbt.type_string() }}) as scope_id,

        ---------- numerics
        cast(year as {{ dbt.type_bigint() }}) as year,
        cast(quarter as {{ dbt.type_bigint() }}) as quarter,
        cast(revenue_target as {{ type_double() }}) as revenue_target,
        cast(profit_target as {{ type_double() }}) as profit_target,

        ---------- lineage
        cast(_source_file as {{ dbt.type_string() }}) as _source_file,
        cast(_row_number as {{ dbt.type_bigint() }}) as _row_number

    from source

)

select * from renamed

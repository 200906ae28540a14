with

source as (

    select * from {{ source('validated', 'region_market_types') }}

),

renamed as (

    select
        ---------- ids
        cast(region_id as {{ dbt.type_string() }}) as region_id,

        ---------- text
        cast(market_type as {{ dbt.type_string() }}) as market_type,

        ---------- numerics
        cast(year as {{ dbt.type_bigint() }}) as year,

        ---------- lineage
        cast(_source_file as {{ dbt.type_string() }}) as _source_file,
        cast(_row_number as {{ dbt.type_bigint() }}) as _row_number

    from source

)

select * from renamed

with

source as (

    select * from {{ source('validated', 'regions') }}

),

renamed as (

    select
        ---------- ids
        cast(region_id as {{ dbt.type_string() }}) as region_id,

        ---------- text
        cast(region_name as {{ dbt.type_string() }}) as region_name,
        cast(country as {{ dbt.type_string() }}) as country,

        ---------- lineage
        cast(_source_file as {{ dbt.type_string() }}) as _source_file,
        cast(_row_number as {{ dbt.type_bigint() }}) as _row_number

    from source

)

select * from renamed

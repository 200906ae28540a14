with

source as (

    select * from {{ source('validated', 'competitor_stances') }}

),

renamed as (

    select
        ---------- ids
        cast(contact_id as {{ dbt.type_string() }}) as contact_id,
        cast(competitor as {{ dbt.type_string() }}) as competitor,

        ---------- numerics
        cast(attitude as {{ dbt.type_bigint() }}) as attitude,

        ---------- dates
        cast(assessed_date as date) as assessed_date,

        ---------- lineage
        cast(_source_file as {{ dbt.type_string() }}) as _source_file,
        cast(_row_number as {{ dbt.type_bigint() }}) as _row_number

    from source

)

select * from renamed

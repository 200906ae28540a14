with

source as (

    select * from {{ source('validated', 'payments') }}

),

renamed as (

    select
        ---------- ids
        cast(payment_id as {{ dbt.type_string() }}) as payment_id,
        cast(opportunity_id as {{ dbt.type_string() }}) as opportunity_id,

        ---------- numerics
        cast(amount as {{ type_double() }}) as amount,

        ---------- dates
        cast(paid_date as date) as paid_date,

        ---------- lineage
        cast(_source_file as {{ dbt.type_string() }}) as _source_file,
        cast(_row_number as {{ dbt.type_bigint() }}) as _row_number

    from source

)

select * from renamed

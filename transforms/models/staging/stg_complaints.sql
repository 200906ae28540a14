with

source as (

    select * from {{ source('validated', 'complaints') }}

),

renamed as (

    select
        ---------- ids
        cast(complaint_id as {{ dbt.type_string() }}) as complaint_id,
        cast(account_id as {{ dbt.type_string() }}) as account_id,
        cast(contact_id as {{ dbt.type_string() }}) as contact_id,
        cast(owner_rep_id as {{ dbt.type_string() }}) as owner_rep_id,

        ---------- text
        cast(severity as {{ dbt.type_string() }}) as severity,

        ---------- numerics
        cast(sla_days as {{ dbt.type_bigint() }}) as sla_days,

        ---------- booleans
        cast(is_customer_confirmed as {{ dbt.type_boolean() }}) as is_customer_confirmed,

        ---------- timestamps
        cast(opened_at as {{ dbt.type_timestamp() }}) as opened_at,
        cast(closed_at as {{ dbt.type_timestamp() }}) as closed_at,

        ---------- lineage
        cast(_source_file as {{ dbt.type_string() }}) as _source_file,
        cast(_row_number as {{ dbt.type_bigint() }}) as _row_number

    from source

)

select * from renamed

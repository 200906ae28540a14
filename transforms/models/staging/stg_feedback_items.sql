with

source as (

    select * from {{ source('validated', 'feedback_items') }}

),

renamed as (

    select
        ---------- ids
        cast(feedback_id as {{ dbt.type_string() }}) as feedback_id,
        cast(account_id as {{ dbt.type_string() }}) as account_id,
        cast(contact_id as {{ dbt.type_string() }}) as contact_id,
        cast(recorded_by_rep_id as {{ dbt.type_string() }}) as recorded_by_rep_id,

        ---------- text
        cast(category as {{ dbt.type_string() }}) as category,
        cast(routed_to as {{ dbt.type_string() }}) as routed_to,

        ---------- dates
        cast(recorded_date as date) as recorded_date,
        cast(routed_date as date) as routed_date,

        ---------- lineage
        cast(_source_file as {{ dbt.type_string() }}) as _source_file,
        cast(_row_number as {{ dbt.type_bigint() }}) as _row_number

    from source

)

select * from renamed

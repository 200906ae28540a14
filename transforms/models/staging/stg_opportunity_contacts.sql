with

source as (

    select * from {{ source('validated', 'opportunity_contacts') }}

),

renamed as (

    select
        ---------- ids
        cast(opportunity_id as {{ dbt.type_string() }}) as opportunity_id,
        cast(contact_id as {{ dbt.type_string() }}) as contact_id,

        ---------- text
        cast(decision_role as {{ dbt.type_string() }}) as decision_role,
        cast(evaluation_group as {{ dbt.type_string() }}) as evaluation_group,

        ---------- lineage
        cast(_source_file as {{ dbt.type_string() }}) as _source_file,
        cast(_row_number as {{ dbt.type_bigint() }}) as _row_number

    from source

)

select * from renamed

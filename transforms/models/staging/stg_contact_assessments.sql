with

source as (

    select * from {{ source('validated', 'contact_assessments') }}

),

renamed as (

    select
        ---------- ids
        cast(assessment_id as {{ dbt.type_string() }}) as assessment_id,
        cast(contact_id as {{ dbt.type_string() }}) as contact_id,
        cast(assessor_rep_id as {{ dbt.type_string() }}) as assessor_rep_id,

        ---------- numerics
        cast(attitude as {{ dbt.type_bigint() }}) as attitude,
        cast(intimacy as {{ dbt.type_bigint() }}) as intimacy,

        ---------- dates
        cast(assessed_date as date) as assessed_date,

        ---------- lineage
        cast(_source_file as {{ dbt.type_string() }}) as _source_file,
        cast(_row_number as {{ dbt.type_bigint() }}) as _row_number

    from source

)

select * from renamed

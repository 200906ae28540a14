with

source as (

    select * from {{ source('validated', 'satisfaction_surveys') }}

),

renamed as (

    select
        ---------- ids
        cast(survey_id as {{ dbt.type_string() }}) as survey_id,
        cast(account_id as {{ dbt.type_string() }}) as account_id,
        cast(contact_id as {{ dbt.type_string() }}) as contact_id,

        ---------- numerics
        cast(score as {{ type_double() }}) as score,

        ---------- dates
        cast(survey_date as date) as survey_date,

        ---------- lineage
        cast(_source_file as {{ dbt.type_string() }}) as _source_file,
        cast(_row_number as {{ dbt.type_bigint() }}) as _row_number

    from source

)

select * from renamed

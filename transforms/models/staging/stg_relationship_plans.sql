with

source as (

    select * from {{ source('validated', 'relationship_plans') }}

),

renamed as (

    select
        ---------- ids
        cast(plan_id as {{ dbt.type_string() }}) as plan_id,
        cast(account_id as {{ dbt.type_string() }}) as account_id,
        cast(owner_rep_id as {{ dbt.type_string() }}) as owner_rep_id,

        ---------- booleans
        cast(covers_key as {{ dbt.type_boolean() }}) as covers_key,
        cast(covers_general as {{ dbt.type_boolean() }}) as covers_general,
        cast(covers_org as {{ dbt.type_boolean() }}) as covers_org,

        ---------- dates
        cast(valid_from as date) as valid_from,
        cast(valid_to as date) as valid_to,

        ---------- lineage
        cast(_source_file as {{ dbt.type_string() }}) as _source_file,
        cast(_row_number as {{ dbt.type_bigint() }}) as _row_number

    from source

)

select * from renamed

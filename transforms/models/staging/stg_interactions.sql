with

source as (

    select * from {{ source('validated', 'interactions') }}

),

renamed as (

    select
        ---------- ids
        cast(interaction_id as {{ dbt.type_string() }}) as interaction_id,
        cast(rep_id as {{ dbt.type_string() }}) as rep_id,
        cast(account_id as {{ dbt.type_string() }}) as account_id,
        cast(contact_id as {{ dbt.type_string() }}) as contact_id,
        cast(plan_item_id as {{ dbt.type_string() }}) as plan_item_id,

        ---------- text
        cast(activity_type as {{ dbt.type_string() }}) as activity_type,
        cast(outcome as {{ dbt.type_string() }}) as outcome,

        ---------- timestamps
        cast(occurred_at as {{ dbt.type_timestamp() }}) as occurred_at,
        cast(logged_at as {{ dbt.type_timestamp() }}) as logged_at,

        ---------- lineage
        cast(_source_file as {{ dbt.type_string() }}) as _source_file,
        cast(_row_number as {{ dbt.type_bigint() }}) as _row_number

    from source

)

select * from renamed

with

source as (

    select * from {{ source('validated', 'plan_items') }}

),

renamed as (

    select
        ---------- ids
        cast(plan_item_id as {{ dbt.type_string() }}) as plan_item_id,
        cast(plan_id as {{ dbt.type_string() }}) as plan_id,
        cast(owner_rep_id as {{ dbt.type_string() }}) as owner_rep_id,
        cast(target_contact_id as {{ dbt.type_string() }}) as target_contact_id,

        ---------- text
        cast(layer as {{ dbt.type_string() }}) as layer,
        cast(planned_activity_type as {{ dbt.type_string() }}) as planned_activity_type,
        cast(description as {{ dbt.type_string() }}) as description,

        ---------- dates
        cast(due_date as date) as due_date,
        cast(done_date as date) as done_date,

        ---------- lineage
        cast(_source_file as {{ dbt.type_string() }}) as _source_file,
        cast(_row_number as {{ dbt.type_bigint() }}) as _row_number

    from source

)

select * from renamed

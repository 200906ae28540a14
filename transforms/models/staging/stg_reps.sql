with

source as (

    select * from {{ source('validated', 'reps') }}

),

renamed as (

    select
        ---------- ids
        cast(rep_id as {{ dbt.type_string() }}) as rep_id,
        cast(region_id as {{ dbt.type_string() }}) as region_id,
        cast(manager_rep_id as {{ dbt.type_string() }}) as manager_rep_id,

        ---------- text
        cast(rep_name as {{ dbt.type_string() }}) as rep_name,
        cast(email as {{ dbt.type_string() }}) as email,
        cast(role as {{ dbt.type_string() }}) as role,

        ---------- numerics
        cast(fte as {{ type_double() }}) as fte,

        ---------- dates
        cast(hire_date as date) as hire_date,
        cast(leave_date as date) as leave_date,

        ---------- lineage
        cast(_source_file as {{ dbt.type_string() }}) as _source_file,
        cast(_row_number as {{ dbt.type_bigint() }}) as _row_number

    from source

)

select * from renamed

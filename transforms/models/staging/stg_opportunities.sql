with

source as (

    select * from {{ source('validated', 'opportunities') }}

),

renamed as (

    select
        ---------- ids
        cast(opportunity_id as {{ dbt.type_string() }}) as opportunity_id,
        cast(account_id as {{ dbt.type_string() }}) as account_id,
        cast(ar_rep_id as {{ dbt.type_string() }}) as ar_rep_id,
        cast(sr_rep_id as {{ dbt.type_string() }}) as sr_rep_id,
        cast(fr_rep_id as {{ dbt.type_string() }}) as fr_rep_id,

        ---------- text
        cast(opportunity_name as {{ dbt.type_string() }}) as opportunity_name,
        cast(stage as {{ dbt.type_string() }}) as stage,
        cast(status as {{ dbt.type_string() }}) as status,
        cast(product_line as {{ dbt.type_string() }}) as product_line,

        ---------- numerics
        cast(amount as {{ type_double() }}) as amount,
        cast(margin_pct as {{ type_double() }}) as margin_pct,
        cast(cost as {{ type_double() }}) as cost,

        ---------- dates
        cast(created_date as date) as created_date,
        cast(close_date as date) as close_date,

        ---------- lineage
        cast(_source_file as {{ dbt.type_string() }}) as _source_file,
        cast(_row_number as {{ dbt.type_bigint() }}) as _row_number

    from source

)

select * from renamed

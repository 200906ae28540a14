with

source as (

    select * from {{ source('validated', 'account_strategies') }}

),

renamed as (

    select
        ---------- ids
        cast(strategy_id as {{ dbt.type_string() }}) as strategy_id,
        cast(account_id as {{ dbt.type_string() }}) as account_id,
        cast(owner_rep_id as {{ dbt.type_string() }}) as owner_rep_id,

        ---------- dates
        cast(approved_date as date) as approved_date,
        cast(valid_to as date) as valid_to,

        ---------- lineage
        cast(_source_file as {{ dbt.type_string() }}) as _source_file,
        cast(_row_number as {{ dbt.type_bigint() }}) as _row_number

    from source

)

select * from renamed

{#-
    The CRM's owner history (optional contract table account_owners; empty when the file was
    not supplied). role is upper case (AR, SR, FR) after the gate; valid_to empty: the rep
    still holds the role. Only the AR rows are used, by int_accounts_owner_recorded.
-#}
with

source as (

    select * from {{ source('validated', 'account_owners') }}

),

renamed as (

    select
        ---------- ids
        cast(account_id as {{ dbt.type_string() }}) as account_id,
        cast(rep_id as {{ dbt.type_string() }}) as rep_id,

        ---------- text
        cast(role as {{ dbt.type_string() }}) as role,
        cast(note as {{ dbt.type_string() }}) as note,

        ---------- dates
        cast(valid_from as date) as valid_from,
        cast(valid_to as date) as valid_to,

        ---------- lineage
        cast(_source_file as {{ dbt.type_string() }}) as _source_file,
        cast(_row_number as {{ dbt.type_bigint() }}) as _row_number

    from source

)

select * from renamed

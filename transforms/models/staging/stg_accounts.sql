{#-
    Accounts. Documented defaults (contract `default`, counted in meta.defaults_applied):
    an account without a region is in the 'Unassigned' region, one without an account
    responsible (ar_rep_id) belongs to the 'Unassigned' rep; both have the id UNASSIGNED
    (stg_regions, stg_reps add those rows).
    Validity window: created_date .. closed_date, both days included, either side empty =
    open (macros/validity.sql, docs/metrics.md "Validity windows").
-#}
with

source as (

    select * from {{ source('validated', 'accounts') }}

),

renamed as (

    select
        ---------- ids
        cast(account_id as {{ dbt.type_string() }}) as account_id,
        cast(coalesce(region_id, 'UNASSIGNED') as {{ dbt.type_string() }}) as region_id,
        cast(coalesce(ar_rep_id, 'UNASSIGNED') as {{ dbt.type_string() }}) as ar_rep_id,
        cast(sr_rep_id as {{ dbt.type_string() }}) as sr_rep_id,
        cast(fr_rep_id as {{ dbt.type_string() }}) as fr_rep_id,

        ---------- text
        cast(account_name as {{ dbt.type_string() }}) as account_name,
        cast(industry as {{ dbt.type_string() }}) as industry,

        ---------- numerics
        cast(spend_potential as {{ type_double() }}) as spend_potential,
        cast(demonstration_value as {{ dbt.type_bigint() }}) as demonstration_value,

        ---------- booleans
        cast(has_strategic_agreement as {{ dbt.type_boolean() }}) as has_strategic_agreement,
        cast(is_exclusive_partner as {{ dbt.type_boolean() }}) as is_exclusive_partner,

        ---------- dates
        cast(created_date as date) as created_date,
        cast(closed_date as date) as closed_date,

        ---------- lineage
        cast(_source_file as {{ dbt.type_string() }}) as _source_file,
        cast(_row_number as {{ dbt.type_bigint() }}) as _row_number

    from source

)

select * from renamed

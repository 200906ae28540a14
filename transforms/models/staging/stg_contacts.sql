{#-
    Contacts. Validity window: created_date .. left_date, both days included, either side
    empty = open; is_active (today's value) counts only for a contact without a left_date
    (macros/validity.sql, docs/metrics.md "Validity windows").
-#}
with

source as (

    select * from {{ source('validated', 'contacts') }}

),

renamed as (

    select
        ---------- ids
        cast(contact_id as {{ dbt.type_string() }}) as contact_id,
        cast(account_id as {{ dbt.type_string() }}) as account_id,
        cast(reports_to_contact_id as {{ dbt.type_string() }}) as reports_to_contact_id,

        ---------- text
        cast(full_name as {{ dbt.type_string() }}) as full_name,
        cast(title as {{ dbt.type_string() }}) as title,
        cast(department as {{ dbt.type_string() }}) as department,
        cast(level as {{ dbt.type_string() }}) as level,
        cast(decision_role as {{ dbt.type_string() }}) as decision_role,
        cast(evaluation_group as {{ dbt.type_string() }}) as evaluation_group,
        cast(private_notes as {{ dbt.type_string() }}) as private_notes,
        cast(email as {{ dbt.type_string() }}) as email,

        ---------- booleans
        cast(is_rising_star as {{ dbt.type_boolean() }}) as is_rising_star,
        cast(is_active as {{ dbt.type_boolean() }}) as is_active,

        ---------- dates
        cast(birthday as date) as birthday,
        cast(created_date as date) as created_date,
        cast(left_date as date) as left_date,

        ---------- lineage
        cast(_source_file as {{ dbt.type_string() }}) as _source_file,
        cast(_row_number as {{ dbt.type_bigint() }}) as _row_number

    from source

)

select * from renamed

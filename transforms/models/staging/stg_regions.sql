{#-
    The regions, plus the 'Unassigned' region (region_id UNASSIGNED) when a rep or an
    account has no region (contract: reps.region_id, accounts.region_id default UNASSIGNED;
    each use counted in meta.defaults_applied). Not added when nothing needs it, nor when the
    export already has a region UNASSIGNED.
-#}
with

source as (

    select * from {{ source('validated', 'regions') }}

),

renamed as (

    select
        ---------- ids
        cast(region_id as {{ dbt.type_string() }}) as region_id,

        ---------- text
        cast(region_name as {{ dbt.type_string() }}) as region_name,
        cast(country as {{ dbt.type_string() }}) as country,

        ---------- lineage
        cast(_source_file as {{ dbt.type_string() }}) as _source_file,
        cast(_row_number as {{ dbt.type_bigint() }}) as _row_number

    from source

),

needs_unassigned as (

    select sum(without_region) as rows_without_region
    from (
        select count(*) as without_region
        from {{ source('validated', 'reps') }}
        where region_id is null
        union all
        select count(*) as without_region
        from {{ source('validated', 'accounts') }}
        where region_id is null or ar_rep_id is null
    ) as counted

),

unassigned as (

    select
        cast('UNASSIGNED' as {{ dbt.type_string() }}) as region_id,
        cast('Unassigned' as {{ dbt.type_string() }}) as region_name,
        cast(null as {{ dbt.type_string() }}) as country,
        cast('(default: no region given)' as {{ dbt.type_string() }}) as _source_file,
        cast(null as {{ dbt.type_bigint() }}) as _row_number
    from needs_unassigned
    where
        needs_unassigned.rows_without_region > 0
        and not exists (select 1 from renamed where renamed.region_id = 'UNASSIGNED')

)

select * from renamed
union all
select * from unassigned

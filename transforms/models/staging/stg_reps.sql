{#-
    Reps. Documented defaults (contract `default`, counted in meta.defaults_applied):
      region_id  empty: the 'Unassigned' region (UNASSIGNED, added by stg_regions)
      hire_date  empty: the rep's first activity (interactions.occurred_at) or deal (created
                 or close date of a deal the rep is AR, SR or FR on), whichever is earlier;
                 a rep with neither: the first deal date in the data
    Plus the 'Unassigned' rep (rep_id UNASSIGNED, role AR, region UNASSIGNED, fte 1.0) when an
    account has no account responsible, hired on the first deal date in the data. It is not
    added when nothing needs it, nor when the export already has a rep UNASSIGNED. It is
    flagged is_placeholder: it holds accounts but is nobody, so per-head figures and
    scorecards leave it out (int_perf_rep_quarters).
-#}
with

source as (

    select * from {{ source('validated', 'reps') }}

),

first_activity as (

    select rep_id, min(cast(occurred_at as date)) as first_date
    from {{ source('validated', 'interactions') }}
    group by rep_id

),

deal_dates as (

    select ar_rep_id as rep_id, created_date as deal_date
    from {{ source('validated', 'opportunities') }}
    union all
    select ar_rep_id, close_date from {{ source('validated', 'opportunities') }}
    union all
    select sr_rep_id, created_date from {{ source('validated', 'opportunities') }}
    union all
    select sr_rep_id, close_date from {{ source('validated', 'opportunities') }}
    union all
    select fr_rep_id, created_date from {{ source('validated', 'opportunities') }}
    union all
    select fr_rep_id, close_date from {{ source('validated', 'opportunities') }}

),

first_deal as (

    select rep_id, min(deal_date) as first_date
    from deal_dates
    where rep_id is not null
    group by rep_id

),

first_deal_in_data as (

    select min(deal_date) as first_date from deal_dates

),

renamed as (

    select
        ---------- ids
        cast(source.rep_id as {{ dbt.type_string() }}) as rep_id,
        cast(coalesce(source.region_id, 'UNASSIGNED') as {{ dbt.type_string() }}) as region_id,
        cast(source.manager_rep_id as {{ dbt.type_string() }}) as manager_rep_id,

        ---------- text
        cast(source.rep_name as {{ dbt.type_string() }}) as rep_name,
        cast(source.email as {{ dbt.type_string() }}) as email,
        cast(source.role as {{ dbt.type_string() }}) as role,

        ---------- numerics
        cast(source.fte as {{ type_double() }}) as fte,

        ---------- dates
        cast(coalesce(
            source.hire_date,
            case
                when first_activity.first_date is null then first_deal.first_date
                when first_deal.first_date is null then first_activity.first_date
                else least(first_activity.first_date, first_deal.first_date)
            end,
            first_deal_in_data.first_date
        ) as date) as hire_date,
        cast(source.leave_date as date) as leave_date,

        ---------- flags
        false as is_placeholder,

        ---------- lineage
        cast(source._source_file as {{ dbt.type_string() }}) as _source_file,
        cast(source._row_number as {{ dbt.type_bigint() }}) as _row_number

    from source
    left join first_activity on first_activity.rep_id = source.rep_id
    left join first_deal on first_deal.rep_id = source.rep_id
    cross join first_deal_in_data

),

needs_unassigned as (

    select count(*) as accounts_without_rep
    from {{ source('validated', 'accounts') }}
    where ar_rep_id is null

),

unassigned as (

    select
        cast('UNASSIGNED' as {{ dbt.type_string() }}) as rep_id,
        cast('UNASSIGNED' as {{ dbt.type_string() }}) as region_id,
        cast(null as {{ dbt.type_string() }}) as manager_rep_id,
        cast('Unassigned' as {{ dbt.type_string() }}) as rep_name,
        cast(null as {{ dbt.type_string() }}) as email,
        cast('AR' as {{ dbt.type_string() }}) as role,
        cast(1.0 as {{ type_double() }}) as fte,
        cast(first_deal_in_data.first_date as date) as hire_date,
        cast(null as date) as leave_date,
        true as is_placeholder,
        cast('(default: no account responsible given)' as {{ dbt.type_string() }})
            as _source_file,
        cast(null as {{ dbt.type_bigint() }}) as _row_number
    from needs_unassigned
    cross join first_deal_in_data
    where
        needs_unassigned.accounts_without_rep > 0
        and not exists (select 1 from renamed where renamed.rep_id = 'UNASSIGNED')

)

select * from renamed
union all
select * from unassigned

{#-
    Every raw row is accounted for: for each contract table, in meta.dq_row_counts
    raw_rows = clean_rows + quarantined_rows, clean_rows = the rows of validated.<table>,
    raw_rows = the rows of raw.<table>, and quarantined_rows = the table's rows in
    meta.dq_quarantine. Reads the build given by the build setting build_id, else every build recorded.
    Returns one row per table and check that does not reconcile.
-#}
{%- set tables = [
    'regions', 'region_market_types', 'reps', 'accounts', 'account_owners', 'contacts',
    'contact_assessments', 'interactions', 'opportunities', 'opportunity_contacts', 'payments',
    'account_strategies', 'relationship_plans', 'plan_items', 'complaints', 'feedback_items',
    'satisfaction_surveys', 'targets', 'competitor_stances'
] -%}
{%- set build_id = build_setting('build_id') -%}

with

row_counts as (

    select * from {{ source('meta', 'dq_row_counts') }}
    {%- if build_id %}
    where build_id = '{{ build_id }}'
    {%- endif %}

),

quarantine as (

    select
        table_name,
        count(*) as quarantined_rows
    from {{ source('meta', 'dq_quarantine') }}
    {%- if build_id %}
    where build_id = '{{ build_id }}'
    {%- endif %}
    group by table_name

),

actual as (

    {%- for table in tables %}
    select
        '{{ table }}' as table_name,
        (select count(*) from {{ source('validated', table) }}) as validated_rows,
        (select count(*) from {{ source('raw', table) }}) as raw_file_rows
    {{ 'union all' if not loop.last }}
    {%- endfor %}

),

expected_tables as (

    select
        actual.table_name,
        actual.validated_rows,
        actual.raw_file_rows,
        row_counts.raw_rows,
        row_counts.clean_rows,
        row_counts.quarantined_rows,
        coalesce(quarantine.quarantined_rows, 0) as quarantine_log_rows
    from actual
    left join row_counts
        on actual.table_name = row_counts.table_name
    left join quarantine
        on actual.table_name = quarantine.table_name

),

final as (

    select *
    from expected_tables
    where
        raw_rows is null
        or raw_rows <> clean_rows + quarantined_rows
        or clean_rows <> validated_rows
        or raw_rows <> raw_file_rows
        or quarantined_rows <> quarantine_log_rows

)

select * from final

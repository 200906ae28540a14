{#-
    Incremental builds (docs/operations.md, "Incremental builds"). `rapport build
    --incremental` copies the served warehouse, appends the new interactions and passes the
    build setting `incremental_since` (YYYY-MM-DD, macro build_setting): the first day whose
    data changed. The models below are incremental on the duckdb target only (a table
    elsewhere, e.g. on Spark):

        {{ config(**incremental_by_month()) }}

    and recompute, when dbt runs them incrementally, only the rows from that day's month on
    (delete+insert on month_start_date). Without the setting (or on a fresh file, or with
    --full-refresh) they build everything, exactly as a table would.
-#}

{#- The config of a model rebuilt per month: delete+insert on `unique_key`. -#}
{% macro incremental_by_month(unique_key='month_start_date') -%}
    {{ return({
        'materialized': 'incremental' if target.type == 'duckdb' else 'table',
        'incremental_strategy': 'delete+insert',
        'unique_key': unique_key,
        'on_schema_change': 'fail',
    }) }}
{%- endmacro %}

{#- True when this run recomputes only the rows from `incremental_since` on (never in a
    unit test: it has no relation to be incremental on). -#}
{% macro incremental_since_set() -%}
    {%- set since = build_setting('incremental_since') -%}
    {%- if since is none or this is none -%}
        {{ return(false) }}
    {%- endif -%}
    {{ return(is_incremental()) }}
{%- endmacro %}

{#- The first day whose data changed, as a date expression (only when incremental_since_set()). -#}
{% macro incremental_since_date() -%}
    cast('{{ build_setting("incremental_since") }}' as date)
{%- endmacro %}

{#- The first day of the first month to recompute, as a date expression. -#}
{% macro incremental_since_month() -%}
    cast({{ dbt.date_trunc('month', incremental_since_date()) }} as date)
{%- endmacro %}

{#-
    Data tests that read only what an incremental build changed (docs/operations.md,
    "Incremental builds"). A data test's `where` config may hold two tokens:

        __changed_months__   month_start_date on or after the month of incremental_since
        __changed_days__     occurred_at on or after incremental_since

    e.g. `config: {where: "__changed_months__"}` on the uniqueness test of a model rebuilt per
    month (macros/incremental.sql). An incremental build rewrites only those rows and leaves
    the others as the served build tested them, so a test of one row at a time (uniqueness
    of a key that includes the month, accepted values) needs to read only them. In every
    other build both tokens are `true`: every row is tested.
    dbt calls this macro for every data test with a `where` config; without a token it does
    what dbt's own default__get_where_subquery does.
-#}
{% macro default__get_where_subquery(relation) -%}
    {%- set where = config.get('where', '') -%}
    {%- if not where -%}
        {%- do return(relation) -%}
    {%- endif -%}
    {%- if build_setting('incremental_since') is none -%}
        {%- set months, days = 'true', 'true' -%}
    {%- else -%}  {#- the incremental models' own bounds (macros/incremental.sql) #}
        {%- set months = "month_start_date >= " ~ incremental_since_month() -%}
        {%- set days = "occurred_at >= " ~ incremental_since_date() -%}
    {%- endif -%}
    {%- set where = where | replace('__changed_months__', months) | replace('__changed_days__', days) -%}
    {%- set filtered -%}
        (select * from {{ relation }} where {{ where }}) dbt_subquery
    {%- endset -%}
    {%- do return(filtered) -%}
{%- endmacro %}

{#-
    The date every trailing window ends: the build setting `as_of_date` (YYYY-MM-DD; macro
    build_setting) when set,
    otherwise the latest interaction date in staging. Only int_dates calls this; every
    other model reads int_dates, so the choice is made once per build.
-#}
{% macro as_of_date_sql() -%}
    {%- set as_of = build_setting('as_of_date') -%}
    {%- if as_of is not none -%}
        cast('{{ as_of }}' as date)
    {%- else -%}
        (select max(cast(occurred_at as date)) from {{ ref('stg_interactions') }})
    {%- endif -%}
{%- endmacro %}

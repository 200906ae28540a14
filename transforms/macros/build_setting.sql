{#-
    A setting of the running build (as_of_date, build_id, incremental_since): the var of that
    name when one is given (`dbt build --vars '{as_of_date: 2024-06-30}'`), else the
    environment variable RAPPORT_DBT_<NAME>, which rapport sets for each call
    (rapport/pipeline/dbt_runner.py): dbt keeps its parse from one build to the next only while the
    vars stay the same. none when neither is set.
-#}
{% macro build_setting(name) -%}
    {%- set value = var(name, none) -%}
    {%- if value is none or (value | string | trim) in ('', 'None', 'null') -%}
        {%- set value = env_var('RAPPORT_DBT_' ~ (name | upper), '') -%}
    {%- endif -%}
    {%- if (value | string | trim) in ('', 'None', 'null') -%}
        {{ return(none) }}
    {%- endif -%}
    {{ return(value) }}
{%- endmacro %}

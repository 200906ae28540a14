{#-
    The date every trailing window ends: the var `as_of_date` (YYYY-MM-DD) when set,
    otherwise the latest interaction date in staging. Only int_dates calls this; every
    other model reads int_dates, so the choice is made once per build.
-#}
{% macro as_of_date_sql() -%}
    {%- set as_of = var('as_of_date', none) -%}
    {%- if as_of is not none and (as_of | string | trim) not in ('', 'None', 'null') -%}
        cast('{{ as_of }}' as date)
    {%- else -%}
        (select max(cast(occurred_at as date)) from {{ ref('stg_interactions') }})
    {%- endif -%}
{%- endmacro %}

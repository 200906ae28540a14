{#-
    Small cross-database helpers for what dbt's own `dbt.*` macros do not cover.
    Each dispatches on the adapter: `duckdb__` is the warehouse today, `default__` is
    written for Spark SQL (a later target). Models never call a DuckDB-only function
    directly; they call these.
-#}

{#- An 8-byte float (dbt.type_float() renders a 4-byte FLOAT on some adapters). -#}
{% macro type_double() -%}
    {{ return(adapter.dispatch('type_double', 'rapport')()) }}
{%- endmacro %}

{% macro default__type_double() -%}
    double
{%- endmacro %}

{#-
    A select of one row per step of `step_months` months, from `start_column` to
    `end_column` (first-of-month dates, columns of the one-row relation `bounds_relation`):
    column `period_start_date`. Used by the calendar models only, so the series is built
    once per build.
-#}
{% macro month_series(bounds_relation, start_column, end_column, step_months=1) -%}
    {{ return(adapter.dispatch('month_series', 'rapport')(bounds_relation, start_column, end_column, step_months)) }}
{%- endmacro %}

{% macro default__month_series(bounds_relation, start_column, end_column, step_months=1) -%}
    select
        cast(period_start as date) as period_start_date
    from {{ bounds_relation }}
    lateral view explode(
        sequence(
            {{ start_column }},
            {{ end_column }},
            interval {{ step_months }} month
        )
    ) series as period_start
{%- endmacro %}

{% macro duckdb__month_series(bounds_relation, start_column, end_column, step_months=1) -%}
    select
        cast(series.period_start as date) as period_start_date
    from {{ bounds_relation }}
    cross join lateral (
        select unnest(
            generate_series(
                cast({{ start_column }} as timestamp),
                cast({{ end_column }} as timestamp),
                interval {{ step_months }} month
            )
        ) as period_start
    ) as series
{%- endmacro %}

{#- Integer month number (year * 12 + month) for whole-month windows and offsets. -#}
{% macro month_index(date_expr) -%}
    ({{ date_part('year', date_expr) }} * 12 + {{ date_part('month', date_expr) }})
{%- endmacro %}

{#- A date part (year, quarter, month, day) as an integer; dbt has no cross-db macro for it. -#}
{% macro date_part(datepart, date_expr) -%}
    {{ return(adapter.dispatch('date_part', 'rapport')(datepart, date_expr)) }}
{%- endmacro %}

{% macro default__date_part(datepart, date_expr) -%}
    cast(extract({{ datepart }} from {{ date_expr }}) as integer)
{%- endmacro %}

{#-
    One row with one column per named setting, read from a long-format settings seed
    (columns: setting, value, description). Models list the settings they use:

        settings as (
            {{ pivot_settings('relationship_score_settings', ['key_support_weight']) }}
        ),

    A setting missing from the seed comes out null; the marts' not_null tests then fail.
-#}
{% macro pivot_settings(seed_name, names) -%}
    select
        {%- for name in names %}
        max(case when setting = '{{ name }}' then value end) as {{ name }}
        {{- ',' if not loop.last }}
        {%- endfor %}
    from {{ ref(seed_name) }}
{%- endmacro %}

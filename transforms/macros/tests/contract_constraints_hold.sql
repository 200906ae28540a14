{#-
    The constraints of the model's contract, checked by a query: every not_null column (and
    every primary_key column) has no null, every primary_key has no duplicate. On DuckDB the
    engine enforces these constraints when it writes the table (dbt_project.yml, +contract),
    so this test is disabled there; it runs on engines that do not enforce them (Spark with
    parquet tables: dbt-spark only sets constraints on Delta tables). One node per
    contracted model (the marts and the fully documented intermediate tables) instead of
    one per rule.
-#}
{% test contract_constraints_hold(model) %}
{{ config(enabled=(target.type != 'duckdb')) }}
{%- set not_null = [] -%}
{%- set keys = [] -%}
{%- if execute -%}
  {%- for node in graph.nodes.values()
        if node.resource_type == 'model' and node.alias == model.identifier
           and node.schema == model.schema -%}
    {%- for constraint in node.constraints if constraint.type in ('primary_key', 'unique') -%}
      {%- do keys.append(constraint.columns) -%}
      {%- if constraint.type == 'primary_key' -%}{%- do not_null.extend(constraint.columns) -%}{%- endif -%}
    {%- endfor -%}
    {%- for column in node.columns.values() -%}
      {%- for constraint in column.constraints -%}
        {%- if constraint.type in ('not_null', 'primary_key') -%}{%- do not_null.append(column.name) -%}{%- endif -%}
        {%- if constraint.type in ('primary_key', 'unique') -%}{%- do keys.append([column.name]) -%}{%- endif -%}
      {%- endfor -%}
    {%- endfor -%}
  {%- endfor -%}
{%- endif %}
select rule, columns, failures from (
    select 'none' as rule, '' as columns, 0 as failures
    {%- for column in not_null | unique %}
    union all
    select 'not_null', '{{ column }}', count(*) from {{ model }} where {{ column }} is null
    {%- endfor %}
    {%- for key in keys %}
    union all
    select 'unique', '{{ key | join(", ") }}', count(*) from (
        select {{ key | join(', ') }} from {{ model }}
        group by {{ key | join(', ') }} having count(*) > 1
    ) as duplicates
    {%- endfor %}
) as checks
where failures > 0
{% endtest %}

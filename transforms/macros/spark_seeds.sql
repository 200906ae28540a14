{#-
    Seeds on Spark: overrides of dbt-spark's seed macros (dispatch prefix `spark__`, so only
    the spark target uses them). Two problems of dbt-spark 1.11 are fixed here:
    - the seeds' YAML gives column types in DuckDB words (`varchar`), which Spark rejects
      ("VARCHAR requires a length parameter"): spark_column_type() translates them;
    - in session mode dbt-spark pastes bound values into the SQL as '<value>' without
      escaping: a quote in a description breaks the insert, and an empty cell becomes the
      text 'None'. spark__load_csv_rows writes each value as a proper literal instead.
-#}

{#- A column type for Spark SQL: varchar, text, char (with or without a length) -> string. -#}
{% macro spark_column_type(type_name) -%}
    {%- set normalised = (type_name | string | trim | lower) -%}
    {%- if normalised.split('(')[0] | trim in ('varchar', 'text', 'char', 'bpchar', 'character varying') -%}
        {{- return('string') -}}
    {%- else -%}
        {{- return(type_name) -}}
    {%- endif -%}
{%- endmacro %}

{#- The seed node with its column_types translated for Spark. -#}
{% macro spark_seed_node(model) -%}
    {%- set types = {} -%}
    {%- for name, type_name in (model['config'].get('column_types', {}) or {}).items() -%}
        {%- do types.update({name: spark_column_type(type_name)}) -%}
    {%- endfor -%}
    {%- set config = {} -%}
    {%- do config.update(model['config']) -%}
    {%- do config.update({'column_types': types}) -%}
    {%- set node = {} -%}
    {%- do node.update(model) -%}
    {%- do node.update({'config': config}) -%}
    {{- return(node) -}}
{%- endmacro %}

{% macro spark__create_csv_table(model, agate_table) -%}
    {{- return(dbt.spark__create_csv_table(spark_seed_node(model), agate_table)) -}}
{%- endmacro %}

{#- One seed cell as a Spark SQL literal: null, true/false, a number, or an escaped string. -#}
{% macro spark_seed_literal(value) -%}
    {%- if value is none -%}
        null
    {%- elif value is sameas true -%}
        true
    {%- elif value is sameas false -%}
        false
    {%- elif value is number -%}
        {{ value }}
    {%- else -%}
        '{{ (value | string) | replace("\\", "\\\\") | replace("'", "\\'") }}'
    {%- endif -%}
{%- endmacro %}

{% macro spark__load_csv_rows(model, agate_table) -%}
    {%- set column_override = spark_seed_node(model)['config'].get('column_types', {}) -%}
    {%- set statements = [] -%}
    {%- for chunk in agate_table.rows | batch(get_batch_size()) -%}
        {%- set sql -%}
            insert into {{ this.render() }} values
            {% for row in chunk -%}
                (
                {%- for col_name in agate_table.column_names -%}
                    {%- set inferred_type = adapter.convert_type(agate_table, loop.index0) -%}
                    cast({{ spark_seed_literal(row[loop.index0]) }} as {{ column_override.get(col_name, inferred_type) }})
                    {%- if not loop.last %}, {% endif -%}
                {%- endfor -%}
                ){%- if not loop.last %},{% endif %}
            {% endfor %}
        {%- endset -%}
        {%- do adapter.add_query(sql, abridge_sql_log=True) -%}
        {%- if loop.first -%}
            {%- do statements.append(sql) -%}
        {%- endif -%}
    {%- endfor -%}
    {{- return(statements[0]) -}}
{%- endmacro %}

{#- Fails on every row where `expression` (SQL over the model's columns) is not true. -#}
{% test scorecard_expression_is_true(model, expression) %}

select *
from {{ model }}
where not ({{ expression }})

{% endtest %}

{#- Fails when the number of rows satisfying `condition` is not `expected`. -#}
{% test scorecard_row_count_where(model, condition, expected) %}

select matching_rows
from (
    select count(*) as matching_rows
    from {{ model }}
    where {{ condition }}
) as counted
where matching_rows <> {{ expected }}

{% endtest %}

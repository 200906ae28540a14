{#-
    Employment tests on a stg_reps row (hire_date = first day, leave_date = last day; empty
    hire_date: always employed before, empty leave_date: still employed). A rep row that is
    missing (left join) is never employed.
      employed_on(rep, day)              employed on that day
      employed_between(rep, start, end)  employed at least one day of start .. end
-#}
{% macro employed_on(rep, day) -%}
    ({{ rep }}.rep_id is not null
    and ({{ rep }}.hire_date is null or {{ rep }}.hire_date <= {{ day }})
    and ({{ rep }}.leave_date is null or {{ rep }}.leave_date >= {{ day }}))
{%- endmacro %}

{% macro employed_between(rep, start, end) -%}
    ({{ rep }}.rep_id is not null
    and {{ start }} is not null
    and ({{ rep }}.hire_date is null or {{ rep }}.hire_date <= {{ end }})
    and ({{ rep }}.leave_date is null or {{ rep }}.leave_date >= {{ start }}))
{%- endmacro %}

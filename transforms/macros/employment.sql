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

{#-
    Who a plan item or complaint counts for (issue 16's iron triangle), over a row that has
    owner_credit_rule ('owner' | 'ar', seed iron_triangle_credit), owner_rep_id,
    period_ar_rep_id, current_ar_rep_id and the is_*_employed / is_*_in_quarter flags
    above; the first that holds wins:
      the owner, employed on the due date (when the rule credits owners)
      the account's AR of the period, employed on the due date
      today's AR, employed on the due date
      the owner, employed some day of the quarter (when the rule credits owners)
      the AR of the period, employed some day of the quarter
    credited('rep_id') gives the rep, credited('rule') which of them it was.
-#}
{% macro credited(what) -%}
    {%- set steps = [
        ("owner_credit_rule = 'owner' and is_owner_employed", 'owner_rep_id', 'owner'),
        ('is_period_ar_employed', 'period_ar_rep_id', 'account_ar'),
        ('is_current_ar_employed', 'current_ar_rep_id', 'current_ar'),
        ("owner_credit_rule = 'owner' and is_owner_in_quarter", 'owner_rep_id', 'owner'),
        ('is_period_ar_in_quarter', 'period_ar_rep_id', 'account_ar'),
    ] -%}
    case
        {%- for condition, rep, rule in steps %}
        when {{ condition }} then {{ rep if what == 'rep_id' else "'" ~ rule ~ "'" }}
        {%- endfor %}
    end
{%- endmacro %}

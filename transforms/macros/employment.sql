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
    Who a plan item or complaint counts for (iron triangle), over a row that has
    owner_credit_rule ('owner' | 'ar', seed iron_triangle_credit), owner_rep_id,
    period_ar_rep_id, current_ar_rep_id and the is_*_employed / is_*_in_quarter flags
    above; the first that holds wins:
      the owner, employed on the due date (when the rule credits owners)
      the account's AR of the period, employed on the due date
      today's AR, employed on the due date
      the owner, employed some day of the quarter (when the rule credits owners)
      the AR of the period, employed some day of the quarter
      the owner, employed on the due date, then some day of the quarter, whatever the rule
        (no AR of the account was employed: the item counts for the SR/FR who owns it)
    credited('rep_id') gives the rep, credited('rule') which of them it was.
-#}
{% macro credited(what) -%}
    {%- set steps = [
        ("owner_credit_rule = 'owner' and is_owner_employed", 'owner_rep_id', 'owner'),
        ('is_period_ar_employed', 'period_ar_rep_id', 'account_ar'),
        ('is_current_ar_employed', 'current_ar_rep_id', 'current_ar'),
        ("owner_credit_rule = 'owner' and is_owner_in_quarter", 'owner_rep_id', 'owner'),
        ('is_period_ar_in_quarter', 'period_ar_rep_id', 'account_ar'),
        ('is_owner_employed', 'owner_rep_id', 'owner'),
        ('is_owner_in_quarter', 'owner_rep_id', 'owner'),
    ] -%}
    case
        {%- for condition, rep, rule in steps %}
        when {{ condition }} then {{ rep if what == 'rep_id' else "'" ~ rule ~ "'" }}
        {%- endfor %}
    end
{%- endmacro %}

{#-
    The iron-triangle credit of `items`: a select of every column of `items`, one
    row per row, plus the rep each is credited to (credited_rep_id) and why (credited_to).
      items  the CTE of the credited rows (plan items, complaints), with owner_rep_id,
             account_id and due_date
    The first that applies (credited() above):
      1 'owner'       the owner (owner_rep_id) employed on the due date, unless the owner's
                      role is listed in iron_triangle_credit with credit_to = 'ar' (SR and
                      FR by default: their items go to the account's AR);
      2 'account_ar'  the account's AR of the period of the due date
                      (int_accounts_owner_of_period: recorded, else inferred)
                      employed on the due date;
      3 'current_ar'  today's AR of the account (stg_accounts.ar_rep_id) employed on the due date;
      4 'owner'       the owner (rule as in 1) employed some day of the due date's quarter;
      5 'account_ar'  the AR of the period employed some day of that quarter;
      6 'owner'       no AR of the account was employed: the owner, whatever its role's
                      rule, employed on the due date, else some day of that quarter (the
                      SR/FR is then an assessed rep of that quarter);
      null            nobody responsible was employed (assert_owned_items_are_credited
                      fails on such an item when it is due in the measured history).
    Added columns, in order: owner_role, owner_credit_rule (the role's credit_to, else
    'owner'), period_ar_rep_id, current_ar_rep_id, is_owner_employed, is_period_ar_employed,
    is_current_ar_employed (employed on the due date), is_owner_in_quarter,
    is_period_ar_in_quarter (employed some day of the period of int_accounts_owner_of_period
    that holds the due date: quarter_start_date .. snapshot_date), credited_rep_id,
    credited_to.
-#}
{% macro credited_items(items) -%}
    select
        candidates.*,
        {{ credited('rep_id') }} as credited_rep_id,
        {{ credited('rule') }} as credited_to
    from (
        select
            {{ items }}.*,
            owners.role as owner_role,
            coalesce(credit_rules.credit_to, 'owner') as owner_credit_rule,
            period_owners.period_ar_rep_id,
            accounts.ar_rep_id as current_ar_rep_id,
            {{ employed_on('owners', items ~ '.due_date') }} as is_owner_employed,
            {{ employed_on('period_ars', items ~ '.due_date') }} as is_period_ar_employed,
            {{ employed_on('current_ars', items ~ '.due_date') }} as is_current_ar_employed,
            {{ employed_between('owners', 'period_owners.quarter_start_date', 'period_owners.snapshot_date') }}
                as is_owner_in_quarter,
            {{ employed_between('period_ars', 'period_owners.quarter_start_date', 'period_owners.snapshot_date') }}
                as is_period_ar_in_quarter
        from {{ items }}
        left join {{ ref('stg_accounts') }} as accounts
            on {{ items }}.account_id = accounts.account_id
        left join {{ ref('stg_reps') }} as owners
            on {{ items }}.owner_rep_id = owners.rep_id
        left join {{ ref('int_accounts_owner_of_period') }} as period_owners
            on {{ items }}.account_id = period_owners.account_id
                and {{ items }}.due_date >= period_owners.quarter_start_date
                and {{ items }}.due_date <= period_owners.snapshot_date
        left join {{ ref('stg_reps') }} as period_ars
            on period_owners.period_ar_rep_id = period_ars.rep_id
        left join {{ ref('stg_reps') }} as current_ars
            on accounts.ar_rep_id = current_ars.rep_id
        left join {{ ref('iron_triangle_credit') }} as credit_rules
            on owners.role = credit_rules.role
    ) as candidates
{%- endmacro %}

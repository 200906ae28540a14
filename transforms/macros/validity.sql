{#-
    Validity windows (docs/metrics.md, "Validity windows"): the one place the rule is
    written. An entity exists from its first day to its last day, both included; an empty
    side is open (an empty created_date: always existed; an empty closed_date / left_date:
    still there).
      accounts  accounts.created_date .. accounts.closed_date
      contacts  contacts.created_date .. contacts.left_date; is_active (today's value) counts
                only for a contact without a left_date, and then in every period
    Periods use one of two readings:
      exists_on      the entity exists on the period's snapshot day (month-end and quarter
                     snapshots: health, tiers, monthly contact state; the as-of marts on
                     as_of_date)
      exists_during  the entity exists on at least one day of the period (ownership of the
                     period: an account closed mid-quarter was still owned that quarter)
    Reps keep their own macros (employment.sql): hire_date .. leave_date.
-#}

{#- The entity exists on `day`: created on or before it and not closed (left) before it. -#}
{% macro exists_on(created, closed, day) -%}
    (
        ({{ created }} is null or {{ created }} <= {{ day }})
        and ({{ closed }} is null or {{ closed }} >= {{ day }})
    )
{%- endmacro %}

{#- The entity exists on at least one day of first_day .. last_day. -#}
{% macro exists_during(created, closed, first_day, last_day) -%}
    (
        ({{ created }} is null or {{ created }} <= {{ last_day }})
        and ({{ closed }} is null or {{ closed }} >= {{ first_day }})
    )
{%- endmacro %}

{#- The account (a relation or CTE alias with created_date, closed_date) exists on `day`. -#}
{% macro account_exists_on(accounts, day) -%}
    {{ exists_on(accounts ~ '.created_date', accounts ~ '.closed_date', day) }}
{%- endmacro %}

{#- The account exists on at least one day of first_day .. last_day. -#}
{% macro account_exists_during(accounts, first_day, last_day) -%}
    {{ exists_during(accounts ~ '.created_date', accounts ~ '.closed_date', first_day, last_day) }}
{%- endmacro %}

{#- The contact (an alias with created_date, left_date) is at the account on `day`. -#}
{% macro contact_exists_on(contacts, day) -%}
    {{ exists_on(contacts ~ '.created_date', contacts ~ '.left_date', day) }}
{%- endmacro %}

{#- The contact's is_active flag as the windows read it: with a left_date the window decides
    (active up to and including left_date), without one is_active does (empty = active). -#}
{% macro contact_flagged_active(contacts) -%}
    ({{ contacts }}.left_date is not null or coalesce({{ contacts }}.is_active, true))
{%- endmacro %}

{#- The contact is an active contact of its account on `day`: within its window and, without
    a left_date, not flagged inactive. -#}
{% macro contact_active_on(contacts, day) -%}
    ({{ contact_exists_on(contacts, day) }} and {{ contact_flagged_active(contacts) }})
{%- endmacro %}

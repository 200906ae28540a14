{#-
    The ratios of the performance marts (fct_rep_performance per rep, fct_region_performance
    per region), written once for both.

      with_prior_year_and_target(measured, targets, key)
        A select of every column of `measured` (one row per `key` x year x quarter, with
        revenue and profit) plus revenue_prior_year and profit_prior_year (the same quarter
        one year earlier, null when there is no such row) and revenue_target and
        profit_target (the row of `targets` whose scope_id is the key, same year and quarter).
          measured  the CTE of measured rows
          targets   the CTE of stg_targets rows of the mart's scope ('rep' or 'region')
          key       the key column of `measured`: 'rep_id' or 'region_id'

      performance_ratios()
        The column list from revenue_per_head to profit_target_completion, over a row that
        has revenue, profit, fte and the prior-year and target columns above:
          revenue_per_head, profit_per_head       sum / FTE, null when FTE is 0
          revenue_prior_year, profit_prior_year
          revenue_yoy_growth, profit_yoy_growth   (this year - prior year) / prior year,
                                                  null unless the prior year is positive
          revenue_target, profit_target
          revenue_target_completion,              sum / target, null unless the target
          profit_target_completion                is positive
-#}
{% macro with_prior_year_and_target(measured, targets, key) -%}
    select
        {{ measured }}.*,
        prior_year.revenue as revenue_prior_year,
        prior_year.profit as profit_prior_year,
        {{ targets }}.revenue_target,
        {{ targets }}.profit_target
    from {{ measured }}
    left join {{ measured }} as prior_year
        on {{ measured }}.{{ key }} = prior_year.{{ key }}
            and {{ measured }}.year - 1 = prior_year.year
            and {{ measured }}.quarter = prior_year.quarter
    left join {{ targets }}
        on {{ measured }}.{{ key }} = {{ targets }}.scope_id
            and {{ measured }}.year = {{ targets }}.year
            and {{ measured }}.quarter = {{ targets }}.quarter
{%- endmacro %}

{% macro performance_ratios() -%}
    revenue / nullif(fte, 0) as revenue_per_head,
    profit / nullif(fte, 0) as profit_per_head,
    revenue_prior_year,
    profit_prior_year,
    case
        when revenue_prior_year > 0
            then (revenue - revenue_prior_year) / revenue_prior_year
    end as revenue_yoy_growth,
    case
        when profit_prior_year > 0
            then (profit - profit_prior_year) / profit_prior_year
    end as profit_yoy_growth,
    revenue_target,
    profit_target,
    case
        when revenue_target > 0 then revenue / revenue_target
    end as revenue_target_completion,
    case
        when profit_target > 0 then profit / profit_target
    end as profit_target_completion
{%- endmacro %}

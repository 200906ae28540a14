"""Every query the dashboard runs. Pages hold no SQL; this package holds all of it, one
module per page (plus the sidebar options), with the shared pieces in `_base`.

Rules kept here:
- each function takes a Reader, a Scope and plain parameters, and returns a polars DataFrame
  (or a plain value);
- values enter SQL only as bound parameters (`$name`); names (sort column, grouping) only from
  the allow-lists (HEALTH_SORTS, TIER_GROUPINGS), never from the caller's text;
- the scope is applied in SQL in every query that returns rows about regions, reps,
  accounts or contacts; personal data is masked in SQL when the scope may not see it;
- pages read marts shaped for them: fct_interactions is only read for one account at a time.
"""

from rapport.serving.queries._base import (
    ALERT_TYPES,
    DECISION_ROLES,
    EVALUATION_GROUPS,
    HEALTH_BANDS,
    TIERS,
    Filters,
    previous_quarter,
)
from rapport.serving.queries.capture import capture_accounts, capture_contacts, captured_upto
from rapport.serving.queries.coverage import (
    Layer,
    Layers,
    coverage,
    defaults_applied,
    incomplete_columns,
    incomplete_rows,
    layers,
    missing_columns,
    tables_present,
)
from rapport.serving.queries.data_quality import (
    build_attempts,
    build_history,
    dbt_tests,
    dbt_tests_recorded,
    dq_results,
    freshness,
    quarantine_counts,
    quarantine_samples,
    row_counts,
)
from rapport.serving.queries.health import (
    HEALTH_SORTS,
    HEALTH_SUMMARY,
    account,
    account_activities,
    account_activity_summary,
    account_contacts,
    account_health,
    account_health_history,
    health_trend,
)
from rapport.serving.queries.options import (
    build_info,
    columns_of,
    industries,
    interactions_loaded,
    quarters,
    regions,
)
from rapport.serving.queries.overview import (
    alert_counts,
    alerts,
    health_bands,
    kpis,
    kpis_by_quarter,
    latest_month_end,
    region_split,
    tier_counts,
)
from rapport.serving.queries.power_map import (
    attitude_moves,
    deal_power_map,
    deals,
    power_map,
    power_map_accounts,
)
from rapport.serving.queries.scorecards import (
    company_benchmark,
    dimension1_components,
    key_actions,
    region_comparison,
    region_fte_by_role,
    rep_performance,
    scorecard,
)
from rapport.serving.queries.tiers import (
    TIER_GROUPINGS,
    accounts_by_tier,
    pareto,
    tier_distribution,
    tier_migration,
    tier_windows,
)

# Every function here is called by tests/test_data_layer_fail_closed.py (scoping).
__all__ = [
    "ALERT_TYPES",
    "DECISION_ROLES",
    "EVALUATION_GROUPS",
    "HEALTH_BANDS",
    "HEALTH_SORTS",
    "HEALTH_SUMMARY",
    "TIERS",
    "TIER_GROUPINGS",
    "Filters",
    "Layer",
    "Layers",
    "account",
    "account_activities",
    "account_activity_summary",
    "account_contacts",
    "account_health",
    "account_health_history",
    "accounts_by_tier",
    "alert_counts",
    "alerts",
    "attitude_moves",
    "build_attempts",
    "build_history",
    "build_info",
    "capture_accounts",
    "capture_contacts",
    "captured_upto",
    "columns_of",
    "company_benchmark",
    "coverage",
    "dbt_tests",
    "dbt_tests_recorded",
    "deal_power_map",
    "deals",
    "defaults_applied",
    "dimension1_components",
    "dq_results",
    "freshness",
    "health_bands",
    "health_trend",
    "incomplete_columns",
    "incomplete_rows",
    "industries",
    "interactions_loaded",
    "key_actions",
    "kpis",
    "kpis_by_quarter",
    "latest_month_end",
    "layers",
    "missing_columns",
    "pareto",
    "power_map",
    "power_map_accounts",
    "previous_quarter",
    "quarantine_counts",
    "quarantine_samples",
    "quarters",
    "region_comparison",
    "region_fte_by_role",
    "region_split",
    "regions",
    "rep_performance",
    "row_counts",
    "scorecard",
    "tables_present",
    "tier_counts",
    "tier_distribution",
    "tier_migration",
    "tier_windows",
]

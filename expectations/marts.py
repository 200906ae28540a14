"""One suite per mart (schema `marts`, column names per docs/architecture.md).

Covers what dbt tests do not: row counts, value ranges of scores and shares, allowed values
of derived categories, and grain uniqueness checked a second time on the published data.
A mart that is missing or lacks a column makes its expectations *error*, which blocks.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import duckdb
import great_expectations.expectations as gxe

from expectations._base import (
    Batch,
    SuiteContext,
    fail,
    row_count_batch,
    row_count_expectation,
    violations_batch,
)

TIERS = ["S", "A", "B", "C"]
BANDS = ["strong", "developing", "weak"]


@dataclass
class MartSpec:
    grain: list[str]
    ranges: dict[str, tuple[float | None, float | None]] = field(default_factory=dict)
    sets: dict[str, list] = field(default_factory=dict)
    not_null: list[str] = field(default_factory=list)
    # built from an optional table (contract: core false): no rows is not an error
    may_be_empty: bool = False
    # the layer (contract `layers`) it shows: without it the mart's checks are not applicable
    layer: str | None = None


MARTS: dict[str, MartSpec] = {
    "dim_reps": MartSpec(
        grain=["rep_id"],
        ranges={"fte": (0.01, 1.0)},
        sets={"role": ["AR", "SR", "FR"]},
        not_null=["region_id", "is_active"],
    ),
    "dim_accounts": MartSpec(
        grain=["account_id"],
        ranges={"composite_score": (0, 100), "health_score": (0, 100)},
        sets={"current_tier": TIERS, "health_band": BANDS},
        not_null=["region_id", "ar_rep_id"],
    ),
    "dim_contacts": MartSpec(
        layer="power_map",
        grain=["contact_id"],
        ranges={"intimacy": (0, 1), "current_attitude": (-1, 3),
                "max_depth_step_365d": (0, 5), "days_since_last_touch": (0, None)},
        not_null=["account_id"],
    ),
    "fct_interactions": MartSpec(
        layer="activities",
        grain=["interaction_id"],
        ranges={"depth_step": (1, 5), "org_element": (1, 4)},
        sets={"layer": ["key", "general", "org"]},
        not_null=["occurred_at", "rep_id", "account_id", "activity_type"],
    ),
    "fct_attitude_history": MartSpec(
        layer="attitudes",
        grain=[],
        ranges={"attitude": (-1, 3)},
        not_null=["contact_id", "assessed_date", "valid_from"],
    ),
    "fct_power_map": MartSpec(
        layer="power_map",
        grain=["account_id", "contact_id"],
        ranges={"influence_weight": (0, 1), "support_norm": (0, 1), "intimacy": (0, 1),
                "current_attitude": (-1, 3)},
    ),
    "fct_opportunity_power_map": MartSpec(
        layer="deal_power_map",
        grain=["opportunity_id", "contact_id"],
        ranges={"influence_weight": (0, 1), "support_norm": (0, 1), "intimacy": (0, 1),
                "current_attitude": (-1, 3), "contact_key_score": (0, 100)},
        sets={"opportunity_status": ["open", "won", "lost"],
              "decision_role": ["A", "D", "S", "E", "I"],
              "evaluation_group": ["commercial", "technical", "selection_decision",
                                   "final_decision"]},
        not_null=["account_id", "is_untouched_90d"],
        may_be_empty=True,  # opportunity_contacts is optional
    ),
    "fct_account_alerts": MartSpec(
        layer="power_map",
        grain=[],
        sets={"alert_type": ["no_approver", "approver_or_decider_opposes", "no_coach_on_s_a",
                             "key_contact_untouched_90d", "privately_held",
                             "competitor_stance_conflict"]},
        not_null=["account_id"],
    ),
    "fct_account_tiers": MartSpec(
        grain=["account_id", "quarter_end_date"],
        ranges={"revenue_score": (0, 100), "potential_score": (0, 100),
                "demonstration_score": (0, 100), "winnability_score": (0, 100),
                "composite_score": (0, 100), "rank_in_population": (1, None)},
        sets={"tier": TIERS, "tier_change": ["new", "up", "down", "same"]},
        not_null=["tier"],
    ),
    "fct_relationship_health": MartSpec(
        layer="relationship_health",
        grain=["account_id", "month_end_date"],
        ranges={"key_score": (0, 100), "general_score": (0, 100), "org_score": (0, 100),
                "health_score": (0, 100), "top_rep_share": (0, 1), "rep_hhi": (0, 1),
                "breadth": (0, 1), "department_coverage": (0, 1), "org_level": (0, 4)},
        sets={"health_band": BANDS},
        not_null=["health_score"],
    ),
    "fct_rep_performance": MartSpec(
        grain=["rep_id", "year", "quarter"],
        ranges={"revenue": (0, None), "quarter": (1, 4), "cash_collected": (0, None)},
        sets={"market_type": ["saline_alkali", "new", "mature"]},
    ),
    "fct_region_performance": MartSpec(
        grain=["region_id", "year", "quarter"],
        ranges={"revenue": (0, None), "quarter": (1, 4)},
    ),
    "fct_key_actions": MartSpec(
        grain=["rep_id", "year", "quarter", "action_no"],
        ranges={"action_no": (1, 9), "score": (0, 1)},
    ),
    "fct_rep_scorecard": MartSpec(
        grain=["rep_id", "year", "quarter"],
        ranges={"dimension1_score": (0, 100), "dimension2_score": (0, 100),
                "total_score": (0, 100), "rank_in_region": (1, None)},
    ),
}


def mart_batches(ctx: SuiteContext) -> list[Batch]:
    """Per mart: its row count (a one-row count(*) frame) and the row-level expectations,
    validated on the rows that might break one of them (a violations frame)."""
    min_rows = ctx.thresholds["marts"]["min_rows"]
    batches = []
    for mart, spec in MARTS.items():
        suite, relation = f"mart_{mart}", f"marts.{mart}"
        # without the layer it shows (no interactions...), its checks are not applicable
        reason = ctx.not_applicable(spec.layer) if spec.layer else None
        first = len(batches)
        if not spec.may_be_empty or reason:
            batches.append(row_count_batch(suite, relation, [
                fail(row_count_expectation(min_value=min_rows), name="has_rows")]))
        exps = []
        if len(spec.grain) == 1:
            exps.append(fail(gxe.ExpectColumnValuesToBeUnique(column=spec.grain[0]),
                             name="grain_unique"))
            exps.append(fail(gxe.ExpectColumnValuesToNotBeNull(column=spec.grain[0])))
        elif spec.grain:
            exps.append(fail(gxe.ExpectCompoundColumnsToBeUnique(column_list=spec.grain),
                             name="grain_unique"))
        for col in spec.not_null:
            exps.append(fail(gxe.ExpectColumnValuesToNotBeNull(column=col)))
        for col, (lo, hi) in spec.ranges.items():
            exps.append(fail(gxe.ExpectColumnValuesToBeBetween(column=col, min_value=lo,
                                                                max_value=hi)))
        for col, values in spec.sets.items():
            exps.append(fail(gxe.ExpectColumnValuesToBeInSet(column=col, value_set=values)))
        batches.append(violations_batch(suite, "rows", relation, exps,
                                        ctx.column_types(relation), rows=_rows(ctx, relation)))
        for batch in batches[first:]:
            batch.not_applicable = reason
    return batches


def _rows(ctx: SuiteContext, relation: str) -> int | None:
    """The mart's row count, or None when it cannot be read (its batches then error)."""
    try:
        return ctx.row_count(relation)
    except duckdb.Error:
        return None

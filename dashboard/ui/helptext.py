"""Help text for every metric the dashboard shows: what it is and its formula.

The formulas are computed in the warehouse (dbt models, weights in seeds); these texts
explain them. Keep them in step with the domain model (docs/domain.md), the formulas
(docs/metrics.md, docs/metrics-scorecard.md) and docs/dashboard.md. The weights, windows and
cut-offs they quote are read from the seed files (transforms/seeds/), so a setting the data
team changes is the setting the help text shows.
"""

import csv
from functools import cache

from rapport.paths import TRANSFORMS_DIR


@cache
def _seed(name: str) -> tuple[dict[str, str], ...]:
    with (TRANSFORMS_DIR / "seeds" / f"{name}.csv").open(encoding="utf-8", newline="") as f:
        return tuple(csv.DictReader(f))


def _n(value: str | float) -> str:
    """A seed number as written in a formula: 0.5, 0.25, 90 (no trailing zeros)."""
    return f"{float(value):g}"


def setting(name: str) -> str:
    """A value of relationship_score_settings, as written in a formula."""
    for row in _seed("relationship_score_settings"):
        if row["setting"] == name:
            return _n(row["value"])
    raise KeyError(f"relationship_score_settings.csv has no setting {name}")


def _health_formula() -> str:
    return (f"{setting('health_key_weight')} x key + {setting('health_general_weight')} x "
            f"general + {setting('health_org_weight')} x org")


def _bands() -> str:
    bands = sorted(_seed("health_bands"), key=lambda r: float(r["min_score"]), reverse=True)
    parts, upper = [], None
    for row in bands:
        low = _n(row["min_score"])
        if upper is None:
            parts.append(f"{row['band']} >= {low}")
        elif float(row["min_score"]) > 0:
            parts.append(f"{row['band']} {low}-{_n(float(upper) - 1)}")
        else:
            parts.append(f"{row['band']} < {_n(upper)}")
        upper = row["min_score"]
    return ", ".join(parts)


def _role_weights(names: bool = False) -> str:
    return ", ".join(f"{r['decision_role']}{' ' + r['role_name'].lower() if names else ''} "
                     f"{float(r['influence_weight']):.1f}"
                     for r in _seed("role_influence_weights"))


def _tier_weights() -> str:
    row = next(r for r in _seed("tier_element_weights") if r["industry"] == "default")
    return (f"{float(row['revenue_weight']):.2f} x revenue + {float(row['potential_weight']):.2f}"
            f" x potential + {float(row['demonstration_weight']):.2f} x demonstration + "
            f"{float(row['winnability_weight']):.2f} x winnability")


def _tier_cutoffs() -> str:
    rows = sorted((r for r in _seed("tier_cutoffs") if r["industry"] == "default"),
                  key=lambda r: int(r["tier_order"]))
    words = []
    for i, row in enumerate(rows):
        share = f"{float(row['population_share']) * 100:g}%"
        words.append(f"{row['tier']} top {share}" if i == 0
                     else f"{row['tier']} the rest" if i == len(rows) - 1
                     else f"{row['tier']} next {share}")
    return ", ".join(words)


def _market_weights() -> str:
    return ", ".join(
        f"{r['market_type'].replace('_', '-')} "
        f"{float(r['weight_dimension1']) * 100:g}/{float(r['weight_dimension2']) * 100:g}"
        for r in _seed("market_type_weights"))


HEALTH_FORMULA = _health_formula()
BANDS = _bands()

HELP: dict[str, str] = {
    # Overview: business results (dimension 1)
    "revenue": "Won opportunity amount with a close date in the quarter, summed over the "
               "selected regions (credited to the account's AR rep).",
    "profit": "Revenue x margin (or revenue - cost where no margin is given), summed over "
              "the selected regions.",
    "revenue_per_head": "Per-head revenue = sum of revenue / sum of FTE of the regions' reps "
                        "in the quarter.",
    "profit_per_head": "Per-head profit = sum of profit / sum of FTE of the regions' reps in "
                       "the quarter.",
    "revenue_target_completion": "Target completion = revenue of the regions that have a "
                                 "revenue target / their revenue target.",
    "profit_target_completion": "Target completion = profit of the regions that have a "
                                "profit target / their profit target.",
    "revenue_target": "Sum of the selected regions' revenue targets for the quarter.",
    "cash_collected": "Payments received in the quarter against won deals.",
    "vs_previous": "The small figure is the change against the previous quarter.",
    "revenue_yoy_growth": "Growth = revenue / revenue of the same quarter last year - 1.",
    "profit_yoy_growth": "Growth = profit / profit of the same quarter last year - 1.",
    "fte": "Full-time equivalents of the reps (1.0 = full time).",
    # Health
    "health_score": f"Health (0-100) = {HEALTH_FORMULA} (weights in the seed). Band: "
                    f"{BANDS}.",
    "health_band": f"By health: {BANDS}.",
    "key_score": "Key relationship (0-100): influence-weighted mean over the role holders "
                 f"({_role_weights()}) of {setting('key_support_weight')} x support + "
                 f"{setting('key_intimacy_weight')} x intimacy, support = (attitude + 1) / 4.",
    "general_score": f"General relationship (0-100) = 100 x ({setting('general_breadth_weight')}"
                     f" x breadth + {setting('general_department_weight')} x department "
                     f"coverage + {setting('general_level_weight')} x level coverage), each "
                     f"over the trailing {setting('general_window_days')} days.",
    "org_score": f"Organisational relationship = {setting('org_points_per_element')} x org "
                 f"level (highest element evidenced in {setting('org_window_months')} months: "
                 "1 communication, 2 matching, 3 joining, 4 identification), minus "
                 f"{setting('exec_visit_penalty')} without an executive visit in "
                 f"{setting('exec_visit_window_months')} months (floor 0).",
    "health_change_1m": "Health now - health one month earlier.",
    "health_change_3m": "Health now - health three months earlier.",
    "health_trend": "Health at each month-end of the last 12 months, drawn between the "
                    "account's own lowest and highest value (so a small move shows; compare "
                    "levels with the Health column).",
    "breadth": f"Distinct contacts touched in the trailing {setting('general_window_days')} "
               "days / active contacts.",
    "department_coverage": f"Departments touched in {setting('general_window_days')} days / "
                           "departments with contacts.",
    "level_coverage": "Of the levels high / middle / low, the share touched in "
                      f"{setting('general_window_days')} days.",
    "org_level": f"Highest organisational element evidenced in {setting('org_window_months')} "
                 "months (0 = none).",
    "top_rep_share": "Share of the account's relationship activities in "
                     f"{setting('concentration_window_months')} months done by its single "
                     "most active rep (privatisation risk).",
    "rep_hhi": "Herfindahl index of the reps' shares of the account's activities "
               "(1 = one rep does everything).",
    "is_privately_held": "High concentration on one rep and high health: the relationship "
                         "may leave with the rep.",
    # Tiers
    "tier": f"{_tier_cutoffs()}, by composite score rank within the scoring population, "
            "re-assessed every quarter.",
    "composite_score": f"Composite = {_tier_weights()} scores (each 0-100 within industry; "
                       "weights in the seed, may differ by industry).",
    "revenue_ttm": "Won revenue of the trailing 12 months to the quarter end.",
    "revenue_score": "Trailing-12-month revenue normalised 0-100 within the industry.",
    "potential_score": "Stated spend potential normalised 0-100 within the industry.",
    "demonstration_score": "Reference / benchmark value (0-5) normalised 0-100.",
    "winnability_score": "Can we win and deliver (win rate and fit), 0-100 within industry.",
    "revenue_share": "Revenue of the tier / revenue of all tiers in the group.",
    "pareto": "Accounts sorted by trailing-12-month revenue, largest first; the curve shows "
              "the cumulative share of revenue against the share of accounts.",
    "migration": "Tier in the later quarter against the tier in the earlier quarter "
                 "(up = towards S). Accounts without a tier in either quarter are left out.",
    "tier_change": "Tier now against the quarter before: ▲ up (towards S), ▼ down, = same, "
                   "new (no tier the quarter before).",
    # Power map
    "attitude": "-1 opposes, 0 neutral or never contacted, 1 supports (not exclusively), "
                "2 supports exclusively, 3 coach.",
    "influence_weight": f"Role weight: {_role_weights(names=True)}.",
    "intimacy": "Deepest contact-depth step (1 project visit .. 5 home visit) reached in "
                f"{setting('intimacy_window_days')} days, scaled 0-1, halved every "
                f"{setting('intimacy_half_life_days')} days since the last touch.",
    "support_norm": "Support = (attitude + 1) / 4, from 0 (opposes) to 1 (coach).",
    "contact_key_score": f"100 x ({setting('key_support_weight')} x support + "
                         f"{setting('key_intimacy_weight')} x intimacy).",
    "days_since_last_touch": "Days from the last logged activity with the contact to the "
                             "as-of date.",
    "moved": "Attitude now against the attitude valid on the chosen date "
             "(fct_attitude_history); blank 'before' = first assessed after that date.",
    # Scorecards
    "dimension1_score": "Dimension 1 (0-100): business results for the market type - "
                        "per-head revenue and profit, growth, target completion.",
    "dimension2_score": "Dimension 2 (0-100): mean of the nine key actions that could be "
                        "scored, each numerator / denominator.",
    "total_score": "Total = w1 x dimension 1 + w2 x dimension 2, weights by market type "
                   f"({_market_weights()} by default).",
    "rank_in_region": "Rank of the total score among the region's reps (1 = best).",
    "actions_scored": "How many of the nine key actions had a denominator this quarter.",
    "action_score": "Score = numerator / denominator (0-100%); blank when the action could "
                    "not be scored (see the reason).",
    "weights": "Weights of dimension 1 and dimension 2 by the region's market type.",
    "mean_total_score": "Mean total scorecard score of the region's reps.",
    # Data quality
    "quarantined_rows": "Rows the gate rejected; one row can have several reasons and is "
                        "counted under each.",
    "dq_status": "pass; warn (failed, does not block); fail (failed, blocks publishing); "
                 "error (the check could not run; blocks publishing); not applicable (not "
                 "run: it needs data this build did not get, see the Coverage tab; never a "
                 "pass).",
    "dq_if_broken": "What happens when this check fails: 'blocks publishing' (the build is "
                    "refused, the served warehouse stays as it was) or 'warning only' (the "
                    "build is published, the failure is reported). It is the check's "
                    "setting, not its result: see Status for the result.",
    "dbt_tests": "dbt's data tests and unit tests, one row each, as the build recorded them "
                 "in the warehouse (meta.dbt_tests, from dbt's run results).",
}


def help_for(metric: str) -> str:
    return HELP.get(metric, "")

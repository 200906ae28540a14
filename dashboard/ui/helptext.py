"""Help text for every metric the dashboard shows: what it is and its formula.

The formulas are computed in the warehouse (dbt models, weights in seeds); these texts
explain them. Keep them in step with the domain model (docs/domain.md), the formulas
(docs/metrics.md, docs/metrics-scorecard.md) and docs/dashboard.md.
"""

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
    "health_score": "Health (0-100) = 0.5 x key + 0.25 x general + 0.25 x org "
                    "(weights in the seed). Band: strong >= 70, developing 40-69, weak < 40.",
    "health_band": "strong: health >= 70; developing: 40-69; weak: < 40.",
    "key_score": "Key relationship (0-100): influence-weighted mean over the role holders "
                 "(A 1.0, D 0.9, S 0.6, E 0.5, I 0.3) of 0.6 x support + 0.4 x intimacy, "
                 "support = (attitude + 1) / 4.",
    "general_score": "General relationship (0-100) = 100 x (0.5 x breadth + 0.3 x department "
                     "coverage + 0.2 x level coverage), each over the trailing 90 days.",
    "org_score": "Organisational relationship = 25 x org level (highest element evidenced "
                 "in 24 months: 1 communication, 2 matching, 3 joining, 4 identification), "
                 "minus 15 without an executive visit in 12 months (floor 0).",
    "health_change_1m": "Health now - health one month earlier.",
    "health_change_3m": "Health now - health three months earlier.",
    "health_trend": "Health at each month-end of the last 12 months, drawn between the "
                    "account's own lowest and highest value (so a small move shows; compare "
                    "levels with the Health column).",
    "breadth": "Distinct contacts touched in the trailing 90 days / active contacts.",
    "department_coverage": "Departments touched in 90 days / departments with contacts.",
    "level_coverage": "Of the levels high / middle / low, the share touched in 90 days.",
    "org_level": "Highest organisational element evidenced in 24 months (0 = none).",
    "top_rep_share": "Share of the account's relationship activities in 12 months done by "
                     "its single most active rep (privatisation risk).",
    "rep_hhi": "Herfindahl index of the reps' shares of the account's activities "
               "(1 = one rep does everything).",
    "is_privately_held": "High concentration on one rep and high health: the relationship "
                         "may leave with the rep.",
    # Tiers
    "tier": "S top 5%, A next 15%, B next 30%, C the rest, by composite score rank within "
            "the scoring population, re-assessed every quarter.",
    "composite_score": "Composite = 0.35 x revenue + 0.30 x potential + 0.15 x demonstration "
                       "+ 0.20 x winnability scores (each 0-100 within industry; weights in "
                       "the seed, may differ by industry).",
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
    "influence_weight": "Role weight: A approver 1.0, D decision maker 0.9, S supporter 0.6, "
                        "E evaluator 0.5, I influencer 0.3.",
    "intimacy": "Deepest contact-depth step (1 project visit .. 5 home visit) reached in 365 "
                "days, scaled 0-1, halved every 180 days since the last touch.",
    "support_norm": "Support = (attitude + 1) / 4, from 0 (opposes) to 1 (coach).",
    "contact_key_score": "100 x (0.6 x support + 0.4 x intimacy).",
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
                   "(saline-alkali 0/100, new 50/50, mature 70/30 by default).",
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
    "dbt_tests": "dbt's data tests and unit tests, one row each, read from the build's dbt "
                 "run results (builds/<build id>.dbt/run_results.json).",
}


def help_for(metric: str) -> str:
    return HELP.get(metric, "")

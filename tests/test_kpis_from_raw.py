"""The headline KPIs recomputed in polars from the raw files agree with the marts.

An independent second implementation of the documented formulas (docs/metrics-scorecard.md,
docs/metrics.md), written from the docs and the raw CSV files only, compared with what the real
`rapport build` published for the same files (the shared test warehouse: generated data, 30,000
interactions, seed 7). It catches a model that drifts from its documentation, which the
hand-worked fixture tests (tests/test_warehouse_*.py) can miss when the drift only shows on
realistic data (many quarters, part-timers, leavers, deals without a margin, ties).

Recomputed here: per rep and per region and quarter, revenue, profit, FTE by days and per-head
revenue and profit; per account and quarter (from the quarter the account was created), the
composite tier score and the S/A/B/C tier among the accounts that existed (so the tier counts
and the population of each quarter); per account at the as-of month, the 12-month activity
count, the top rep's share and the HHI of the reps' shares (the concentration inputs of
relationship health); the months each account has a health row (from its creation). The
health score itself (key, general and organisational scores) is checked against hand-worked
values in tests/test_warehouse_relationships.py and tests/test_time_validity.py, not here.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import duckdb
import polars as pl
import pytest

# defaults of the seeds (docs/domain.md): tier_score_settings, tier_element_weights, tier_cutoffs,
# relationship_score_settings; the test reads the seeds too and fails if they were changed
REVENUE_WINDOW_MONTHS = 12
WIN_RATE_WINDOW_MONTHS = 24
DEFAULT_WIN_RATE = 0.5
WIN_RATE_WEIGHT, FIT_WEIGHT = 0.7, 0.3
DEMONSTRATION_MAX = 5
WEIGHTS = {"revenue": 0.35, "potential": 0.30, "demonstration": 0.15, "winnability": 0.20}
CUMULATIVE_SHARES = [("S", 0.05), ("A", 0.20), ("B", 0.50), ("C", 1.0)]
CONCENTRATION_MONTHS = 12
SEEDS = Path(__file__).parents[1] / "transforms" / "seeds"


def _csv(raw: Path, table: str) -> pl.DataFrame:
    return pl.read_csv(raw / f"{table}.csv", infer_schema_length=0)  # all text, typed below


def _mart(warehouse: Path, sql: str) -> pl.DataFrame:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        return pl.from_arrow(con.sql(sql).to_arrow_table())


@pytest.fixture(scope="module")
def raw(demo_raw: Path, built_warehouse: Path) -> dict:
    """The raw tables, typed; and the as-of date, checked against the raw interactions."""
    interactions = _csv(demo_raw, "interactions").with_columns(
        pl.col("occurred_at").str.to_datetime("%Y-%m-%d %H:%M:%S"))
    opportunities = _csv(demo_raw, "opportunities").with_columns(
        pl.col("close_date").str.to_date(), pl.col("amount").cast(pl.Float64),
        pl.col("margin_pct").cast(pl.Float64), pl.col("cost").cast(pl.Float64))
    reps = _csv(demo_raw, "reps").with_columns(
        pl.col("fte").cast(pl.Float64), pl.col("hire_date").str.to_date(),
        pl.col("leave_date").str.to_date())
    accounts = _csv(demo_raw, "accounts").with_columns(
        pl.col("spend_potential").cast(pl.Float64).fill_null(0.0),
        pl.col("demonstration_value").cast(pl.Float64).fill_null(0.0),
        *[(pl.col(c) == "true").fill_null(False).cast(pl.Float64)
          for c in ("has_strategic_agreement", "is_exclusive_partner")],
        pl.col("created_date").str.to_date())
    with duckdb.connect(str(built_warehouse), read_only=True) as con:
        as_of = con.execute("select as_of_date from meta.build_info").fetchone()[0]
        quarantined = con.execute("select count(*) from meta.dq_quarantine").fetchone()[0]
    # the premise: nothing quarantined, so the raw rows are exactly the warehouse's inputs
    assert quarantined == 0
    # the build's as-of date: the last interaction day (the data ends before today)
    assert as_of == interactions["occurred_at"].max().date()
    return {"interactions": interactions, "opportunities": opportunities, "reps": reps,
            "accounts": accounts, "as_of": as_of}


def test_the_seeds_hold_the_defaults_this_test_recomputes_with():
    weights = pl.read_csv(SEEDS / "tier_element_weights.csv")
    assert weights.to_dicts() == [{"industry": "default", **{
        f"{k}_weight": v for k, v in WEIGHTS.items()}}]
    cutoffs = pl.read_csv(SEEDS / "tier_cutoffs.csv")
    shares = cutoffs.sort("tier_order")["population_share"].cum_sum().round(6).to_list()
    assert list(zip(cutoffs.sort("tier_order")["tier"], shares, strict=True)) == \
        CUMULATIVE_SHARES
    settings = dict(pl.read_csv(SEEDS / "tier_score_settings.csv").select("setting", "value")
                    .iter_rows())
    assert {k: float(v) for k, v in settings.items()} == {
        "revenue_window_months": REVENUE_WINDOW_MONTHS,
        "demonstration_max_value": DEMONSTRATION_MAX,
        "winnability_window_months": WIN_RATE_WINDOW_MONTHS,
        "winnability_win_rate_weight": WIN_RATE_WEIGHT,
        "winnability_fit_weight": FIT_WEIGHT,
        "winnability_default_win_rate": DEFAULT_WIN_RATE,
    }
    relationship = dict(pl.read_csv(SEEDS / "relationship_score_settings.csv")
                        .select("setting", "value").iter_rows())
    assert float(relationship["concentration_window_months"]) == CONCENTRATION_MONTHS


def _quarters(raw: dict) -> pl.DataFrame:
    """Calendar quarters from the first interaction or won deal to the as-of quarter; each
    measured on its last day, or the as-of date for the quarter still running."""
    as_of = raw["as_of"]
    won = raw["opportunities"].filter((pl.col("status") == "won")
                                      & (pl.col("close_date") <= as_of))
    first = min(raw["interactions"]["occurred_at"].min().date(), won["close_date"].min())
    starts = pl.date_range(date(first.year, 3 * ((first.month - 1) // 3) + 1, 1), as_of, "3mo",
                           eager=True).alias("quarter_start")
    return pl.DataFrame(starts).with_columns(
        year=pl.col("quarter_start").dt.year(),
        quarter=pl.col("quarter_start").dt.quarter().cast(pl.Int32),
        snapshot=pl.min_horizontal(pl.col("quarter_start").dt.offset_by("2mo").dt.month_end(),
                                   pl.lit(as_of)),
    )


def _rep_quarters(raw: dict) -> pl.DataFrame:
    """Revenue, profit and FTE by days of every rep in every quarter the rep is employed."""
    won = raw["opportunities"].filter(
        (pl.col("status") == "won") & pl.col("close_date").is_not_null()
        & (pl.col("close_date") <= raw["as_of"])
    ).with_columns(
        year=pl.col("close_date").dt.year(),
        quarter=pl.col("close_date").dt.quarter().cast(pl.Int32),
        # profit: amount x margin; else amount - cost; else unknown (left out of profit)
        profit=pl.when(pl.col("margin_pct").is_not_null())
        .then(pl.col("amount") * pl.col("margin_pct"))
        .otherwise(pl.col("amount") - pl.col("cost")),
    ).group_by("ar_rep_id", "year", "quarter").agg(
        revenue=pl.col("amount").sum(), profit=pl.col("profit").sum())
    employed = raw["reps"].join(_quarters(raw), how="cross").filter(
        (pl.col("hire_date") <= pl.col("snapshot"))
        & (pl.col("leave_date").is_null() | (pl.col("leave_date") >= pl.col("quarter_start")))
    ).with_columns(
        # FTE by days: contracted FTE x days employed in the period / days in the period
        # (quarter start .. snapshot, both included; hire and leave dates both employed)
        days_in_period=(pl.col("snapshot") - pl.col("quarter_start")).dt.total_days() + 1,
        days_employed=(pl.min_horizontal(pl.col("leave_date").fill_null(pl.col("snapshot")),
                                         pl.col("snapshot"))
                       - pl.max_horizontal(pl.col("hire_date"), pl.col("quarter_start"))
                       ).dt.total_days() + 1,
    ).with_columns(fte=pl.col("fte") * pl.col("days_employed") / pl.col("days_in_period"))
    return employed.join(won, left_on=["rep_id", "year", "quarter"],
                         right_on=["ar_rep_id", "year", "quarter"], how="left").with_columns(
        pl.col("revenue").fill_null(0.0), pl.col("profit").fill_null(0.0))


def _per_head(frame: pl.DataFrame) -> pl.DataFrame:
    return frame.with_columns(
        revenue_per_head=pl.when(pl.col("fte") > 0).then(pl.col("revenue") / pl.col("fte")),
        profit_per_head=pl.when(pl.col("fte") > 0).then(pl.col("profit") / pl.col("fte")))


def _assert_same(mine: pl.DataFrame, theirs: pl.DataFrame, keys: list[str],
                 columns: list[str], what: str) -> None:
    """Same keys on both sides, and every column equal within 1e-6 relative (or absolute near 0)."""
    assert mine.height == theirs.height, f"{what}: {mine.height} rows here, {theirs.height} in the mart"
    both = mine.join(theirs, on=keys, how="full", suffix="_mart", coalesce=True)
    for column in columns:
        here, mart = pl.col(column), pl.col(f"{column}_mart")
        bad = both.filter(
            (here.is_null() != mart.is_null())
            | ((here - mart).abs() > 1e-6 * pl.max_horizontal(here.abs(), mart.abs(), pl.lit(1.0))))
        assert bad.is_empty(), f"{what}.{column} differs in {bad.height} rows, e.g.\n" + \
            str(bad.select(*keys, column, f"{column}_mart").head(5))


def test_rep_revenue_profit_and_per_head_match_fct_rep_performance(raw, built_warehouse):
    mine = _per_head(_rep_quarters(raw)).select(
        "rep_id", "year", "quarter", "fte", "revenue", "profit", "revenue_per_head",
        "profit_per_head")
    theirs = _mart(built_warehouse, """
        select rep_id, year, quarter, fte, revenue, profit, revenue_per_head, profit_per_head
        from marts.fct_rep_performance""").with_columns(
        pl.col("year").cast(pl.Int32), pl.col("quarter").cast(pl.Int32))
    assert mine["revenue"].sum() > 0 and mine["profit_per_head"].drop_nulls().len() > 0
    _assert_same(mine.with_columns(pl.col("year").cast(pl.Int32)), theirs,
                 ["rep_id", "year", "quarter"],
                 ["fte", "revenue", "profit", "revenue_per_head", "profit_per_head"],
                 "fct_rep_performance")


def test_region_revenue_profit_and_per_head_match_fct_region_performance(raw, built_warehouse):
    mine = _per_head(_rep_quarters(raw).group_by("region_id", "year", "quarter").agg(
        pl.col("fte").sum(), pl.col("revenue").sum(), pl.col("profit").sum()))
    theirs = _mart(built_warehouse, """
        select region_id, year, quarter, fte, revenue, profit, revenue_per_head, profit_per_head
        from marts.fct_region_performance""").with_columns(
        pl.col("year").cast(pl.Int32), pl.col("quarter").cast(pl.Int32))
    _assert_same(mine.with_columns(pl.col("year").cast(pl.Int32)), theirs,
                 ["region_id", "year", "quarter"],
                 ["fte", "revenue", "profit", "revenue_per_head", "profit_per_head"],
                 "fct_region_performance")


def _tiers(raw: dict) -> pl.DataFrame:
    """Composite score and tier of every account in every quarter (docs/metrics.md)."""
    accounts, quarters = raw["accounts"], _quarters(raw)
    closed = raw["opportunities"].filter(pl.col("status").is_in(["won", "lost"])
                                         & pl.col("close_date").is_not_null())
    deals = closed.join(quarters, how="cross").filter(
        pl.col("close_date") <= pl.col("snapshot")
    ).with_columns(
        in_revenue=pl.col("close_date") > pl.col("snapshot").dt.offset_by(
            f"-{REVENUE_WINDOW_MONTHS}mo"),
        in_win_rate=pl.col("close_date") > pl.col("snapshot").dt.offset_by(
            f"-{WIN_RATE_WINDOW_MONTHS}mo"),
        won=pl.col("status") == "won",
    ).group_by("account_id", "quarter_start").agg(
        revenue_ttm=pl.col("amount").filter(pl.col("won") & pl.col("in_revenue")).sum(),
        won=(pl.col("won") & pl.col("in_win_rate")).sum(),
        lost=(~pl.col("won") & pl.col("in_win_rate")).sum(),
    )
    # the population of a quarter: the accounts created by its snapshot day
    scored = accounts.join(quarters, how="cross").filter(
        pl.col("created_date").is_null() | (pl.col("created_date") <= pl.col("snapshot"))
    ).join(
        deals, on=["account_id", "quarter_start"], how="left"
    ).with_columns(
        pl.col("revenue_ttm").fill_null(0.0), pl.col("won").fill_null(0),
        pl.col("lost").fill_null(0),
    ).with_columns(
        win_rate=pl.when(pl.col("won") + pl.col("lost") > 0)
        .then(pl.col("won") / (pl.col("won") + pl.col("lost"))).otherwise(DEFAULT_WIN_RATE),
        fit=(pl.col("has_strategic_agreement") + pl.col("is_exclusive_partner")) / 2,
    ).with_columns(
        revenue=(100 * pl.col("revenue_ttm")
                 / pl.col("revenue_ttm").max().over("industry", "quarter_start")).fill_nan(0.0)
        .fill_null(0.0),
        potential=(100 * pl.col("spend_potential")
                   / pl.col("spend_potential").max().over("industry", "quarter_start"))
        .fill_nan(0.0).fill_null(0.0),
        demonstration=100 * pl.col("demonstration_value") / DEMONSTRATION_MAX,
        # rounded to 6 decimals as the model does, so that float noise splits no tie
        winnability=(100 * (WIN_RATE_WEIGHT * pl.col("win_rate") + FIT_WEIGHT * pl.col("fit")))
        .round(6),
    ).with_columns(
        composite=sum(weight * pl.col(element) for element, weight in WEIGHTS.items()),
    ).with_columns(
        rank=pl.col("composite").round(6).rank("min", descending=True).over("quarter_start"),
        population=pl.len().over("quarter_start"),
    )
    # the first tier whose cumulative share exceeds the share of accounts ranked above
    above = (pl.col("rank") - 1) / pl.col("population")
    tier = pl.when(above < CUMULATIVE_SHARES[0][1]).then(pl.lit(CUMULATIVE_SHARES[0][0]))
    for name, share in CUMULATIVE_SHARES[1:]:
        tier = tier.when(above < share).then(pl.lit(name))
    return scored.with_columns(tier=tier).select(
        "account_id", "year", "quarter", "composite", "rank", "tier", "population")


def test_composite_scores_and_tiers_match_fct_account_tiers(raw, built_warehouse):
    mine = _tiers(raw).with_columns(pl.col("year").cast(pl.Int32))
    theirs = _mart(built_warehouse, """
        select account_id, year, quarter, composite_score as composite,
               rank_in_population as rank, tier, population_size as population
        from marts.fct_account_tiers""").with_columns(
        pl.col("year").cast(pl.Int32), pl.col("quarter").cast(pl.Int32))
    _assert_same(mine, theirs, ["account_id", "year", "quarter"],
                 ["composite", "rank", "population"], "fct_account_tiers")
    both = mine.join(theirs, on=["account_id", "year", "quarter"], suffix="_mart")
    wrong = both.filter(pl.col("tier") != pl.col("tier_mart"))
    assert wrong.is_empty(), f"{wrong.height} tiers differ:\n{wrong.head(5)}"
    # and so the tier counts of every quarter, which the Overview and Tiers pages show
    counts = mine.group_by("year", "quarter", "tier").len().sort("year", "quarter", "tier")
    mart_counts = theirs.group_by("year", "quarter", "tier").len().sort("year", "quarter", "tier")
    assert counts.equals(mart_counts)
    accounts = raw["accounts"].height
    latest = counts.filter(pl.col("year") == raw["as_of"].year,
                           pl.col("quarter") == (raw["as_of"].month - 1) // 3 + 1)
    assert latest["len"].sum() == accounts and set(latest["tier"]) == {"S", "A", "B", "C"}


def test_concentration_in_every_month_matches_fct_relationship_health(raw, built_warehouse):
    """Concentration of every account in every month: the activities of the 12 calendar
    months ending with the month (up to its snapshot day, the as-of date in the as-of month),
    the top rep's share, the HHI of the rep shares, the top rep (ties: the smallest rep_id),
    and privately held (top share >= 0.6, health >= 70, at least 5 activities; the seeds'
    defaults, pinned by test_the_seeds_hold_the_defaults_this_test_recomputes_with)."""
    as_of = raw["as_of"]
    seeds = _csv(SEEDS, "relationship_score_settings")
    setting = dict(zip(seeds["setting"], seeds["value"].cast(pl.Float64)))
    month_no = pl.col("month").dt.year() * 12 + pl.col("month").dt.month()
    per_rep_month = raw["interactions"].filter(pl.col("occurred_at").dt.date() <= as_of).with_columns(
        month=pl.col("occurred_at").dt.date().dt.truncate("1mo")
    ).group_by("account_id", "rep_id", "month").len("activities").with_columns(
        month_no=month_no)
    health = _mart(built_warehouse, """
        select account_id, month_end_date, cast(activity_count_12m as double) as activity_count_12m,
               top_rep_share, rep_hhi, top_rep_id, health_score, is_privately_held
        from marts.fct_relationship_health""")
    months = health.select("account_id", "month_end_date").with_columns(
        target_no=pl.col("month_end_date").dt.year() * 12 + pl.col("month_end_date").dt.month())
    per_rep = months.join(per_rep_month, on="account_id").filter(
        (pl.col("month_no") <= pl.col("target_no"))
        & (pl.col("month_no") > pl.col("target_no") - CONCENTRATION_MONTHS)
    ).group_by("account_id", "month_end_date", "rep_id").agg(pl.col("activities").sum())
    mine = per_rep.with_columns(
        total=pl.col("activities").sum().over("account_id", "month_end_date")
    ).group_by("account_id", "month_end_date").agg(
        activity_count_12m=pl.col("total").first().cast(pl.Float64),
        top_rep_share=(pl.col("activities").max() / pl.col("total").first()),
        rep_hhi=((pl.col("activities") / pl.col("total")) ** 2).sum(),
        top_rep_id=pl.col("rep_id").sort_by(["activities", "rep_id"],
                                            descending=[True, False]).first(),
    )
    theirs = health.filter(pl.col("activity_count_12m") > 0)
    assert mine.height > health["account_id"].n_unique(), "only one month per account?"
    _assert_same(mine.drop("top_rep_id"), theirs.select(mine.drop("top_rep_id").columns),
                 ["account_id", "month_end_date"],
                 ["activity_count_12m", "top_rep_share", "rep_hhi"], "fct_relationship_health")
    tops = mine.join(theirs, on=["account_id", "month_end_date"], suffix="_mart").filter(
        pl.col("top_rep_id") != pl.col("top_rep_id_mart"))
    assert tops.is_empty(), f"top rep differs in {tops.height} of {mine.height}:\n{tops.head(5)}"
    held = health.join(mine, on=["account_id", "month_end_date"], how="left",
                       suffix="_mine").with_columns(
        mine=pl.col("top_rep_share_mine").fill_null(0.0)
        >= setting["privately_held_min_top_rep_share"])
    held = held.with_columns(mine=pl.col("mine")
                             & (pl.col("health_score") >= setting["privately_held_min_health"])
                             & (pl.col("activity_count_12m_mine").fill_null(0)
                                >= setting["privately_held_min_activities"]))
    wrong = held.filter(pl.col("mine") != pl.col("is_privately_held"))
    assert wrong.is_empty(), (
        f"privately held differs in {wrong.height} of {held.height} account-months:\n"
        f"{wrong.head(5)}")
    assert held["mine"].any() and not held["mine"].all()


def test_health_rows_start_at_each_accounts_creation(raw, built_warehouse):
    """One health row per account per month from the later of the first interaction month and
    the month the account was created (created on or before the month's snapshot day)."""
    as_of = raw["as_of"]
    first = raw["interactions"]["occurred_at"].min().date()
    months = pl.DataFrame(pl.date_range(date(first.year, first.month, 1), as_of, "1mo",
                                        eager=True).alias("month_start")).with_columns(
        snapshot=pl.min_horizontal(pl.col("month_start").dt.month_end(), pl.lit(as_of)))
    mine = raw["accounts"].join(months, how="cross").filter(
        pl.col("created_date").is_null() | (pl.col("created_date") <= pl.col("snapshot"))
    ).group_by("account_id").agg(months=pl.len().cast(pl.Int64), first=pl.col("snapshot").min())
    theirs = _mart(built_warehouse, """
        select account_id, count(*) as months, min(snapshot_date) as first
        from marts.fct_relationship_health group by account_id""")
    both = mine.join(theirs, on="account_id", how="full", suffix="_mart", coalesce=True)
    wrong = both.filter((pl.col("months") != pl.col("months_mart"))
                        | (pl.col("first") != pl.col("first_mart"))
                        | pl.col("months").is_null() | pl.col("months_mart").is_null())
    assert wrong.is_empty(), f"health months differ:\n{wrong.head(5)}"
    # the demo data has accounts created after the data starts, so this checks something
    assert mine["months"].n_unique() > 1

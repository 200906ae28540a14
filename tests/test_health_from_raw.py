"""Monthly relationship health recomputed in polars from the raw files agrees with the mart.

An independent second implementation of docs/metrics.md (sections Key relationships, General
relationships, Organisational relationships, Relationship health and band, Time-correct
history: validity windows and warm-up), written from the docs, the seeds under
transforms/seeds/ and the raw CSV files only, compared with `marts.fct_relationship_health` as
the real `rapport build` published it for the same files (the shared test warehouse: generated
data, 30,000 interactions, seed 7).

Recomputed for every account in every month (not only the as-of month): the set of
(account, month) rows, key_score, general_score (with breadth, department_coverage,
level_coverage), org_score (with org_level, has_exec_visit_12m), health_score, health_band,
health_change_1m and health_change_3m, and the warm-up flags key_window_complete,
general_window_complete, org_window_complete, concentration_window_complete, window_complete.
The concentration measures (top_rep_share, rep_hhi) are checked in tests/test_kpis_from_raw.py.

Rounding: the mart stores the scores (key, general, org, health) rounded to 6 decimals, health
being rounded from the unrounded parts, and the changes as differences of the rounded health
scores. The recomputation does not round; scores are compared within 1e-6 relative (absolute
below 1), and a change within 1e-6 relative to each of the two health scores it subtracts
(absolute below 1): two roundings to 6 decimals move a difference by up to 1e-6 however small
the difference is.

Readings of the docs where they are silent, taken from docs/data-contract.md or chosen here:
an empty `contacts.is_active` counts as active (data contract); a contact with an empty
department or level adds no department or level (to neither the touched nor the active
count); "the last N days" measured on day d are d - N + 1 .. d and "the last N months" the day
after d minus N months .. d (the warm-up section's definition of a window).
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import duckdb
import polars as pl
import pytest

SEEDS = Path(__file__).parents[1] / "transforms" / "seeds"
KEYS = ["account_id", "snapshot_date"]
SCORES = ["key_score", "general_score", "breadth", "department_coverage", "level_coverage",
          "org_level", "org_score", "health_score"]
CHANGES = {"health_change_1m": 1, "health_change_3m": 3}
EXACT = ["month_end_date", "health_band", "has_exec_visit_12m", "key_window_complete",
         "general_window_complete", "org_window_complete", "concentration_window_complete",
         "window_complete"]
# the documented defaults (docs/metrics.md); the recomputation reads the seeds, this only pins
# that the seeds still say what the docs say
DOCUMENTED_SETTINGS = {
    "key_support_weight": 0.6, "key_intimacy_weight": 0.4, "unassessed_attitude": 0,
    "intimacy_window_days": 365, "intimacy_half_life_days": 180, "depth_ladder_top_step": 5,
    "general_breadth_weight": 0.5, "general_department_weight": 0.3,
    "general_level_weight": 0.2, "general_window_days": 90, "level_count": 3,
    "org_window_months": 24, "org_points_per_element": 25, "exec_visit_window_months": 12,
    "exec_visit_penalty": 15, "health_key_weight": 0.5, "health_general_weight": 0.25,
    "health_org_weight": 0.25, "concentration_window_months": 12,
}
DOCUMENTED_ROLES = {"A": 1.0, "D": 0.9, "S": 0.6, "E": 0.5, "I": 0.3}
DOCUMENTED_BANDS = {"strong": 70.0, "developing": 40.0, "weak": 0.0}


def _csv(raw: Path, table: str) -> pl.DataFrame:
    return pl.read_csv(raw / f"{table}.csv", infer_schema_length=0)  # all text, typed below


def _mart(warehouse: Path, sql: str) -> pl.DataFrame:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        return pl.from_arrow(con.sql(sql).to_arrow_table())


def _settings() -> dict[str, float]:
    rows = pl.read_csv(SEEDS / "relationship_score_settings.csv", infer_schema_length=0)
    return {name: float(value) for name, value in rows.select("setting", "value").iter_rows()}


def _true(column: str) -> pl.Expr:
    return pl.col(column).str.to_lowercase() == "true"


def test_the_seeds_hold_the_documented_defaults():
    settings = _settings()
    assert {k: settings[k] for k in DOCUMENTED_SETTINGS} == DOCUMENTED_SETTINGS
    roles = pl.read_csv(SEEDS / "role_influence_weights.csv")
    assert dict(roles.select("decision_role", "influence_weight").iter_rows()) == \
        DOCUMENTED_ROLES
    bands = pl.read_csv(SEEDS / "health_bands.csv")
    assert {b: float(m) for b, m in bands.select("band", "min_score").iter_rows()} == \
        DOCUMENTED_BANDS


@pytest.fixture(scope="module")
def as_of(demo_raw: Path, built_warehouse: Path) -> date:
    """The build's as-of date, checked against the raw interactions."""
    with duckdb.connect(str(built_warehouse), read_only=True) as con:
        as_of = con.execute("select as_of_date from meta.build_info").fetchall()[0][0]
    with duckdb.connect(str(built_warehouse), read_only=True) as con:
        quarantined = con.execute("select count(*) from meta.dq_quarantine").fetchall()[0][0]
    # the premise: nothing quarantined, so the raw rows are exactly the warehouse's inputs
    assert quarantined == 0
    last = _csv(demo_raw, "interactions")["occurred_at"].str.to_datetime(
        "%Y-%m-%d %H:%M:%S").max()
    # the build's as-of date: the last interaction day (the data ends before today)
    assert as_of == last.date()
    return as_of


def _health(raw: Path, as_of: date) -> pl.DataFrame:
    """Every account x month of fct_relationship_health, recomputed from docs/metrics.md."""
    s = _settings()
    taxonomy = _csv(SEEDS, "activity_taxonomy").select(
        "activity_type", depth_step=pl.col("depth_step").cast(pl.Int64),
        org_element=pl.col("org_element").cast(pl.Int64), is_exec=_true("is_executive_visit"))
    roles = pl.read_csv(SEEDS / "role_influence_weights.csv").select(
        "decision_role", pl.col("influence_weight").cast(pl.Float64))
    interactions = _csv(raw, "interactions").with_columns(
        day=pl.col("occurred_at").str.to_datetime("%Y-%m-%d %H:%M:%S").dt.date()
    ).filter(pl.col("day") <= as_of).join(taxonomy, on="activity_type", how="left")
    unknown = interactions.join(taxonomy, on="activity_type", how="anti")
    assert unknown.is_empty(), f"activity types not in the taxonomy: {unknown['activity_type']}"
    accounts = _csv(raw, "accounts").with_columns(pl.col("created_date").str.to_date())
    contacts = _csv(raw, "contacts").with_columns(
        pl.col("created_date").str.to_date(),
        # still at the account; empty counts as active (docs/data-contract.md)
        active=pl.col("is_active").is_null() | _true("is_active"))
    assessments = _csv(raw, "contact_assessments").with_columns(
        pl.col("assessed_date").str.to_date(), pl.col("attitude").cast(pl.Float64))

    # months from the month of the first interaction to the as-of month, each measured on its
    # last day, the running month on the as-of date
    first_day = interactions["day"].min()
    months = pl.DataFrame(pl.date_range(first_day.replace(day=1), as_of, "1mo", eager=True)
                          .alias("month_start")).with_columns(
        month_end_date=pl.col("month_start").dt.month_end(),
        snapshot_date=pl.min_horizontal(pl.col("month_start").dt.month_end(), pl.lit(as_of)))
    snapshots = months.select("snapshot_date")
    d = pl.col("snapshot_date")

    # one row per account and month, from the month the account exists (created on or before
    # the snapshot day; an empty created_date: always)
    rows = accounts.select("account_id", "created_date").join(months, how="cross").filter(
        pl.col("created_date").is_null() | (pl.col("created_date") <= d)).drop("created_date")

    # the monthly contact state: active contacts created by the snapshot day
    contact_months = contacts.filter("active").select(
        "contact_id", "account_id", "department", "level", "decision_role", "created_date"
    ).join(snapshots, how="cross").filter(
        pl.col("created_date").is_null() | (pl.col("created_date") <= d))
    # per contact and snapshot day, from all activities with the contact up to that day (also
    # those before the contact's created date): the last touch, the deepest depth step in the
    # intimacy window, and whether touched in the general window (age 0 = the snapshot day)
    touches = interactions.filter(pl.col("contact_id").is_not_null()).select(
        "contact_id", "day", "depth_step"
    ).join(snapshots, how="cross").filter(pl.col("day") <= d).with_columns(
        age=(d - pl.col("day")).dt.total_days()
    ).group_by("contact_id", "snapshot_date").agg(
        days_since_touch=pl.col("age").min(),
        deepest_step=pl.col("depth_step").filter(pl.col("age") < s["intimacy_window_days"]).max(),
        touched=(pl.col("age") < s["general_window_days"]).any())
    # the attitude in force: the latest assessment on or before the snapshot day
    attitudes = assessments.join(snapshots, how="cross").filter(
        pl.col("assessed_date") <= d
    ).sort("assessed_date").group_by("contact_id", "snapshot_date").agg(
        attitude=pl.col("attitude").last())
    contact_months = contact_months.join(
        touches, on=["contact_id", "snapshot_date"], how="left"
    ).join(attitudes, on=["contact_id", "snapshot_date"], how="left").with_columns(
        pl.col("touched").fill_null(False),
        intimacy=(pl.col("deepest_step").fill_null(0) / s["depth_ladder_top_step"]
                  * 0.5 ** (pl.col("days_since_touch") / s["intimacy_half_life_days"])
                  ).fill_null(0.0),  # never touched: 0
        support=(pl.col("attitude").fill_null(s["unassessed_attitude"]) + 1) / 4,
    ).with_columns(
        contact_key_score=100 * (s["key_support_weight"] * pl.col("support")
                                 + s["key_intimacy_weight"] * pl.col("intimacy")))

    # key: influence-weighted mean over the role holders (none: 0, filled below)
    key = contact_months.join(roles, on="decision_role").group_by(KEYS).agg(
        key_score=(pl.col("influence_weight") * pl.col("contact_key_score")).sum()
        / pl.col("influence_weight").sum())
    # general: breadth, department and level coverage over the active contacts
    touched = pl.col("touched")
    general = contact_months.group_by(KEYS).agg(
        breadth=touched.mean(),
        departments_touched=pl.col("department").filter(touched).drop_nulls().n_unique(),
        departments=pl.col("department").drop_nulls().n_unique(),
        levels_touched=pl.col("level").filter(touched).drop_nulls().n_unique(),
    ).with_columns(
        department_coverage=pl.when(pl.col("departments") > 0)
        .then(pl.col("departments_touched") / pl.col("departments")).otherwise(0.0),
        level_coverage=pl.col("levels_touched") / s["level_count"],
    ).with_columns(
        general_score=100 * (s["general_breadth_weight"] * pl.col("breadth")
                             + s["general_department_weight"] * pl.col("department_coverage")
                             + s["general_level_weight"] * pl.col("level_coverage")))
    # org: the highest element evidenced in the org window, and an executive visit in the
    # executive-visit window (N months on day d: the day after d minus N months .. d)
    org_window, exec_window = int(s["org_window_months"]), int(s["exec_visit_window_months"])
    org = interactions.filter(pl.col("org_element").is_not_null() | pl.col("is_exec")).select(
        "account_id", "day", "org_element", "is_exec"
    ).join(snapshots, how="cross").filter(pl.col("day") <= d).group_by(KEYS).agg(
        org_level=pl.col("org_element").filter(
            pl.col("day") > d.dt.offset_by(f"-{org_window}mo")).max(),
        has_exec_visit_12m=(pl.col("is_exec")
                            & (pl.col("day") > d.dt.offset_by(f"-{exec_window}mo"))).any())

    health = rows.join(key, on=KEYS, how="left").join(
        general.select(*KEYS, "general_score", "breadth", "department_coverage",
                       "level_coverage"), on=KEYS, how="left"
    ).join(org, on=KEYS, how="left").with_columns(
        pl.col("key_score").fill_null(0.0), pl.col("org_level").fill_null(0),
        pl.col("has_exec_visit_12m").fill_null(False),
    ).with_columns(
        org_score=pl.max_horizontal(
            pl.lit(0.0), s["org_points_per_element"] * pl.col("org_level")
            - pl.when(pl.col("has_exec_visit_12m")).then(0.0).otherwise(s["exec_visit_penalty"]))
    ).with_columns(
        health_score=s["health_key_weight"] * pl.col("key_score")
        + s["health_general_weight"] * pl.col("general_score")
        + s["health_org_weight"] * pl.col("org_score"))

    # band: the band with the highest minimum at or below the score
    bands = pl.read_csv(SEEDS / "health_bands.csv").sort("min_score", descending=True)
    (top, top_min), *rest = bands.select("band", "min_score").iter_rows()
    band = pl.when(pl.col("health_score") >= top_min).then(pl.lit(top))
    for name, minimum in rest:
        band = band.when(pl.col("health_score") >= minimum).then(pl.lit(name))
    # trend: against the account's own earlier rows (consecutive months from its first), so
    # null in its first month(s)
    health = health.with_columns(health_band=band).sort(KEYS).with_columns(
        **{column: pl.col("health_score") - pl.col("health_score").shift(lag).over("account_id")
           for column, lag in CHANGES.items()})

    # warm-up: a window is complete when its first day is on or after the first interaction
    # (N days on day d: d - N + 1 .. d; N months: the day after d minus N months .. d;
    # concentration: N calendar months ending with the month, from the first data month)
    def months_back(n: int) -> pl.Expr:
        return d.dt.offset_by(f"-{n}mo").dt.offset_by("1d")

    health = health.with_columns(
        key_window_complete=d.dt.offset_by(f"-{int(s['intimacy_window_days']) - 1}d")
        >= first_day,
        general_window_complete=d.dt.offset_by(f"-{int(s['general_window_days']) - 1}d")
        >= first_day,
        org_window_complete=(months_back(org_window) >= first_day)
        & (months_back(exec_window) >= first_day),
        concentration_window_complete=pl.col("month_start").dt.offset_by(
            f"-{int(s['concentration_window_months']) - 1}mo") >= first_day.replace(day=1),
    ).with_columns(window_complete=pl.all_horizontal(
        "key_window_complete", "general_window_complete", "org_window_complete",
        "concentration_window_complete"))
    return health.select(*KEYS, *EXACT, *SCORES, *CHANGES)


@pytest.fixture(scope="module")
def compared(demo_raw: Path, built_warehouse: Path, as_of: date) -> pl.DataFrame:
    """The recomputation and the mart side by side (mart columns suffixed `_mart`)."""
    mine = _health(demo_raw, as_of)
    theirs = _mart(built_warehouse, f"""
        select {', '.join([*KEYS, *EXACT, *SCORES, *CHANGES])}
        from marts.fct_relationship_health""").with_columns(pl.col("org_level").cast(pl.Int64))
    assert mine.height == theirs.height, \
        f"{mine.height} account-months recomputed, {theirs.height} in the mart"
    both = mine.join(theirs, on=KEYS, how="full", suffix="_mart", coalesce=True)
    missing = both.filter(pl.col("health_score").is_null() | pl.col("health_score_mart").is_null())
    assert missing.is_empty(), \
        f"{missing.height} of {both.height} account-months only on one side:\n" + \
        str(missing.select(*KEYS, "health_score", "health_score_mart").head(10))
    return both


def _differs(column: str, tolerance: pl.Expr) -> pl.Expr:
    here, mart = pl.col(column), pl.col(f"{column}_mart")
    return (here.is_null() != mart.is_null()) | ((here - mart).abs() > tolerance)


def _report(both: pl.DataFrame, bad: pl.DataFrame, column: str) -> str:
    return (f"{column} differs in {bad.height} of {both.height} account-months, e.g.\n"
            + str(bad.select(*KEYS, column, f"{column}_mart").head(8)))


def test_one_row_per_account_and_month_from_its_creation(compared, as_of):
    """Rows from the later of the first-interaction month and the creation month, to the
    as-of month, and every account-month in between (checked by the full join above)."""
    spans = compared.group_by("account_id").agg(
        first=pl.col("snapshot_date").min(), last=pl.col("snapshot_date").max(),
        months=pl.len())
    assert (spans["last"] == as_of).all()
    # accounts created after the data starts make the start differ: the rule is exercised
    assert spans["first"].n_unique() > 1 and spans["months"].n_unique() > 1
    gaps = spans.filter(
        pl.col("months") != (pl.col("last").dt.year() * 12 + pl.col("last").dt.month()
                             - pl.col("first").dt.year() * 12 - pl.col("first").dt.month() + 1))
    assert gaps.is_empty(), f"months missing in between:\n{gaps}"


@pytest.mark.parametrize("column", SCORES)
def test_scores_match_for_every_account_month(compared, column):
    tolerance = 1e-6 * pl.max_horizontal(pl.col(column).abs(), pl.col(f"{column}_mart").abs(),
                                         pl.lit(1.0))
    bad = compared.filter(_differs(column, tolerance))
    assert bad.is_empty(), _report(compared, bad, column)
    assert compared[column].drop_nulls().n_unique() > 1  # not a constant: something compared


@pytest.mark.parametrize("column", list(CHANGES))
def test_health_changes_match_for_every_account_month(compared, column):
    lag = CHANGES[column]
    before = pl.col("health_score").shift(lag).over("account_id")
    # each of the two health scores may be rounded by up to 5e-7 in the mart
    tolerance = 1e-6 * (pl.max_horizontal(pl.col("health_score").abs(), pl.lit(1.0))
                        + pl.max_horizontal(before.abs(), pl.lit(1.0)))
    both = compared.sort(KEYS)
    bad = both.filter(_differs(column, tolerance))
    # (the null checks are in _differs: null here in each account's first `lag` months)
    assert bad.is_empty(), _report(both, bad, column)
    assert both[column].null_count() >= both["account_id"].n_unique() > 0
    assert both[column].drop_nulls().n_unique() > 1


@pytest.mark.parametrize("column", EXACT)
def test_bands_dates_and_warm_up_flags_match_for_every_account_month(compared, column):
    bad = compared.filter(pl.col(column).ne_missing(pl.col(f"{column}_mart")))
    assert bad.is_empty(), _report(compared, bad, column)
    assert compared[column].n_unique() > 1, f"{column}: one value in every row, nothing tested"

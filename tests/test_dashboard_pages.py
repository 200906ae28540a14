"""Every dashboard page under Streamlit's AppTest on a real built warehouse: it renders
without an exception or error, shows its charts and tables (each with a CSV download), a
filter change changes the numbers shown, and the Overview shows the marts' numbers."""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

import duckdb
import pytest
from streamlit.testing.v1 import AppTest

from rapport.pages import PAGES as REGISTRY
from rapport.paths import DASHBOARD_DIR

sys.path.insert(0, str(DASHBOARD_DIR))
from ui import fmt
from ui.charts import WARM_UP_NOTE, lines, mark_warm_up, thin_line

APP = str(DASHBOARD_DIR / "app.py")
TIMEOUT = 120  # seconds per run: the test machine is shared and busy

# page file -> plotly charts the page shows with its default choices (Tiers, Relationship
# health and Data quality run only their open view: its charts)
PAGES = {
    "pages/overview.py": 0,  # tables with bars; "Show charts" draws CHART_VIEWS' charts
    "pages/tiers.py": 2,  # Distribution: counts and revenue shares
    "pages/health.py": 1,  # Accounts: the trend
    "pages/power_map.py": 1,  # Org chart (the open view)
    "pages/capture.py": 0,  # a form; its tables: contacts, history, pending
    "pages/scorecards.py": 3,
    "pages/data_quality.py": 1,  # the build-history chart needs two builds
}
# page file -> plotly charts of its chart view ("Show charts", ?charts=1)
CHART_VIEWS = {
    "pages/overview.py": 3,  # results by quarter, health bands, tiers
}


def test_the_chart_counts_cover_every_page_of_the_registry():
    assert set(PAGES) == {f"pages/{page.id}.py" for page in REGISTRY}
    files = {path.stem for path in (DASHBOARD_DIR / "pages").glob("*.py")}
    assert files == {page.id for page in REGISTRY}, "every page file is in rapport/pages.py"
    for page in REGISTRY:  # the browser waits for the registry's count: at least that many
        assert PAGES[f"pages/{page.id}.py"] >= page.charts, page.id
        assert CHART_VIEWS.get(f"pages/{page.id}.py", 0) == page.chart_view, page.id


@pytest.fixture()
def warehouse_env(monkeypatch, built_warehouse: Path) -> Path:
    monkeypatch.setenv("RAPPORT_WAREHOUSE", str(built_warehouse))
    return built_warehouse


def _open(page: str) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=TIMEOUT).run()
    if page != "pages/overview.py":
        at.switch_page(page).run()
    return at


def _assert_clean(at: AppTest, page: str) -> None:
    assert not at.exception, f"{page}: {[e.value for e in at.exception]}"
    assert not at.error, f"{page}: {[e.value for e in at.error]}"
    assert not at.warning, f"{page}: {[e.value for e in at.warning]}"


def _numbers(at: AppTest) -> list:
    """What the page shows as numbers: metric values and every table's contents."""
    shown: list = [(m.label, m.value) for m in at.metric]
    for frame in at.dataframe:
        shown.append(frame.value.to_csv(index=False))
    return shown


def _region_ids(path: Path) -> list[str]:
    with duckdb.connect(str(path), read_only=True) as con:
        return [r[0] for r in con.execute(
            "select distinct region_id from marts.dim_accounts order by 1").fetchall()]


def _latest_quarter(path: Path) -> tuple[int, int]:
    with duckdb.connect(str(path), read_only=True) as con:
        return con.execute("""
            select year, quarter from (
                select year, quarter from marts.fct_account_tiers
                union select year, quarter from marts.fct_rep_performance)
            order by year desc, quarter desc limit 1""").fetchone()


@pytest.mark.parametrize("page", list(PAGES))
def test_page_renders_charts_and_tables(warehouse_env, page):
    at = _open(page)
    _assert_clean(at, page)
    assert at.title, f"{page}: no title"
    charts = at.get("plotly_chart")
    assert len(charts) >= PAGES[page], f"{page}: {len(charts)} plotly chart(s)"
    if page in CHART_VIEWS:  # opens without a chart: no wait for the plotly chunk
        assert not charts, f"{page}: {len(charts)} plotly chart(s) in the default view"
    assert len(at.dataframe) >= 1, f"{page}: no table"
    # A CSV download for every table shown.
    assert len(at.get("download_button")) == len(at.dataframe), page


@pytest.mark.parametrize("page", [p for p in PAGES if p != "pages/data_quality.py"])
def test_region_filter_changes_the_numbers(warehouse_env, page):
    at = _open(page)
    before = _numbers(at)
    regions = _region_ids(warehouse_env)
    assert len(regions) >= 2, "the test warehouse should have several regions"
    at.sidebar.multiselect(key="filter_regions").set_value([regions[-1]]).run()
    _assert_clean(at, page)
    after = _numbers(at)
    assert after and after != before, f"{page}: nothing changed with the region filter"


def test_data_quality_status_filter_changes_the_rows(warehouse_env):
    at = _open("pages/data_quality.py")
    table = next(d for d in at.dataframe if "expectation" in d.value.columns)
    before = len(table.value)
    at.multiselect(key="dq_status").set_value(["fail", "error"]).run()
    _assert_clean(at, "data_quality")
    table = next(d for d in at.dataframe if "expectation" in d.value.columns)
    assert len(table.value) < before


def test_filters_persist_across_pages(warehouse_env):
    at = _open("pages/overview.py")
    chosen = _region_ids(warehouse_env)[:1]
    at.sidebar.multiselect(key="filter_regions").set_value(chosen).run()
    at.sidebar.multiselect(key="filter_tiers").set_value(["S", "A"]).run()
    at.switch_page("pages/tiers.py").run()
    _assert_clean(at, "tiers")
    assert at.sidebar.multiselect(key="filter_regions").value == chosen
    assert at.sidebar.multiselect(key="filter_tiers").value == ["S", "A"]
    at.session_state["tiers_view"] = "Accounts and scores"  # the view with the scores
    at.run()
    tiers = next(d for d in at.dataframe if "composite_score" in d.value.columns).value
    assert set(tiers["tier"]) <= {"S", "A"}


def test_power_map_of_one_deal_shows_the_deal_roles(warehouse_env):
    at = _open("pages/power_map.py")
    account_id = at.selectbox(key="pm_account").value
    deal = at.selectbox(key=f"pm_deal_{account_id}")
    assert deal.value == "" and deal.options[0].startswith("Whole account")
    assert len(deal.options) >= 2, "the first account of the test warehouse has deals"
    with duckdb.connect(str(warehouse_env), read_only=True) as con:
        # the account's deals with contacts: open ones first, then the latest closed
        first_deal = con.execute("""
            select opportunity_id from marts.fct_opportunity_power_map where account_id = ?
            group by opportunity_id, opportunity_status, close_date, opportunity_name
            order by opportunity_status <> 'open', close_date desc, opportunity_name
            limit 1""", [account_id]).fetchone()[0]
        roles = con.execute("""
            select contact_id, decision_role, evaluation_group
            from marts.fct_opportunity_power_map where opportunity_id = ?
            order by contact_id""", [first_deal]).fetchall()
    deal.select_index(1).run()
    _assert_clean(at, "power_map")
    assert at.selectbox(key=f"pm_deal_{account_id}").value == first_deal
    contacts = next(m for m in at.metric if m.label == "Contacts on the deal")
    assert contacts.value == fmt.count(len(roles))
    shown = next(d for d in at.dataframe if "evaluation_group" in d.value.columns).value
    assert sorted(zip(shown["contact_id"], shown["decision_role"], shown["evaluation_group"],
                      strict=True), key=lambda r: r[0]) == roles


def test_overview_shows_the_numbers_of_the_marts(warehouse_env):
    year, quarter = _latest_quarter(warehouse_env)
    prev = (year, quarter - 1) if quarter > 1 else (year - 1, 4)
    with duckdb.connect(str(warehouse_env), read_only=True) as con:
        def totals(yq):
            rows = con.execute("""
                select revenue, profit, fte, revenue_target, profit_target
                from marts.fct_region_performance where year = ? and quarter = ?""",
                list(yq)).fetchall()
            revenue = sum(r[0] or 0 for r in rows)
            profit = sum(r[1] or 0 for r in rows)
            fte = sum(r[2] or 0 for r in rows)
            with_target = [r for r in rows if r[3] is not None]
            return {
                "Revenue": revenue, "Profit": profit,
                "Revenue per head": revenue / fte, "Profit per head": profit / fte,
                "Revenue target completion":
                    sum(r[0] or 0 for r in with_target) / sum(r[3] for r in with_target),
            }
        now, before = totals((year, quarter)), totals(prev)
        tiers = dict(con.execute("""
            select tier, count(*) from marts.fct_account_tiers
            where year = ? and quarter = ? group by tier""", [year, quarter]).fetchall())
        alerts = dict(con.execute(
            "select alert_type, count(*) from marts.fct_account_alerts group by 1").fetchall())

    at = _open("pages/overview.py")
    _assert_clean(at, "overview")
    shown = {m.label: m for m in at.metric}
    for label in ("Revenue", "Profit", "Revenue per head", "Profit per head"):
        assert shown[label].value == fmt.money(now[label]), label
        assert shown[label].delta == (fmt.delta_ratio(now[label], before[label]) or ""), label
    completion = "Revenue target completion"
    assert shown[completion].value == fmt.pct(now[completion])
    assert shown[completion].delta == (
        fmt.delta_points(now[completion], before[completion]) or "")

    tier_table = next(d.value for d in at.dataframe if "tier" in d.value.columns
                      and "accounts" in d.value.columns)
    assert dict(zip(tier_table["tier"], tier_table["accounts"])) == tiers
    # the alert count cards (buttons that filter the worklist: tests/test_dashboard_alerts.py)
    cards = {b.key.removeprefix("alert_card_"): b.label for b in at.button
             if (b.key or "").startswith("alert_card_")}
    for alert_type, n in alerts.items():
        assert f"**{fmt.count(n)}**" in cards[alert_type], (alert_type, cards)


def _only(at: AppTest, columns: set[str]):
    frames = [d.value for d in at.dataframe if columns <= set(d.value.columns)]
    assert len(frames) == 1, [list(d.value.columns) for d in at.dataframe]
    return frames[0]


def test_overview_opens_on_tables_with_the_charts_numbers_and_charts_on_request(
        warehouse_env):
    """No plotly chart by default (tables with bars hold what the charts showed: the same
    queries); "Show charts" draws the 3 charts, is kept across pages and in the URL
    (?charts=1), which also opens the chart view; off again: no chart, no parameter."""
    year, quarter = _latest_quarter(warehouse_env)
    with duckdb.connect(str(warehouse_env), read_only=True) as con:
        tier_accounts, tier_revenue = con.execute("""
            select count(*), sum(revenue_ttm) from marts.fct_account_tiers
            where year = ? and quarter = ? and tier is not null""",
            [year, quarter]).fetchone()
        month_end = con.execute("""
            select max(month_end_date) from marts.fct_relationship_health""").fetchone()[0]
        bands = dict(con.execute("""
            select health_band, count(*) from marts.fct_relationship_health
            where month_end_date = ? group by 1""", [month_end]).fetchall())

    at = _open("pages/overview.py")
    _assert_clean(at, "overview")
    assert not at.get("plotly_chart")
    assert at.toggle(key="overview_charts").value is False
    tiers = _only(at, {"tier", "accounts", "revenue_ttm", "revenue_share_pct"})
    assert int(tiers["accounts"].sum()) == tier_accounts
    assert float(tiers["revenue_ttm"].sum()) == pytest.approx(tier_revenue)
    assert float(tiers["revenue_share_pct"].sum()) == pytest.approx(100)
    shown_bands = _only(at, {"health_band", "accounts", "share_pct"})
    labels = {fmt.code_label("health_band", code): n for code, n in bands.items()}
    assert dict(zip(shown_bands["health_band"], shown_bands["accounts"])) == labels
    assert float(shown_bands["share_pct"].sum()) == pytest.approx(100)
    quarters = _only(at, {"quarter_label", "revenue", "revenue_target_completion_pct"})
    assert quarters["quarter_label"].iloc[-1] == fmt.quarter_label(year, quarter)
    bars = {c for d in at.dataframe for c, spec in _configs(d).items()
            if (spec.get("type_config") or {}).get("type") == "progress"}
    assert {"revenue_target_completion_pct", "share_pct", "revenue_share_pct"} <= bars
    for frame in at.dataframe:  # readable headers, no empty cell (as test_dashboard_formatting)
        config = _configs(frame)
        visible = list(frame.proto.column_order) or list(frame.value.columns)
        for column in visible:
            header = (config.get(column) or {}).get("label") or column
            assert "_" not in header, header
            assert frame.value[column].notna().all(), column

    at.toggle(key="overview_charts").set_value(True).run()
    _assert_clean(at, "overview, charts")
    assert len(at.get("plotly_chart")) == CHART_VIEWS["pages/overview.py"]
    assert at.query_params.get("charts") in ("1", ["1"])
    at.switch_page("pages/tiers.py").run()
    at.switch_page("pages/overview.py").run()
    assert len(at.get("plotly_chart")) == 3, "the chart view is kept across pages"
    at.toggle(key="overview_charts").set_value(False).run()
    assert not at.get("plotly_chart") and "charts" not in at.query_params

    linked = AppTest.from_file(APP, default_timeout=TIMEOUT)
    linked.query_params["charts"] = "1"  # a bookmark of the chart view
    linked.switch_page("pages/overview.py").run()
    _assert_clean(linked, "overview?charts=1")
    assert linked.toggle(key="overview_charts").value is True
    assert len(linked.get("plotly_chart")) == 3


def _configs(frame) -> dict:
    import json

    return json.loads(frame.proto.columns or "{}")


# pages that show one view at a time: the key of their views and the views
PAGE_VIEWS = {
    "pages/tiers.py": ("tiers_view", ["Distribution", "Pareto curve", "Migration",
                                      "Accounts and scores"]),
    "pages/health.py": ("health_view", ["Accounts", "Account drill-down"]),
    "pages/data_quality.py": ("dq_view", ["Check results", "Quarantine",
                                          "Coverage and incomplete rows",
                                          "Freshness and build history"]),
}


def test_every_metric_has_help_with_its_formula(warehouse_env):
    for page in PAGES:
        at = _open(page)
        key, views = PAGE_VIEWS.get(page, (None, [None]))
        seen = 0
        for view in views:  # every view of a page that shows one at a time
            if key:
                at.session_state[key] = view
                at.run()
            seen += len(at.metric)
            for m in at.metric:
                assert m.proto.help, f"{page} {view}: metric {m.label!r} has no help"
        assert seen, f"{page}: no metric"


def test_a_warehouse_without_interactions_explains_what_to_load(monkeypatch, tmp_path,
                                                                 built_warehouse):
    empty = tmp_path / "no_interactions.duckdb"
    shutil.copy(built_warehouse, empty)
    with duckdb.connect(str(empty)) as con:
        # no activity and no contact data at all (deal contacts included)
        for table in ("fct_interactions", "fct_relationship_health", "fct_power_map",
                      "fct_account_alerts", "fct_attitude_history",
                      "fct_opportunity_power_map"):
            con.execute(f"delete from marts.{table}")
    monkeypatch.setenv("RAPPORT_WAREHOUSE", str(empty))
    for page in PAGES:
        at = _open(page)
        assert not at.exception, f"{page}: {[e.value for e in at.exception]}"
        assert not at.error, page
        if page in ("pages/health.py", "pages/power_map.py", "pages/overview.py"):
            told = " ".join(i.value for i in at.info)
            assert "interactions" in told or "decision_role" in told, f"{page}: {told!r}"


def test_with_deal_roles_only_the_power_map_opens_on_a_deal(monkeypatch, tmp_path,
                                                           built_warehouse):
    """A CRM that records contact roles per deal only (Salesforce's OpportunityContactRole,
    no assessments): no account-level map, yet every account with a deal map is listed and
    opens on its first deal."""
    deals_only = tmp_path / "deals_only.duckdb"
    shutil.copy(built_warehouse, deals_only)
    with duckdb.connect(str(deals_only)) as con:
        con.execute("delete from marts.fct_power_map")
        with_deals = con.execute("select count(distinct account_id) from "
                                 "marts.fct_opportunity_power_map").fetchone()[0]
    monkeypatch.setenv("RAPPORT_WAREHOUSE", str(deals_only))
    at = _open("pages/power_map.py")
    _assert_clean(at, "power_map")
    account = at.selectbox(key="pm_account")
    assert with_deals > 0 and len(account.options) == with_deals
    deal = at.selectbox(key=f"pm_deal_{account.value}")
    assert deal.value != "" and deal.index == 1
    assert any(m.label == "Contacts on the deal" for m in at.metric)


def test_no_warehouse_yet_is_explained_without_paths(monkeypatch, tmp_path):
    missing = tmp_path / "nowhere" / "rapport.duckdb"
    monkeypatch.setenv("RAPPORT_WAREHOUSE", str(missing))
    at = AppTest.from_file(APP, default_timeout=TIMEOUT).run()
    assert not at.exception
    text = " ".join(w.value for w in at.warning)
    assert "rapport build" in text
    assert str(tmp_path) not in text


def test_a_new_publish_shows_without_restart(monkeypatch, tmp_path, built_warehouse):
    served = tmp_path / "rapport.duckdb"
    shutil.copy(built_warehouse, served)
    monkeypatch.setenv("RAPPORT_WAREHOUSE", str(served))
    at = _open("pages/overview.py")
    revenue = next(m for m in at.metric if m.label == "Revenue").value

    year, quarter = _latest_quarter(served)
    new = tmp_path / "next.duckdb"
    shutil.copy(built_warehouse, new)
    with duckdb.connect(str(new)) as con:
        con.execute("update marts.fct_region_performance set revenue = revenue * 2 "
                    "where year = ? and quarter = ?", [year, quarter])
        (doubled,) = con.execute("select sum(revenue) from marts.fct_region_performance "
                                 "where year = ? and quarter = ?", [year, quarter]).fetchone()
    os.replace(new, served)  # what the publish step does

    at.run()  # same session, same server process: no restart
    _assert_clean(at, "overview")
    now = next(m for m in at.metric if m.label == "Revenue").value
    assert now == fmt.money(doubled) != revenue


def test_long_lines_are_thinned_for_drawing_keeping_both_ends():
    """The Pareto curve of 50,000 accounts is drawn from at most about 1,000 points."""
    import polars as pl

    rows = pl.DataFrame({"rank": list(range(1, 50_001))})
    thin = thin_line(rows)
    # step = ceil(50,000 / 1,000) = 50: rows 0, 50, ..., 49,950 (1,000 rows) and the last row
    assert thin.height == 1_001
    assert thin["rank"].to_list()[:3] == [1, 51, 101]
    assert thin["rank"][-2] == 49_951 and thin["rank"][-1] == 50_000
    # 1,001 rows: step 2 -> rows 0, 2, ..., 1,000 (501 rows; the last is among them)
    assert thin_line(pl.DataFrame({"rank": list(range(1_001))})).height == 501
    short = pl.DataFrame({"rank": [3, 2, 1]})
    assert thin_line(short).equals(short)


def test_warm_up_months_are_shaded_and_only_those():
    """Three month-ends, the first two with an incomplete window: one grey band from half a
    month before 31 Jan to half a month after 28 Feb, and a legend entry; nothing is added
    when every window is complete or the flag is absent (an older warehouse)."""
    import datetime as dt

    import polars as pl

    months = [dt.date(2025, 1, 31), dt.date(2025, 2, 28), dt.date(2025, 3, 31)]
    frame = pl.DataFrame({"month_end_date": months, "score": [10.0, 20.0, 30.0],
                          "measure": ["Health"] * 3, "window_complete": [False, False, True]})
    fig = mark_warm_up(lines(frame, "month_end_date", "score", color="measure"), frame,
                       "month_end_date")
    (band,) = fig.layout.shapes
    assert (band.x0, band.x1) == (dt.date(2025, 1, 16), dt.date(2025, 3, 15))
    assert [t.name for t in fig.data] == ["Health", "warm-up months"]

    complete = frame.with_columns(window_complete=pl.lit(True))
    fig = mark_warm_up(lines(complete, "month_end_date", "score", color="measure"), complete,
                       "month_end_date")
    assert not fig.layout.shapes and len(fig.data) == 1
    older = frame.drop("window_complete")
    fig = mark_warm_up(lines(older, "month_end_date", "score", color="measure"), older,
                       "month_end_date")
    assert not fig.layout.shapes and len(fig.data) == 1


def test_health_page_says_which_months_are_warm_up(warehouse_env):
    """The demo data starts in July 2024: the 24-month org window is incomplete until June
    2026, so the trend of the last 24 months has warm-up months and the page says so."""
    with duckdb.connect(str(warehouse_env), read_only=True) as con:
        warm = con.execute("select count(*) from marts.fct_relationship_health "
                           "where not window_complete").fetchone()[0]
    assert warm > 0
    at = _open("pages/health.py")
    _assert_clean(at, "health")
    assert any(c.value.startswith(WARM_UP_NOTE) for c in at.caption), \
        [c.value for c in at.caption]


def test_tiers_page_says_when_the_quarters_windows_warm_up(warehouse_env):
    """The first tiered quarter's 12-month revenue window reaches back before the first deal:
    the Tiers page says so; the newest quarter (both windows complete) does not."""
    with duckdb.connect(str(warehouse_env), read_only=True) as con:
        first, newest = con.execute("""
            select min((year, quarter)) filter (where not revenue_window_complete),
                   max((year, quarter)) filter (where window_complete)
            from marts.fct_account_tiers""").fetchone()
    assert first is not None and newest is not None
    at = _open("pages/tiers.py")
    _assert_clean(at, "tiers")
    assert not any(c.value.startswith("Warm-up") for c in at.caption)
    at.sidebar.selectbox(key="filter_quarter").set_value(tuple(first)).run()
    _assert_clean(at, "tiers")
    assert any(c.value.startswith("Warm-up: the revenue (12 months)") for c in at.caption), \
        [c.value for c in at.caption]

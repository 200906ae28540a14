"""The dashboard in a real browser: `rapport serve` on a built warehouse, chromium at
1366x768, every page opened, its charts awaited, no error element, a screenshot per page
(test-artifacts/), and the time to rendered measured (test-artifacts/browser-timings.json).

Run: .venv/bin/pytest -m browser tests/test_browser.py
Screenshots of the demo warehouse for docs/img/:
    RAPPORT_BROWSER_WAREHOUSE=data/warehouse/rapport.duckdb .venv/bin/pytest -m browser \
        tests/test_browser.py
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import pytest
from support.browser import (
    ARTIFACTS,
    CHART,
    EXCEPTION,
    IDLE,
    LOAD_MARKS,
    PAGES,
    VIEWPORT,
    chromium,
    dashboard_server,
    load_breakdown,
    screenshot,
    wait_rendered,
)

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]

# Bounds that catch a broken or pathologically slow page on a busy 2-core test machine; the
# issue's filter-change target (0.5 s) is measured and reported in
# test-artifacts/browser-timings.json, not asserted here.
FIRST_LOAD_LIMIT_S = 60.0  # the first page of a fresh server: imports, frontend bundle
# A fresh session (a new browser: no cached frontend, a new Streamlit session) opening the
# Overview, drawn in full: the median of 3 sessions, on a server that has served a page
# before (its Python imports done, once per process). The target is 2 s. With its 3 plotly
# charts in the first view it was 2.9-3.0 s (load 3-4): every element waited for
# Streamlit's plotly chunk (4.7 MB, 0.7-1.1 s of main-thread CPU). The Overview now opens
# on tables with bars (no chart; "Show charts" or ?charts=1 draws them), so no plotly chunk
# is loaded. "Drawn in full" now waits for its 5 tables (OVERVIEW_TABLES): the script reads
# idle ~1 s before the browser has drawn them, and the 1.3-1.4 s once measured "without the
# charts" stopped there (a wait with no chart waited for no table either). Measured (2-core
# machine, 1-minute load 4.0-6.6, other builds running; six runs of 3 sessions): medians
# 2.19, 2.47, 2.47, 2.83, 2.87, 2.94 s, the slowest session 3.46 s. Target still missed: the
# tiles, the tables and the rest wait for Streamlit's table chunk (DataFrame.*.js, 0.5 MB:
# requested at ~1.3-1.6 s, in at ~1.6-2.1 s; the tiles shown at ~1.8-2.7 s, the tables
# drawn at ~2.1-2.8 s; fresh_session_breakdown). The assertion is the ceiling, lowered
# from 6 s to 4 s: about 1 s above the medians at load 6.6, for a CI machine whose other
# core runs builds; charts back in the first view are caught directly by
# test_every_page_renders_its_charts_without_error (no chart before "Show charts").
# RAPPORT_FIRST_LOAD_CEILING_S overrides the ceiling on a machine known to be slower (say
# so). Quiet machine (load 0.8-1.1, 2026-12-07 evening): medians 2.16 s (3 sessions) and
# 1.94 s (5 sessions): at the target, not under it with a margin. A Chrome trace of one
# fresh session: the renderer's main thread is busy ~1.65 s of its ~2.4 s, 0.8 s of it in
# React (one 234 ms render that mounts the sidebar, title and tiles, ~30 renders of ~5 ms
# while the script streams its elements, 90 + 60 ms when the tables mount) and 0.2 s
# evaluating Streamlit's lazy element chunks (Metric, DataFrame, DownloadButton, ...: 125
# files). Leaving out the tables, the alert worklist, or the health and tier sections one
# at a time changed nothing measurable at load 5; a first view of the tiles alone drew in
# 1.4 s (quiet). What is left is the frontend's own cost per element.
FIRST_LOAD_TARGET_S = 2.0
# The Overview's tables (results by quarter, by region, health bands, tiers, the alert
# worklist: the demo and the test warehouse have alerts). Its default view has no chart, so
# "drawn in full" is these tables drawn: the script reads idle ~1 s before they are.
OVERVIEW_TABLES = 5
FIRST_LOAD_CEILING_S = float(os.environ.get("RAPPORT_FIRST_LOAD_CEILING_S") or 4.0)
COLD_RENDER_LIMIT_S = 20.0  # a page reached through the navigation, nothing cached yet
FILTER_CHANGE_LIMIT_S = 5.0


@pytest.fixture(scope="module")
def server(request):
    # RAPPORT_BROWSER_WAREHOUSE runs the same test on another warehouse, e.g. the demo one
    # (`make demo`) to refresh the screenshots in docs/img/; by default the test builds one.
    chosen = os.environ.get("RAPPORT_BROWSER_WAREHOUSE")
    warehouse = Path(chosen) if chosen else request.getfixturevalue("built_warehouse")
    with dashboard_server(warehouse) as base:
        yield base


@pytest.fixture(scope="module")
def browser():
    with chromium() as b:
        yield b


@pytest.fixture(scope="module")
def timings():
    found: dict[str, dict[str, float]] = {}
    yield found
    ARTIFACTS.mkdir(exist_ok=True)
    (ARTIFACTS / "browser-timings.json").write_text(json.dumps(found, indent=2) + "\n")


def test_every_page_renders_its_charts_without_error(server, browser, timings):
    """Open the app at its root, then every page through the sidebar navigation (as a user
    does), each with a cold cache; then reload it (a full page load, warm cache)."""
    context = browser.new_context(viewport=VIEWPORT)
    page = context.new_page()
    try:
        for n, target in enumerate(PAGES):
            started = time.perf_counter()
            if n == 0:
                page.goto(f"{server}/{target.url_path}")
            else:
                sidebar_nav = page.locator('[data-testid="stSidebarNav"]')
                sidebar_nav.get_by_role("link", name=target.title, exact=True).click()
            tables = OVERVIEW_TABLES if target is PAGES[0] else 0
            wait_rendered(page, target.title, target.charts, tables=tables)
            elapsed = time.perf_counter() - started
            key = "first_load_s" if n == 0 else "cold_render_s"
            timings.setdefault(target.slug, {})[key] = round(elapsed, 3)

            assert page.locator(EXCEPTION).count() == 0, f"{target.title}: error element shown"
            charts = page.locator(CHART).count()
            assert charts >= target.charts, f"{target.title}: {charts} chart(s)"
            if target.chart_view:  # opens on tables: no chart, so no wait for plotly
                assert charts == 0, f"{target.title}: {charts} chart(s) before Show charts"
            assert page.locator('[data-testid="stDataFrame"]').count() + \
                page.locator('[data-testid="stMetric"]').count() > 0, f"{target.title}: no data"
            screenshot(page, target.slug)
            screenshot(page, f"{target.slug}-full", full=True)
            limit = FIRST_LOAD_LIMIT_S if n == 0 else COLD_RENDER_LIMIT_S
            assert elapsed < limit, f"{target.title}: {elapsed:.1f} s to render"

            # Every further tab of the page shows without an error.
            tabs = page.get_by_role("tab")
            for i in range(1, tabs.count()):
                tabs.nth(i).click()
                page.wait_for_timeout(300)
                page.wait_for_selector(IDLE)
                assert page.locator(EXCEPTION).count() == 0, f"{target.title}: tab {i}"
                screenshot(page, f"{target.slug}-tab{i}-full", full=True)
            if tabs.count():
                tabs.first.click()
                page.wait_for_selector(IDLE)

            # The same page loaded again in full (new session, warm cache).
            started = time.perf_counter()
            page.reload()
            wait_rendered(page, target.title, target.charts, tables=tables)
            timings[target.slug]["reload_s"] = round(time.perf_counter() - started, 3)
            if target.chart_view:
                _chart_view(page, server, target, timings)
    finally:
        context.close()


def _chart_view(page, server, target, timings) -> None:
    """A page that opens on tables: its "Show charts" toggle draws its charts and puts
    ?charts=1 in the URL; that link opens the chart view in a new session; off again: no
    chart, no parameter."""
    toggle = page.get_by_role("switch", name="Show charts")
    started = time.perf_counter()
    page.get_by_text("Show charts", exact=True).click()
    page.wait_for_url("**charts=1**")
    wait_rendered(page, target.title, target.chart_view)
    timings[target.slug]["chart_view_s"] = round(time.perf_counter() - started, 3)
    assert toggle.is_checked()
    assert page.locator(EXCEPTION).count() == 0, f"{target.title}: error in the chart view"
    screenshot(page, f"{target.slug}-charts-full", full=True)

    fresh = page.context.browser.new_context(viewport=VIEWPORT)
    linked = fresh.new_page()
    try:
        linked.goto(f"{server}/{target.url_path}?charts=1")
        wait_rendered(linked, target.title, target.chart_view)
        assert linked.locator(CHART).count() == target.chart_view
        assert linked.get_by_role("switch", name="Show charts").is_checked()
        assert linked.locator(EXCEPTION).count() == 0
    finally:
        fresh.close()

    page.get_by_text("Show charts", exact=True).click()
    page.wait_for_function("() => !location.search.includes('charts=')")
    wait_rendered(page, target.title, target.charts)
    page.wait_for_selector(CHART, state="detached")
    assert not toggle.is_checked()


def test_first_load_of_a_fresh_session_is_measured_against_its_target(server, browser,
                                                                       timings):
    """Median of 3 fresh sessions: each a new browser context (no HTTP cache, no cookies)
    opening /overview (its default view: tables, no chart), timed to every table (and
    chart, if any) drawn and the script idle."""
    overview = PAGES[0]

    def visit() -> tuple[float, dict]:
        context = browser.new_context(viewport=VIEWPORT)
        context.add_init_script(LOAD_MARKS)  # notes when the title and each chart showed
        page = context.new_page()
        try:
            started = time.perf_counter()
            page.goto(f"{server}/{overview.url_path}")
            wait_rendered(page, overview.title, overview.charts, tables=OVERVIEW_TABLES)
            elapsed = time.perf_counter() - started
            assert page.locator(EXCEPTION).count() == 0
            return elapsed, load_breakdown(page, overview.charts, OVERVIEW_TABLES)
        finally:
            context.close()

    if "first_load_s" not in timings.get(overview.slug, {}):
        visit()  # the server's first page (its imports), when this test runs alone: not counted
    visits = sorted((visit() for _ in range(3)), key=lambda v: v[0])
    seconds = [elapsed for elapsed, _ in visits]
    timings.setdefault(overview.slug, {}).update(
        fresh_session_s=[round(s, 3) for s in seconds], fresh_session_target_s=FIRST_LOAD_TARGET_S,
        fresh_session_met=seconds[1] < FIRST_LOAD_TARGET_S,
        fresh_session_breakdown=visits[1][1],  # the median session, s since navigation start
        fresh_session_load=[round(n, 2) for n in os.getloadavg()])
    assert seconds[1] < FIRST_LOAD_CEILING_S, (
        f"first load of a fresh session: median {seconds[1]:.2f} s of {seconds} (target "
        f"{FIRST_LOAD_TARGET_S} s, ceiling {FIRST_LOAD_CEILING_S} s)")


def _metric_value(page, label: str) -> str:
    metric = page.locator('[data-testid="stMetric"]').filter(has_text=label).first
    return metric.locator('[data-testid="stMetricValue"]').inner_text()


def test_filter_change_updates_the_numbers_and_persists_across_pages(server, browser, timings):
    context = browser.new_context(viewport=VIEWPORT)
    page = context.new_page()
    try:
        _filter_change(page, server, timings)
    except Exception:
        screenshot(page, "filter-change-failure")
        raise
    finally:
        context.close()


def _filter_change(page, server, timings) -> None:
    overview = PAGES[0]
    page.goto(f"{server}/{overview.url_path}")
    wait_rendered(page, overview.title, overview.charts)
    before = _metric_value(page, "Revenue per head")

    sidebar = page.locator('[data-testid="stSidebar"]')
    region = sidebar.locator('[data-testid="stMultiSelect"]').filter(has_text="Region")
    region.click()
    options = page.locator('[role="option"]')
    options.last.wait_for()
    chosen = options.last.inner_text().strip()  # the first option is "Select all"
    page.keyboard.type(chosen)  # typing then Enter: steadier than clicking a moving list
    started = time.perf_counter()
    page.keyboard.press("Enter")
    page.wait_for_function(
        """([label, old]) => {
            const m = [...document.querySelectorAll('[data-testid="stMetric"]')]
                .find(e => e.innerText.includes(label));
            return m && !m.innerText.includes(old);
        }""",
        arg=["Revenue per head", before], timeout=30_000,
    )
    elapsed = time.perf_counter() - started
    page.keyboard.press("Escape")
    page.wait_for_selector(IDLE)
    timings.setdefault("filter_change", {})["overview_region_s"] = round(elapsed, 3)
    assert _metric_value(page, "Revenue per head") != before
    assert page.locator(EXCEPTION).count() == 0
    screenshot(page, "overview-one-region")
    assert elapsed < FILTER_CHANGE_LIMIT_S, f"filter change took {elapsed:.2f} s"

    # Through the navigation (same session), the region filter still holds.
    sidebar.get_by_role("link", name="Tiers").click()
    wait_rendered(page, "Tiers", 2)
    assert chosen in sidebar.locator('[data-testid="stMultiSelect"]').filter(
        has_text="Region").inner_text()
    assert page.locator(EXCEPTION).count() == 0

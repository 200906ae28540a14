"""The alert worklist and deep links in a real browser (`rapport serve` on the built warehouse, Debian's
chromium): every page's URL opens that page directly (the Overview's too: it said "Page not
found"), an alert card then the row's "Power map ›" cell open the alert's account on the Power
map (two clicks), and an account id the viewer cannot see, in the URL, shows no data.

One server for the module; its first request is the deep link to /overview (a fresh server).
Run: .venv/bin/pytest -m browser tests/test_browser_alerts.py
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlparse

import pytest
from support.browser import (
    EXCEPTION,
    IDLE,
    PAGES,
    VIEWPORT,
    chromium,
    dashboard_server,
    screenshot,
    wait_rendered,
)

from rapport.serving import Reader, Scope
from rapport.serving import queries as q

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]

NOT_FOUND = "Page not found"
OPEN_MAP = "Power map ›"  # a row's open action: a cell of its own (dashboard/pages/overview.py)


@pytest.fixture(scope="module")
def server(built_warehouse: Path):
    with dashboard_server(built_warehouse) as base:
        yield base


@pytest.fixture(scope="module")
def browser():
    with chromium() as b:
        yield b


@pytest.fixture()
def page(browser):
    context = browser.new_context(viewport=VIEWPORT)
    tab = context.new_page()
    yield tab
    context.close()


def _no_error(tab, what: str) -> None:
    assert tab.locator(EXCEPTION).count() == 0, f"{what}: error element shown"
    assert tab.get_by_text(NOT_FOUND).count() == 0, f"{what}: {NOT_FOUND}"


def test_every_pages_url_opens_that_page(server, page):
    # first request of the fresh server: the Overview's own URL
    page.goto(f"{server}/overview")
    wait_rendered(page, "Overview", PAGES[0].charts)  # its default view: tables, no chart
    _no_error(page, "/overview")
    assert page.url.endswith("/overview")
    # The other pages: their title is enough (it is drawn after the navigation resolved the
    # URL, and a "Page not found" dialog would be up by then); their data is
    # tests/test_browser.py's.
    for target in PAGES[1:]:
        page.goto(f"{server}/{target.url_path}")
        page.get_by_role("heading", name=target.title, exact=True).first.wait_for()
        _no_error(page, f"/{target.url_path}")
        # (the Power map then names its account in the URL: ?account=...)
        assert urlparse(page.url).path == f"/{target.url_path}", page.url
    # the root shows the first page, under its own URL
    page.goto(server)
    page.get_by_role("heading", name="Overview", exact=True).first.wait_for()
    page.wait_for_url("**/overview")
    _no_error(page, "/")


def test_an_alert_card_then_its_row_open_the_power_map_of_the_account(
        server, page, built_warehouse):
    with Reader(built_warehouse) as reader:
        counts = q.alert_counts(reader, Scope.all_access(), q.Filters())
        kind = counts.sort("alerts")["alert_type"][0]  # the shortest list
        first = q.alerts(reader, Scope.all_access(), q.Filters(), alert_type=kind,
                         limit=1).row(0, named=True)
    page.goto(f"{server}/overview")
    wait_rendered(page, "Overview", 0)
    card = page.locator(f".st-key-alert_card_{kind} button").first
    try:
        card.click()  # click 1: the card lists only its type
        page.wait_for_function(
            "key => document.querySelector(`.st-key-${key} button`).getAttribute('kind')"
            " === 'primary'", arg=f"alert_card_{kind}", timeout=30_000)
        page.wait_for_selector(IDLE)
        table = page.locator('[data-testid="stDataFrame"]').last
        table.scroll_into_view_if_needed()
        page.wait_for_timeout(500)  # the grid draws once visible
        # click 2: the first row's "Power map ›" cell. The grid is drawn on a canvas; its
        # accessible table (role grid) names each cell, so the cell is found by role and
        # text, and selected with the keyboard as a keyboard user does (focus the grid,
        # arrow down to the first row, right to the cell's column): no pixel positions.
        cell = table.get_by_role("gridcell", name=OPEN_MAP, exact=True,
                                 include_hidden=True).first
        cell.wait_for(state="attached")
        assert cell.evaluate("e => e.closest('tr').getAttribute('aria-rowindex')") == "2"
        column = int(cell.get_attribute("aria-colindex"))
        _select_cell(page, table, column)
        page.wait_for_url(f"**/power_map?account={first['account_id']}", timeout=30_000)
        wait_rendered(page, "Power map", 1)
        _no_error(page, "power map")
        # the Account box shows the alert's account
        account = page.get_by_role("combobox", name="Account", exact=True)
        assert first["account_name"] in account.input_value()
    except Exception:
        screenshot(page, "alerts-open-failure")
        raise


SELECTED = """() => {
    const e = document.querySelector('td[role="gridcell"][aria-selected="true"]');
    return e ? [Number(e.closest('tr').getAttribute('aria-rowindex')),
                Number(e.getAttribute('aria-colindex'))] : null;
}"""


def _select_cell(page, table, column: int) -> None:
    """Select the first row's cell in `column` (aria-colindex) with the keyboard, as a keyboard
    user does: focus the grid (it takes keys once the pointer has been over it; focus selects
    the first cell, or an arrow key does), then move one key at a time by where the selection
    is, each move after the page's rerun for the one before has finished. Moving by where the
    selection is, not by a count of presses, corrects a focus that selects its cell late on a
    loaded machine (an ArrowDown pressed meanwhile lands on row 3; ArrowUp brings it back).
    Only row 2 is walked right, so no other row's open cell is ever selected. The last move,
    onto the cell, is not waited for: it opens the account at once, and the grid may be gone
    before a check could see it (the caller waits for the page it opens)."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    table.hover()
    table.locator('[data-testid="data-grid-canvas"]').focus()
    for _ in range(4 * column + 8):  # more than enough moves
        try:
            page.wait_for_function(f"() => ({SELECTED})() !== null", timeout=2_000)
        except PlaywrightTimeout:
            page.keyboard.press("ArrowDown")  # the focus selected nothing (yet)
            continue
        page.wait_for_selector(IDLE)
        row, col = page.evaluate(SELECTED)
        if row == 2 and col == column - 1:
            page.keyboard.press("ArrowRight")
            return
        key = ("ArrowUp" if row > 2 else "ArrowDown" if row < 2
               else "ArrowRight" if col < column else "ArrowLeft")
        page.keyboard.press(key)
        page.wait_for_function(
            f"() => {{ const s = ({SELECTED})(); "
            f"return !s || s[0] !== {row} || s[1] !== {col}; }}", timeout=30_000)
    raise AssertionError(f"the keyboard selection did not reach row 2, column {column}: "
                         f"{page.evaluate(SELECTED)}")


@pytest.mark.parametrize("asked", ["NO-SUCH-ACCOUNT", "ACC0001' or '1'='1"])
def test_an_unknown_account_in_the_url_shows_no_data(server, page, asked):
    page.goto(f"{server}/power_map?account={asked}")
    wait_rendered(page, "Power map", 0)
    page.get_by_text("not found").first.wait_for()
    _no_error(page, "power map, unknown account")
    for kind in ("stPlotlyChart", "stDataFrame", "stMetric"):
        assert page.locator(f'[data-testid="{kind}"]').count() == 0, kind

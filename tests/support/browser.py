"""Driving the dashboard in a real browser: a `rapport serve` process on a free port and
Debian's chromium (/usr/bin/chromium, `apt-get install chromium`) through Playwright. Never
`playwright install`: it downloads a browser, which the build machines cannot do."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from rapport.pages import PAGES as REGISTRY
from rapport.paths import PROJECT_ROOT

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run",
]
VIEWPORT = {"width": 1366, "height": 768}
ARTIFACTS = PROJECT_ROOT / "test-artifacts"

CHART = '[data-testid="stPlotlyChart"]'
TABLE = '[data-testid="stDataFrame"]'
IDLE = '[data-testid="stApp"][data-test-script-state="notRunning"]'
STATUS = '[data-testid="stStatusWidget"]'
EXCEPTION = '[data-testid="stException"]'


@dataclass(frozen=True)
class DashboardPage:
    url_path: str  # as registered in dashboard/app.py (the page id of rapport/pages.py)
    title: str  # the page's h1
    slug: str  # screenshot name
    charts: int  # plotly charts visible without interaction (first tab)
    chart_view: int = 0  # plotly charts of its chart view ("Show charts", ?charts=1)


# every page of rapport/pages.py, at its own URL (the root redirects to the first page)
PAGES = [DashboardPage(page.id, page.title, page.id, page.charts, page.chart_view)
         for page in REGISTRY]


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def dashboard_server(warehouse: Path, *, timeout: float = 120.0,
                     as_user: str | None = None, env: dict[str, str] | None = None,
                     log_path: Path | None = None) -> Iterator[str]:
    """Run `rapport serve` on a free port against `warehouse` (local mode; as_user: `--as`,
    a user of the users file RAPPORT_USERS names); yields the base URL. `env`: the server's
    environment (default this process's); `log_path`: its output (default
    test-artifacts/streamlit-<port>.log). The benchmark (tools/bench.py) serves with it too."""
    port = free_port()
    env = {**(os.environ if env is None else env), "RAPPORT_WAREHOUSE": str(warehouse)}
    if log_path is None:
        log_path = ARTIFACTS / f"streamlit-{port}.log"
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with log_path.open("w") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "rapport.cli", "serve", "--local", "--port", str(port),
             *(["--as", as_user] if as_user else [])],
            cwd=PROJECT_ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group: stopped as a whole below
        )
        base = f"http://127.0.0.1:{port}"
        try:
            deadline = time.monotonic() + timeout
            while True:
                if process.poll() is not None:
                    raise RuntimeError(f"rapport serve exited with {process.returncode}; "
                                       f"see {log_path}")
                try:
                    with urllib.request.urlopen(f"{base}/_stcore/health", timeout=2) as r:
                        if r.status == 200:
                            break
                except OSError:
                    pass
                if time.monotonic() > deadline:
                    raise RuntimeError(f"dashboard not healthy after {timeout} s; see {log_path}")
                time.sleep(0.3)
            yield base
        finally:
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
                try:
                    process.wait(timeout=15)
                except subprocess.TimeoutExpired:
                    os.killpg(process.pid, signal.SIGKILL)
                    process.wait()


@contextmanager
def chromium() -> Iterator[object]:
    """A Playwright browser on Debian's chromium."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


def wait_rendered(page, title: str, charts: int, timeout_ms: float = 60_000, *,
                  tables: int = 0) -> None:
    """Wait until the page shows its title, its script run has finished, its first
    `charts` plotly charts are drawn, at least `tables` tables are shown and every table
    shown (not in a closed expander) is drawn (its canvas: the table's own chunk loaded), and no status widget shows.
    The title first: right after a navigation the app can still read idle from the page
    before, and a page without charts would then be looked at before its script has drawn
    anything. The script can read idle before the browser has drawn its elements (a fresh
    session: ~1 s before its tables): a page without charts needs `tables` to be waited
    for in full."""
    page.get_by_role("heading", name=title, exact=True).first.wait_for(timeout=timeout_ms)
    page.wait_for_selector(IDLE, timeout=timeout_ms)
    if charts:
        # charts drawn: chart elements holding plotly's svg (a chart has several .main-svg)
        page.wait_for_function(
            "([sel, n]) => [...document.querySelectorAll(sel)]"
            ".filter(chart => chart.querySelector('.main-svg')).length >= n",
            arg=[CHART, charts], timeout=timeout_ms,
        )
    page.wait_for_function(
        "([sel, n]) => { const shown = [...document.querySelectorAll(sel)]"
        ".filter(t => t.checkVisibility());"  # not in a closed expander
        " return shown.length >= n && shown.every(t => t.querySelector('canvas')); }",
        arg=[TABLE, tables], timeout=timeout_ms)
    page.wait_for_selector(STATUS, state="detached", timeout=timeout_ms)


# Where a page load's time goes, in the page's own clock (ms since its navigation started):
# an init script of the browser context (context.add_init_script(LOAD_MARKS)) notes when the
# title and the first metric tile first showed, when the script started and finished running, when the n-th chart
# was drawn (charts_<n>), and when the n-th table was drawn (tables_<n>). Read them with load_breakdown(page) after wait_rendered.
LOAD_MARKS = """(() => {
  const marks = window.__rapportLoadMarks = {};
  const mark = (name) => { if (!(name in marks)) marks[name] = performance.now(); };
  new MutationObserver(() => {
    if (document.querySelector('h1')) mark('title');
    if (document.querySelector('[data-testid="stMetric"]')) mark('metrics');
    const app = document.querySelector('[data-testid="stApp"]');
    const state = app && app.getAttribute('data-test-script-state');
    if (state === 'running') mark('script_started');
    else if (state === 'notRunning' && 'script_started' in marks) mark('script_done');
    const drawn = [...document.querySelectorAll('[data-testid="stPlotlyChart"]')]
      .filter(chart => chart.querySelector('.main-svg')).length;
    for (let n = 1; n <= drawn; n++) mark('charts_' + n);
    const tables = [...document.querySelectorAll('[data-testid="stDataFrame"]')]
      .filter(table => table.querySelector('canvas')).length;
    for (let n = 1; n <= tables; n++) mark('tables_' + n);
  }).observe(document, {subtree: true, childList: true, attributes: true,
                        attributeFilter: ['data-test-script-state']});
})();"""


def load_breakdown(page, charts: int, tables: int = 0) -> dict[str, float | None]:
    """Seconds since the navigation started, for a page opened in a context with LOAD_MARKS:
    the frontend's bundle parsed (DOMContentLoaded), the script started, the title and the
    first metric tile shown,
    the script finished, Streamlit's plotly chunk (PlotlyChart.*.js, about 4.7 MB, loaded
    the first time a chart arrives) requested and received, the same for the tables'
    chunk (DataFrame.*.js), the first and the last of
    `charts` charts drawn, the `tables`-th table drawn. None for what did not happen (no
    chart, no plotly chunk)."""
    found = page.evaluate(
        r"""() => {
          const nav = performance.getEntriesByType('navigation')[0];
          const chunk = performance.getEntriesByType('resource')
            .find(e => /\/PlotlyChart\.[^/]*\.js$/.test(e.name));
          const grid = performance.getEntriesByType('resource')
            .find(e => /\/DataFrame\.[^/]*\.js$/.test(e.name));
          return {marks: window.__rapportLoadMarks || {},
                  dom_content_loaded: nav ? nav.domContentLoadedEventEnd : null,
                  plotly_requested: chunk ? chunk.startTime : null,
                  plotly_received: chunk ? chunk.responseEnd : null,
                  tables_chunk_requested: grid ? grid.startTime : null,
                  tables_chunk_received: grid ? grid.responseEnd : null};
        }""")
    marks = found["marks"]
    in_order = {  # roughly in the order they happen
        "dom_content_loaded": found["dom_content_loaded"],
        "script_started": marks.get("script_started"),
        "title_shown": marks.get("title"),
        "first_tile_shown": marks.get("metrics"),
        "tables_chunk_requested": found["tables_chunk_requested"],
        "tables_chunk_received": found["tables_chunk_received"],
        "plotly_requested": found["plotly_requested"],
        "plotly_received": found["plotly_received"],
        "script_done": marks.get("script_done"),
        "first_chart_drawn": marks.get("charts_1") if charts else None,
        "charts_drawn": marks.get(f"charts_{charts}") if charts else None,
        "tables_drawn": marks.get(f"tables_{tables}") if tables else None,
    }
    return {f"{name}_s": None if ms is None else round(ms / 1000, 3)
            for name, ms in in_order.items()}


def screenshot(page, name: str, *, full: bool = False) -> Path:
    """Save a screenshot of the viewport (or of the whole scrolled page when full=True: the
    viewport is stretched to the height of Streamlit's inner scrolling element)."""
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    if not full:
        page.screenshot(path=str(path))
        return path
    height = page.evaluate(
        "() => Math.max(...Array.from(document.querySelectorAll("
        "'[data-testid=\"stMain\"], section.main, [data-testid=\"stAppViewContainer\"]'))"
        ".map(e => e.scrollHeight), 768)"
    )
    page.set_viewport_size({"width": VIEWPORT["width"], "height": min(int(height), 4000)})
    page.wait_for_timeout(500)  # let plotly resize
    page.screenshot(path=str(path))
    page.set_viewport_size(VIEWPORT)
    return path

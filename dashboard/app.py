"""rapport dashboard: the router.

Page config, the list of pages (st.navigation), the shared sidebar filters, then the page.
Run it with `rapport serve` (or `streamlit run dashboard/app.py`).
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

_HERE = Path(__file__).resolve().parent
if str(_HERE) not in sys.path:  # the ui package sits next to this file
    sys.path.insert(0, str(_HERE))

import streamlit as st
from streamlit.logger import get_logger
from ui import context
from ui.filters import render_sidebar
from ui.fmt import date

from rapport.warehouse import WarehouseChanged, WarehouseError
from rapport.warehouse import queries as q

log = get_logger("rapport.dashboard")
_started = time.perf_counter()

st.set_page_config(page_title="rapport", layout="wide", initial_sidebar_state="expanded")

# url_path equals the file's name: Streamlit's legacy "pages/ folder" mode (still active for
# the first script run of a process) then finds the page, and ui.context.current() sends that
# run through this router (no "page not found" on a deep link to a fresh server).
PAGES = {
    "Leadership": [
        st.Page("pages/overview.py", title="Overview", url_path="overview", default=True),
        st.Page("pages/tiers.py", title="Tiers", url_path="tiers"),
    ],
    "Relationships": [
        st.Page("pages/health.py", title="Relationship health", url_path="health"),
        st.Page("pages/power_map.py", title="Power map", url_path="power_map"),
    ],
    "Regions": [
        st.Page("pages/scorecards.py", title="Scorecards", url_path="scorecards"),
    ],
    "Data team": [
        st.Page("pages/data_quality.py", title="Data quality", url_path="data_quality"),
    ],
}

page = st.navigation(PAGES)
scope = context.viewer_scope()

_RERUN_KEY = "_rerun_after_publish"

try:
    reader = context.open_reader()
except WarehouseError as exc:
    st.title(page.title)
    st.warning(exc.user_message)
    st.stop()

try:
    quarters = q.quarters(reader, scope)
    regions = q.regions(reader, scope)
    filters = render_sidebar(reader, scope, quarters, regions)
    build = q.build_info(reader, scope)
    with st.sidebar:
        st.caption(
            f"Data as of {date(build.get('as_of_date'))} · built "
            f"{date(build.get('built_at') or build.get('finished_at'))}  \n{scope.label}"
        )
    ctx = context.PageContext(
        reader=reader, scope=scope, filters=filters, build=build,
        region_names=dict(zip(regions["region_id"].to_list(),
                              regions["region_name"].to_list())),
        quarters=quarters,
    )
    with context.page_context(ctx):
        page.run()
    st.session_state.pop(_RERUN_KEY, None)
    log.info("page %s rendered in %.0f ms (%d queries on the file, the rest from the cache)",
             page.title, 1000 * (time.perf_counter() - _started), reader.queries_run)
except WarehouseChanged:
    # A publish landed during this render: render again once, on the new file.
    reader.close()
    if not st.session_state.get(_RERUN_KEY):
        st.session_state[_RERUN_KEY] = True
        st.rerun()
    st.warning(WarehouseChanged.user_message)
except WarehouseError as exc:
    log.warning("page %s: %s", page.title, exc)
    st.warning(exc.user_message)
finally:
    reader.close()

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
from ui import context, fmt
from ui.filters import render_sidebar
from ui.fmt import date

from rapport.pages import sections
from rapport.serving import WarehouseChanged, WarehouseError, WarehouseMissing
from rapport.serving import queries as q

log = get_logger("rapport.dashboard")
_started = time.perf_counter()

st.set_page_config(page_title="rapport", layout="wide", initial_sidebar_state="expanded")

viewer = context.current_viewer()  # stops here (with a message) for anyone not allowed in
scope = viewer.scope

# url_path equals the file's name: Streamlit's legacy "pages/ folder" mode (still active for
# the first script run of a process) then finds the page, and ui.context.current() sends that
# run through this router (no "page not found" on a deep link to a fresh server).
# The pages, their titles and menu sections are listed once, in rapport/pages.py.
SECTIONS = {section: [(page.id, page.title) for page in entries]
            for section, entries in sections().items()}


def _refusal(title: str, url_path: str):
    def refused() -> None:
        context.refuse_page(viewer, title, url_path)
    return refused


def _home() -> None:  # never runs: the router switches to the first page before (below)
    st.switch_page(START)


# A page the role may not see is absent from the menu; its URL opens a hidden page that
# refuses it (so a direct link says why instead of silently showing another page).
PAGES: dict[str, list] = {}
REFUSED: list = []
_default = next(p for p in ("overview", *viewer.pages) if viewer.may_open(p))
for section, entries in SECTIONS.items():
    for url_path, title in entries:
        if viewer.may_open(url_path):
            entry = st.Page(f"pages/{url_path}.py", title=title, url_path=url_path)
            if url_path == _default:
                START = entry
        else:
            entry = st.Page(_refusal(title, url_path), title=title, url_path=url_path,
                            visibility="hidden")
            REFUSED.append(entry)
        PAGES.setdefault(section, []).append(entry)
# Streamlit serves its default page at the root URL only ("/"), never at its url_path, so a
# page that is the default cannot be linked to ("/overview" said "Page not found"). Every
# page is therefore a normal page at /<url_path>, and the default is a hidden page at "/"
# that switches to the first page the role may open (the URL then reads /overview).
HOME = st.Page(_home, title=START.title, url_path="home", default=True, visibility="hidden")
PAGES[next(iter(PAGES))].insert(0, HOME)

page = st.navigation(PAGES)
if page is HOME:
    st.switch_page(START)
with st.sidebar:
    st.caption(context.mode_label(viewer))
context.local_mode_banner(viewer)
if any(page is refused for refused in REFUSED):
    page.run()
    st.stop()

_RERUN_KEY = "_rerun_after_publish"

try:
    reader = context.open_reader()
except WarehouseMissing as exc:  # nothing served: say why (refused builds) on Data quality
    st.title(page.title)
    if page.url_path == "data_quality":
        from ui.widgets import nothing_served

        nothing_served(exc)
    else:
        st.warning(exc.pointer_message)
    st.stop()
except WarehouseError as exc:
    st.title(page.title)
    st.warning(exc.user_message)
    st.stop()

try:
    context.check_user_regions(viewer, reader)  # stops the page when the users file is wrong
    quarters = q.quarters(reader, scope)
    regions = q.regions(reader, scope)
    filters = render_sidebar(reader, scope, quarters, regions)
    build = q.build_info(reader, scope)
    with st.sidebar:
        st.caption(
            f"Data as of {date(build.get('as_of_date'))} · built "
            f"{date(build.get('built_at') or build.get('finished_at'))}  \n"
            f"{fmt.plain(scope.label)}"
        )
    ctx = context.PageContext(
        reader=reader, scope=scope, filters=filters, build=build,
        region_names=dict(zip(regions["region_id"].to_list(),
                              regions["region_name"].to_list())),
        quarters=quarters, viewer_email=viewer.email, pages=viewer.pages,
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

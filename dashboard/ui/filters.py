"""The shared sidebar filters: quarter, region, industry, tier.

The widgets live in the router (app.py renders them on every page), and their values are
kept in st.session_state under the FILTER_KEYS, so a choice made on one page holds on every
other page of the session.
"""

from __future__ import annotations

from contextvars import ContextVar
from typing import Any

import polars as pl
import streamlit as st

from rapport.serving import Reader, Scope
from rapport.serving import queries as q

from .fmt import labeller, quarter_label

QUARTER, REGIONS, INDUSTRIES, TIERS = (
    "filter_quarter", "filter_regions", "filter_industries", "filter_tiers",
)
FILTER_KEYS = (QUARTER, REGIONS, INDUSTRIES, TIERS)

# The sidebar box the filters of this script run were drawn in (see not_on_this_page).
_FILTER_BOX: ContextVar[Any] = ContextVar("rapport_filter_box", default=None)


# A copy of each filter's value outside the widget: a page the filters do not apply to
# (Data quality) hides them, and Streamlit forgets the value of a widget that is not on the
# screen; the copy brings it back on the next page (the pattern of Streamlit's docs,
# "Widget behavior": store on change, load before drawing).
_KEPT = "_kept_"


def _store(key: str) -> None:
    st.session_state[_KEPT + key] = st.session_state.get(key)


def _load(key: str) -> None:
    if _KEPT + key in st.session_state and st.session_state[_KEPT + key] is not None:
        st.session_state[key] = st.session_state[_KEPT + key]


def _reset() -> None:
    for key in FILTER_KEYS:
        st.session_state.pop(key, None)
        st.session_state.pop(_KEPT + key, None)


def _keep_valid(key: str, options: list[Any], *, multi: bool) -> None:
    """Drop stored choices that are no longer options (e.g. after a new publish)."""
    if key not in st.session_state:
        if not multi and options:
            st.session_state[key] = options[0]
        return
    value = st.session_state[key]
    if multi:
        kept = [v for v in (value or []) if v in options]
        if kept != value:
            st.session_state[key] = kept
    elif value not in options:
        if options:
            st.session_state[key] = options[0]
        else:
            del st.session_state[key]


def render_sidebar(reader: Reader, scope: Scope,
                   quarters: pl.DataFrame, regions: pl.DataFrame) -> q.Filters:
    """Draw the filters in the sidebar and return the current choice."""
    quarter_options = [(int(r["year"]), int(r["quarter"])) for r in quarters.iter_rows(named=True)]
    region_names = dict(zip(regions["region_id"].to_list(), regions["region_name"].to_list()))
    industry_options = q.industries(reader, scope)

    for key in FILTER_KEYS:
        _load(key)
    _keep_valid(QUARTER, quarter_options, multi=False)
    _keep_valid(REGIONS, list(region_names), multi=True)
    _keep_valid(INDUSTRIES, industry_options, multi=True)
    _keep_valid(TIERS, list(q.TIERS), multi=True)
    for key in FILTER_KEYS:
        _store(key)

    with st.sidebar:
        box = st.empty()
    _FILTER_BOX.set(box)
    with box.container():
        st.markdown("**Filters**")
        if quarter_options:
            st.selectbox(
                "Quarter", quarter_options, key=QUARTER, on_change=_store, args=(QUARTER,),
                format_func=lambda yq: quarter_label(*yq),
                help="Quarter of results, tiers and scorecards; relationship health shows "
                     "the last month-end of the quarter. Compared with the previous quarter.",
            )
        else:
            st.caption("No quarters in the warehouse yet.")
        st.multiselect(
            "Region", list(region_names), key=REGIONS, format_func=lambda r: region_names[r],
            on_change=_store, args=(REGIONS,),
            placeholder="All regions", help="Regions whose reps and accounts are shown.",
        )
        st.multiselect(
            "Industry", industry_options, key=INDUSTRIES, format_func=labeller("industry"),
            on_change=_store, args=(INDUSTRIES,),
            placeholder="All industries",
            help="Account industries. Does not apply to rep and region results "
                 "(reps sell across industries).",
        )
        st.multiselect(
            "Tier", list(q.TIERS), key=TIERS, placeholder="All tiers",
            on_change=_store, args=(TIERS,),
            help="Account tier in the selected quarter. Does not apply to rep and region "
                 "results.",
        )
        st.button("Reset filters", on_click=_reset, width="stretch")

    year, quarter = st.session_state.get(QUARTER) or (None, None)
    return q.Filters(
        year=year, quarter=quarter,
        region_ids=tuple(st.session_state.get(REGIONS) or ()),
        industries=tuple(st.session_state.get(INDUSTRIES) or ()),
        tiers=tuple(st.session_state.get(TIERS) or ()),
    )


def not_on_this_page(note: str) -> None:
    """Replace the sidebar filters by a note on a page they do not apply to (Data quality).
    The widgets were drawn earlier in this run, so their values stay in the session for the
    other pages; the viewer sees the note instead of filters that would change nothing."""
    box = _FILTER_BOX.get()
    if box is None:
        return
    # one element in place of the block (a block put in its place would keep the widgets
    # drawn earlier in this run below it)
    box.info(f"**Filters**: {note}", icon=":material/filter_alt_off:")

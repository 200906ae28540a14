"""The shared sidebar filters: quarter, region, industry, tier.

The widgets live in the router (app.py renders them on every page), and their values are
kept in st.session_state under the FILTER_KEYS, so a choice made on one page holds on every
other page of the session.
"""

from __future__ import annotations

from typing import Any

import polars as pl
import streamlit as st

from rapport.warehouse import Reader, Scope
from rapport.warehouse import queries as q

from .fmt import label, quarter_label

QUARTER, REGIONS, INDUSTRIES, TIERS = (
    "filter_quarter", "filter_regions", "filter_industries", "filter_tiers",
)
FILTER_KEYS = (QUARTER, REGIONS, INDUSTRIES, TIERS)


def _reset() -> None:
    for key in FILTER_KEYS:
        st.session_state.pop(key, None)


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

    _keep_valid(QUARTER, quarter_options, multi=False)
    _keep_valid(REGIONS, list(region_names), multi=True)
    _keep_valid(INDUSTRIES, industry_options, multi=True)
    _keep_valid(TIERS, list(q.TIERS), multi=True)

    with st.sidebar:
        st.markdown("**Filters**")
        if quarter_options:
            st.selectbox(
                "Quarter", quarter_options, key=QUARTER,
                format_func=lambda yq: quarter_label(*yq),
                help="Quarter of results, tiers and scorecards; relationship health shows "
                     "the last month-end of the quarter. Compared with the previous quarter.",
            )
        else:
            st.caption("No quarters in the warehouse yet.")
        st.multiselect(
            "Region", list(region_names), key=REGIONS, format_func=lambda r: region_names[r],
            placeholder="All regions", help="Regions whose reps and accounts are shown.",
        )
        st.multiselect(
            "Industry", industry_options, key=INDUSTRIES, format_func=label,
            placeholder="All industries",
            help="Account industries. Does not apply to rep and region results "
                 "(reps sell across industries).",
        )
        st.multiselect(
            "Tier", list(q.TIERS), key=TIERS, placeholder="All tiers",
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

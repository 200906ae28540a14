"""The dashboard's pages, listed once: the router (dashboard/app.py) builds its menu from
this list, access control (rapport.serving.auth) grants pages by these ids, and the benchmark and
the browser tests open them from it.

id       the page's file (dashboard/pages/<id>.py) and its URL path (/<id>)
title    the menu entry and the page's heading
section  the menu group
charts   plotly charts the page draws when it opens (its first view), which the benchmark
         and the browser tests wait for
chart_view  plotly charts of the page's chart view: its "Show charts" toggle, or ?charts=1
         in its URL (0: the page has none). The Overview opens on tables with bars in
         their cells (no plotly chart: a fresh session shows it without waiting for
         Streamlit's 4.7 MB plotly chunk); the browser test opens its chart view too.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Page:
    id: str
    title: str
    section: str
    charts: int
    chart_view: int = 0


PAGES: tuple[Page, ...] = (
    Page("overview", "Overview", "Leadership", 0, chart_view=3),
    Page("tiers", "Tiers", "Leadership", 2),
    Page("health", "Relationship health", "Relationships", 1),
    Page("power_map", "Power map", "Relationships", 1),
    Page("capture", "Record assessments", "Relationships", 0),
    Page("scorecards", "Scorecards", "Regions", 1),
    Page("data_quality", "Data quality", "Data team", 1),
)
PAGE_IDS: tuple[str, ...] = tuple(page.id for page in PAGES)


def sections() -> dict[str, list[Page]]:
    """The pages by menu section, in menu order."""
    grouped: dict[str, list[Page]] = {}
    for page in PAGES:
        grouped.setdefault(page.section, []).append(page)
    return grouped

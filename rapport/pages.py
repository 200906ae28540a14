"""The dashboard's pages, listed once: the router (dashboard/app.py) builds its menu from
this list, access control (rapport.auth) grants pages by these ids, and the benchmark and
the browser tests open them from it.

id       the page's file (dashboard/pages/<id>.py) and its URL path (/<id>)
title    the menu entry and the page's heading
section  the menu group
charts   plotly charts the page draws when it opens (its first view), which the benchmark
         and the browser tests wait for
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Page:
    id: str
    title: str
    section: str
    charts: int


PAGES: tuple[Page, ...] = (
    Page("overview", "Overview", "Leadership", 3),
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

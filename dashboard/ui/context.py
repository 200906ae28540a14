"""What a page render needs: the viewer's scope, the sidebar filters and a warehouse reader.

app.py opens one Reader per render (so one short-lived read-only DuckDB connection, opened
only if some query misses the cache), makes it available to the page through `current()`,
and closes it when the page has rendered.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any

import polars as pl
import streamlit as st

from rapport.paths import served_warehouse
from rapport.warehouse import Reader, Scope
from rapport.warehouse import queries as q

CACHE_TTL_SECONDS = 15 * 60


@st.cache_data(ttl=CACHE_TTL_SECONDS, max_entries=5000, show_spinner=False)
def _cached_fetch(_reader: Reader, identity_key: tuple, scope_key: str, sql: str,
                  params: tuple) -> pl.DataFrame:
    """The one cache of query results. Its key is the warehouse file identity (path, inode,
    mtime, size), the scope, the SQL text and the bound values; `_reader` is not hashed."""
    return _reader.run(sql, params)


def open_reader() -> Reader:
    """A reader on the served warehouse (RAPPORT_WAREHOUSE overrides the path)."""
    return Reader(served_warehouse(), cache=_cached_fetch)


def viewer_scope() -> Scope:
    """The scope of the person viewing.

    Access control (issue 6) replaces this with the logged-in user's role. Until then
    everyone gets all access; `rapport serve --as <email>` only labels the session.
    """
    as_user = os.environ.get("RAPPORT_AS_USER", "").strip()
    label = f"local mode as {as_user}: all access" if as_user else "local mode: all access"
    return Scope.all_access(label=label)


@dataclass
class PageContext:
    reader: Reader
    scope: Scope
    filters: q.Filters
    build: dict[str, Any] = field(default_factory=dict)
    region_names: dict[str, str] = field(default_factory=dict)
    quarters: pl.DataFrame = field(default_factory=pl.DataFrame)

    @property
    def quarter_end(self):
        f = self.filters
        if f.year is None or self.quarters.is_empty():
            return None
        match = self.quarters.filter((pl.col("year") == f.year) & (pl.col("quarter") == f.quarter))
        return match["quarter_end_date"][0] if match.height else None

    def regions_label(self) -> str:
        ids = self.filters.region_ids
        if not ids:
            return "all regions" if self.scope.sees_all_regions else "your regions"
        return ", ".join(self.region_names.get(i, i) for i in ids)


_CURRENT: ContextVar[PageContext | None] = ContextVar("rapport_page_context", default=None)


@contextmanager
def page_context(ctx: PageContext) -> Iterator[PageContext]:
    token = _CURRENT.set(ctx)
    try:
        yield ctx
    finally:
        _CURRENT.reset(token)


def current() -> PageContext:
    """The context of the page being rendered (set by app.py)."""
    ctx = _CURRENT.get()
    if ctx is None:
        # Streamlit still runs its legacy "pages/ folder" mode for the first script run of a
        # process (and every AppTest run); that mode runs a page file without the router.
        # Leave the legacy mode and run again: this time through app.py and st.navigation.
        from streamlit.runtime.pages_manager import PagesManager

        if PagesManager.uses_pages_directory:
            PagesManager.uses_pages_directory = False
            st.rerun()
        raise RuntimeError("no page context: run the dashboard through dashboard/app.py")
    return ctx

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
from dataclasses import dataclass, field, replace
from typing import Any, NoReturn

import polars as pl
import streamlit as st
from streamlit.logger import get_logger

from rapport.paths import served_warehouse
from rapport.serving import Reader, Scope, auth
from rapport.serving import queries as q
from ui import fmt

CACHE_TTL_SECONDS = 15 * 60
log = get_logger("rapport.dashboard")


@st.cache_data(ttl=CACHE_TTL_SECONDS, max_entries=5000, show_spinner=False)
def _cached_fetch(_reader: Reader, identity_key: tuple, scope_key: str, sql: str,
                  params: tuple) -> pl.DataFrame:
    """The one cache of query results. Its key is the warehouse file identity (path, inode,
    mtime, size), the scope, the SQL text and the bound values; `_reader` is not hashed."""
    return _reader.run(sql, params)


def open_reader() -> Reader:
    """A reader on the served warehouse (RAPPORT_WAREHOUSE overrides the path)."""
    return Reader(served_warehouse(), cache=_cached_fetch)


LOCAL_MODE = "local mode"


def _secrets_content() -> dict[str, Any]:
    """What Streamlit's st.secrets holds (its files, or what a test gave it); {} when none."""
    try:
        if st.secrets.load_if_toml_exists() or st.secrets._secrets is not None:
            return {k: st.secrets[k] for k in st.secrets}
    except Exception as exc:  # noqa: BLE001 - reported as a configuration error below
        raise auth.LoginConfigError(f"secrets ({', '.join(_secrets_files())}): {exc}") from None
    return {}


def _secrets_files() -> list[str]:
    return [str(p) for p in (st.get_option("secrets.files") or [])]


def login_mode() -> str:
    """"oidc" or "local" (LOCAL_MODE); raises auth.LoginConfigError naming the file.

    The secrets files are parsed first by us, so that a syntax error is an error (Streamlit
    itself treats an unparseable file as "no secrets"); then what Streamlit holds decides.
    """
    files = _secrets_files()
    source = " / ".join(files) or ".streamlit/secrets.toml"
    auth.read_secrets_files(files)
    mode = auth.login_mode(_secrets_content(), local=auth.local_mode_requested(),
                           address=st.get_option("server.address"), source=source)
    return LOCAL_MODE if mode == "local" else mode


def oidc_configured() -> bool:
    """True when the login is OIDC (a valid [auth] section); False in local mode."""
    return login_mode() == "oidc"


def _login_once(viewer: auth.Viewer, mode: str) -> None:
    """One `login` line in the audit log per browser session."""
    if st.session_state.get("_audited_login") != viewer.email:
        st.session_state["_audited_login"] = viewer.email
        auth.audit("login", viewer.email, mode, role=viewer.role)


def _deny(who: str | None, mode: str, why: str, message: str) -> NoReturn:
    if st.session_state.get("_audited_denied") != (who, why):
        st.session_state["_audited_denied"] = (who, why)
        auth.audit("denied", who, why, mode=mode)
    st.title("rapport")
    st.error(fmt.plain(message))
    st.stop()
    raise AssertionError("unreachable")  # st.stop() raises


def _refuse_to_serve(exc: auth.LoginConfigError) -> NoReturn:
    """Fail closed: a broken or ambiguous login configuration lets nobody in. The message
    names the file and the fix (for the administrator who starts the server and looks)."""
    log.error("access control: %s", exc)
    _deny(None, "refused", "login configuration",
          f"The dashboard is closed: its login configuration is not valid, so nobody is let "
          f"in.\n\n{exc}")


def current_viewer() -> auth.Viewer:
    """Who is viewing, with their role and scope; stops the page for anyone not allowed.

    With OIDC configured (a valid [auth] section in .streamlit/secrets.toml) the identity is
    st.user's e-mail after st.login. In local mode (asked for with `rapport serve --local`,
    on a loopback address only) RAPPORT_AS_USER (`--as <email>`) names the user, and without
    it the local demo identity has full access. Anything else refuses (docs/security.md).
    """
    try:
        mode = login_mode()
    except auth.LoginConfigError as exc:
        _refuse_to_serve(exc)
    if mode == "oidc":
        if not st.user.is_logged_in:
            st.title("rapport")
            st.write("Log in to see the dashboard.")
            st.button("Log in", on_click=st.login, type="primary")
            st.stop()
        email = str(st.user.get("email") or "")
    else:
        email = os.environ.get("RAPPORT_AS_USER", "").strip()
        if not email:
            viewer = replace(auth.local_demo_viewer(), login=mode)
            _login_once(viewer, mode)
            return viewer
    config = load_access_config(email, mode)
    viewer = config.viewer(email)
    if viewer is None:
        _deny(email, mode, "unknown user",
              f"Access denied: {email[:200] or 'this identity'} is not a rapport user. "
              "Ask an administrator to add you to the users file.")
    if not viewer.pages:
        _deny(email, mode, "role without pages",
              f"Access denied: the role {viewer.role} has no pages. Ask an administrator.")
    viewer = replace(viewer, login=mode)
    _login_once(viewer, mode)
    return viewer


def _users_file_broken(email: str | None, mode: str, exc: Exception) -> NoReturn:
    log.error("access control: %s", exc)
    _deny(email, mode, "users file unreadable",
          f"Access control is not configured correctly, so nobody is let in. An "
          f"administrator must fix the users file ({auth.users_file().name}): "
          "`rapport check-access` and the server log say what is wrong.")


def load_access_config(email: str | None, mode: str) -> auth.AccessConfig:
    try:
        return auth.load_config()
    except auth.AccessConfigError as exc:
        _users_file_broken(email, mode, exc)


def check_user_regions(viewer: auth.Viewer, reader: Reader) -> None:
    """Refuse everyone when the users file names a region the served warehouse lacks (a
    typo would otherwise give a director an empty, or tomorrow someone else's, region)."""
    if viewer.email == auth.LOCAL_DEMO_EMAIL:
        return  # local demo: no users file in use
    config = load_access_config(viewer.email, viewer.login)
    known = q.regions(reader, Scope.all_access())["region_id"].to_list()
    try:
        config.check_regions(known, str(auth.users_file()))
    except auth.AccessConfigError as exc:
        _users_file_broken(viewer.email, viewer.login, exc)


def mode_label(viewer: auth.Viewer) -> str:
    """The sidebar's account line: who, which role, and whether this is local mode."""
    if viewer.login != LOCAL_MODE:
        return f"Signed in as {fmt.plain(viewer.email)} ({viewer.role.replace('_', ' ')})"
    who = "demo user, all access" if viewer.email == auth.LOCAL_DEMO_EMAIL else (
        f"{fmt.plain(viewer.email)} ({viewer.role.replace('_', ' ')})")
    return f"**{LOCAL_MODE}**, not a login: {who}"


def local_mode_banner(viewer: auth.Viewer) -> None:
    """The visible notice at the top of every page in local mode."""
    if viewer.login != LOCAL_MODE:
        return
    who = ("the demo user, with all access and personal data"
           if viewer.email == auth.LOCAL_DEMO_EMAIL else fmt.plain(viewer.email))
    st.badge("Local mode: no login", icon=":material/lock_open:", color="orange")
    st.caption(f"Everyone who opens this address on this machine is {who}. Configure a "
               "login before sharing the dashboard (docs/security.md).")


def refuse_page(viewer: auth.Viewer, title: str, url_path: str) -> None:
    """The page shown for a direct URL to a page this role may not see."""
    if st.session_state.get("_audited_refused") != url_path:
        st.session_state["_audited_refused"] = url_path
        auth.audit("denied", viewer.email, f"page {url_path}", role=viewer.role)
    st.title(title)
    st.error(f"Your role ({viewer.role.replace('_', ' ')}) does not give access to this "
             "page. Pick a page from the menu, or ask an administrator if you need it.")


@dataclass
class PageContext:
    reader: Reader
    scope: Scope
    filters: q.Filters
    build: dict[str, Any] = field(default_factory=dict)
    region_names: dict[str, str] = field(default_factory=dict)
    quarters: pl.DataFrame = field(default_factory=pl.DataFrame)
    viewer_email: str = ""
    pages: tuple[str, ...] = ()  # the url_paths of the pages the viewer may open

    def may_open(self, url_path: str) -> bool:
        return url_path in self.pages

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


# -- Opening one account on another page ---------------------------------------------------
# A page that shows one account reads it from the URL, `?account=<id>`, and checks it against
# the viewer's scope (an id outside it reads "not found"). Each page keeps its own choice of
# account in its own session keys: choosing an account on one page never changes another's,
# except through open_account, the explicit "open" of a row.
ACCOUNT_PARAM = "account"
HEALTH_FOCUS = "focus_account"  # the Relationship health drill-down's account (health.py)


def open_account(url_path: str, account_id: str) -> NoReturn:
    """Switch to a page ("power_map" or "health") on one account: the id goes in the URL
    (`/power_map?account=<id>`); Relationship health also gets it as its drill-down's
    account. Call it during a script run, not in a widget callback."""
    if url_path == "health":
        st.session_state[HEALTH_FOCUS] = account_id
    st.switch_page(f"pages/{url_path}.py", query_params={ACCOUNT_PARAM: account_id})
    raise AssertionError("unreachable")  # st.switch_page raises


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

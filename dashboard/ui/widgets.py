"""Building blocks every page uses: tables with a CSV download, metrics with help text,
charts, and empty states that say what data is missing."""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import plotly.graph_objects as go
import polars as pl
import streamlit as st

from rapport.serving import auth

from . import fmt
from .context import current
from .helptext import help_for

ROW_PX = 35  # st.dataframe's row height
PLOTLY_CONFIG = {"displaylogo": False, "modeBarButtonsToRemove": ["lasso2d", "select2d"]}


# A spreadsheet reads a cell starting with one of these as a formula (OWASP, "CSV
# Injection"): = + - @, tab (0x09), carriage return (0x0D).
FORMULA_START = r"^[=+\-@\t\r]"


def neutralise_formulas(df: pl.DataFrame) -> pl.DataFrame:
    """Every text cell (and column name) that a spreadsheet would read as a formula gets a
    leading single quote: `=HYPERLINK(...)` -> `'=HYPERLINK(...)`. Only text columns:
    numbers stay numbers (-3 in a number column is a number, not text)."""
    text = [name for name, dtype in df.schema.items()
            if dtype == pl.String or isinstance(dtype, pl.Categorical | pl.Enum)]
    if text:
        df = df.with_columns(
            pl.when(pl.col(name).cast(pl.String).str.contains(FORMULA_START))
            .then(pl.lit("'") + pl.col(name).cast(pl.String))
            .otherwise(pl.col(name).cast(pl.String))
            .alias(name)
            for name in text
        )
    formula = re.compile(FORMULA_START)
    renamed = {name: f"'{name}" for name in df.columns if formula.match(name)}
    return df.rename(renamed) if renamed else df


def csv_bytes(df: pl.DataFrame) -> bytes:
    """The table as CSV (RFC 4180 quoting: a field with a comma, a quote or a line break is
    quoted, quotes doubled); list columns (sparklines) become space-separated text; text
    cells that a spreadsheet would run as a formula are neutralised (neutralise_formulas)."""
    nested = [name for name, dtype in df.schema.items() if isinstance(dtype, pl.List)]
    if nested:
        df = df.with_columns(
            pl.col(name).cast(pl.List(pl.String)).list.join(" ") for name in nested
        )
    return neutralise_formulas(df).write_csv(quote_style="necessary").encode("utf-8")


_UNSAFE_IN_FILE_NAME = re.compile(r"[^A-Za-z0-9._-]+")


def safe_file_name(name: str) -> str:
    """A download's file name from text that may hold data (an account id): letters,
    digits, `.`, `_` and `-` only, nothing hidden, at most 120 characters."""
    return (_UNSAFE_IN_FILE_NAME.sub("_", name).lstrip(".") or "export")[:120]


def export_csv(df: pl.DataFrame, file_name: str, who: str, scope_key: str) -> bytes:
    """A CSV export: one `export` line in the audit log, then the bytes (exactly the rows and
    masked columns the scope may see: the same frame the page shows)."""
    auth.audit("export", who, f"{file_name}.csv", rows=df.height, columns=df.columns,
               scope=scope_key)
    return csv_bytes(df)


def table(df: pl.DataFrame, *, key: str, file_name: str,
          column_config: Mapping[str, Any] | None = None,
          hide: Sequence[str] = (), height: int | str = "auto",
          download_label: str = "Download CSV", actions: Sequence[str] = (),
          on_select: Any = "ignore", download: bool = True) -> None:
    """Show a table and a CSV download of the same rows (the CSV keeps the hidden id
    columns; both hold exactly what the scope may see). The CSV holds data only, under the
    headers the table shows: `actions` (a row's "Power map" cell, say) are left out.

    `actions` with `on_select` (a callback): the table selects single cells, and the
    callback reads `st.session_state[f"table_{key}"]` (see open_cell). download=False: no
    button (a paged table offers every page's rows beside its pager instead)."""
    shown = [c for c in df.columns if c not in set(hide)]
    if isinstance(height, int) and ROW_PX * (df.height + 1) + 3 < height:
        height = "auto"  # a short table: no empty rows below it
    config = _with_headers(df, _with_date_formats(df, column_config))
    selectable = {"on_select": on_select, "selection_mode": "single-cell"} \
        if on_select != "ignore" else {}
    st.dataframe(
        df, column_order=shown, column_config=config, hide_index=True,
        height=height, key=f"table_{key}", **selectable,
    )
    if not download:
        return
    ctx = current()
    who, scope_key = ctx.viewer_email, ctx.scope.cache_key()
    file_name = safe_file_name(file_name)
    data = csv_frame(df, config, drop=actions)
    st.download_button(
        # The CSV is made (and the export logged) when the button is clicked.
        download_label, data=lambda: export_csv(data, file_name, who, scope_key),
        file_name=f"{file_name}.csv", mime="text/csv",
        key=f"download_{key}", on_click="ignore",
    )


def account_finder(key: str, listed: pl.DataFrame, limit: int) -> None:
    """The Find box above a list of accounts to choose from, shown when the list is cut at
    `limit` (its `matching` column: how many accounts match in all) or a search is on. Its
    text (session_state[key]) narrows the list in SQL to the names or ids that contain it."""
    matching = int(listed["matching"][0]) if listed.height else 0
    if matching > limit or st.session_state.get(key):
        st.text_input("Find an account", key=key, placeholder="Part of a name or an ID",
                      help="Lists the accounts whose name or ID contains this text (any "
                           "case). Clear it to list every account again.")


def find_text(key: str) -> str:
    """What the Find box `key` holds, trimmed ("" when nothing is searched)."""
    return (st.session_state.get(key) or "").strip()


def nothing_found(key: str, listed: pl.DataFrame, limit: int, what: str) -> bool:
    """A search in the Find box `key` that listed no account: show the box (to change the
    text) and say so ("No <what> has ... in its name or ID"); True then, and the page stops
    drawing the list."""
    searched = find_text(key)
    if not searched or listed.height:
        return False
    account_finder(key, listed, limit)
    empty(f"No {what} has “{fmt.plain(searched[:80])}” in its name or ID.",
          "Clear the Find box to list every account again.")
    return True


def account_list_note(listed: pl.DataFrame, limit: int, what: str) -> None:
    """Under a list cut at `limit`: which accounts it shows and how to reach the others."""
    matching = int(listed["matching"][0]) if listed.height else 0
    if matching > limit:
        st.caption(f"The list holds the first {limit:,} of {matching:,} {what}; type part of a "
                   "name or an ID in Find to reach the others.")


@dataclass(frozen=True)
class TablePage:
    """The page of a paged table to show (its rows come from the query: offset `first`,
    limit `size`)."""

    number: int  # 1-based
    pages: int
    size: int

    @property
    def first(self) -> int:
        return (self.number - 1) * self.size


def table_page(key: str, total: int, sizes: Sequence[int]) -> TablePage:
    """The page of the paged table `key` to show, `total` rows in all: the pager's page
    number (session_state[f"{key}_page"]) and page size (f"{key}_page_size", one of
    `sizes`). Widgets forget their values when another page of the app is shown: both are
    kept beside them, so "open" then Back returns to the same rows. A number past the last
    page shows the last page."""
    page_key, size_key = f"{key}_page", f"{key}_page_size"
    for name, default in ((size_key, sizes[0]), (page_key, 1)):
        if name not in st.session_state:
            st.session_state[name] = st.session_state.get(f"_{name}_kept", default)
    size = st.session_state[size_key]
    pages = max(1, math.ceil(total / size))
    st.session_state[page_key] = min(max(int(st.session_state[page_key]), 1), pages)
    number = st.session_state[page_key]
    st.session_state[f"_{page_key}_kept"] = number
    st.session_state[f"_{size_key}_kept"] = size
    return TablePage(number=number, pages=pages, size=size)


def first_page(key: str) -> None:
    """Back to page 1 of the paged table `key` (its rows changed: another size, filter...)."""
    st.session_state[f"{key}_page"] = 1


def pager(key: str, page: TablePage, rows_text: str, sizes: Sequence[int]) -> Any:
    """Under a paged table: which rows it shows, the page number (more than one page), the
    rows per page; returns the row's last column, for the table's "Download all" button."""
    row = st.columns([2, 1, 1, 2], vertical_alignment="bottom")
    row[0].caption(rows_text)
    if page.pages > 1:
        row[1].number_input(f"Page (1–{page.pages})", min_value=1, max_value=page.pages,
                            step=1, key=f"{key}_page")
    row[2].selectbox("Rows per page", sizes, key=f"{key}_page_size", on_change=first_page,
                     args=(key,))
    return row[3]


def csv_frame(df: pl.DataFrame, config: Mapping[str, Any],
              drop: Sequence[str] = ()) -> pl.DataFrame:
    """The rows of a table as its CSV holds them: every data column (hidden ids too) but
    the `drop` ones (a row's open action), each under the header the table shows for it
    ('Health', 'Account ID'), or fmt.header(name) (never a snake_case name)."""
    def label(name: str) -> str:
        given = config.get(name)
        if isinstance(given, str):
            return given
        if isinstance(given, Mapping) and given.get("label"):
            return str(given["label"])
        return fmt.header(name)

    kept = [c for c in df.columns if c not in set(drop)]
    names: dict[str, str] = {}
    for name in kept:
        text, n = label(name), 2
        while text in names.values():  # two columns with one label: keep both apart
            text, n = f"{label(name)} ({n})", n + 1
        names[name] = text
    return df.select(kept).rename(names)


def open_cell(state_key: str, actions: Mapping[str, str],
              account_ids: Sequence[str]) -> tuple[str, str] | None:
    """The (page, account id) a clicked action cell asks for: `actions` maps a column to a
    page ("open_map" -> "power_map"); None for a click on any other cell."""
    state = st.session_state.get(state_key)
    try:
        cells = state["selection"]["cells"] if state is not None else []
    except (KeyError, TypeError):
        return None
    for row, column in cells[:1]:
        if column in actions and 0 <= int(row) < len(account_ids):
            return actions[column], account_ids[int(row)]
    return None


def _with_date_formats(df: pl.DataFrame,
                       column_config: Mapping[str, Any] | None) -> dict[str, Any]:
    """Dates as YYYY-MM-DD and timestamps to the minute, keeping any label given as text."""
    config = dict(column_config or {})
    for name, dtype in df.schema.items():
        given = config.get(name)
        if given is not None and not isinstance(given, str):
            continue
        label = given if isinstance(given, str) else fmt.header(name)
        if dtype == pl.Date:
            config[name] = st.column_config.DateColumn(label, format="YYYY-MM-DD")
        elif isinstance(dtype, pl.Datetime):
            config[name] = st.column_config.DatetimeColumn(label, format="YYYY-MM-DD HH:mm")
    return config


def _with_headers(df: pl.DataFrame, config: dict[str, Any]) -> dict[str, Any]:
    """Every column without a label gets a human header (fmt.header): no snake_case name is
    shown as a header. A number column the page turned into text (fmt.na_text: 'n/a' for a
    gap) keeps its label, help and width but is drawn as right-aligned text (a number
    config would mark every text cell as invalid)."""
    for name, dtype in df.schema.items():
        given = config.get(name)
        if given is None:
            config[name] = fmt.header(name)
        elif (isinstance(given, dict) and dtype == pl.String
              and (given.get("type_config") or {}).get("type") in ("number", "progress")):
            config[name] = st.column_config.TextColumn(
                given.get("label") or fmt.header(name), help=given.get("help"),
                width=given.get("width"), alignment="right")
    return config


# -- Column configs on the formatting layer (fmt): one style for every page ----------------

SCORE_FORMAT = "%.0f"


def score_column(label: str, *, help: str | None = None, color: str | None = None,
                 width: str | int | None = None) -> Any:
    """A 0-100 score as a bar with its value; `color` gives the bar a meaning (the part's
    colour of the trend charts, charts.PART_COLOURS), never the theme's red for all."""
    return st.column_config.ProgressColumn(label, help=help, min_value=0, max_value=100,
                                           format=SCORE_FORMAT, color=color or "gray",
                                           width=width)


def percent_column(label: str, *, help: str | None = None,
                   width: str | int | None = None) -> Any:
    """A column made by fmt.as_percent (0-100): '45.3%' (fmt.PERCENT_FORMAT)."""
    return st.column_config.NumberColumn(label, help=help, format=fmt.PERCENT_FORMAT,
                                         width=width)


def percent_bar_column(label: str, *, help: str | None = None, max_value: float = 100.0,
                       color: str | None = None, width: str | int | None = None) -> Any:
    """A column made by fmt.as_percent (0-100) as a bar in the cell with its value
    ('45.3%', fmt.PERCENT_FORMAT), from 0 to `max_value` (bar_max: 100, or more for a
    completion above 100 %). `color` gives the bar a meaning (the chart's colour of the
    measure), never the theme's red for all. A column with a gap becomes text ('n/a'): then
    it is drawn as right-aligned text without a bar (see _with_headers)."""
    return st.column_config.ProgressColumn(label, help=help, min_value=0,
                                           max_value=max_value, format=fmt.PERCENT_FORMAT,
                                           color=color or "gray", width=width)


def bar_max(df: pl.DataFrame, column: str) -> float:
    """The end of a percent bar column's scale: 100, or the column's largest value when a
    value passes 100 (a target beaten), so every bar keeps its length against the others."""
    if column not in df.columns or not df[column].dtype.is_numeric():
        return 100.0
    largest = df[column].max()
    return max(100.0, float(largest)) if largest is not None else 100.0


def money_column(label: str, *, help: str | None = None,
                 width: str | int | None = None) -> Any:
    """An amount: compact ('1.4M'), sortable, with the currency in the header
    ('Revenue 12m (€)', fmt.money_header)."""
    text = help or ""
    text = f"{text} Amounts in {fmt.currency().describe()}.".strip()
    return st.column_config.NumberColumn(fmt.money_header(label), help=text,
                                         format="compact", width=width)


def tag_column(label: str, colours: Mapping[str, str], *, help: str | None = None,
               width: str | int | None = None) -> Any:
    """A column of fmt.as_tags values drawn as coloured tags: `colours` maps each shown
    value (a label) to its colour, e.g. {'Weak': '#c62828', ...}."""
    return st.column_config.MultiselectColumn(label, help=help, width=width,
                                              options=list(colours),
                                              color=list(colours.values()))


def coded_tags(kind: str, colours: Mapping[str, str]) -> dict[str, str]:
    """{label: colour} of a kind of code from {code: colour} (charts.BAND_COLOURS...)."""
    return {fmt.code_label(kind, code): colour for code, colour in colours.items()}


def na_help(help: str | None, reason: str) -> str:
    """A column's help with what 'n/a' means in it."""
    return f"{help or ''} n/a: {reason}".strip()


def views(labels: Sequence[str], *, key: str, default: str | None = None) -> list:
    """Tabs that run only the open view: `for` each returned tab, `if tab.open:` draw it.
    Streamlit reruns the page when another tab is chosen (st.tabs with on_change="rerun");
    the choice is kept in st.session_state[key]."""
    if key in st.session_state and st.session_state[key] not in labels:
        del st.session_state[key]
    # the same `default` on every run: it is part of the widget's identity (a changed
    # default would be a new widget, back on its default tab)
    return list(st.tabs(list(labels), key=key, on_change="rerun",
                        default=default if default in labels else None))


def keep(**defaults: Any) -> None:
    """The choices made in a view keep their value while another view is open: Streamlit
    forgets a widget's value in a run that does not draw it, so a page with views calls
    this first with the keys of its views' widgets and their defaults (create those widgets
    without a default of their own: the value comes from here)."""
    for key, default in defaults.items():
        st.session_state[key] = st.session_state.get(key, default)


def chart(fig: go.Figure, *, key: str, height: int = 360) -> None:
    fig.update_layout(height=height, margin={"l": 10, "r": 10, "t": 40, "b": 10})
    st.plotly_chart(fig, key=f"chart_{key}", config=PLOTLY_CONFIG)


def metric(label: str, value: str, *, help_key: str, delta: str | None = None,
           delta_color: str = "normal", extra_help: str = "",
           width: str | int = "stretch") -> None:
    text = help_for(help_key)
    if extra_help:
        text = f"{text} {extra_help}".strip()
    st.metric(label, value, delta=delta, delta_color=delta_color, help=text or None,
              border=True, width=width)


def metric_row() -> Any:
    """A row of metrics that never cuts a label: `with metric_row():` then
    `metric(..., width="content")` for each; a tile is as wide as its label and value, and
    the row wraps onto a second line on a narrow screen instead of writing 'Revenue target
    comp...'."""
    return st.container(horizontal=True, wrap=True, gap="small")


def empty(what: str, how: str = "") -> None:
    """An empty state: what is missing, and what to load or change to see something."""
    st.info(f"{what} {how}".strip())


NO_INTERACTIONS = (
    "Relationship measures come from logged activities (data/raw/interactions.csv, see "
    "docs/data-contract.md). Load interactions and contacts, then run `rapport build`."
)
FILTERS_TOO_NARROW = "Widen the sidebar filters (region, industry, tier) or pick another quarter."


# -- Build attempts: refused builds, from the build records ----------------------

_STATUS_MARKS = {"passed": "🟢 published", "rolled_back": "🟢 published, rolled back",
                 "running": "⏳ running"}


def status_mark(status: str | None) -> str:
    """A build status for a table: refused builds in red ('🔴 refused: checks failed')."""
    from rapport.serving.builds import REFUSED_STATUSES, STATUS_TEXT

    if status in _STATUS_MARKS:
        return _STATUS_MARKS[status]
    if status in REFUSED_STATUSES:
        return f"🔴 {STATUS_TEXT.get(status, status)}, not published"
    return status or ""


def refused_build(attempt) -> None:
    """One refused build in red: when, why, its failed checks and top quarantine reasons
    (rapport.serving.builds.Attempt)."""
    when = f", finished {fmt.plain(attempt.finished_at)} UTC" if attempt.finished_at else ""
    status = fmt.plain(attempt.status_text)
    lines = [f"**Build {fmt.plain(attempt.build_id)}{when}: :red[{status}]** (not published)."]
    if attempt.summary:
        lines.append(f"Summary: {fmt.plain(attempt.summary)}")
    if attempt.failed_checks:
        lines.append("**Failed checks**\n" + "\n".join(
            f"- {fmt.plain(c.text())}" for c in attempt.failed_checks[:15])
            + (f"\n- … and {len(attempt.failed_checks) - 15} more"
               if len(attempt.failed_checks) > 15 else ""))
    tables = attempt.top_reasons(per_table=5)
    if tables:
        items = []
        for count, reasons in tables:
            name = count.table_name if count else reasons[0].table_name
            head = (f"{fmt.plain(name)}: {count.quarantined_rows:,} of {count.raw_rows:,} rows "
                    f"quarantined ({count.share:.1%})" if count else fmt.plain(name))
            items.append(f"- {head}: " + ", ".join(fmt.plain(r.text()) for r in reasons))
        lines.append("**Quarantine reasons** (rows per table and reason; a row with two "
                     "reasons counts under both)\n" + "\n".join(items))
    elif attempt.kept_file and not attempt.detail_note and attempt.status == "checks_failed":
        lines.append("No row was quarantined.")
    if attempt.detail_note:
        lines.append(fmt.plain(attempt.detail_note))
    if attempt.kept_file:
        lines.append(f"Kept for inspection: `{attempt.kept_file}` in the warehouse folder "
                     "(open it read-only; `rapport build` removes it after three newer "
                     "failed builds).")
    st.error("\n\n".join(lines), icon=":material/error:")


def attempts_frame(attempts) -> pl.DataFrame:
    """Build records as rows shaped like meta.build_history (build_id, status, started_at,
    finished_at, as_of_date, checks_summary)."""
    if not attempts:
        return pl.DataFrame()
    df = pl.DataFrame({
        "build_id": [a.build_id for a in attempts],
        "status": [a.status for a in attempts],
        "started_at": [a.started_at for a in attempts],
        "finished_at": [a.finished_at for a in attempts],
        "as_of_date": [a.as_of_date for a in attempts],
        "checks_summary": [a.summary for a in attempts],
    }, schema={c: pl.String for c in ("build_id", "status", "started_at", "finished_at",
                                      "as_of_date", "checks_summary")})
    return df.with_columns(
        pl.col("started_at").str.to_datetime("%Y-%m-%d %H:%M:%S", strict=False),
        pl.col("finished_at").str.to_datetime("%Y-%m-%d %H:%M:%S", strict=False),
        pl.col("as_of_date").str.to_date("%Y-%m-%d", strict=False),
    )


# -- Coverage: what the build's data has and what it lacks -----------------------

def coverage_line(cov: pl.DataFrame, layers) -> tuple[str, str]:
    """(line, help): 'This build has: accounts, opportunities, reps · missing: contacts, deal
    contacts · not available: power map, relationship health (see docs/import.md)', tables
    named by their labels (fmt.table_label), and a help naming each label's table
    ('Deal contacts: opportunity_contacts.csv'). ('', '') when the warehouse records no
    coverage (built before coverage was recorded)."""
    from rapport.serving.queries.coverage import tables_present

    has, missing = tables_present(cov)
    if not has and not missing:
        return "", ""
    missing = _first(missing, _FIRST_TABLES)

    def named(tables: list[str]) -> list[str]:
        return [fmt.table_label(t).lower() for t in tables]

    text = "This build has: " + _some(sorted(named(has)), 8)
    if missing:
        text += " · missing: " + _some(named(missing), 6)
    off = [fmt.label(name).lower() for name in
           _first([layer.name for layer in layers.unavailable()], _FIRST_LAYERS)]
    if off:
        text += " · not available: " + _some(off, 6) + " (see docs/import.md)"
    help_text = "The input tables (one file each in data/raw) by label: " + "; ".join(
        f"{fmt.plain(fmt.table_label(t))}: {fmt.plain(t)}.csv"
        + ("" if t in has else " (missing)")
        for t in sorted({*has, *missing}, key=fmt.table_label)) + "."
    return text, help_text


# what a reader misses most, named first in the coverage line
_FIRST_TABLES = ("contacts", "interactions", "opportunity_contacts", "contact_assessments",
                 "targets")
_FIRST_LAYERS = ("relationship_health", "power_map", "profit", "key_actions", "activities",
                 "targets")
# the layers some page shows (meta.layers): one of them unavailable is worth a look
PAGE_LAYERS = (*_FIRST_LAYERS, "revenue", "cash", "deal_power_map")


def _first(names: list[str], first: tuple[str, ...]) -> list[str]:
    rank = {n: i for i, n in enumerate(first)}
    return sorted(names, key=lambda n: (rank.get(n, len(first)), n))


def _some(names: list[str], most: int) -> str:
    """'a, b, c' or 'a, b, c and 4 more' (escaped for markdown)."""
    shown = ", ".join(fmt.plain(n) for n in names[:most])
    return shown + (f" and {len(names) - most} more" if len(names) > most else "")


def layer_missing(layer, what: str) -> None:
    """The empty state of a metric whose inputs the build did not get."""
    st.info(layer_text(layer, what), icon=":material/info:")


def layer_text(layer, what: str) -> str:
    """'Relationship health needs interactions and contacts: see docs/import.md.' (+ why)."""
    needs = fmt.plain(layer.needs) if layer.needs else "input tables this build did not get"
    text = f"{what} needs {needs}: see docs/import.md."
    if layer.reason:
        text += f" ({fmt.plain(layer.reason.rstrip('.'))}.)"
    return text


def nothing_served(missing) -> None:
    """The Data quality page when nothing is served (a WarehouseMissing): the latest build
    attempts from the build records, every refused one in red with its failed checks and
    quarantine reasons, and their history. app.py calls it in place of the page (see
    docs/dashboard.md, "Refused builds")."""
    from rapport.serving.builds import attempts as read_attempts

    folder = getattr(missing, "builds_folder", None)
    found = read_attempts(folder, limit=20, details_for=3) if folder else []
    if not found:
        st.warning(missing.user_message)
        return
    st.error("**Nothing is served yet**: no build has been published. The builds below were "
             "attempted, newest first; fix what the refused ones say and run `rapport build` "
             "again.")
    for attempt in found:
        if attempt.refused:
            refused_build(attempt)
    history = attempts_frame(found).with_columns(
        pl.col("status").map_elements(status_mark, return_dtype=pl.String).alias("outcome"))
    st.markdown("#### Build history")
    st.dataframe(history, hide_index=True, column_order=[
        "outcome", "build_id", "started_at", "finished_at", "as_of_date", "checks_summary"])

"""Overview (sales leadership): results of the quarter, health bands, tiers, and the alerts
as a worklist (every alert, by type, most severe first, paged, each row opening its
account)."""

from functools import partial

import plotly.graph_objects as go
import polars as pl
import streamlit as st
from ui import fmt
from ui.charts import BAND_COLOURS, TIER_COLOURS, bars, legend_below
from ui.context import current, open_account
from ui.helptext import help_for
from ui.widgets import (
    FILTERS_TOO_NARROW,
    NO_INTERACTIONS,
    bar_max,
    chart,
    coverage_line,
    empty,
    export_csv,
    first_page,
    layer_missing,
    layer_text,
    metric,
    metric_row,
    money_column,
    na_help,
    open_cell,
    pager,
    percent_bar_column,
    percent_column,
    safe_file_name,
    table,
    table_page,
)

from rapport.serving import Reader, WarehouseChanged
from rapport.serving import queries as q
from rapport.serving.queries.overview import ALERT_SEVERITY, SEVERITIES

# Alert worklist state, in this page's own session keys
ALERTS, ALERTS_TYPE = "alerts", "alerts_type"  # the paged table, the type chosen
PAGE_SIZES = (25, 50, 100)
_OPENING = "_alerts_opening"  # (page, account id) set by a row's open button

YEAR_AGO_HELP = ("Growth on the same quarter one year earlier: revenue / revenue a year back "
                 "- 1, over the regions whose quarter a year back is whole (a region without "
                 "it counts in neither). n/a when no region in view has one.")
RESULT_COLOURS = {"Revenue": "#1565c0", "Profit": "#2e7d32"}

# Charts or tables: the three sections below the tiles (results by quarter, health bands,
# tiers) show tables with bars in their cells unless "Show charts" is on. A plotly chart
# in the page makes every element of a fresh session wait for Streamlit's plotly chunk
# (4.7 MB, ~1 s of the browser's main thread): the default view has none, so a first load
# shows in about half the time. The choice is kept for the session (CHARTS_KEPT: a
# widget's own state is dropped on another page) and in the URL (?charts=1), so the chart
# view can be bookmarked.
CHARTS, CHARTS_KEPT, CHARTS_PARAM = "overview_charts", "_overview_charts_kept", "charts"
CHARTS_ON = ("1", "true", "yes", "on")


def _trend_figure(trend: pl.DataFrame, profit_ok: bool, targets_ok: bool) -> go.Figure:
    """Revenue and profit per quarter as bars, their targets as dashed lines."""
    labels = [fmt.quarter_label(y, qu) for y, qu in zip(trend["year"], trend["quarter"])]
    measures = [("Revenue", "revenue")] + ([("Profit", "profit")] if profit_ok else [])
    long = pl.concat(
        pl.DataFrame({"quarter_label": labels, "measure": name,
                      "value": trend[column].cast(pl.Float64)})
        for name, column in measures)
    fig = bars(long, "quarter_label", "value", color="measure", barmode="group",
               colours=RESULT_COLOURS, x_order=labels, y_title=fmt.money_header("Amount"),
               title="Results against target by quarter")
    if targets_ok:
        for name, column in measures:
            completion = trend[f"{column}_target_completion"].to_list()
            fig.add_trace(go.Scatter(
                x=labels, y=trend[f"{column}_target"].to_list(), mode="lines+markers",
                name=f"{name} target", line={"color": RESULT_COLOURS[name], "dash": "dash",
                                             "width": 2},
                marker={"size": 6, "symbol": "line-ew-open"},
                customdata=[fmt.pct(c) for c in completion],
                hovertemplate=f"{name} target: %{{y:,.0f}}<br>completion: %{{customdata}}"
                              "<extra></extra>"))
    fig.update_layout(margin={"t": 40, "b": 10}, title_font_size=14)
    return legend_below(fig)


def _trend_table(trend: pl.DataFrame, profit_ok: bool, targets_ok: bool) -> None:
    """The numbers of _trend_figure as a table: per quarter, revenue, its target and the
    completion as a bar, then the same for profit (a layer that is unavailable: no
    columns; a quarter without a target in view: n/a)."""
    st.markdown("**Results against target by quarter**")
    rows = trend.with_columns(
        pl.Series("quarter_label", [fmt.quarter_label(y, qu) for y, qu
                                    in zip(trend["year"], trend["quarter"])], dtype=pl.String))
    measures = ["revenue"] + (["profit"] if profit_ok else [])
    columns = ["quarter_label"]
    for m in measures:
        columns += [m] + ([f"{m}_target", f"{m}_target_completion"] if targets_ok else [])
    rows = fmt.as_percent(rows.select(columns),
                          *(f"{m}_target_completion" for m in measures))
    ends = {m: bar_max(rows, f"{m}_target_completion_pct") for m in measures}
    rows = fmt.readable(rows, formats={
        **{c: fmt.money for m in measures for c in (m, f"{m}_target")},
        **{f"{m}_target_completion_pct": fmt.pct_points for m in measures}})
    names = {"revenue": "Revenue", "profit": "Profit"}
    config: dict = {"quarter_label": st.column_config.TextColumn("Quarter")}
    for m in measures:
        config[m] = money_column(names[m], help=help_for(m))
        config[f"{m}_target"] = money_column(
            f"{names[m]} target", help=na_help(help_for(f"{m}_target") or None,
                                               "no region in view has a target"))
        config[f"{m}_target_completion_pct"] = percent_bar_column(
            f"{names[m]} vs target", max_value=ends[m],
            color=RESULT_COLOURS[names[m]],
            help=na_help(help_for(f"{m}_target_completion"), "no region in view has a "
                                                             f"{m} target"))
    table(rows, key="results_by_quarter", file_name="results_by_quarter",
          column_config=config)


def _region_table(split: pl.DataFrame, profit_ok: bool, targets_ok: bool,
                  quarter: str) -> None:
    """The chosen quarter per region in view: revenue, growth on a year back, profit, per
    head, target completion."""
    st.markdown(f"**By region, {quarter}**")
    if split.is_empty():
        empty("No region results for this quarter.", FILTERS_TOO_NARROW)
        return
    dropped = ([] if profit_ok else ["profit", "profit_per_head", "profit_target_completion"]) \
        + ([] if targets_ok else ["revenue_target_completion", "profit_target_completion"])
    rows = split.drop([c for c in dropped if c in split.columns])
    shares = ("revenue_vs_year_ago", "revenue_target_completion", "profit_target_completion")
    rows = fmt.readable(fmt.as_percent(rows, *shares), keep=("region_id",), formats={
        "revenue": fmt.money, "profit": fmt.money, "revenue_per_head": fmt.money,
        "profit_per_head": fmt.money, **{f"{c}_pct": fmt.pct_points for c in shares}})
    table(rows, key="region_split", file_name="results_by_region", hide=("region_id",),
          column_config={
              "region_name": st.column_config.TextColumn("Region"),
              "revenue": money_column("Revenue", help=help_for("revenue")),
              "revenue_vs_year_ago_pct": percent_column(
                  "vs a year ago", help=na_help(YEAR_AGO_HELP, "no whole quarter a year back")),
              "profit": money_column("Profit", help=help_for("profit")),
              "revenue_per_head": money_column("Revenue/head",
                                               help=help_for("revenue_per_head")),
              "profit_per_head": money_column("Profit/head",
                                              help=help_for("profit_per_head")),
              "revenue_target_completion_pct": percent_column(
                  "Revenue vs target", help=na_help(help_for("revenue_target_completion"),
                                                 "no revenue target for the region")),
              "profit_target_completion_pct": percent_column(
                  "Profit vs target", help=na_help(help_for("profit_target_completion"),
                                                   "no profit target for the region")),
          })


ctx = current()
opening = st.session_state.pop(_OPENING, None)
if opening:  # a row's "Power map" or "Health" button was clicked: go there first
    open_account(*opening)
reader, scope, f = ctx.reader, ctx.scope, ctx.filters

st.title("Overview")
if f.year is None:
    empty("The warehouse has no quarters with results or tiers yet.",
          "Load opportunities and accounts (data/raw), then run `rapport build`.")
    st.stop()

prev_year, prev_quarter = q.previous_quarter(f.year, f.quarter)
st.caption(
    f"{fmt.quarter_label(f.year, f.quarter)} against {fmt.quarter_label(prev_year, prev_quarter)}"
    f" · {fmt.plain(ctx.regions_label())} · data as of {fmt.date(ctx.build.get('as_of_date'))}"
    f" · built {fmt.date(ctx.build.get('built_at') or ctx.build.get('finished_at'))}"
)
layers = q.layers(reader, scope)
covered, covered_help = coverage_line(q.coverage(reader, scope), layers)
if covered:
    st.caption(covered, help=covered_help)

# -- Business results ---------------------------------------------------------------------
now = q.kpis(reader, scope, f, f.year, f.quarter)
before = q.kpis(reader, scope, f, prev_year, prev_quarter)
cur = now.row(0, named=True) if now.height else {}
old = before.row(0, named=True) if before.height else {}

def _charts_changed() -> None:
    """The toggle moved: keep the choice for the session and say it in the URL."""
    st.session_state[CHARTS_KEPT] = bool(st.session_state[CHARTS])
    if st.session_state[CHARTS_KEPT]:
        st.query_params[CHARTS_PARAM] = "1"
    elif CHARTS_PARAM in st.query_params:
        del st.query_params[CHARTS_PARAM]


asked = st.query_params.get(CHARTS_PARAM)
if asked is not None:  # a bookmarked link (?charts=1) decides
    st.session_state[CHARTS_KEPT] = asked.strip().lower() in CHARTS_ON
st.session_state[CHARTS] = st.session_state.get(CHARTS_KEPT, False)
heading, switch = st.columns([4, 1], vertical_alignment="bottom")
heading.subheader("Business results")
show_charts = switch.toggle(
    "Show charts", key=CHARTS, on_change=_charts_changed,
    help="Draw the results by quarter, the health bands and the tiers as charts instead of "
         "tables (the same numbers). Off by default: the page opens faster without charts. "
         "The choice is kept for the session and in the link (?charts=1).")
if show_charts and st.query_params.get(CHARTS_PARAM) != "1":
    st.query_params[CHARTS_PARAM] = "1"  # back on the page: the link says the chart view
if not cur:
    empty(f"No rep results for {fmt.quarter_label(f.year, f.quarter)} in the selected regions.",
          "Results come from won opportunities and reps (data/raw/opportunities.csv, reps.csv).")
else:
    if f.industries or f.tiers:
        st.caption("Industry and tier filters do not apply to results: revenue is credited "
                   "to reps, who sell across industries and tiers.")
    tiles = metric_row()  # labels never cut: each tile as wide as its label
    with tiles:
        metric("Revenue", fmt.money(cur["revenue"]), help_key="revenue",
               delta=fmt.delta_ratio(cur["revenue"], old.get("revenue")),
               extra_help=help_for("vs_previous"), width="content")
    profit_ok = layers.available("profit")
    no_profit = "" if profit_ok else layer_text(layers.get("profit"), "Profit")
    with tiles:
        metric("Profit", fmt.money(cur["profit"]) if profit_ok else fmt.NOT_AVAILABLE,
               help_key="profit",
               delta=fmt.delta_ratio(cur["profit"], old.get("profit")) if profit_ok else None,
               extra_help=no_profit or help_for("vs_previous"), width="content")
    with tiles:
        metric("Revenue per head", fmt.money(cur["revenue_per_head"]),
               help_key="revenue_per_head",
               delta=fmt.delta_ratio(cur["revenue_per_head"], old.get("revenue_per_head")),
               extra_help=help_for("vs_previous"), width="content")
    with tiles:
        metric("Profit per head",
               fmt.money(cur["profit_per_head"]) if profit_ok else fmt.NOT_AVAILABLE,
               help_key="profit_per_head",
               delta=fmt.delta_ratio(cur["profit_per_head"], old.get("profit_per_head"))
               if profit_ok else None,
               extra_help=no_profit or help_for("vs_previous"), width="content")
    targets_ok, cash_ok = layers.available("targets"), layers.available("cash")
    no_targets = "" if targets_ok else layer_text(layers.get("targets"), "Target completion")
    no_cash = "" if cash_ok else layer_text(layers.get("cash"), "Cash collected")
    with tiles:
        metric("Revenue target completion",
               fmt.pct(cur["revenue_target_completion"]) if targets_ok
               else fmt.NOT_AVAILABLE,
               help_key="revenue_target_completion",
               delta=fmt.delta_points(cur["revenue_target_completion"],
                                      old.get("revenue_target_completion")),
               extra_help=no_targets or help_for("vs_previous"), width="content")
    with tiles:
        metric("Profit target completion",
               fmt.pct(cur["profit_target_completion"]) if profit_ok and targets_ok
               else fmt.NOT_AVAILABLE,
               help_key="profit_target_completion",
               delta=fmt.delta_points(cur["profit_target_completion"],
                                      old.get("profit_target_completion")),
               extra_help=no_profit or no_targets or help_for("vs_previous"), width="content")
    with tiles:
        metric("Revenue target",
               fmt.money(cur["revenue_target"]) if targets_ok else fmt.NOT_AVAILABLE,
               help_key="revenue_target", extra_help=no_targets, width="content")
    with tiles:
        metric("Cash collected",
               fmt.money(cur["cash_collected"]) if cash_ok else fmt.NOT_AVAILABLE,
               help_key="cash_collected",
               delta=fmt.delta_ratio(cur["cash_collected"], old.get("cash_collected"))
               if cash_ok else None,
               extra_help=no_cash or help_for("vs_previous"), width="content")
    for note in (no_profit, no_targets, no_cash):
        if note:
            st.caption(note)

    # The same quarter a year back, beside the previous quarter of the tiles' deltas
    year_ago = fmt.quarter_label(f.year - 1, f.quarter)
    revenue_yoy = fmt.delta_ratio(cur["revenue_year_ago_base"], cur["revenue_prior_year"])
    if revenue_yoy is None:
        st.caption(f"vs {year_ago} (same quarter last year): {fmt.NA}: no data a year "
                   "back.", help=YEAR_AGO_HELP)
    else:
        profit_yoy = (fmt.delta_ratio(cur["profit_year_ago_base"], cur["profit_prior_year"])
                      if profit_ok else None)
        st.caption(f"vs {year_ago} (same quarter last year): revenue {revenue_yoy}, profit "
                   f"{profit_yoy or fmt.NA}", help=YEAR_AGO_HELP)

    # -- Against target by quarter, and by region ---------------------------------------
    trend = q.kpis_by_quarter(reader, scope, f, f.year, f.quarter)
    if show_charts:
        chart(_trend_figure(trend, profit_ok, targets_ok), key="results_by_quarter",
              height=300)
    else:
        _trend_table(trend, profit_ok, targets_ok)
    if targets_ok:
        st.caption(("Bars: actual; dashed lines: target" if show_charts else
                    "Vs target: actual / target")
                   + " (the sum of the targets set; regions without a target add revenue "
                   "but no target).")
    split = q.region_split(reader, scope, f, f.year, f.quarter)
    _region_table(split, profit_ok, targets_ok, fmt.quarter_label(f.year, f.quarter))

# -- Health bands and tiers ---------------------------------------------------------------
left, right = st.columns(2)
with left:
    st.subheader("Relationship health", help=help_for("health_band"))
    month_end = q.latest_month_end(reader, scope, ctx.quarter_end) if ctx.quarter_end else None
    bands = q.health_bands(reader, scope, f, month_end) if month_end else None
    if not layers.available("relationship_health"):
        layer_missing(layers.get("relationship_health"), "Relationship health")
    elif bands is None or bands.is_empty():
        if not q.interactions_loaded(reader, scope):
            empty("No interactions in the warehouse, so there is no relationship health.",
                  NO_INTERACTIONS)
        else:
            empty("No relationship-health snapshot for the accounts in view.", FILTERS_TOO_NARROW)
    elif show_charts:
        fig = bars(bands, "health_band", "accounts", color="health_band",
                   order=list(q.HEALTH_BANDS), colours=BAND_COLOURS, text=True,
                   title=f"Accounts per health band, {fmt.date(month_end)}",
                   x_title="Band", y_title="Accounts")
        fig.update_layout(showlegend=False)
        chart(fig, key="health_bands", height=300)
        with st.expander("Health band table"):
            table(fmt.readable(fmt.as_percent(bands, "share")), key="health_bands",
                  file_name="health_bands",
                  column_config={"share_pct": percent_column("Share")})
    else:
        st.markdown(f"**Accounts per health band, {fmt.date(month_end)}**")
        table(fmt.readable(fmt.as_percent(bands, "share")), key="health_bands",
              file_name="health_bands", column_config={
                  "health_band": st.column_config.TextColumn("Band",
                                                             help=help_for("health_band")),
                  "accounts": st.column_config.NumberColumn("Accounts"),
                  "share_pct": percent_bar_column("Share", help="The band's accounts / "
                                                  "the accounts in view with a health."),
              })
with right:
    st.subheader("Account tiers", help=help_for("tier"))
    tiers = q.tier_counts(reader, scope, f)
    if tiers.is_empty():
        empty(f"No account tiers for {fmt.quarter_label(f.year, f.quarter)}.",
              "Tiers need accounts and won opportunities; " + FILTERS_TOO_NARROW)
    else:
        tier_rows = fmt.readable(fmt.as_percent(tiers, "revenue_share"),
                                 formats={"revenue_ttm": fmt.money})
        tier_config = {
            "tier": st.column_config.TextColumn("Tier", help=help_for("tier")),
            "accounts": st.column_config.NumberColumn("Accounts"),
            "revenue_ttm": money_column("Revenue 12m", help=help_for("revenue_ttm")),
            "revenue_share_pct": percent_column("Revenue share",
                                                help=help_for("revenue_share")),
        }
        quarter_text = fmt.quarter_label(f.year, f.quarter)
        if show_charts:
            fig = bars(tiers, "tier", "accounts", color="tier", order=list(q.TIERS),
                       colours=TIER_COLOURS, text=True, x_title="Tier", y_title="Accounts",
                       title=f"Accounts per tier, {quarter_text}")
            fig.update_layout(showlegend=False)
            chart(fig, key="tier_counts", height=300)
            with st.expander("Tier table"):
                table(tier_rows, key="tier_counts", file_name="tier_counts",
                      column_config=tier_config)
        else:
            st.markdown(f"**Accounts per tier, {quarter_text}**")
            tier_config["revenue_share_pct"] = percent_bar_column(
                "Revenue share", help=help_for("revenue_share"))
            table(tier_rows, key="tier_counts", file_name="tier_counts",
                  column_config=tier_config)

# -- Alerts: the worklist -----------------------------------------------------------------
SEVERITY_COLOURS = {"high": "red", "medium": "orange", "low": "gray"}  # markdown colours
# The count cards: buttons drawn as cards (a big count over a label that may wrap), this
# page's own CSS, scoped to the container `alert_cards`.
CARD_CSS = """<style>
.st-key-alert_cards button { min-height: 5.4rem; align-items: flex-start; padding-top: .5rem; }
.st-key-alert_cards button [data-testid="stMarkdownContainer"],
.st-key-alert_cards button [data-testid="stMarkdownContainer"] p {
    white-space: normal; overflow: visible; text-overflow: clip; line-height: 1.3;
}
.st-key-alert_cards button strong { font-size: 1.45rem; font-weight: 600; }
</style>"""
ALL = "all"  # the card of every alert type


def _type_label(code: str, *, short: bool = False) -> str:
    """The label of an alert type; a code this app does not know is data: plain text."""
    text = fmt.alert_label(code, short=short)
    return text if code in fmt.ALERT_LABELS else fmt.plain(text)


def _choose_type(code: str) -> None:
    st.session_state[ALERTS_TYPE] = code
    first_page(ALERTS)


# A row's open actions: cells of their own ("Power map ›", "Health ›"); a click selects
# the cell, and the callback notes where to go: the next run switches there first (a widget
# callback cannot switch pages).
OPEN_ACTIONS = {"open_map": "power_map", "open_health": "health"}


def _open_row(account_ids: tuple[str, ...]) -> None:
    opened = open_cell("table_alerts", OPEN_ACTIONS, account_ids)
    if opened:
        st.session_state[_OPENING] = opened


def _readable(alerts: pl.DataFrame, *, short: bool = False) -> pl.DataFrame:
    """Alert rows as the table (short labels, as on the cards) and the CSV show them."""
    labels = fmt.ALERT_SHORT_LABELS if short else fmt.ALERT_LABELS
    return alerts.with_columns(
        pl.col("severity").str.to_titlecase(),
        pl.col("alert_type").replace_strict(labels, default=pl.col("alert_type")),
        pl.col("contact_name").fill_null("(whole account)"),
        pl.col("decision_role").fill_null(""),
    )


def _all_alerts_csv(identity, scope, f, alert_type, who: str, file_name: str) -> bytes:
    """Every alert of the filter (not only the page shown), made when Download is clicked,
    from the same warehouse file the page was drawn from."""
    with Reader(identity.path) as fresh:
        if fresh.identity != identity:
            raise WarehouseChanged()
        rows = _readable(q.alerts(fresh, scope, f, alert_type=alert_type, limit=None))
    return export_csv(rows, file_name, who, scope.cache_key())


# plain words (no colour directive in text that also carries data)
severity_text = "; ".join(
    f"{level}: "
    + ", ".join(fmt.alert_label(t, short=True) for t in q.ALERT_TYPES
                if ALERT_SEVERITY[t] == level)
    for level in SEVERITIES)
as_of = ctx.build.get("as_of_date")
st.subheader("Alerts", help=(
    "Every alert on the accounts in view, most urgent first: by severity (" + severity_text
    + "), then by tier (S, A, B, C, no tier), then by account. Click a count to list only "
    "that type; a row's “Power map ›” or “Health ›” opens its account there."))
st.caption(
    f"**As of {fmt.date(as_of)}** (the build's as-of date): alerts describe the accounts' "
    f"current state, not {fmt.quarter_label(f.year, f.quarter)}. Region and industry filters "
    "apply; the tier filter applies to the account's current tier. Most urgent first: "
    f"severity ({severity_text}), then tier S to C, then account.")
counts = q.alert_counts(reader, scope, f)
contacts_ok = layers.available("power_map")
if not contacts_ok:
    st.caption("Contact alerts (no approver, no coach on an S/A account) are not raised for "
               "this build: " + layer_text(layers.get("power_map"), "the power map"))
if counts.is_empty() and not contacts_ok:
    pass  # said above: the alerts need contacts
elif counts.is_empty():
    empty("No alerts on the accounts in view.",
          "Alerts come from the power map (contacts' roles and assessments) and activity "
          "concentration; none fired, or " + FILTERS_TOO_NARROW.lower())
else:
    per_type = {r["alert_type"]: r for r in counts.iter_rows(named=True)}
    total = int(counts["alerts"].sum())
    if st.session_state.get(ALERTS_TYPE, ALL) not in (ALL, *per_type):
        _choose_type(ALL)  # the chosen type has no alert under the new filters
    chosen = st.session_state.get(ALERTS_TYPE, ALL)

    # The count cards: each a button that lists only its type ("All alerts": every type).
    st.html(CARD_CSS)
    with st.container(key="alert_cards"):
        cards = [(ALL, "All alerts", "", total, int(counts["accounts"].sum()))] + [
            (code, _type_label(code, short=True), SEVERITY_COLOURS.get(r["severity"], ""),
             r["alerts"], r["accounts"]) for code, r in per_type.items()]
        for col, (code, short, colour, n, accounts) in zip(st.columns(len(cards)), cards):
            what = ("alerts of every type" if code == ALL
                    else f"{_type_label(code)}, {ALERT_SEVERITY.get(code, SEVERITIES[-1])} "
                         "severity")
            number = f"**{fmt.count(n)}**"
            if colour and code != chosen:  # on the chosen (filled) card, the text is white
                number = f":{colour}[{number}]"
            col.button(
                f"{number}  \n{short}", key=f"alert_card_{code}",
                type="primary" if code == chosen else "secondary", width="stretch",
                on_click=_choose_type, args=(code,),
                help=f"{what}: {n} alert(s) on {accounts} account(s)"
                     + (". Click to list them." if code != chosen else ", listed below."))

    shown_total = total if chosen == ALL else int(per_type[chosen]["alerts"])
    page = table_page(ALERTS, shown_total, PAGE_SIZES)
    first, size, page_no, pages = page.first, page.size, page.number, page.pages
    kind = None if chosen == ALL else chosen
    rows = _readable(q.alerts(reader, scope, f, alert_type=kind, limit=size, offset=first),
                     short=True)
    account_ids = tuple(rows["account_id"].to_list())
    rows_text = (f"Rows {first + 1}–{first + rows.height} of {fmt.count(shown_total)} "
                 + ("alerts" if chosen == ALL else f"“{_type_label(chosen)}” alerts"))
    st.caption(rows_text + (f" · page {page_no} of {pages}" if pages > 1 else ""))

    # Each row opens its account: Power map (two clicks from a card: the card, then the
    # row's button) and Relationship health's drill-down, for the pages the role may open.
    opens: dict = {}
    if ctx.may_open("power_map"):
        rows = rows.with_columns(pl.lit("Power map ›").alias("open_map"))
        opens["open_map"] = st.column_config.TextColumn(
            "Open", width=90, help="Click a row's “Power map ›” to open the Power map of "
                                   "its account.")
    if ctx.may_open("health"):
        rows = rows.with_columns(pl.lit("Health ›").alias("open_health"))
        opens["open_health"] = st.column_config.TextColumn(
            "Open", width=70, help="Click a row's “Health ›” to open Relationship health "
                                   "with the row's account in its Account drill-down.")
    shown_cols = ["severity", "alert_type", "tier", "account_name", *opens, "contact_name",
                  "decision_role", "detail", "region_name", "industry", "contact_title"]
    # codes as labels (roles, industries), a gap as 'n/a' with its reason in the help
    rows = fmt.readable(rows.with_columns(pl.col("tier").fill_null("no tier"),
                                          pl.col("decision_role").replace("", None)),
                        keep=[c for c in rows.columns
                              if c not in shown_cols or c == "alert_type"])
    st.dataframe(
        rows, hide_index=True, key="table_alerts",
        on_select=partial(_open_row, account_ids), selection_mode="single-cell",
        height=min(rows.height, 25) * 35 + 38,
        column_order=shown_cols,
        column_config={
            "severity": st.column_config.TextColumn(
                "Severity", width=66,
                help="High: a deal can be lost now; medium: a relationship is slipping; "
                     "low: a gap to plan for."),
            "alert_type": st.column_config.TextColumn("Alert", width=130),
            "tier": st.column_config.TextColumn("Tier", width=40, help=help_for("tier")),
            "account_name": st.column_config.TextColumn("Account", width=170),
            "contact_name": st.column_config.TextColumn("Contact", width=120),
            "decision_role": st.column_config.TextColumn(
                "Role", width=95, help=na_help("The contact's decision role.",
                                                "no role recorded, or an account alert")),
            "detail": st.column_config.TextColumn("Detail", width=300),
            "region_name": "Region", "industry": "Industry",
            "contact_title": st.column_config.TextColumn(
                "Title", help=na_help(None, "no title recorded, or an account alert")),
            **opens,
        })

    download_column = pager(ALERTS, page, rows_text, PAGE_SIZES)
    file_name = safe_file_name(
        f"alerts_{'all' if chosen == ALL else chosen}_as_of_{as_of or 'build'}")
    download_column.download_button(
        f"Download all {fmt.count(shown_total)} alerts (CSV)",
        data=lambda: _all_alerts_csv(reader.identity, scope, f, kind, ctx.viewer_email,
                                     file_name),
        file_name=f"{file_name}.csv", mime="text/csv", key="download_alerts",
        on_click="ignore", width="stretch",
        help="Every alert of the list (all its pages), with the account and contact ids.")

"""Relationship health: key / general / org parts and health per account, with trends and a
drill-down into one account's contacts and activities behind each part.

One view at a time (ui.widgets.views): only the open view's queries run."""

import datetime as dt
from functools import partial

import polars as pl
import streamlit as st
from ui import fmt
from ui.charts import BAND_COLOURS, PART_COLOURS, WARM_UP_NOTE, lines, mark_warm_up
from ui.context import ACCOUNT_PARAM, HEALTH_FOCUS, current, open_account
from ui.fmt import labeller
from ui.helptext import HEALTH_FORMULA, help_for
from ui.widgets import (
    FILTERS_TOO_NARROW,
    NO_INTERACTIONS,
    account_finder,
    account_list_note,
    chart,
    coded_tags,
    csv_frame,
    empty,
    export_csv,
    find_text,
    keep,
    layer_missing,
    metric,
    na_help,
    nothing_found,
    open_cell,
    pager,
    percent_column,
    safe_file_name,
    score_column,
    table,
    table_page,
    tag_column,
    views,
)

from rapport.serving import Reader, WarehouseChanged
from rapport.serving import queries as q

# A row's "Power map" button (Accounts view) was clicked: go there first (a widget callback
# cannot switch pages).
_OPENING = "_health_opening"
ctx = current()
opening = st.session_state.pop(_OPENING, None)
if opening:
    open_account("power_map", opening)
reader, scope, f = ctx.reader, ctx.scope, ctx.filters

st.title("Relationship health")
layers = q.layers(reader, scope)
if not layers.available("relationship_health"):
    layer_missing(layers.get("relationship_health"), "Relationship health")
    st.stop()
if not q.interactions_loaded(reader, scope):
    empty("No interactions in the warehouse: relationship health cannot be measured.",
          NO_INTERACTIONS)
    st.stop()
month_end = q.latest_month_end(reader, scope, ctx.quarter_end or dt.date.max)
if month_end is None:
    empty("No relationship-health snapshots yet.", NO_INTERACTIONS)
    st.stop()
of_quarter = f" (last of {fmt.quarter_label(f.year, f.quarter)})" if f.year else ""
st.caption(f"Month-end {fmt.date(month_end)}{of_quarter} · {fmt.plain(ctx.regions_label())} · "
           f"health = {HEALTH_FORMULA}")

SORT_LABELS = {
    "health": "Health", "key": "Key part", "general": "General part", "org": "Org part",
    "change_1m": "Change vs last month", "change_3m": "Change vs 3 months ago",
    "concentration": "Concentration on one rep", "account": "Account name",
}
PARTS = {"health_score": "Health", "key_score": "Key", "general_score": "General",
         "org_score": "Org"}
CHANGE_NA = "no snapshot that many months before (the account's first months)"
HEALTH_COLUMNS = {
    "account_name": st.column_config.TextColumn("Account", width=150),
    "region_name": "Region", "industry": "Industry",
    "tier": st.column_config.TextColumn("Tier", help=help_for("tier"), width=40),
    "health_score": score_column("Health", help=help_for("health_score"),
                                 color=PART_COLOURS["Health"], width=80),
    "health_band": tag_column("Band", coded_tags("health_band", BAND_COLOURS),
                              help=help_for("health_band"), width=105),
    "key_score": score_column("Key", help=help_for("key_score"), color=PART_COLOURS["Key"],
                              width=75),
    "general_score": score_column("General", help=help_for("general_score"),
                                  color=PART_COLOURS["General"], width=75),
    "org_score": score_column("Org", help=help_for("org_score"), color=PART_COLOURS["Org"],
                              width=75),
    "health_change_1m": st.column_config.NumberColumn(
        "Δ 1m", format="%+.1f", width=55,
        help=na_help(help_for("health_change_1m"), CHANGE_NA)),
    "health_change_3m": st.column_config.NumberColumn(
        "Δ 3m", format="%+.1f", width=55,
        help=na_help(help_for("health_change_3m"), CHANGE_NA)),
    "health_trend": st.column_config.LineChartColumn(
        "Trend 12m", help=help_for("health_trend"), color=PART_COLOURS["Health"], width=85),
    "breadth_pct": percent_column("Breadth", help=help_for("breadth")),
    "department_coverage_pct": percent_column("Departments",
                                              help=help_for("department_coverage")),
    "level_coverage_pct": percent_column("Levels", help=help_for("level_coverage")),
    "org_level": st.column_config.NumberColumn("Org level", help=help_for("org_level")),
    "has_exec_visit_12m": st.column_config.CheckboxColumn("Exec visit 12m"),
    "top_rep_share_pct": percent_column("Top rep share", help=help_for("top_rep_share")),
    "rep_hhi": st.column_config.NumberColumn("Rep HHI", format="%.2f", help=help_for("rep_hhi")),
    "is_privately_held": st.column_config.CheckboxColumn(
        "Privately held", help=help_for("is_privately_held")),
}
# The accounts table fits a 1280-pixel screen: the account, its tier, health and band, then
# one group of columns at a time (the CSV has them all).
FIRST = ["account_name", "tier", "health_score", "health_band"]
COLUMN_GROUPS = {
    "Parts and trend": ["health_change_1m", "health_change_3m", "health_trend", "key_score",
                        "general_score", "org_score"],
    "Coverage": ["breadth_pct", "department_coverage_pct", "level_coverage_pct", "org_level",
                 "has_exec_visit_12m"],
    "Concentration": ["top_rep_share_pct", "rep_hhi", "is_privately_held"],
    "Region and industry": ["region_name", "industry"],
}


def attitude_labels(frame: pl.DataFrame) -> pl.DataFrame:
    """current_attitude as its words ('1 supports'); never assessed: n/a (fmt.readable)."""
    return frame.with_columns(pl.col("current_attitude").replace_strict(
        fmt.ATTITUDE_LABELS, default=None, return_dtype=pl.String))


def part_lines(frame: pl.DataFrame, value_name: str) -> pl.DataFrame:
    """The four scores per month-end as rows (measure = Health, Key, General, Org)."""
    return frame.unpivot(index="month_end_date", on=list(PARTS), variable_name="measure",
                         value_name=value_name).with_columns(
        pl.col("measure").replace_strict(PARTS))


ACCOUNTS, DRILL = "Accounts", "Account drill-down"

# An account asked for in the URL (`?account=<id>`: a shared link, or a row opened on the
# Overview) opens the drill-down on it, once per new id; it is checked against the viewer's
# scope first, as on the Power map: an id outside it, or unknown, reads "not found" and
# shows no data. HEALTH_ASKED: the last id this page took from the URL.
HEALTH_ASKED, HEALTH_LINKED = "_health_asked", "_health_linked"
asked = st.query_params.get(ACCOUNT_PARAM)
if asked is not None and asked != st.session_state.get(HEALTH_ASKED):
    found = q.account(reader, scope, asked)
    if found.is_empty():
        st.warning(f"Account “{fmt.plain(asked[:80])}” not found: no account you may see "
                   "has this id. Open an account from the Overview's alerts or from the "
                   "Accounts view.", icon=":material/search_off:")
        if st.button("Show the accounts", key="health_not_found"):
            st.query_params.clear()
            st.rerun()
        st.stop()
    st.session_state[HEALTH_ASKED] = asked
    st.session_state[HEALTH_FOCUS] = asked
    st.session_state[HEALTH_LINKED] = (asked, found["account_name"][0])
    st.session_state.pop("health_account", None)  # the drill-down's index: HEALTH_FOCUS
    st.session_state["health_view"] = DRILL
elif asked is None:
    st.session_state.pop(HEALTH_ASKED, None)  # a later link to the same id is new again

keep(health_sort="health", health_desc=False, health_bands=[],
     health_columns="Parts and trend", health_window=365)
accounts_tab, drill_tab = views([ACCOUNTS, DRILL], key="health_view")


def _open_map(account_ids: tuple[str, ...]) -> None:
    """A row's "Power map" cell was clicked: note the account; the next run switches there
    first."""
    opened = open_cell("table_account_health", OPEN_ACTIONS, account_ids)
    if opened:
        st.session_state[_OPENING] = opened[1]


OPEN_ACTIONS = {"open_map": "power_map"}  # the action column of the Accounts table


# The Accounts table shows one page of the sorted list (50,000 accounts at enterprise size
# cost a second to read and seconds to draw); the tiles and the CSV cover every page.
ACCOUNTS_TABLE, HEALTH_PAGE_SIZES = "health_accounts", (100, 250, 1000)
HEALTH_FIND = "health_find"  # the drill-down's Find box, when its list is cut


def account_list(**page) -> pl.DataFrame:
    """The accounts in view at the month-end, as sorted and filtered in the Accounts view
    (`page`: limit, offset, find, keep of q.account_health)."""
    return q.account_health(reader, scope, f, month_end,
                            sort_by=st.session_state.get("health_sort") or "health",
                            descending=bool(st.session_state.get("health_desc")),
                            bands=st.session_state.get("health_bands") or [], **page)


def _all_accounts_csv(identity, sort_by, descending, bands, who: str, file_name: str) -> bytes:
    """Every account of the list (all its pages), made when Download is clicked, from the
    same warehouse file the page was drawn from."""
    with Reader(identity.path) as fresh:
        if fresh.identity != identity:
            raise WarehouseChanged()
        rows = q.account_health(fresh, scope, f, month_end, sort_by=sort_by,
                                descending=descending, bands=bands)
    return export_csv(csv_frame(readable(rows.drop(q.HEALTH_SUMMARY)), HEALTH_COLUMNS),
                      file_name, who, scope.cache_key())


def readable(health: pl.DataFrame) -> pl.DataFrame:
    """The Accounts table's rows as shown (and in its CSV): shares in percent, codes as
    labels, gaps as n/a, the band as a tag."""
    return fmt.as_tags(fmt.readable(
        fmt.as_percent(health, "breadth", "department_coverage", "level_coverage",
                       "top_rep_share"),
        formats={"health_change_1m": fmt.signed, "health_change_3m": fmt.signed}),
        "health_band")


if accounts_tab.open:
    with accounts_tab:
        c1, c2, c3 = st.columns([2, 1, 2])
        sort_by = c1.selectbox("Sort by", list(SORT_LABELS), format_func=SORT_LABELS.get,
                               key="health_sort")
        descending = c2.toggle("Highest first", key="health_desc")
        bands = c3.multiselect("Bands", list(q.HEALTH_BANDS), key="health_bands",
                               placeholder="All bands", format_func=labeller("health_band"))
        # the page asked for; past the last page (fewer accounts now) the last one
        kept = table_page(ACCOUNTS_TABLE, 10**9, HEALTH_PAGE_SIZES)
        health = account_list(limit=kept.size, offset=kept.first)
        listed = int(health["matching"][0]) if health.height else 0
        page = table_page(ACCOUNTS_TABLE, listed, HEALTH_PAGE_SIZES)
        if page != kept and listed:
            health = account_list(limit=page.size, offset=page.first)
        if health.is_empty():
            empty("No account matches.", FILTERS_TOO_NARROW)
        else:
            totals = health.row(0, named=True)
            health = health.drop(q.HEALTH_SUMMARY)
            trend = q.health_trend(reader, scope, f, month_end)
            m = st.columns(4)
            with m[0]:
                metric("Accounts", fmt.count(listed), help_key="health_band")
            with m[1]:
                metric("Mean health", fmt.score(totals["mean_health"]),
                       help_key="health_score")
            with m[2]:
                metric("Weak accounts", fmt.count(totals["weak_accounts"]),
                       help_key="health_band")
            with m[3]:
                metric("Privately held", fmt.count(totals["privately_held"]),
                       help_key="is_privately_held")
            fig = lines(part_lines(trend, "mean_score"), "month_end_date", "mean_score",
                        color="measure", order=list(PART_COLOURS), colours=PART_COLOURS,
                        emphasis="Health", x_title="Month-end", y_title="Mean score (0-100)",
                        title="Mean health and its three parts over the accounts in view")
            fig.update_yaxes(range=[0, 100])
            chart(mark_warm_up(fig, trend, "month_end_date"), key="health_trend", height=320)
            if "window_complete" in trend.columns and not trend["window_complete"].all():
                st.caption(WARM_UP_NOTE + "; read a rise in the shaded months as more "
                           "history, not as better relationships.")
            group = st.segmented_control(
                "Columns", list(COLUMN_GROUPS), key="health_columns",
                help="The table fits the screen: account, tier, health and band, then the "
                     "group chosen here. The CSV has every column.") or "Parts and trend"
            shown = readable(health)
            opens = {}
            if ctx.may_open("power_map"):
                shown = shown.with_columns(pl.lit("Power map ›").alias("open_map"))
                opens["open_map"] = st.column_config.TextColumn(
                    "Open", width=95,
                    help="Click a row's “Power map ›” to open the Power map of its account.")
            visible = [*FIRST, *opens, *COLUMN_GROUPS[group]]
            table(shown.select(*visible, *[c for c in shown.columns if c not in visible]),
                  key="account_health", file_name=f"account_health_{month_end}",
                  hide=[c for c in shown.columns if c not in visible],
                  column_config={**HEALTH_COLUMNS, **opens}, height=400,
                  actions=list(opens),
                  on_select=partial(_open_map, tuple(shown["account_id"].to_list()))
                  if opens else "ignore", download=False)
            rows_text = (f"Rows {page.first + 1}–{page.first + health.height} of "
                         f"{fmt.count(listed)} accounts"
                         + (f" · page {page.number} of {page.pages}" if page.pages > 1 else ""))
            file_name = safe_file_name(f"account_health_{month_end}")
            pager(ACCOUNTS_TABLE, page, rows_text, HEALTH_PAGE_SIZES).download_button(
                f"Download all {fmt.count(listed)} accounts (CSV)",
                data=lambda: _all_accounts_csv(
                    reader.identity, sort_by, descending, bands, ctx.viewer_email, file_name),
                file_name=f"{file_name}.csv", mime="text/csv", key="download_account_health",
                on_click="ignore", width="stretch",
                help="Every account of the list (all its pages), with every column.")

if drill_tab.open:
    with drill_tab:
        # at most the configured number of accounts, the one shown kept; past it a Find box
        limit = fmt.account_list_limit()
        focus = st.session_state.get("focus_account")
        listed_options = account_list(limit=limit, find=find_text(HEALTH_FIND),
                                      keep=[focus] if focus else [])
        options = listed_options.select("account_id", "account_name")
        linked = st.session_state.get(HEALTH_LINKED)
        if linked and linked[0] not in options["account_id"].to_list():
            # opened by a link, outside the filters: listed first while it is chosen
            options = pl.concat([pl.DataFrame({"account_id": [linked[0]],
                                               "account_name": [linked[1]]},
                                              schema=options.schema), options])
        if options.is_empty() and nothing_found(HEALTH_FIND, listed_options, limit,
                                                "account in view"):
            st.stop()
        if options.is_empty():
            empty("No account to drill into.", FILTERS_TOO_NARROW)
            st.stop()
        names = dict(options.iter_rows())
        ids = list(names)
        account_finder(HEALTH_FIND, listed_options, limit)
        c1, c2 = st.columns([3, 1])
        account_id = c1.selectbox("Account", ids,
                                  index=ids.index(focus) if focus in ids else 0,
                                  format_func=names.get, key="health_account",
                                  help="Accounts in the order of the Accounts view.")
        account_list_note(listed_options, limit, "accounts in the order of the Accounts view")
        st.session_state["focus_account"] = account_id
        window = c2.selectbox("Activities of the last", [90, 365, 730],
                              format_func=lambda d: f"{d} days", key="health_window")
        as_of = ctx.build.get("as_of_date") or month_end
        since = as_of - dt.timedelta(days=window)

        history = q.account_health_history(reader, scope, account_id)
        if history.is_empty():
            empty("This account has no health snapshots.", NO_INTERACTIONS)
            st.stop()
        last = history.filter(pl.col("month_end_date") <= month_end).tail(1)
        row = last.row(0, named=True) if last.height else history.tail(1).row(0, named=True)
        m = st.columns(4)
        for col, (key, label_) in zip(m, PARTS.items()):
            with col:
                metric(label_, fmt.score(row[key]), help_key=key,
                       delta=(f"{row['health_change_1m']:+.1f} vs last month"
                              if key == "health_score"
                              and row.get("health_change_1m") is not None else None))
        fig = lines(part_lines(history, "score"), "month_end_date", "score", color="measure",
                    order=list(PART_COLOURS), colours=PART_COLOURS, emphasis="Health",
                    x_title="Month-end", y_title="Score (0-100)",
                    title=f"{names[account_id]}: health and its parts by month")
        fig.update_yaxes(range=[0, 100])
        chart(mark_warm_up(fig, history, "month_end_date"), key="account_history", height=300)
        if "window_complete" in history.columns and not history["window_complete"].all():
            st.caption(WARM_UP_NOTE + ".")

        st.markdown("#### Key part: the decision makers and their stance")
        st.caption(help_for("key_score"))
        roles = q.power_map(reader, scope, account_id)
        if roles.is_empty():
            empty("No contact of this account has a decision role or an assessment.",
                  "Fill contacts.decision_role and load contact_assessments.csv.")
        else:
            # who, their role and stance first (visible on a 1280-pixel screen), the rest after
            key_contacts = roles.select(
                "contact_name", "decision_role", "current_attitude", "intimacy",
                "contact_key_score", "days_since_last_touch", "title", "influence_weight",
                "support_norm", "last_touch_date", "contact_id")
            table(fmt.readable(attitude_labels(key_contacts)),
                  key="drill_key", file_name=f"{account_id}_key_contacts", hide=("contact_id",),
                  column_config={
                      "contact_name": "Contact", "title": "Title", "decision_role": "Role",
                      "influence_weight": st.column_config.NumberColumn(
                          "Influence", format="%.1f", help=help_for("influence_weight")),
                      "current_attitude": st.column_config.TextColumn(
                          "Attitude", help=na_help(help_for("attitude"), "never assessed")),
                      "support_norm": st.column_config.NumberColumn(
                          "Support", format="%.2f", help=help_for("support_norm")),
                      "intimacy": st.column_config.NumberColumn(
                          "Intimacy", format="%.2f", help=help_for("intimacy")),
                      "contact_key_score": score_column(
                          "Contact score", help=help_for("contact_key_score"),
                          color=PART_COLOURS["Key"]),
                      "last_touch_date": "Last touch",
                      "days_since_last_touch": st.column_config.NumberColumn(
                          "Days since", help=na_help(help_for("days_since_last_touch"),
                                                     "never touched")),
                  })

        st.markdown("#### General part: who was touched in the last 90 days")
        g = st.columns(3)
        with g[0]:
            metric("Breadth", fmt.pct(row.get("breadth")), help_key="breadth")
        with g[1]:
            metric("Departments", fmt.pct(row.get("department_coverage")),
                   help_key="department_coverage")
        with g[2]:
            metric("Levels", fmt.pct(row.get("level_coverage")), help_key="level_coverage")
        contacts = q.account_contacts(reader, scope, account_id)
        if contacts.is_empty():
            empty("This account has no contacts.", "Load contacts.csv for it.")
        else:
            contacts = contacts.select(
                "contact_name", "decision_role", "level", "department", "current_attitude",
                "touched_90d", "days_since_last_touch", "title", "evaluation_group",
                "is_rising_star", "is_active", "intimacy", "max_depth_step_365d",
                "last_touch_date", "contact_id")
            table(fmt.readable(attitude_labels(contacts)),
                  key="drill_general", file_name=f"{account_id}_contacts", hide=("contact_id",),
                  column_config={
                      "contact_name": "Contact", "title": "Title", "department": "Department",
                      "level": "Level", "decision_role": "Role",
                      "evaluation_group": "Evaluation group",
                      "is_rising_star": st.column_config.CheckboxColumn("Rising star"),
                      "is_active": st.column_config.CheckboxColumn("Active"),
                      "current_attitude": st.column_config.TextColumn(
                          "Attitude", help=na_help(help_for("attitude"), "never assessed")),
                      "intimacy": st.column_config.NumberColumn(
                          "Intimacy", format="%.2f",
                          help=na_help(help_for("intimacy"), "never touched")),
                      "max_depth_step_365d": st.column_config.NumberColumn(
                          "Deepest step 365d", help=na_help(
                              "Contact depth ladder: 1 project visit, 2 regular visit, 3 private "
                              "activity, 4 family dinner, 5 home visit.",
                              "no key-layer activity in 365 days")),
                      "last_touch_date": "Last touch",
                      "days_since_last_touch": st.column_config.NumberColumn(
                          "Days since", help=na_help(None, "never touched")),
                      "touched_90d": st.column_config.CheckboxColumn("Touched 90d"),
                  }, height=260)

        st.markdown("#### Organisational part: company-to-company activities")
        o = st.columns(3)
        with o[0]:
            metric("Org level", fmt.count(row.get("org_level")), help_key="org_level")
        with o[1]:
            metric("Executive visit 12m", "yes" if row.get("has_exec_visit_12m") else "no",
                   help_key="org_score")
        with o[2]:
            metric("Top rep share", fmt.pct(row.get("top_rep_share")), help_key="top_rep_share")
        org = q.account_activities(reader, scope, account_id, as_of - dt.timedelta(days=730),
                                   layer="org")
        if org.is_empty():
            empty("No organisational activity in the last 24 months.",
                  "Org activities are summits, benchmarking, joint centres, agreements "
                  "(activity taxonomy, layer org).")
        else:
            table(fmt.readable(org.select(
                      "occurred_date", "activity_type", "org_element", "is_executive_visit",
                      "rep_name", "outcome", "interaction_id")),
                  key="drill_org", file_name=f"{account_id}_org_activities",
                  hide=("interaction_id",), column_config={
                      "occurred_date": "Date", "activity_type": "Activity",
                      "org_element": st.column_config.NumberColumn(
                          "Element", help="1 communication, 2 matching, 3 joining, "
                                          "4 identification."),
                      "is_executive_visit": st.column_config.CheckboxColumn("Executive"),
                      "rep_name": "Rep", "outcome": "Outcome",
                  }, height=220)

        st.markdown(f"#### All activities since {fmt.date(since)}")
        summary = q.account_activity_summary(reader, scope, account_id, since)
        activities = q.account_activities(reader, scope, account_id, since)
        if activities.is_empty():
            empty(f"No activity logged with this account since {fmt.date(since)}.",
                  "Choose a longer window above.")
        else:
            left, right = st.columns([1.3, 2])
            with left:
                table(fmt.readable(summary), key="drill_summary",
                      file_name=f"{account_id}_activity_summary",
                      column_config={"layer": "Layer", "activity_type": "Activity",
                                     "activities": "Count", "contacts": "Contacts",
                                     "last_date": "Last"}, height=300)
            with right:
                step = na_help(None, "not a key-layer activity")
                activities = activities.select(
                    "occurred_date", "activity_type", "contact_name", "rep_name", "layer",
                    "depth_step", "org_element", "is_executive_visit", "decision_role",
                    "department", "outcome", "interaction_id")
                table(fmt.readable(activities),
                      key="drill_activities", file_name=f"{account_id}_activities",
                      hide=("interaction_id",), column_config={
                          "occurred_date": "Date", "activity_type": "Activity", "layer": "Layer",
                          "depth_step": st.column_config.NumberColumn("Depth", help=step),
                          "org_element": st.column_config.NumberColumn(
                              "Org element", help=na_help(None, "not an org-layer activity")),
                          "is_executive_visit": st.column_config.CheckboxColumn("Executive"),
                          "contact_name": "Contact", "decision_role": "Role",
                          "department": "Department", "rep_name": "Rep", "outcome": "Outcome",
                      }, height=300)

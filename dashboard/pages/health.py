"""Relationship health: key / general / org parts and health per account, with trends and a
drill-down into one account's contacts and activities behind each part."""

import datetime as dt

import polars as pl
import streamlit as st
from ui import fmt
from ui.charts import PART_COLOURS, WARM_UP_NOTE, lines, mark_warm_up
from ui.context import current
from ui.helptext import help_for
from ui.widgets import (
    FILTERS_TOO_NARROW,
    NO_INTERACTIONS,
    chart,
    empty,
    layer_missing,
    metric,
    table,
)

from rapport.warehouse import queries as q

ctx = current()
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
           "health = 0.5 key + 0.25 general + 0.25 org")

SCORE = {"min_value": 0, "max_value": 100, "format": "%.0f"}
SORT_LABELS = {
    "health": "Health", "key": "Key part", "general": "General part", "org": "Org part",
    "change_1m": "Change vs last month", "change_3m": "Change vs 3 months ago",
    "concentration": "Concentration on one rep", "account": "Account name",
}
HEALTH_COLUMNS = {
    "account_name": "Account", "region_name": "Region", "industry": "Industry",
    "tier": st.column_config.TextColumn("Tier", help=help_for("tier")),
    "health_score": st.column_config.ProgressColumn("Health", help=help_for("health_score"),
                                                    **SCORE),
    "health_band": st.column_config.TextColumn("Band", help=help_for("health_band")),
    "key_score": st.column_config.ProgressColumn("Key", help=help_for("key_score"), **SCORE),
    "general_score": st.column_config.ProgressColumn("General", help=help_for("general_score"),
                                                     **SCORE),
    "org_score": st.column_config.ProgressColumn("Org", help=help_for("org_score"), **SCORE),
    "health_change_1m": st.column_config.NumberColumn(
        "Δ 1m", format="%+.1f", help=help_for("health_change_1m")),
    "health_change_3m": st.column_config.NumberColumn(
        "Δ 3m", format="%+.1f", help=help_for("health_change_3m")),
    "health_trend": st.column_config.LineChartColumn(
        "Trend 12m", y_min=0, y_max=100, help=help_for("health_trend")),
    "breadth": st.column_config.NumberColumn("Breadth", format="percent",
                                             help=help_for("breadth")),
    "department_coverage": st.column_config.NumberColumn(
        "Departments", format="percent", help=help_for("department_coverage")),
    "level_coverage": st.column_config.NumberColumn(
        "Levels", format="percent", help=help_for("level_coverage")),
    "org_level": st.column_config.NumberColumn("Org level", help=help_for("org_level")),
    "has_exec_visit_12m": st.column_config.CheckboxColumn("Exec visit 12m"),
    "top_rep_share": st.column_config.NumberColumn(
        "Top rep share", format="percent", help=help_for("top_rep_share")),
    "rep_hhi": st.column_config.NumberColumn("Rep HHI", format="%.2f", help=help_for("rep_hhi")),
    "is_privately_held": st.column_config.CheckboxColumn(
        "Privately held", help=help_for("is_privately_held")),
}

accounts_tab, drill_tab = st.tabs(["Accounts", "Account drill-down"])

with accounts_tab:
    c1, c2, c3 = st.columns([2, 1, 2])
    sort_by = c1.selectbox("Sort by", list(SORT_LABELS), format_func=SORT_LABELS.get,
                           key="health_sort")
    descending = c2.toggle("Highest first", value=False, key="health_desc")
    bands = c3.multiselect("Bands", list(q.HEALTH_BANDS), key="health_bands",
                           placeholder="All bands", format_func=str.capitalize)
    health = q.account_health(reader, scope, f, month_end, sort_by=sort_by,
                              descending=descending, bands=bands)
    trend = q.health_trend(reader, scope, f, month_end)
    if health.is_empty():
        empty("No account matches.", FILTERS_TOO_NARROW)
    else:
        m = st.columns(4)
        with m[0]:
            metric("Accounts", fmt.count(health.height), help_key="health_band")
        with m[1]:
            metric("Mean health", fmt.score(health["health_score"].mean()),
                   help_key="health_score")
        with m[2]:
            metric("Weak accounts", fmt.count((health["health_band"] == "weak").sum()),
                   help_key="health_band")
        with m[3]:
            metric("Privately held", fmt.count(health["is_privately_held"].sum()),
                   help_key="is_privately_held")
        long = trend.unpivot(
            index="month_end_date",
            on=["health_score", "key_score", "general_score", "org_score"],
            variable_name="measure", value_name="mean_score",
        ).with_columns(pl.col("measure").replace_strict({
            "health_score": "Health", "key_score": "Key", "general_score": "General",
            "org_score": "Org"}))
        fig = lines(long, "month_end_date", "mean_score", color="measure",
                    order=list(PART_COLOURS), colours=PART_COLOURS,
                    x_title="Month-end", y_title="Mean score (0-100)",
                    title="Mean health and its three parts over the accounts in view")
        fig.update_yaxes(range=[0, 100])
        chart(mark_warm_up(fig, trend, "month_end_date"), key="health_trend", height=320)
        if "window_complete" in trend.columns and not trend["window_complete"].all():
            st.caption(WARM_UP_NOTE + "; read a rise in the shaded months as more history, "
                       "not as better relationships.")
        table(health, key="account_health", file_name=f"account_health_{month_end}",
              hide=("account_id",), column_config=HEALTH_COLUMNS, height=400)

with drill_tab:
    options = health.select("account_id", "account_name") if health.height else None
    if options is None or options.is_empty():
        empty("No account to drill into.", FILTERS_TOO_NARROW)
        st.stop()
    names = dict(options.iter_rows())
    ids = list(names)
    focus = st.session_state.get("focus_account")
    c1, c2 = st.columns([3, 1])
    account_id = c1.selectbox("Account", ids, index=ids.index(focus) if focus in ids else 0,
                              format_func=names.get, key="health_account",
                              help="Accounts in the order of the Accounts tab.")
    st.session_state["focus_account"] = account_id
    window = c2.selectbox("Activities of the last", [90, 365, 730], index=1,
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
    for col, (label_, key) in zip(m, [("Health", "health_score"), ("Key", "key_score"),
                                      ("General", "general_score"), ("Org", "org_score")]):
        with col:
            metric(label_, fmt.score(row[key]), help_key=key,
                   delta=(f"{row['health_change_1m']:+.1f} vs last month"
                          if key == "health_score" and row.get("health_change_1m") is not None
                          else None))
    long = history.unpivot(
        index="month_end_date", on=["health_score", "key_score", "general_score", "org_score"],
        variable_name="measure", value_name="score",
    ).with_columns(pl.col("measure").replace_strict({
        "health_score": "Health", "key_score": "Key", "general_score": "General",
        "org_score": "Org"}))
    fig = lines(long, "month_end_date", "score", color="measure", order=list(PART_COLOURS),
                colours=PART_COLOURS, x_title="Month-end", y_title="Score (0-100)",
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
        table(roles.select("contact_name", "title", "decision_role", "influence_weight",
                           "current_attitude", "support_norm", "intimacy", "contact_key_score",
                           "last_touch_date", "days_since_last_touch", "contact_id"),
              key="drill_key", file_name=f"{account_id}_key_contacts", hide=("contact_id",),
              column_config={
                  "contact_name": "Contact", "title": "Title", "decision_role": "Role",
                  "influence_weight": st.column_config.NumberColumn(
                      "Influence", format="%.1f", help=help_for("influence_weight")),
                  "current_attitude": st.column_config.NumberColumn(
                      "Attitude", help=help_for("attitude")),
                  "support_norm": st.column_config.NumberColumn(
                      "Support", format="%.2f", help=help_for("support_norm")),
                  "intimacy": st.column_config.NumberColumn(
                      "Intimacy", format="%.2f", help=help_for("intimacy")),
                  "contact_key_score": st.column_config.ProgressColumn(
                      "Contact score", help=help_for("contact_key_score"), **SCORE),
                  "last_touch_date": "Last touch",
                  "days_since_last_touch": st.column_config.NumberColumn(
                      "Days since", help=help_for("days_since_last_touch")),
              })

    st.markdown("#### General part: who was touched in the last 90 days")
    g = st.columns(3)
    with g[0]:
        metric("Breadth", fmt.pct(row.get("breadth")), help_key="breadth")
    with g[1]:
        metric("Department coverage", fmt.pct(row.get("department_coverage")),
               help_key="department_coverage")
    with g[2]:
        metric("Level coverage", fmt.pct(row.get("level_coverage")), help_key="level_coverage")
    contacts = q.account_contacts(reader, scope, account_id)
    if contacts.is_empty():
        empty("This account has no contacts.", "Load contacts.csv for it.")
    else:
        table(contacts.drop("birthday"), key="drill_general",
              file_name=f"{account_id}_contacts", hide=("contact_id",), column_config={
                  "contact_name": "Contact", "title": "Title", "department": "Department",
                  "level": "Level", "decision_role": "Role",
                  "evaluation_group": "Evaluation group",
                  "is_rising_star": st.column_config.CheckboxColumn("Rising star"),
                  "is_active": st.column_config.CheckboxColumn("Active"),
                  "current_attitude": st.column_config.NumberColumn(
                      "Attitude", help=help_for("attitude")),
                  "intimacy": st.column_config.NumberColumn("Intimacy", format="%.2f",
                                                            help=help_for("intimacy")),
                  "max_depth_step_365d": st.column_config.NumberColumn(
                      "Deepest step 365d", help="Contact depth ladder: 1 project visit, "
                      "2 regular visit, 3 private activity, 4 family dinner, 5 home visit."),
                  "last_touch_date": "Last touch",
                  "days_since_last_touch": st.column_config.NumberColumn("Days since"),
                  "touched_90d": st.column_config.CheckboxColumn("Touched 90d"),
              }, height=260)

    st.markdown("#### Organisational part: company-to-company activities")
    o = st.columns(3)
    with o[0]:
        metric("Org level", fmt.count(row.get("org_level")), help_key="org_level")
    with o[1]:
        metric("Executive visit in 12 months",
               "yes" if row.get("has_exec_visit_12m") else "no", help_key="org_score")
    with o[2]:
        metric("Top rep share", fmt.pct(row.get("top_rep_share")), help_key="top_rep_share")
    org = q.account_activities(reader, scope, account_id, as_of - dt.timedelta(days=730),
                               layer="org")
    if org.is_empty():
        empty("No organisational activity in the last 24 months.",
              "Org activities are summits, benchmarking, joint centres, agreements "
              "(activity taxonomy, layer org).")
    else:
        table(org.select("occurred_date", "activity_type", "org_element",
                         "is_executive_visit", "rep_name", "outcome", "interaction_id"),
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
            table(summary, key="drill_summary", file_name=f"{account_id}_activity_summary",
                  column_config={"layer": "Layer", "activity_type": "Activity",
                                 "activities": "Count", "contacts": "Contacts",
                                 "last_date": "Last"}, height=300)
        with right:
            table(activities, key="drill_activities", file_name=f"{account_id}_activities",
                  hide=("interaction_id",), column_config={
                      "occurred_date": "Date", "activity_type": "Activity", "layer": "Layer",
                      "depth_step": "Depth", "org_element": "Org element",
                      "is_executive_visit": st.column_config.CheckboxColumn("Executive"),
                      "contact_name": "Contact", "decision_role": "Role",
                      "department": "Department", "rep_name": "Rep", "outcome": "Outcome",
                  }, height=300)

"""Data quality (data team): the served build and its check results, quarantined rows by
table and reason with samples, freshness of the marts, build history."""

import datetime as dt

import plotly.express as px
import polars as pl
import streamlit as st
from ui import fmt
from ui.context import current
from ui.helptext import help_for
from ui.widgets import chart, empty, metric, table

from rapport.contract import contract
from rapport.warehouse import queries as q

ctx = current()
reader, scope = ctx.reader, ctx.scope
build = ctx.build
build_id = build.get("build_id")

st.title("Data quality")
if not build:
    empty("The warehouse has no build information (meta.build_info).",
          "It was not published by `rapport build`; rebuild it to see checks and history.")

m = st.columns(4)
with m[0]:
    metric("Served build", str(build_id or "n/a"), help_key="dq_status")
with m[1]:
    metric("Data as of", fmt.date(build.get("as_of_date")), help_key="days_since_last_touch",
           extra_help="The as-of date ends every trailing window.")
with m[2]:
    built = build.get("built_at") or build.get("finished_at")
    metric("Built", fmt.date(built), help_key="dq_status")
with m[3]:
    status = build.get("status") or build.get("checks_status")
    metric("Build status", str(status or "n/a"), help_key="dq_status")

checks_tab, quarantine_tab, history_tab = st.tabs(
    ["Check results", "Quarantine", "Freshness and build history"]
)

with checks_tab:
    results = q.dq_results(reader, scope, build_id)
    if results.is_empty():
        empty("No check results for this build (meta.dq_results is empty).",
              "Checks run during `rapport build`; run `rapport check` to re-run them.")
    else:
        status_col = "status" if "status" in results.columns else None
        if status_col is None and "success" in results.columns:
            results = results.with_columns(
                pl.when(pl.col("success")).then(pl.lit("pass")).otherwise(pl.lit("fail"))
                .alias("status"))
            status_col = "status"
        counts = results.group_by(status_col).len()
        n = dict(zip(counts[status_col].to_list(), counts["len"].to_list()))
        c = st.columns(4)
        for col, name in zip(c, ["pass", "warn", "fail", "error"]):
            with col:
                metric(f"Checks {name}", fmt.count(n.get(name, 0)), help_key="dq_status")
        by_suite = results.group_by("suite", status_col).len().sort("suite")
        fig = px.bar(by_suite, x="suite", y="len", color=status_col,
                     color_discrete_map={"pass": "#43a047", "warn": "#fbc02d",
                                         "fail": "#c62828", "error": "#6a1b9a"},
                     labels={"suite": "Suite", "len": "Checks", status_col: "Status"},
                     title="Check results per suite")
        chart(fig, key="dq_suites", height=320)
        table(results, key="dq_results", file_name=f"dq_results_{build_id}",
              hide=("build_id",), height=320)

with quarantine_tab:
    counts = q.quarantine_counts(reader, scope, build_id)
    rows = q.row_counts(reader, scope, build_id)
    if counts.is_empty():
        st.success("No row was quarantined in this build.")
    else:
        fig = px.bar(counts, x="table_name", y="rows", color="reason",
                     labels={"table_name": "Table", "rows": "Rows", "reason": "Reason"},
                     title="Quarantined rows per table and reason")
        chart(fig, key="quarantine_counts", height=320)
        table(counts, key="quarantine_counts", file_name=f"quarantine_counts_{build_id}",
              column_config={"table_name": "Table", "reason": "Reason",
                             "rows": st.column_config.NumberColumn(
                                 "Rows", help=help_for("quarantined_rows"))}, height=220)
        st.markdown("#### Sample rows")
        if not scope.sees_all_regions:
            st.info("Sample rows are shown only to viewers of every region: a rejected row "
                    "cannot be attributed to a region.")
        else:
            c1, c2 = st.columns(2)
            tables = counts["table_name"].unique(maintain_order=True).to_list()
            chosen = c1.selectbox("Table", tables, key="dq_table")
            reasons = counts.filter(pl.col("table_name") == chosen)["reason"].to_list()
            reason = c2.selectbox("Reason", reasons, key="dq_reason")
            pii_tables = [t.name for t in contract().tables.values()
                          if any(col.pii for col in t.columns.values())]
            samples = q.quarantine_samples(reader, scope, build_id, chosen, reason,
                                           pii_tables=pii_tables)
            table(samples, key="quarantine_samples",
                  file_name=f"quarantine_{chosen}_{reason}_{build_id}", height=260)
    if not rows.is_empty():
        st.markdown("#### Rows per table in this build")
        table(rows, key="row_counts", file_name=f"row_counts_{build_id}",
              hide=("build_id",), height=260)

with history_tab:
    fresh = q.freshness(reader, scope)
    as_of = build.get("as_of_date")
    if isinstance(as_of, dt.date):
        fresh = fresh.with_columns(
            (pl.lit(as_of) - pl.col("latest_date")).dt.total_days().alias("days_before_as_of"))
    st.markdown("#### Freshness: the latest date each mart reaches")
    table(fresh, key="freshness", file_name="freshness", column_config={
        "mart": "Mart", "column_name": "Column", "latest_date": "Latest date",
        "days_before_as_of": st.column_config.NumberColumn(
            "Days before as-of", help="As-of date - latest date; large gaps mean a source "
                                      "stopped delivering."),
    })
    history = q.build_history(reader, scope)
    st.markdown("#### Build history")
    if history.is_empty():
        empty("No build history (meta.build_history).",
              "It is written by `rapport build`; older warehouses do not have it.")
    else:
        time_col = next((c for c in ("started_at", "built_at", "finished_at")
                         if c in history.columns), None)
        y_col = next((c for c in ("duration_seconds", "duration_s", "seconds")
                      if c in history.columns), None)
        colour = next((c for c in ("status", "outcome") if c in history.columns), None)
        if time_col:
            fig = px.scatter(history, x=time_col, y=y_col or colour or time_col, color=colour,
                             hover_data=[c for c in ("build_id", "as_of_date")
                                         if c in history.columns],
                             title="Builds over time")
            chart(fig, key="build_history", height=300)
        table(history, key="build_history", file_name="build_history", height=300)

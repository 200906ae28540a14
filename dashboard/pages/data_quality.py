"""Data quality (data team): the served build and its check results, quarantined rows by
table and reason with samples, freshness of the marts, build history."""

import datetime as dt

import polars as pl
import streamlit as st
from ui import fmt
from ui.charts import STATUS_COLOURS, bars, dots
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

started, finished = build.get("started_at"), build.get("finished_at") or build.get("built_at")
took = (f" in {(finished - started).total_seconds():.0f} s"
        if isinstance(started, dt.datetime) and isinstance(finished, dt.datetime) else "")
with st.container(border=True):
    st.markdown(
        f"**Served build** {fmt.plain(build_id or 'n/a')} · "
        f"**status** {fmt.plain(build.get('status') or 'n/a')} · "
        f"**data as of** {fmt.date(build.get('as_of_date'))} · **built** {fmt.date(finished)}{took}"
    )
    if build.get("raw_rows") is not None:
        st.caption(
            f"{fmt.count(build.get('raw_rows'))} raw rows, {fmt.count(build.get('clean_rows'))} "
            f"clean, {fmt.count(build.get('quarantined_rows'))} quarantined · "
            f"{fmt.plain(build.get('checks_summary') or '')}"
        )

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
        kinds = results.with_columns(
            pl.col("suite").str.split("_").list.first().alias("kind")
        ).group_by("kind", status_col).len().sort("kind")
        fig = bars(kinds, "kind", "len", color=status_col, horizontal=True,
                   order=["pass", "warn", "fail", "error"], colours=STATUS_COLOURS,
                   x_title="Checks", y_title="Suite kind", legend_title="Status",
                   title="Check results by kind of suite (raw tables, marts, dbt, "
                         "reconciliation)")
        chart(fig, key="dq_suites", height=260)
        c1, c2 = st.columns(2)
        kind = c1.selectbox("Suites", ["all", *kinds["kind"].unique(maintain_order=True)],
                            key="dq_kind", format_func=lambda k: "All suites" if k == "all"
                            else f"{k} suites")
        statuses = c2.multiselect("Status", ["pass", "warn", "fail", "error"], key="dq_status",
                                  placeholder="Every status")
        shown = results
        if kind != "all":
            shown = shown.filter(pl.col("suite").str.split("_").list.first() == kind)
        if statuses:
            shown = shown.filter(pl.col(status_col).is_in(statuses))
        table(shown, key="dq_results", file_name=f"dq_results_{build_id}",
              hide=("build_id", "success"), height=320, column_config={
                  "suite": "Suite", "expectation": "Check", "column": "Column",
                  "status": st.column_config.TextColumn("Status", help=help_for("dq_status")),
                  "observed_value": "Observed", "unexpected_count": "Unexpected rows",
                  "severity": "Severity", "checked_at": "Checked at", "detail": "Detail",
              })

with quarantine_tab:
    counts = q.quarantine_counts(reader, scope, build_id)
    rows = q.row_counts(reader, scope, build_id)
    if counts.is_empty():
        st.success("No row was quarantined in this build.")
    else:
        fig = bars(counts, "table_name", "rows", color="reason", x_title="Table",
                   y_title="Rows", legend_title="Reason",
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
              hide=("build_id",), height=260, column_config={
                  "table_name": "Table", "raw_rows": "Raw rows", "clean_rows": "Clean rows",
                  "quarantined_rows": st.column_config.NumberColumn(
                      "Quarantined rows", help=help_for("quarantined_rows")),
              })

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
        if {"started_at", "finished_at"} <= set(history.columns) and history.height > 1:
            history = history.with_columns(
                (pl.col("finished_at") - pl.col("started_at")).dt.total_seconds()
                .alias("duration_s"))
            fig = dots(history, "started_at", "duration_s",
                       color="status" if "status" in history.columns else None,
                       hover=[c for c in ("build_id", "as_of_date", "checks_summary")
                              if c in history.columns],
                       x_title="Started", y_title="Duration (s)", legend_title="Status",
                       title="Builds: when, how long, outcome")
            chart(fig, key="build_history", height=280)
        table(history, key="build_history", file_name="build_history",
              hide=("raw_dir", "raw_row_counts"), height=300)

"""Data quality (data team): refused builds (in red, with their failed checks and quarantine
reasons), the served build and its check results, quarantined rows by table and reason with
samples, coverage (layers, incomplete rows, defaults), freshness of the marts, build
history (refused builds included)."""

import datetime as dt

import polars as pl
import streamlit as st
from ui import fmt
from ui.charts import STATUS_COLOURS, bars, dots
from ui.context import current
from ui.helptext import help_for
from ui.widgets import (
    attempts_frame,
    chart,
    coverage_line,
    empty,
    metric,
    refused_build,
    status_mark,
    table,
)

from rapport.contract import contract

STATUSES = ("pass", "warn", "fail", "error", "not_applicable")  # rapport.checks.results
from rapport.warehouse import queries as q

ctx = current()
reader, scope = ctx.reader, ctx.scope
build = ctx.build
build_id = build.get("build_id")

st.title("Data quality")

# -- Build attempts: the latest builds, published or refused (from the build records) ------
attempts = q.build_attempts(reader, scope)
newer = [a for a in attempts if build_id is None or a.build_id > build_id]
if attempts and newer and newer[0].refused:
    st.error(f"**The latest build was not published.** The dashboard still serves build "
             f"{fmt.plain(build_id or 'n/a')}; {len([a for a in newer if a.refused])} "
             "later build(s) were refused (below, newest first).")
elif attempts and attempts[0].build_id == build_id:
    st.success(f"The latest build, {fmt.plain(build_id)}, is the one served.")
for attempt in newer:
    if attempt.refused:
        refused_build(attempt)
    elif attempt.status == "running":
        st.info(f"Build {fmt.plain(attempt.build_id)} is running (started "
                f"{fmt.plain(attempt.started_at or 'n/a')} UTC).")
earlier = [a for a in attempts if a not in newer and a.refused and a.failed_checks + a.quarantine]
if earlier:
    with st.expander(f"Refused builds before the served one ({len(earlier)})"):
        for attempt in earlier:
            refused_build(attempt)

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

checks_tab, quarantine_tab, coverage_tab, history_tab = st.tabs(
    ["Check results", "Quarantine", "Coverage and incomplete rows",
     "Freshness and build history"]
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
        shown_statuses = [*STATUSES[:4], *(["not_applicable"] if n.get("not_applicable")
                                           else [])]
        c = st.columns(len(shown_statuses))
        for col, name in zip(c, shown_statuses):
            with col:
                metric(f"Checks {fmt.label(name).lower()}", fmt.count(n.get(name, 0)),
                       help_key="dq_status")
        kinds = results.with_columns(
            pl.col("suite").str.split("_").list.first().alias("kind")
        ).group_by("kind", status_col).len().sort("kind")
        fig = bars(kinds, "kind", "len", color=status_col, horizontal=True,
                   order=list(STATUSES), colours=STATUS_COLOURS,
                   x_title="Checks", y_title="Suite kind", legend_title="Status",
                   title="Check results by kind of suite (raw tables, marts, dbt, "
                         "reconciliation)")
        chart(fig, key="dq_suites", height=260)
        c1, c2 = st.columns(2)
        kind = c1.selectbox("Suites", ["all", *kinds["kind"].unique(maintain_order=True)],
                            key="dq_kind", format_func=lambda k: "All suites" if k == "all"
                            else f"{k} suites")
        statuses = c2.multiselect("Status", list(STATUSES), key="dq_status",
                                  placeholder="Every status",
                                  format_func=lambda s: fmt.label(s).lower())
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
    if attempts:  # builds the served file cannot know of: refused or started after it
        extra = attempts_frame([a for a in attempts if history.is_empty()
                                or a.build_id not in set(history["build_id"].to_list())])
        history = pl.concat([extra, history], how="diagonal_relaxed") if not extra.is_empty() \
            else history
        if "build_id" in history.columns:
            history = history.sort("build_id", descending=True)
    if not history.is_empty() and "status" in history.columns:
        history = history.with_columns(
            pl.col("status").map_elements(status_mark, return_dtype=pl.String)
            .alias("outcome"))
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

with coverage_tab:
    cov = q.coverage(reader, scope)
    layers = q.layers(reader, scope)
    if cov.is_empty() and not layers.recorded:
        empty("This warehouse records no coverage (meta.coverage, meta.layers).",
              "It was built before coverage was recorded; rebuild it with `rapport build`.")
    else:
        line = coverage_line(cov, layers)
        if line:
            st.markdown(line)
        if layers.recorded:
            st.markdown("#### What this build can show")
            table(pl.DataFrame({
                "layer": [fmt.label(r.name) for r in layers.rows],
                "available": [r.available for r in layers.rows],
                "needs": [r.needs for r in layers.rows],
                "reason": [r.reason for r in layers.rows],
            }), key="layers", file_name=f"layers_{build_id}", column_config={
                "layer": "Layer", "available": "Available", "needs": "Needs",
                "reason": "Why not"})
        incomplete = q.incomplete_columns(cov)
        st.markdown("#### Incomplete rows kept, per column",
                    help="Rows the gate kept although a column is blank (e.g. an open deal "
                         "without account, amount or created date): counted here, not "
                         "quarantined. A row blank in two columns counts under both.")
        if incomplete.is_empty():
            st.success("No kept row has a blank column.")
        else:
            table(incomplete, key="incomplete_columns", file_name=f"incomplete_{build_id}",
                  column_config={
                      "table_name": "Table", "column_name": "Column", "table_rows": "Rows",
                      "filled_rows": "Filled", "blank_rows": "Blank",
                      "filled_share": st.column_config.NumberColumn("Filled share",
                                                                    format="percent")})
            tables = incomplete["table_name"].unique(maintain_order=True).to_list()
            chosen = st.selectbox("Rows of table", tables, key="dq_incomplete_table",
                                  help="The kept rows with a blank, for the data team to "
                                       "complete at the source (the first 500).")
            cols = incomplete.filter(pl.col("table_name") == chosen)["column_name"].to_list()
            listed = q.incomplete_rows(reader, scope, chosen, cols)
            if listed is None:
                st.caption("The rows are listed only for viewers of every region, and not for "
                           "tables with personal data.")
            elif listed.is_empty():
                st.caption(f"No kept row of {fmt.plain(chosen)} has these columns blank now "
                           "(the counts above come from the build's coverage).")
            else:
                table(listed, key="incomplete_rows", file_name=f"incomplete_{chosen}",
                      height=300, column_config={"blank": "Blank columns"})
        defaults = q.defaults_applied(reader, scope)
        if not defaults.is_empty():
            st.markdown("#### Defaults put into empty values",
                        help="The documented defaults of rapport/contract.yml (e.g. an "
                             "account without owner or region gets 'Unassigned', a rep "
                             "without hire date the first activity or deal).")
            table(defaults, key="defaults_applied", file_name=f"defaults_{build_id}",
                  column_config={"table_name": "Table", "column_name": "Column",
                                 "default_rule": "Default", "rows": "Rows"})
        absent = q.missing_columns(cov)
        if not absent.is_empty():
            st.markdown("#### Columns the export did not have")
            table(absent, key="missing_columns", file_name=f"missing_columns_{build_id}",
                  column_config={"table_name": "Table", "column_name": "Column"})

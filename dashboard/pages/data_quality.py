"""Data quality (data team): refused builds (in red, with their failed checks and quarantine
reasons), the served build and its check results (one row per dbt test), quarantined rows
by table and reason with readable samples, coverage (layers, incomplete rows, defaults),
freshness of the marts, build history (refused builds included).

One view at a time (ui.widgets.views): above the views, the served build's summary (build
attempts, check counts, quarantine counts, coverage: small reads of meta tables) is read on
every render; each view reads the rest only when open. The page opens on the view that needs
attention (a refused build, quarantined rows, a layer the pages cannot show), else on the
check results. The sidebar filters do not apply here and are hidden."""

import datetime as dt
import json

import polars as pl
import streamlit as st
from ui import fmt
from ui.charts import (
    BUILD_COLOURS,
    REFUSED_COLOUR,
    STATUS_COLOURS,
    bars,
    dots,
    integer_axis,
)
from ui.context import current
from ui.filters import not_on_this_page
from ui.helptext import help_for
from ui.widgets import (
    PAGE_LAYERS,
    attempts_frame,
    chart,
    coded_tags,
    coverage_line,
    empty,
    keep,
    metric,
    metric_row,
    na_help,
    percent_column,
    refused_build,
    status_mark,
    table,
    tag_column,
    views,
)

from rapport.check_results import STATUSES
from rapport.contract import contract
from rapport.serving import queries as q
from rapport.serving.builds import REFUSED_STATUSES
from rapport.serving.queries.data_quality import HIDDEN

ctx = current()
reader, scope = ctx.reader, ctx.scope
build = ctx.build
build_id = build.get("build_id")

st.title("Data quality")
not_on_this_page("The quarter, region, industry and tier filters apply to the other pages: "
                 "Data quality shows the whole served build. Your choices are kept.")

# -- Build attempts: the latest builds, published or refused (from the build records) ------
attempts = q.build_attempts(reader, scope)
newer = [a for a in attempts if build_id is None or a.build_id > build_id]
refused_newer = [a for a in newer if a.refused]
if attempts and refused_newer and newer[0].refused:
    st.error(f"**The latest build was not published.** The dashboard still serves build "
             f"{fmt.plain(build_id or 'n/a')}; {len(refused_newer)} later build(s) were "
             "refused (below, newest first).")
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

# -- The served build: what it is, what it quarantined, what its data covers ---------------
quarantined = q.quarantine_counts(reader, scope, build_id)
cov = q.coverage(reader, scope)
layers = q.layers(reader, scope)
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
    line, line_help = coverage_line(cov, layers)
    if line:
        st.caption(line, help=line_help)

# The served build's check results (one row per dbt test in place of the build's one `dbt`
# row), counted above the views: part of the build's summary, like the quarantine counts
results = q.dq_results(reader, scope, build_id)
tests = q.dbt_tests(reader, scope, build_id)
if not results.is_empty() and "status" not in results.columns \
        and "success" in results.columns:
    results = results.with_columns(
        pl.when(pl.col("success")).then(pl.lit("pass")).otherwise(pl.lit("fail"))
        .alias("status"))
if not tests.is_empty() and "suite" in results.columns:
    results = pl.concat([results.filter(pl.col("suite") != "dbt"), tests],
                        how="diagonal_relaxed")
if not results.is_empty():
    counts = results.group_by("status").len()
    n = dict(zip(counts["status"].to_list(), counts["len"].to_list()))
    shown_statuses = [*STATUSES[:4], *(["not_applicable"] if n.get("not_applicable") else [])]
    with metric_row():
        for name in shown_statuses:
            metric(f"Checks {fmt.label(name).lower()}", fmt.count(n.get(name, 0)),
                   help_key="dq_status", width="content")
    if not tests.is_empty():
        st.caption(f"dbt: {fmt.count(tests.height)} tests. "
                   f"{fmt.plain(help_for('dbt_tests'))}")
    elif not q.dbt_tests_recorded(reader, scope):
        st.caption("dbt tests one by one: not recorded by this build (built before the "
                   "warehouse kept them); the dbt row gives dbt's outcome as a whole.")

CHECKS, QUARANTINE, COVERAGE, HISTORY = (
    "Check results", "Quarantine", "Coverage and incomplete rows",
    "Freshness and build history")
page_layers_missing = [layer for layer in layers.unavailable() if layer.name in PAGE_LAYERS]
if refused_newer:
    opened, why = HISTORY, "a later build was refused"
elif not quarantined.is_empty():
    opened, why = QUARANTINE, f"this build quarantined rows of {quarantined['table_name'].n_unique()} table(s)"
elif page_layers_missing:
    opened, why = COVERAGE, "this build's data cannot feed every page"
else:
    opened, why = CHECKS, ""
if why and "dq_view" not in st.session_state:
    st.caption(f"Opened on **{opened}**: {fmt.plain(why)}.")
keep(dq_kind="all", dq_status=[])
checks_tab, quarantine_tab, coverage_tab, history_tab = views(
    [CHECKS, QUARANTINE, COVERAGE, HISTORY], key="dq_view", default=opened)

IF_BROKEN = {"fail": "blocks publishing", "warn": "warning only"}


def suite_kind(column: str = "suite") -> pl.Expr:
    return pl.col(column).str.split("_").list.first()


def readable_results(results: pl.DataFrame) -> pl.DataFrame:
    """Check results as the table shows them: the status with its coloured mark, what a
    failure would do ('blocks publishing' / 'warning only') instead of a severity that
    reads like a result, 'not run' for a check that was not run."""
    shown = results
    if "severity" in shown.columns:
        shown = shown.with_columns(
            pl.col("severity").replace_strict(IF_BROKEN, default=pl.col("severity"),
                                              return_dtype=pl.String).alias("if_broken"))
    if "column" in shown.columns:
        shown = shown.with_columns(pl.col("column").fill_null("(table-level)"))
    if "observed_value" in shown.columns:
        shown = shown.with_columns(
            pl.when(pl.col("observed_value").is_null() & (pl.col("status") == "not_applicable"))
            .then(pl.lit("not run")).otherwise(pl.col("observed_value")).alias("observed_value"))
    if "detail" in shown.columns:
        shown = shown.with_columns(pl.col("detail").fill_null(""))
    shown = shown.with_columns(pl.col("status").alias("status_code"))
    first = [c for c in ("suite", "expectation", "column", "status", "if_broken",
                         "observed_value", "detail") if c in shown.columns]
    shown = shown.select(*first, pl.exclude(first))
    return fmt.as_tags(fmt.readable(shown, keep=("status_code",)), "status")


if checks_tab.open:
    with checks_tab:
        if results.is_empty():
            empty("No check results for this build (meta.dq_results is empty).",
                  "Checks run during `rapport build`; run `rapport check` to re-run them.")
        else:
            kinds = results.with_columns(suite_kind().alias("kind")) \
                .group_by("kind", "status").len().sort("kind")
            fig = bars(kinds, "kind", "len", color="status", horizontal=True,
                       order=list(STATUSES), colours=STATUS_COLOURS,
                       x_title="Checks", y_title="Suite kind", legend_title="Status",
                       title="Check results by kind of suite (raw tables, quarantine, marts, "
                             "dbt, reconciliation)")
            totals = kinds.group_by("kind").agg(pl.col("len").sum())["len"].to_list()
            chart(integer_axis(fig, totals, axis="x"), key="dq_suites", height=260)
            c1, c2 = st.columns(2)
            kind = c1.selectbox("Suites", ["all", *kinds["kind"].unique(maintain_order=True)],
                                key="dq_kind", format_func=lambda k: "All suites"
                                if k == "all" else f"{k} suites")
            statuses = c2.multiselect("Status", list(STATUSES), key="dq_status",
                                      placeholder="Every status",
                                      format_func=fmt.labeller("status"))
            shown = results
            if kind != "all":
                shown = shown.filter(suite_kind() == kind)
            if statuses:
                shown = shown.filter(pl.col("status").is_in(statuses))
            table(readable_results(shown), key="dq_results", file_name=f"dq_results_{build_id}",
                  hide=("build_id", "success", "severity", "status_code", "unexpected_count",
                        "checked_at"), height=320, column_config={
                      "suite": st.column_config.TextColumn("Suite", width=170),
                      "expectation": st.column_config.TextColumn("Check", width=230),
                      "column": "Column",
                      "status": tag_column("Status", coded_tags("status", STATUS_COLOURS),
                                           help=help_for("dq_status"), width=120),
                      "observed_value": "Observed",
                      "if_broken": st.column_config.TextColumn(
                          "If it fails", help=help_for("dq_if_broken")),
                      "detail": "Detail",
                  })


def result_text(mark: str) -> str:
    """A build outcome without its mark: '🔴 refused: checks failed' -> 'refused: checks
    failed' (the tag's colour says it)."""
    return mark.split(" ", 1)[1] if " " in mark and not mark[:1].isalnum() else mark


def build_colour(status: str | None) -> str:
    if status in REFUSED_STATUSES:
        return REFUSED_COLOUR
    return BUILD_COLOURS.get(status or "", "#9e9e9e")


def readable_samples(samples: pl.DataFrame) -> tuple[pl.DataFrame, dict]:
    """Quarantined sample rows with their raw values as columns (one per column of the raw
    file, 'withheld' for a personal value the viewer may not see), the reason codes as
    labels. The JSON stays in raw_values (hidden; the CSV keeps it)."""
    parsed = [None if v is None else _json_object(v) for v in samples["raw_values"].to_list()]
    keys: list[str] = []
    for row in parsed:
        for key in row or {}:
            if key not in keys:
                keys.append(key)
    withheld = ("raw_values_withheld" in samples.columns
                and bool(samples["raw_values_withheld"].any()))
    extra = {}
    for key in keys:
        extra[f"raw: {key}"] = [
            "" if row is None or key not in row else "(empty)" if row[key] in (None, "")
            else "withheld" if row[key] == HIDDEN else str(row[key]) for row in parsed]
    if withheld or not keys:
        extra["raw: values"] = [
            "withheld (the table has personal data)" if withheld
            else "not recorded" if row is None else "" for row in parsed]
    shown = samples.with_columns(
        pl.col("reasons").map_elements(
            lambda text: ", ".join(fmt.code_label("reason", r.strip())
                                   for r in text.split(",") if r.strip()),
            return_dtype=pl.String).alias("reasons"),
        *(pl.Series(name, values, dtype=pl.String) for name, values in extra.items()))
    config = {name: st.column_config.TextColumn(
        fmt.header(name.removeprefix("raw: ")) if name != "raw: values" else "Raw values",
        help=f"Column {name.removeprefix('raw: ')} of the raw file, as it was read"
        if name != "raw: values" else None) for name in extra}
    return fmt.readable(shown), config


def _json_object(text: str) -> dict | None:
    try:
        value = json.loads(text)
    except ValueError:
        return None
    return value if isinstance(value, dict) else None


if quarantine_tab.open:
    with quarantine_tab:
        rows = q.row_counts(reader, scope, build_id)
        if quarantined.is_empty():
            st.success("No row was quarantined in this build.")
        else:
            fig = bars(quarantined, "table_name", "rows", color="reason", x_title="Table",
                       y_title="Rows", legend_title="Reason",
                       title="Quarantined rows per table and reason")
            totals = quarantined.group_by("table_name").agg(pl.col("rows").sum())
            chart(integer_axis(fig, totals["rows"].to_list()), key="quarantine_counts",
                  height=320)
            table(fmt.readable(quarantined), key="quarantine_counts",
                  file_name=f"quarantine_counts_{build_id}",
                  column_config={"table_name": "Table", "reason": "Reason",
                                 "rows": st.column_config.NumberColumn(
                                     "Rows", help=help_for("quarantined_rows"))}, height=220)
            st.markdown("#### Sample rows")
            if not scope.sees_all_regions:
                st.info("Sample rows are shown only to viewers of every region: a rejected "
                        "row cannot be attributed to a region.")
            else:
                c1, c2 = st.columns(2)
                tables = quarantined["table_name"].unique(maintain_order=True).to_list()
                chosen = c1.selectbox("Table", tables, key="dq_table")
                reasons = quarantined.filter(pl.col("table_name") == chosen)["reason"].to_list()
                reason = c2.selectbox("Reason", reasons, key="dq_reason",
                                      format_func=fmt.labeller("reason"))
                pii_tables = [t.name for t in contract().tables.values()
                              if any(col.pii for col in t.columns.values())]
                samples = q.quarantine_samples(reader, scope, build_id, chosen, reason,
                                               pii_tables=pii_tables)
                if samples.is_empty():
                    st.caption("No sample row recorded for this table and reason.")
                else:
                    shown, raw_config = readable_samples(samples)
                    table(shown, key="quarantine_samples",
                          file_name=f"quarantine_{chosen}_{reason}_{build_id}", height=260,
                          hide=("table_name", "raw_values", "raw_values_withheld"),
                          column_config={
                              "source_file": "File", "row_number": "Row",
                              "reasons": "Reasons",
                              "detail": st.column_config.TextColumn(
                                  "Detail", help="The gate's reasons with the values it "
                                                 "quoted (personal values withheld)."),
                              **raw_config,
                          })
        if not rows.is_empty():
            st.markdown("#### Rows per table in this build")
            table(fmt.readable(rows), key="row_counts", file_name=f"row_counts_{build_id}",
                  hide=("build_id",), height=260, column_config={
                      "table_name": "Table", "raw_rows": "Raw rows", "clean_rows": "Clean rows",
                      "quarantined_rows": st.column_config.NumberColumn(
                          "Quarantined rows", help=help_for("quarantined_rows")),
                  })

if history_tab.open:
    with history_tab:
        fresh = q.freshness(reader, scope)
        as_of = build.get("as_of_date")
        if isinstance(as_of, dt.date):
            fresh = fresh.with_columns(
                (pl.lit(as_of) - pl.col("latest_date")).dt.total_days()
                .alias("days_before_as_of"))
        st.markdown("#### Freshness: the latest date each mart reaches")
        table(fmt.readable(fresh), key="freshness",
              file_name="freshness", column_config={
                  "mart": "Mart", "column_name": "Column", "latest_date": "Latest date",
                  "days_before_as_of": st.column_config.NumberColumn(
                      "Days before as-of", help=na_help(
                          "As-of date - latest date; large gaps mean a source stopped "
                          "delivering.", "the mart has no dated row")),
              })
        history = q.build_history(reader, scope)
        if attempts:  # builds the served file cannot know of: refused or started after it
            extra = attempts_frame([a for a in attempts if history.is_empty()
                                    or a.build_id not in set(history["build_id"].to_list())])
            history = pl.concat([extra, history], how="diagonal_relaxed") \
                if not extra.is_empty() else history
            if "build_id" in history.columns:
                history = history.sort("build_id", descending=True)
        result_colours: dict[str, str] = {}
        if not history.is_empty() and "status" in history.columns:
            # `outcome` (with its mark, in the CSV) and `result`, the same as a coloured tag
            history = history.with_columns(
                pl.col("status").map_elements(status_mark, return_dtype=pl.String)
                .alias("outcome"))
            for status, mark in zip(history["status"].to_list(), history["outcome"].to_list(),
                                    strict=True):
                result_colours[result_text(mark)] = build_colour(status)
            history = history.with_columns(
                pl.col("outcome").map_elements(result_text, return_dtype=pl.String)
                .alias("result"))
            history = history.select("result", "outcome", pl.exclude("result", "outcome"))
        st.markdown("#### Build history")
        if history.is_empty():
            empty("No build history (meta.build_history).",
                  "It is written by `rapport build`; older warehouses do not have it.")
        else:
            if {"started_at", "finished_at"} <= set(history.columns) and history.height > 1:
                history = history.with_columns(
                    (pl.col("finished_at") - pl.col("started_at")).dt.total_seconds()
                    .alias("duration_s"))
                outcome = "result" if "result" in history.columns else None
                fig = dots(history, "started_at", "duration_s", color=outcome,
                           colours=result_colours,
                           hover=[c for c in ("build_id", "as_of_date", "checks_summary")
                                  if c in history.columns],
                           x_title="Started", y_title="Duration (s)", legend_title="Outcome",
                           title="Builds: when, how long, outcome")
                chart(fig, key="build_history", height=280)
            shown = fmt.as_tags(fmt.readable(history.drop("status", strict=False),
                                             formats={"duration_s": lambda v: f"{v:.0f}"}),
                                "result")
            table(shown, key="build_history", file_name="build_history",
                  hide=("outcome", "raw_dir", "raw_row_counts"), height=300,
                  column_config={
                      "result": tag_column("Outcome", result_colours, width=230),
                      "build_id": "Build",
                      "checks_summary": "Checks", "duration_s": st.column_config.NumberColumn(
                          "Duration (s)", format="%.0f"),
                  })

if coverage_tab.open:
    with coverage_tab:
        if cov.is_empty() and not layers.recorded:
            empty("This warehouse records no coverage (meta.coverage, meta.layers).",
                  "It was built before coverage was recorded; rebuild it with `rapport build`.")
        else:
            if layers.recorded:
                st.markdown("#### What this build can show")
                table(pl.DataFrame({
                    "layer": [fmt.label(r.name) for r in layers.rows],
                    "available": [r.available for r in layers.rows],
                    "needs": [r.needs for r in layers.rows],
                    "reason": [r.reason or "" for r in layers.rows],
                }), key="layers", file_name=f"layers_{build_id}", column_config={
                    "layer": "Layer", "available": "Available", "needs": "Needs",
                    "reason": "Why not"})
            incomplete = q.incomplete_columns(cov)
            st.markdown("#### Incomplete rows kept, per column",
                        help="Rows the gate kept although a column is blank (e.g. an open "
                             "deal without account, amount or created date): counted here, "
                             "not quarantined. A row blank in two columns counts under both.")
            if incomplete.is_empty():
                st.success("No kept row has a blank column.")
            else:
                table(fmt.as_percent(incomplete, "filled_share"), key="incomplete_columns",
                      file_name=f"incomplete_{build_id}",
                      column_config={
                          "table_name": "Table", "column_name": "Column", "table_rows": "Rows",
                          "filled_rows": "Filled", "blank_rows": "Blank",
                          "filled_share_pct": percent_column("Filled share")})
                tables = incomplete["table_name"].unique(maintain_order=True).to_list()
                chosen = st.selectbox("Rows of table", tables, key="dq_incomplete_table",
                                      help="The kept rows with a blank, for the data team to "
                                           "complete at the source (the first 500).")
                cols = incomplete.filter(pl.col("table_name") == chosen)["column_name"].to_list()
                listed = q.incomplete_rows(reader, scope, chosen, cols)
                if listed is None:
                    st.caption("The rows are listed only for viewers of every region, and not "
                               "for tables with personal data.")
                elif listed.is_empty():
                    st.caption(f"No kept row of {fmt.plain(chosen)} has these columns blank "
                               "now (the counts above come from the build's coverage).")
                else:
                    # every value as the file had it; a blank reads "(blank)", not None
                    listed = listed.with_columns(
                        pl.col(pl.Datetime).dt.strftime("%Y-%m-%d %H:%M:%S"))
                    table(listed.with_columns(pl.all().cast(pl.String).fill_null("(blank)")),
                          key="incomplete_rows", file_name=f"incomplete_{chosen}",
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

"""Tiers: S/A/B/C by region and industry, the Pareto curve, migration, element scores.

One view at a time (ui.widgets.views): only the open view's queries run."""

import plotly.graph_objects as go
import polars as pl
import streamlit as st
from ui import fmt
from ui.charts import (
    CHANGE_COLOURS,
    TIER_COLOURS,
    bars,
    integer_axis,
    legend_below,
    matrix,
    thin_line,
)
from ui.context import current
from ui.helptext import help_for
from ui.widgets import (
    FILTERS_TOO_NARROW,
    chart,
    coded_tags,
    empty,
    keep,
    metric,
    money_column,
    na_help,
    percent_column,
    score_column,
    table,
    tag_column,
    views,
)

from rapport.serving import queries as q

ctx = current()
reader, scope, f = ctx.reader, ctx.scope, ctx.filters

st.title("Tiers")
if f.year is None:
    empty("The warehouse has no account tiers yet.",
          "Tiers are computed each quarter from accounts and won opportunities; load them "
          "(data/raw) and run `rapport build`.")
    st.stop()
tier_note = ""
if f.tiers:
    shown = ", ".join(t for t in q.TIERS if t in f.tiers)
    tier_note = (f" · **tier filter: {shown} only** (counts and shares are of the "
                 f"{'tier' if len(f.tiers) == 1 else 'tiers'} {shown}"
                 + (": every bar reads 100%)" if len(f.tiers) == 1 else ")"))
st.caption(f"{fmt.quarter_label(f.year, f.quarter)} · {fmt.plain(ctx.regions_label())}"
           f"{tier_note} · S top 5%, A next 15%, B next 30%, C the rest by composite score.")
windows = q.tier_windows(reader, scope, f)
warming = [name for name, complete in (("revenue (12 months)", windows["revenue"]),
                                        ("win rate (24 months)", windows["winnability"]))
           if not complete]
if warming:
    st.caption("Warm-up: the " + " and ".join(warming) + " window of this quarter reaches "
               "back before the first deal data, so those scores rest on less history than "
               "later quarters.")

NO_TIERS = f"No tiered accounts for {fmt.quarter_label(f.year, f.quarter)}."
DISTRIBUTION, PARETO, MIGRATION, ACCOUNTS = (
    "Distribution", "Pareto curve", "Migration", "Accounts and scores")
keep(tiers_group_by="region", tiers_columns="Scores")
distribution_tab, pareto_tab, migration_tab, accounts_tab = views(
    [DISTRIBUTION, PARETO, MIGRATION, ACCOUNTS], key="tiers_view")

if distribution_tab.open:
    with distribution_tab:
        by = st.segmented_control("Group by", ["region", "industry"], key="tiers_group_by",
                                  format_func=str.capitalize)
        by = by or "region"
        dist = q.tier_distribution(reader, scope, f, by)
        if dist.is_empty():
            empty(NO_TIERS, FILTERS_TOO_NARROW)
        else:
            kinds = {"grp": "industry"} if by == "industry" else None
            left, right = st.columns(2)
            with left:
                # horizontal stacks: a segment of one account is wide enough for its label
                fig = bars(dist, "grp", "accounts", color="tier", order=list(q.TIERS),
                           colours=TIER_COLOURS, text=True, horizontal=True, kinds=kinds,
                           x_title="Accounts", y_title=by.capitalize(), legend_title="Tier",
                           title=f"Accounts per tier by {by}")
                fig.update_yaxes(autorange="reversed")
                totals = dist.group_by("grp").agg(pl.col("accounts").sum())["accounts"]
                chart(legend_below(integer_axis(fig, totals.to_list(), axis="x")),
                      key="tier_counts_by_group", height=360)
            with right:
                fig = bars(dist.with_columns(pl.col("revenue_share") * 100), "grp",
                           "revenue_share", color="tier", order=list(q.TIERS),
                           colours=TIER_COLOURS, text=True, horizontal=True, kinds=kinds,
                           text_format="{:.1f}%", min_text=12, x_title="Share of revenue 12m",
                           y_title=by.capitalize(), legend_title="Tier",
                           title=f"Revenue share of each tier within the {by}")
                fig.update_yaxes(autorange="reversed")
                fig.update_xaxes(ticksuffix="%", range=[0, 100])
                chart(legend_below(fig), key="tier_revenue_share", height=360)
            shown_dist = fmt.readable(fmt.as_percent(dist, "revenue_share"),
                                      kinds={"grp": "industry"} if by == "industry" else {})
            table(shown_dist.rename({"grp": by}), key="tier_distribution",
                  file_name=f"tiers_by_{by}", column_config={
                      by: by.capitalize(), "tier": "Tier", "accounts": "Accounts",
                      "revenue_ttm": money_column("Revenue 12m", help=help_for("revenue_ttm")),
                      "revenue_share_pct": percent_column("Revenue share",
                                                          help=help_for("revenue_share")),
                  }, height=250)

if pareto_tab.open:
    with pareto_tab:
        curve = q.pareto(reader, scope, f)
        if curve.is_empty():
            empty(NO_TIERS, FILTERS_TOO_NARROW)
        else:
            top20 = curve.filter(pl.col("account_share") >= 0.2).head(1)
            c1, c2, c3 = st.columns(3)
            with c1:
                metric("Accounts", fmt.count(curve.height), help_key="pareto")
            with c2:
                metric("Top 20% of accounts",
                       fmt.pct(top20["cumulative_revenue_share"][0] if top20.height else None),
                       help_key="pareto",
                       extra_help="Share of revenue 12m of the top 20% of accounts.")
            with c3:
                sa = curve.filter(pl.col("tier").is_in(["S", "A"]))
                total = curve["revenue_ttm"].sum()
                metric("S and A accounts",
                       fmt.pct(sa["revenue_ttm"].sum() / total if total else None),
                       help_key="tier", extra_help="Their share of revenue 12m.")
            fig = go.Figure()
            line = thin_line(curve)  # the metrics above and the table below use every account
            fig.add_trace(go.Scatter(
                x=line["account_share"].to_list(), y=line["cumulative_revenue_share"].to_list(),
                mode="lines+markers" if line.height <= 300 else "lines", marker={"size": 4},
                name="Cumulative revenue",
                # hover text is drawn as Plotly HTML: names escaped (fmt.chart_text)
                customdata=list(zip(map(fmt.chart_text, line["account_name"].to_list()),
                                    map(fmt.chart_text, line["tier"].to_list()),
                                    map(fmt.money, line["revenue_ttm"].to_list()))),
                hovertemplate="%{customdata[0]} (%{customdata[1]}, %{customdata[2]})<br>top "
                              "%{x:.1%} of accounts: %{y:.1%} of revenue<extra></extra>",
            ))
            fig.add_trace(go.Scatter(x=[0, 1], y=[0, 1], mode="lines", name="Even spread",
                                     line={"dash": "dot", "color": "#9e9e9e"}))
            fig.add_vline(x=0.2, line_dash="dash", line_color="#616161",
                          annotation_text="20% of accounts")
            fig.update_layout(title="Pareto curve of revenue (trailing 12 months)",
                              xaxis_title="Share of accounts (largest first)",
                              yaxis_title="Cumulative share of revenue")
            fig.update_xaxes(tickformat=".0%")
            fig.update_yaxes(tickformat=".0%")
            chart(fig, key="pareto", height=380)
            with st.expander("Pareto table"):
                table(fmt.as_percent(curve, "account_share", "cumulative_revenue_share"),
                      key="pareto", file_name="pareto", hide=("account_id",), column_config={
                          "revenue_rank": "Rank", "account_name": "Account", "tier": "Tier",
                          "revenue_ttm": money_column("Revenue 12m",
                                                      help=help_for("revenue_ttm")),
                          "account_share_pct": percent_column("Account share"),
                          "cumulative_revenue_share_pct": percent_column(
                              "Cumulative revenue share", help=help_for("pareto")),
                      })

if migration_tab.open:
    with migration_tab:
        options = [(int(r["year"]), int(r["quarter"])) for r in ctx.quarters.iter_rows(named=True)]
        to_default = options.index((f.year, f.quarter)) if (f.year, f.quarter) in options else 0
        c1, c2 = st.columns(2)
        to_yq = c2.selectbox("To quarter", options, index=to_default, key="tiers_to",
                             format_func=lambda yq: fmt.quarter_label(*yq))
        earlier = [o for o in options if o < to_yq]
        if f.tiers:
            st.caption("The tier filter does not apply here: it would hide the accounts that "
                       "moved out of the chosen tiers.")
        if not earlier:
            empty(f"No quarter before {fmt.quarter_label(*to_yq)} to compare with.",
                  "Tier migration needs at least two quarters of history.")
        else:
            from_default = min(3, len(earlier) - 1)  # a year back when there is one
            from_yq = c1.selectbox("From quarter", earlier, index=from_default,
                                   key="tiers_from",
                                   format_func=lambda yq: fmt.quarter_label(*yq))
            moves = q.tier_migration(reader, scope, f, *from_yq, *to_yq)
            if moves.is_empty():
                empty("No account has a tier in both quarters.", FILTERS_TOO_NARROW)
            else:
                counts = moves.group_by("movement").len()
                n = dict(zip(counts["movement"].to_list(), counts["len"].to_list()))
                m1, m2, m3 = st.columns(3)
                with m1:
                    metric("Upgrades", fmt.count(n.get("up", 0)), help_key="migration")
                with m2:
                    metric("Downgrades", fmt.count(n.get("down", 0)), help_key="migration")
                with m3:
                    metric("Unchanged", fmt.count(n.get("same", 0)), help_key="migration")
                cells = {(a, b): n for a, b, n in
                         moves.group_by("from_tier", "to_tier").len().iter_rows()}
                grid = [[cells.get((a, b), 0) for b in q.TIERS] for a in q.TIERS]
                fig = matrix(grid, list(q.TIERS), list(q.TIERS),
                             x_title=f"Tier in {fmt.quarter_label(*to_yq)}",
                             y_title=f"Tier in {fmt.quarter_label(*from_yq)}",
                             colour_title="Accounts",
                             title="Tier migration (rows: from, columns: to)")
                chart(fig, key="migration", height=340)
                movers = moves.filter(pl.col("movement") != "same")
                st.markdown(f"**Accounts that changed tier** ({movers.height})")
                table(fmt.readable(movers), key="migration_movers", file_name="tier_migration",
                      hide=("account_id",), column_config={
                          "account_name": "Account", "region_name": "Region",
                          "industry": "Industry", "from_tier": "From", "to_tier": "To",
                          "movement": "Movement",
                          "revenue_ttm": money_column("Revenue 12m",
                                                      help=help_for("revenue_ttm")),
                      }, height=260)

if accounts_tab.open:
    with accounts_tab:
        accounts = q.accounts_by_tier(reader, scope, f)
        if accounts.is_empty():
            empty(NO_TIERS, FILTERS_TOO_NARROW)
        else:
            SCORES, DETAILS = "Scores", "Rank, region and industry"
            group = st.segmented_control(
                "Columns", [SCORES, DETAILS], key="tiers_columns",
                help="The table fits the screen: choose which columns to see. The CSV has "
                     "every column.") or SCORES
            st.caption("Each element is normalised 0-100 within the industry; the composite "
                       "weights them (hover the column headers for the formulas).")
            score_columns = ["tier", "account_name", "composite_score", "tier_change",
                             "revenue_score", "potential_score", "demonstration_score",
                             "winnability_score"]
            detail_columns = ["tier", "rank_in_population", "account_name", "revenue_ttm",
                              "region_name", "industry", "previous_tier", "tier_change"]
            shown = score_columns if group == SCORES else detail_columns
            # the shown columns in this order, then the rest (hidden; in the CSV)
            accounts = accounts.select(*shown, pl.exclude(shown))
            change_help = na_help(help_for("tier_change"),
                                  "no tier the quarter before (new account)")
            table(fmt.as_tags(fmt.readable(accounts), "tier_change"), key="accounts_by_tier",
                  file_name="accounts_by_tier",
                  hide=[c for c in accounts.columns if c not in shown], height=420,
                  column_config={
                      "tier": st.column_config.TextColumn("Tier", help=help_for("tier"),
                                                          width=45),
                      "rank_in_population": st.column_config.NumberColumn(
                          "Rank", help="Rank of the composite score in the scoring "
                                       "population (1 = highest)."),
                      "account_name": st.column_config.TextColumn("Account", width=170),
                      "region_name": "Region", "industry": "Industry",
                      "revenue_ttm": money_column("Revenue 12m", help=help_for("revenue_ttm"),
                                                  width=120),
                      "revenue_score": score_column("Revenue", help=help_for("revenue_score"),
                                                    width=85),
                      "potential_score": score_column(
                          "Potential", help=help_for("potential_score"), width=85),
                      "demonstration_score": score_column(
                          "Demonstration", help=help_for("demonstration_score"), width=110),
                      "winnability_score": score_column(
                          "Winnability", help=help_for("winnability_score"), width=90),
                      "composite_score": st.column_config.NumberColumn(
                          "Composite", format="%.1f", help=help_for("composite_score"),
                          width=85),
                      "previous_tier": st.column_config.TextColumn(
                          "Previous tier", help=na_help(None, "no tier the quarter before")),
                      "tier_change": tag_column("Change", coded_tags("tier_change",
                                                                     CHANGE_COLOURS),
                                                help=change_help, width=80),
                  })

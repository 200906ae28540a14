"""Tiers: S/A/B/C by region and industry, the Pareto curve, migration, element scores."""

import plotly.graph_objects as go
import polars as pl
import streamlit as st
from ui import fmt
from ui.charts import TIER_COLOURS, bars, matrix, thin_line
from ui.context import current
from ui.helptext import help_for
from ui.widgets import FILTERS_TOO_NARROW, chart, empty, metric, table

from rapport.warehouse import queries as q

ctx = current()
reader, scope, f = ctx.reader, ctx.scope, ctx.filters

st.title("Tiers")
if f.year is None:
    empty("The warehouse has no account tiers yet.",
          "Tiers are computed each quarter from accounts and won opportunities; load them "
          "(data/raw) and run `rapport build`.")
    st.stop()
st.caption(f"{fmt.quarter_label(f.year, f.quarter)} · {fmt.plain(ctx.regions_label())} · "
           "S top 5%, A next 15%, B next 30%, C the rest by composite score.")
windows = q.tier_windows(reader, scope, f)
warming = [name for name, complete in (("revenue (12 months)", windows["revenue"]),
                                        ("win rate (24 months)", windows["winnability"]))
           if not complete]
if warming:
    st.caption("Warm-up: the " + " and ".join(warming) + " window of this quarter reaches "
               "back before the first deal data, so those scores rest on less history than "
               "later quarters.")

SCORE = {"min_value": 0, "max_value": 100, "format": "%.0f"}
SCORE_COLUMNS = {
    "tier": st.column_config.TextColumn("Tier", help=help_for("tier")),
    "rank_in_population": st.column_config.NumberColumn("Rank"),
    "account_name": "Account", "region_name": "Region", "industry": "Industry",
    "revenue_ttm": st.column_config.NumberColumn("Revenue 12m", format="compact",
                                                 help=help_for("revenue_ttm")),
    "revenue_score": st.column_config.ProgressColumn("Revenue", help=help_for("revenue_score"),
                                                     **SCORE),
    "potential_score": st.column_config.ProgressColumn(
        "Potential", help=help_for("potential_score"), **SCORE),
    "demonstration_score": st.column_config.ProgressColumn(
        "Demonstration", help=help_for("demonstration_score"), **SCORE),
    "winnability_score": st.column_config.ProgressColumn(
        "Winnability", help=help_for("winnability_score"), **SCORE),
    "composite_score": st.column_config.NumberColumn(
        "Composite", format="%.1f", help=help_for("composite_score")),
    "previous_tier": "Previous tier", "tier_change": "Change",
}

accounts = q.accounts_by_tier(reader, scope, f)
if accounts.is_empty():
    empty(f"No tiered accounts for {fmt.quarter_label(f.year, f.quarter)}.", FILTERS_TOO_NARROW)
    st.stop()

distribution_tab, pareto_tab, migration_tab, accounts_tab = st.tabs(
    ["Distribution", "Pareto curve", "Migration", "Accounts and scores"]
)

with distribution_tab:
    by = st.segmented_control("Group by", ["region", "industry"], default="region",
                              key="tiers_group_by", format_func=str.capitalize)
    by = by or "region"
    dist = q.tier_distribution(reader, scope, f, by)
    left, right = st.columns(2)
    with left:
        fig = bars(dist, "grp", "accounts", color="tier", order=list(q.TIERS),
                   colours=TIER_COLOURS, text=True, x_title=by.capitalize(),
                   y_title="Accounts", legend_title="Tier",
                   title=f"Accounts per tier by {by}")
        chart(fig, key="tier_counts_by_group", height=340)
    with right:
        fig = bars(dist, "grp", "revenue_share", color="tier", order=list(q.TIERS),
                   colours=TIER_COLOURS, x_title=by.capitalize(),
                   y_title="Share of revenue 12m", legend_title="Tier",
                   title=f"Revenue share of each tier within the {by}")
        fig.update_yaxes(tickformat=".0%")
        chart(fig, key="tier_revenue_share", height=340)
    table(dist.rename({"grp": by}), key="tier_distribution", file_name=f"tiers_by_{by}",
          column_config={
              by: by.capitalize(), "tier": "Tier", "accounts": "Accounts",
              "revenue_ttm": st.column_config.NumberColumn("Revenue 12m", format="compact"),
              "revenue_share": st.column_config.NumberColumn(
                  "Revenue share", format="percent", help=help_for("revenue_share")),
          }, height=250)

with pareto_tab:
    curve = q.pareto(reader, scope, f)
    top20 = curve.filter(pl.col("account_share") >= 0.2).head(1)
    c1, c2, c3 = st.columns(3)
    with c1:
        metric("Accounts", fmt.count(curve.height), help_key="pareto")
    with c2:
        metric("Revenue of the top 20% of accounts",
               fmt.pct(top20["cumulative_revenue_share"][0] if top20.height else None),
               help_key="pareto")
    with c3:
        sa = curve.filter(pl.col("tier").is_in(["S", "A"]))
        total = curve["revenue_ttm"].sum()
        metric("Revenue share of S and A",
               fmt.pct(sa["revenue_ttm"].sum() / total if total else None), help_key="tier")
    fig = go.Figure()
    line = thin_line(curve)  # the metrics above and the table below use every account
    fig.add_trace(go.Scatter(
        x=line["account_share"].to_list(), y=line["cumulative_revenue_share"].to_list(),
        mode="lines+markers" if line.height <= 300 else "lines", marker={"size": 4},
        name="Cumulative revenue",
        # hover text is drawn as Plotly HTML: names escaped (fmt.chart_text)
        customdata=list(zip(map(fmt.chart_text, line["account_name"].to_list()),
                            map(fmt.chart_text, line["tier"].to_list()))),
        hovertemplate="%{customdata[0]} (%{customdata[1]})<br>top %{x:.0%} of accounts: "
                      "%{y:.0%} of revenue<extra></extra>",
    ))
    fig.add_trace(go.Scatter(x=[0, 1], y=[0, 1], mode="lines", name="Even spread",
                             line={"dash": "dot", "color": "#9e9e9e"}))
    fig.add_vline(x=0.2, line_dash="dash", line_color="#c62828",
                  annotation_text="20% of accounts")
    fig.update_layout(title="Pareto curve of revenue (trailing 12 months)",
                      xaxis_title="Share of accounts (largest first)",
                      yaxis_title="Cumulative share of revenue")
    fig.update_xaxes(tickformat=".0%")
    fig.update_yaxes(tickformat=".0%")
    chart(fig, key="pareto", height=380)
    with st.expander("Pareto table"):
        table(curve, key="pareto", file_name="pareto", hide=("account_id",), column_config={
            "revenue_ttm": st.column_config.NumberColumn("Revenue 12m", format="compact"),
            "account_share": st.column_config.NumberColumn("Account share", format="percent"),
            "cumulative_revenue_share": st.column_config.NumberColumn(
                "Cumulative revenue share", format="percent"),
        })

with migration_tab:
    options = [(int(r["year"]), int(r["quarter"])) for r in ctx.quarters.iter_rows(named=True)]
    to_default = options.index((f.year, f.quarter)) if (f.year, f.quarter) in options else 0
    c1, c2 = st.columns(2)
    to_yq = c2.selectbox("To quarter", options, index=to_default, key="tiers_to",
                         format_func=lambda yq: fmt.quarter_label(*yq))
    earlier = [o for o in options if o < to_yq]
    if not earlier:
        empty(f"No quarter before {fmt.quarter_label(*to_yq)} to compare with.",
              "Tier migration needs at least two quarters of history.")
    else:
        from_default = min(3, len(earlier) - 1)  # a year back when there is one
        from_yq = c1.selectbox("From quarter", earlier, index=from_default, key="tiers_from",
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
            table(movers, key="migration_movers", file_name="tier_migration",
                  hide=("account_id",), column_config={
                      "account_name": "Account", "region_name": "Region",
                      "industry": "Industry", "from_tier": "From", "to_tier": "To",
                      "movement": "Movement",
                      "revenue_ttm": st.column_config.NumberColumn("Revenue 12m",
                                                                   format="compact"),
                  }, height=260)

with accounts_tab:
    st.caption("Each element is normalised 0-100 within the industry; the composite "
               "weights them (hover the column headers for the formulas).")
    table(accounts, key="accounts_by_tier", file_name="accounts_by_tier",
          hide=("account_id",), column_config=SCORE_COLUMNS, height=420)

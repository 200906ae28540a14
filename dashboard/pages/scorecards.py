"""Scorecards (regional directors): a region's reps side by side on dimension 1 (results) and
dimension 2 (the nine key actions), weights by market type, total and rank; a rep detail
that explains every cell; region against region for leadership."""

import polars as pl
import streamlit as st
from ui import fmt
from ui.charts import MARKET_COLOURS, bars, key_action_heatmap
from ui.context import current
from ui.helptext import help_for
from ui.widgets import FILTERS_TOO_NARROW, chart, empty, layer_missing, layer_text, metric, table

from rapport.warehouse import queries as q

ctx = current()
reader, scope, f = ctx.reader, ctx.scope, ctx.filters

st.title("Scorecards")
if f.year is None:
    empty("The warehouse has no quarters with rep results yet.",
          "Load reps, opportunities and targets (data/raw), then run `rapport build`.")
    st.stop()

region_ids = list(f.region_ids) or list(ctx.region_names)
if not region_ids:
    empty("No region is visible.", FILTERS_TOO_NARROW)
    st.stop()
c1, c2 = st.columns([2, 3])
region_id = c1.selectbox("Region", region_ids, format_func=lambda r: ctx.region_names.get(r, r),
                         key="sc_region",
                         help="The reps of one region are compared with each other.")
card = q.scorecard(reader, scope, region_id, f.year, f.quarter)
region_name = ctx.region_names.get(region_id, region_id)
if card.height:
    r0 = card.row(0, named=True)
    c2.caption(
        f"{fmt.quarter_label(f.year, f.quarter)} · market type "
        f"**{fmt.plain(fmt.label(r0['market_type']))}**"
        f": total = {r0['weight_dimension1']:.0%} x dimension 1 + "
        f"{r0['weight_dimension2']:.0%} x dimension 2 (weights by market type)."
    )

layers = q.layers(reader, scope)
if not layers.available("profit"):
    st.caption(layer_text(layers.get("profit"), "Profit (and profit per head, growth and "
                                                "target completion)")
               + " Profit columns are left blank.")

reps_tab, detail_tab, regions_tab = st.tabs(["Reps of the region", "Rep detail",
                                             "Region against region"])

SCORE = {"min_value": 0, "max_value": 100, "format": "%.0f"}
with reps_tab:
    if card.is_empty():
        empty(f"No scorecard for {fmt.plain(region_name)} in "
              f"{fmt.quarter_label(f.year, f.quarter)}.",
              "Scorecards need reps with the AR role and their quarter's activities and plans.")
    else:
        cells = q.key_actions(reader, scope, region_id, f.year, f.quarter)
        m = st.columns(4)
        with m[0]:
            metric("Reps", fmt.count(card.height), help_key="rank_in_region")
        with m[1]:
            metric("Best total", fmt.score(card["total_score"].max()), help_key="total_score")
        with m[2]:
            d1 = card["dimension1_score"].mean()
            metric("Mean dimension 1", fmt.score(d1),
                   help_key="dimension1_score",
                   extra_help="Saline-alkali regions are assessed on the key actions only.")
        actions_ok = layers.available("key_actions")
        no_actions = "" if actions_ok else layer_text(layers.get("key_actions"),
                                                      "Dimension 2 (the key actions)")
        with m[3]:
            metric("Mean dimension 2",
                   fmt.score(card["dimension2_score"].mean()) if actions_ok
                   else fmt.NOT_AVAILABLE, help_key="dimension2_score", extra_help=no_actions)
        if not actions_ok:
            st.caption(no_actions + " Totals and ranks below rest on dimension 1 and the "
                       "few actions this build can score.")
        if not layers.available("key_actions"):
            layer_missing(layers.get("key_actions"), "The key actions heatmap")
        elif cells.is_empty():
            empty("No key-action cells for this region and quarter.",
                  "Key actions need strategies, plans, plan items, activities, complaints "
                  "and feedback (data/raw).")
        else:
            names = dict(cells.select("action_no", "action_name").unique().iter_rows())
            order = card["rep_name"].to_list()  # best first
            cells = cells.with_columns(
                pl.col("rep_name").replace_strict({n: i for i, n in enumerate(order)},
                                                  default=len(order)).alias("_order")
            ).sort("_order", "action_no").drop("_order")
            chart(key_action_heatmap(cells, names), key="key_actions",
                  height=max(260, 130 + 40 * len(order)))
            st.caption(" · ".join(f"{n} {fmt.plain(names[n])}" for n in sorted(names)))
        unranked = card.filter(~pl.col("ranked"))
        if unranked.height:
            st.caption("Not ranked (too few key actions scored to compare fairly): " + ", ".join(
                f"{fmt.plain(r['rep_name'])} ({r['actions_scored']} of 9 scored)"
                for r in unranked.iter_rows(named=True)) + ".")
        inferred = card["owned_accounts_inferred"].drop_nulls().sum()
        if inferred:
            st.caption(f"Ownership inferred: {fmt.count(inferred)} of "
                       f"{fmt.count(card['owned_accounts'].drop_nulls().sum())} measured "
                       "accounts were given to their rep of the quarter from activities and "
                       "won deals (the export has no ownership history).")
        table(card, key="scorecard", file_name=f"scorecard_{region_id}_{f.year}Q{f.quarter}",
              hide=("rep_id", "ranked", "owned_accounts_inferred"), column_config={
                  "rank_in_region": st.column_config.NumberColumn(
                      "Rank", help=help_for("rank_in_region")),
                  "rep_name": "Rep",
                  "total_score": st.column_config.ProgressColumn(
                      "Total", help=help_for("total_score"), **SCORE),
                  "dimension1_score": st.column_config.NumberColumn(
                      "Dim 1", format="%.1f", help=help_for("dimension1_score")),
                  "dimension2_score": st.column_config.NumberColumn(
                      "Dim 2", format="%.1f", help=help_for("dimension2_score")),
                  "weight_dimension1": st.column_config.NumberColumn(
                      "w1", format="percent", help=help_for("weights")),
                  "weight_dimension2": st.column_config.NumberColumn(
                      "w2", format="percent", help=help_for("weights")),
                  "market_type": "Market type",
                  "actions_scored": st.column_config.NumberColumn(
                      "Actions scored", help=help_for("actions_scored")),
                  "owned_accounts": st.column_config.NumberColumn(
                      "Accounts", help="Accounts the rep owned in the quarter (the AR of the "
                      "period, inferred from activities and won deals where the export has "
                      "no ownership history)."),
                  "revenue": st.column_config.NumberColumn("Revenue", format="compact",
                                                           help=help_for("revenue")),
                  "profit": st.column_config.NumberColumn("Profit", format="compact",
                                                          help=help_for("profit")),
                  "fte": st.column_config.NumberColumn("FTE", format="%.2f",
                                                       help=help_for("fte")),
                  "revenue_per_head": st.column_config.NumberColumn(
                      "Revenue / head", format="compact", help=help_for("revenue_per_head")),
                  "profit_per_head": st.column_config.NumberColumn(
                      "Profit / head", format="compact", help=help_for("profit_per_head")),
                  "revenue_yoy_growth": st.column_config.NumberColumn(
                      "Revenue growth", format="percent", help=help_for("revenue_yoy_growth")),
                  "profit_yoy_growth": st.column_config.NumberColumn(
                      "Profit growth", format="percent", help=help_for("profit_yoy_growth")),
                  "revenue_target_completion": st.column_config.NumberColumn(
                      "Revenue vs target", format="percent",
                      help=help_for("revenue_target_completion")),
                  "profit_target_completion": st.column_config.NumberColumn(
                      "Profit vs target", format="percent",
                      help=help_for("profit_target_completion")),
              })

with detail_tab:
    if card.is_empty():
        empty(f"No rep of {fmt.plain(region_name)} has a scorecard in "
              f"{fmt.quarter_label(f.year, f.quarter)}.", FILTERS_TOO_NARROW)
    else:
        reps = dict(card.select("rep_id", "rep_name").iter_rows())
        rep_id = st.selectbox("Rep", list(reps), format_func=reps.get, key="sc_rep")
        row = card.filter(pl.col("rep_id") == rep_id).row(0, named=True)
        d2 = row["dimension2_score"]
        st.markdown(
            f"**{fmt.plain(reps[rep_id])}**: "
            + (f"rank {row['rank_in_region']} of {card.filter(pl.col('ranked')).height}"
               if row["ranked"] else f"not ranked: {row['actions_scored']} of 9 scored")
            + " · "
            f"total {fmt.score(row['total_score'])} = {row['weight_dimension1']:.2f} x "
            f"{fmt.score(row['dimension1_score'])} (dimension 1) + "
            f"{row['weight_dimension2']:.2f} x {fmt.score(d2)} (dimension 2) · "
            f"{row['actions_scored']} of 9 actions scored"
        )
        st.markdown("#### Dimension 2: the nine key actions")
        rep_cells = q.key_actions(reader, scope, region_id, f.year, f.quarter, rep_id=rep_id)
        if rep_cells.is_empty():
            empty("No key-action cell for this rep.", "See the data quality page.")
        else:
            table(rep_cells.drop("rep_name").with_columns(
                      pl.col("numerator", "denominator").round(2),
                      pl.col("action_group").str.replace_all("_", " ")),
                  key="rep_actions",
                  file_name=f"key_actions_{rep_id}_{f.year}Q{f.quarter}", hide=("rep_id",),
                  column_config={
                      "action_no": "No", "action_group": "Group", "action_name": "Action",
                      "numerator": st.column_config.NumberColumn("Numerator", format="%g"),
                      "denominator": st.column_config.NumberColumn("Denominator", format="%g"),
                      "score": st.column_config.ProgressColumn(
                          "Score", min_value=0, max_value=1, format="percent",
                          help=help_for("action_score")),
                      "not_scored_reason": "Not scored because",
                  })
        st.markdown("#### Dimension 1: business results")
        perf = q.rep_performance(reader, scope, rep_id, f.year, f.quarter)
        if perf.is_empty():
            empty("No results for this rep in the quarter.",
                  "Results come from won opportunities where the rep is the AR.")
        else:
            p = perf.row(0, named=True)
            measures = [
                ("Revenue", fmt.money(p.get("revenue")), help_for("revenue")),
                ("Profit", fmt.money(p.get("profit")), help_for("profit")),
                ("FTE", f"{p.get('fte') or 0:.2f}", help_for("fte")),
                ("Revenue per head", fmt.money(p.get("revenue_per_head")),
                 f"{fmt.money(p.get('revenue'))} / {p.get('fte') or 0:.2f} FTE"),
                ("Profit per head", fmt.money(p.get("profit_per_head")),
                 f"{fmt.money(p.get('profit'))} / {p.get('fte') or 0:.2f} FTE"),
                ("Revenue growth", fmt.pct(p.get("revenue_yoy_growth"), 1),
                 (f"{fmt.money(p.get('revenue'))} / {fmt.money(p.get('revenue_prior_year'))}"
                 " (same quarter last year) - 1")),
                ("Profit growth", fmt.pct(p.get("profit_yoy_growth"), 1),
                 f"{fmt.money(p.get('profit'))} / {fmt.money(p.get('profit_prior_year'))} - 1"),
                ("Revenue target completion", fmt.pct(p.get("revenue_target_completion")),
                 f"{fmt.money(p.get('revenue'))} / {fmt.money(p.get('revenue_target'))}"),
                ("Profit target completion", fmt.pct(p.get("profit_target_completion")),
                 f"{fmt.money(p.get('profit'))} / {fmt.money(p.get('profit_target'))}"),
                ("Cash collected", fmt.money(p.get("cash_collected")),
                 help_for("cash_collected")),
            ]
            table(pl.DataFrame(measures, schema=["measure", "value", "how"], orient="row"),
                  key="rep_dimension1", file_name=f"dimension1_{rep_id}_{f.year}Q{f.quarter}",
                  column_config={"measure": "Measure", "value": "Value",
                                 "how": "Numerator / denominator"})

with regions_tab:
    regions = q.region_comparison(reader, scope, f, f.year, f.quarter)
    if regions.is_empty():
        empty(f"No region results in {fmt.quarter_label(f.year, f.quarter)}.",
              FILTERS_TOO_NARROW)
    else:
        long = regions.unpivot(index="region_name", on=["revenue_per_head", "profit_per_head"],
                               variable_name="measure", value_name="per_head")
        long = long.with_columns(pl.col("measure").replace_strict(
            {"revenue_per_head": "Revenue per head", "profit_per_head": "Profit per head"}))
        left, right = st.columns(2)
        with left:
            fig = bars(long, "region_name", "per_head", color="measure", barmode="group",
                       x_title="Region", y_title="Per head",
                       title="Per-head revenue and profit")
            chart(fig, key="region_per_head", height=330)
        with right:
            fig = bars(regions.with_columns(pl.col("mean_total_score").round(0)),
                       "region_name", "mean_total_score", color="market_type",
                       colours=MARKET_COLOURS, text=True, x_title="Region",
                       y_title="Mean total", legend_title="Market type",
                       x_order=regions["region_name"].to_list(),
                       title="Mean scorecard total of the region's reps")
            fig.update_yaxes(range=[0, 100])
            chart(fig, key="region_scores", height=330)
        table(regions, key="regions", file_name=f"regions_{f.year}Q{f.quarter}",
              hide=("region_id",), column_config={
                  "region_name": "Region", "market_type": "Market type",
                  "revenue": st.column_config.NumberColumn("Revenue", format="compact"),
                  "profit": st.column_config.NumberColumn("Profit", format="compact"),
                  "fte": st.column_config.NumberColumn("FTE", format="%.1f"),
                  "revenue_per_head": st.column_config.NumberColumn(
                      "Revenue / head", format="compact", help=help_for("revenue_per_head")),
                  "profit_per_head": st.column_config.NumberColumn(
                      "Profit / head", format="compact", help=help_for("profit_per_head")),
                  "revenue_yoy_growth": st.column_config.NumberColumn(
                      "Growth", format="percent", help=help_for("revenue_yoy_growth")),
                  "revenue_target_completion": st.column_config.NumberColumn(
                      "Revenue vs target", format="percent",
                      help=help_for("revenue_target_completion")),
                  "profit_target_completion": st.column_config.NumberColumn(
                      "Profit vs target", format="percent",
                      help=help_for("profit_target_completion")),
                  "mean_total_score": st.column_config.NumberColumn(
                      "Mean total", format="%.1f", help=help_for("mean_total_score")),
                  "best_total_score": st.column_config.NumberColumn("Best total",
                                                                    format="%.1f"),
                  "reps_scored": "Reps scored",
              })

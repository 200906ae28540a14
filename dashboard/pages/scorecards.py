"""Scorecards (regional directors): a region's reps side by side on dimension 1 (results) and
dimension 2 (the nine key actions), weights by market type, total and rank; a rep detail
that says why the rep ranks where he does, with the arithmetic; the region against the
other regions and the company. One view at a time: only the chosen view's queries run."""

import math

import plotly.graph_objects as go
import polars as pl
import streamlit as st
from ui import fmt
from ui.charts import MARKET_COLOURS, bars, key_action_heatmap
from ui.context import current
from ui.helptext import help_for
from ui.widgets import (
    FILTERS_TOO_NARROW,
    chart,
    empty,
    layer_missing,
    layer_text,
    metric,
    money_column,
    na_help,
    percent_column,
    score_column,
    table,
)

from rapport.serving import queries as q

# Short names of the nine key actions for the heatmap's axis (the seed key_actions.csv has
# the full names, shown on hover and in the rep detail; it has no short-name column).
SHORT_ACTION_NAMES = {
    1: "Strategy set", 2: "Relationship plan", 3: "Customer info", 4: "Key plan done",
    5: "Org plan done", 6: "General plan done", 7: "Activities logged",
    8: "Complaints closed", 9: "Opinions passed on",
}
COMPONENTS = {  # fct_rep_performance measures a dimension-1 component may name
    "revenue": "Revenue",
    "profit": "Profit",
    "revenue_per_head": "Revenue per head",
    "profit_per_head": "Profit per head",
    "revenue_yoy_growth": "Revenue growth",
    "profit_yoy_growth": "Profit growth",
    "revenue_target_completion": "Revenue target completion",
    "profit_target_completion": "Profit target completion",
    "cash_collected": "Cash collected",
}
SCALINGS = {"percentile_in_region": "percentile in region", "capped_ratio": "capped ratio"}
NINE = 9
VIEWS = ("Ranking", "Rep detail", "Region against region")
D2_COLOUR = "#7e57c2"
TOTAL_COLOUR = "#455a64"  # the total's bar: neutral (a score, not a warning)
D1_COLOURS = ["#1565c0", "#64b5f6", "#26a69a", "#80cbc4", "#5c6bc0", "#9fa8da"]


def share(value: float | None) -> str:
    """A weight: 0.5 -> '50%'."""
    return fmt.NA if value is None else f"{100 * value:.0f}%"


def component_value(component: str, value: float | None) -> str:
    """A measure as a director reads it: 'revenue target completion 104%', growth '+12%'."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return fmt.NA
    if component.endswith("_growth"):
        return f"{100 * value:+.{fmt.PCT_DIGITS}f}%"
    if component.endswith("_completion"):
        return fmt.pct(value)
    return fmt.money(value)


def shown_only(df: pl.DataFrame, visible, **kwargs) -> pl.DataFrame:
    """fmt.readable on the columns a table shows (codes as labels, gaps as 'n/a'); the
    hidden ones stay as the mart has them (the CSV's numbers)."""
    return fmt.readable(df, keep=[c for c in df.columns if c not in set(visible)], **kwargs)


def number_text(value: float | None) -> str:
    """An amount without its currency (the header has it): 1234567 -> '1.23 M'."""
    text = fmt.money(value)
    return text.replace(fmt.currency().symbol, "", 1) if fmt.currency().symbol else \
        text.rsplit(" ", 1)[0]


def how_scored(c: dict) -> str:
    """How a component's value became its 0-100 score, in words and numbers."""
    if c["component_score"] is None:
        return ("no value this quarter (e.g. no revenue a year earlier): left out, the "
                "other components' weights are re-normalised")
    if c["scaling"] == "percentile_in_region":
        n = c["reps_with_value"]
        if n == 1:
            return "percentile in region: the only rep of the region with a value scores 50"
        return (f"percentile {c['component_score']:.0f} of {n} reps in the region "
                f"({c['reps_below']} lower, {c['reps_tied']} equal)")
    if c["scaling"] == "capped_ratio":
        cap = c["cap"] or 1
        return (f"capped ratio: 100 × min({share(max(c['component_value'], 0))}, "
                f"{share(cap)}) / {share(cap)}")
    return SCALINGS.get(c["scaling"], fmt.label(c["scaling"]))


def recipe(components: pl.DataFrame) -> str:
    """'profit per head (50%, percentile in region), revenue target completion (25%, capped
    at 100%)' from the market type's component rows."""
    rows = components.unique("component", keep="first", maintain_order=True)
    parts = []
    for c in rows.iter_rows(named=True):
        how = ("percentile in region" if c["scaling"] == "percentile_in_region"
               else f"capped at {share(c['cap'])}" if c["scaling"] == "capped_ratio"
               else SCALINGS.get(c["scaling"], c["scaling"]))
        parts.append(f"{share(c['weight'])} {COMPONENTS.get(c['component'], c['component'])}"
                     f" ({how})")
    return " + ".join(parts)


def used_weights(row: dict) -> tuple[float, float]:
    """The weights of the two dimensions as the total uses them: a dimension that cannot be
    scored drops out and the other is divided by the weight left (fct_rep_scorecard)."""
    w1 = row["weight_dimension1"] if row["dimension1_score"] is not None else 0.0
    w2 = row["weight_dimension2"] if row["dimension2_score"] is not None else 0.0
    left = w1 + w2
    return (w1 / left, w2 / left) if left else (0.0, 0.0)


PERCENTS = ("revenue_target_completion", "profit_target_completion", "revenue_yoy_growth",
            "profit_yoy_growth", "weight_dimension1", "weight_dimension2")


def display_columns(card: pl.DataFrame) -> pl.DataFrame:
    """The card with the texts the ranking table shows: `rank` ('1', or 'not ranked'),
    `scored` ('7 of 9'), `previous` (last quarter's rank, '–' without one), `change` (the
    total's change, 'n/a' without a total last quarter) and the shares as percentages
    (`*_pct`, fmt.as_percent); the mart's numbers stay beside them for the CSV."""
    pcts = fmt.as_percent(card.select(PERCENTS), *PERCENTS)
    return card.with_columns(
        pl.when(pl.col("ranked")).then(pl.col("rank_in_region").cast(pl.String))
        .otherwise(pl.lit("not ranked")).alias("rank"),
        pl.format("{} of " + str(NINE), pl.col("actions_scored")).alias("scored"),
        pl.col("previous_rank_in_region").cast(pl.String).fill_null("–").alias("previous"),
        pl.Series("change", [fmt.signed(v) for v in card["total_change"].to_list()],
                  dtype=pl.String),
        *pcts.iter_columns(),
    )


def ranking_table(card: pl.DataFrame, columns: dict) -> pl.DataFrame:
    """The card as a ranking table shows `columns` (first, in their order): codes as labels,
    a gap as 'n/a' (amounts without the currency, which the header carries)."""
    shown = display_columns(card)
    first = [c for c in columns if c in shown.columns]
    shown = shown.select(*first, *[c for c in shown.columns if c not in first])
    money = {c: number_text for c in ("revenue_per_head", "profit_per_head", "revenue",
                                      "profit")}
    pct = {f"{c}{fmt.PERCENT_SUFFIX}": fmt.pct_points for c in PERCENTS}
    scores = {c: fmt.score for c in ("dimension1_score", "dimension2_score", "total_score",
                                     "previous_total_score")}
    return shown_only(shown, first, formats={**money, **pct, **scores})


def rep_labels(card: pl.DataFrame) -> dict[str, str]:
    """rep_id -> '1 · Name', '2 · Name (7 of 9)' (ranked on fewer than nine actions) or
    '– · Name (not ranked: 3 of 9)', unique, in the card's order (best first)."""
    out: dict[str, str] = {}
    for r in card.iter_rows(named=True):
        if r["ranked"]:
            text = f"{r['rank_in_region']} · {r['rep_name']}"
            if r["actions_scored"] < NINE:
                text += f" ({r['actions_scored']} of {NINE})"
        else:
            text = f"– · {r['rep_name']} (not ranked: {r['actions_scored']} of {NINE})"
        if text in out.values():
            text = f"{text} [{r['rep_id']}]"
        out[r["rep_id"]] = text
    return out


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
quarter = fmt.quarter_label(f.year, f.quarter)
py, pq = q.previous_quarter(f.year, f.quarter)
c1, c2 = st.columns([2, 3], vertical_alignment="bottom")
view = c2.segmented_control(
    "View", VIEWS, default=VIEWS[0], required=True, key="sc_view",
    help="Only the chosen view is computed. Ranking: the region's reps side by side. Rep "
         "detail: why one rep ranks where he does. Region against region: per-head results "
         "and mean totals of the regions and the company.")
region_id = c1.selectbox("Region", region_ids, format_func=lambda r: ctx.region_names.get(r, r),
                         key="sc_region",
                         help="The reps of one region are compared with each other.")
region_name = ctx.region_names.get(region_id, region_id)

layers = q.layers(reader, scope)
profit_ok = layers.available("profit")
actions_ok = layers.available("key_actions")
if not profit_ok:
    st.caption(layer_text(layers.get("profit"), "Profit (and profit per head, growth and "
                                                "target completion)")
               + " Profit columns are left blank.")


def market_line(card: pl.DataFrame, components: pl.DataFrame, *, short: bool = False) -> str:
    """Why these weights and components: the region's market type -> the seeds' rows
    (short: without the percentile note and the seeds' names)."""
    r0 = card.row(0, named=True)
    market = r0["market_type"]
    kind = fmt.plain(fmt.label(market).lower())
    text = (f"{fmt.plain(region_name)} is a **{kind}** market in {f.year}, so "
            f"**total = {share(r0['weight_dimension1'])} × dimension 1** (results) **+ "
            f"{share(r0['weight_dimension2'])} × dimension 2** (key actions). ")
    if components.is_empty():
        text += ("A " + kind + " market's dimension 1 has no component: its reps are judged "
                 "on the key actions only.")
    else:
        text += f"Dimension 1 = {fmt.plain(recipe(components))}."
        if not short and (components["scaling"] == "percentile_in_region").any():
            text += (" A percentile ranks a rep against the region's other reps (best 100, "
                     "weakest 0), so a region's mean of it is about 50 whatever its results.")
    if r0.get("is_market_type_defaulted"):
        text += " No market type is recorded for the region that year: the default applies."
    if short:
        return text
    return text + " (Seeds market_type_weights, scorecard_dimension1_components.)"


# -- Ranking ---------------------------------------------------------------------------------

def composition_figure(card: pl.DataFrame, components: pl.DataFrame,
                       labels: dict[str, str]) -> go.Figure:
    """One bar per rep: the points each dimension-1 component and the key actions bring to
    the total (they add up to it)."""
    fig = go.Figure()
    reps = list(labels)
    rows = {r["rep_id"]: r for r in card.iter_rows(named=True)}
    names = components["component"].unique(maintain_order=True).to_list()
    by = {(c["rep_id"], c["component"]): c for c in components.iter_rows(named=True)}
    for i, name in enumerate(names):
        xs, hover = [], []
        for rep in reps:
            w1, _ = used_weights(rows[rep])
            c = by.get((rep, name))
            points = None if c is None or c["points"] is None else w1 * c["points"]
            xs.append(points)
            hover.append(
                f"{fmt.chart_text(rows[rep]['rep_name'])}<br>"
                f"{COMPONENTS.get(name, name)}: "
                + ("not scored" if points is None else
                   f"{component_value(name, c['component_value'])} -> score "
                   f"{c['component_score']:.0f} x weight {c['weight_used']:.2f} x "
                   f"{w1:.2f} (dimension 1) = {points:.1f} points"))
        fig.add_trace(go.Bar(y=[fmt.chart_text(labels[r]) for r in reps], x=xs,
                             orientation="h", name=COMPONENTS.get(name, name),
                             marker_color=D1_COLOURS[i % len(D1_COLOURS)],
                             hovertext=hover, hoverinfo="text"))
    xs, hover = [], []
    for rep in reps:
        row = rows[rep]
        _, w2 = used_weights(row)
        d2 = row["dimension2_score"]
        points = None if d2 is None else w2 * d2
        xs.append(points)
        hover.append(f"{fmt.chart_text(row['rep_name'])}<br>key actions: "
                     + ("not scored" if points is None else
                        f"dimension 2 {d2:.1f} x {w2:.2f} = {points:.1f} points "
                        f"({row['actions_scored']} of {NINE} actions scored)"))
    fig.add_trace(go.Bar(y=[fmt.chart_text(labels[r]) for r in reps], x=xs, orientation="h",
                         name="Key actions (dimension 2)", marker_color=D2_COLOUR,
                         hovertext=hover, hoverinfo="text"))
    totals = [rows[r]["total_score"] for r in reps]
    fig.add_trace(go.Scatter(
        y=[fmt.chart_text(labels[r]) for r in reps], x=totals, mode="text",
        text=[fmt.score(t) for t in totals], textposition="middle right",
        hoverinfo="skip", showlegend=False, cliponaxis=False))
    fig.update_layout(barmode="stack", title="Why this rank: the points each part brings to "
                      "the total (0-100)", legend={"orientation": "h", "y": -0.02, "x": 0,
                                                   "yanchor": "top", "traceorder": "normal"},
                      xaxis={"range": [0, 108], "showticklabels": False})
    fig.update_yaxes(type="category", range=[len(reps) - 0.5, -0.8])  # best on top
    return fig


def change_figure(card: pl.DataFrame, labels: dict[str, str]) -> go.Figure:
    """Total last quarter -> this quarter per rep, in the same rows as the ranking."""
    fig = go.Figure()
    rows = {r["rep_id"]: r for r in card.iter_rows(named=True)}
    reps = list(labels)
    ys = [fmt.chart_text(labels[r]) for r in reps]
    for rep, y in zip(reps, ys, strict=True):
        r = rows[rep]
        if r["previous_total_score"] is not None and r["total_score"] is not None:
            up = r["total_score"] >= r["previous_total_score"]
            fig.add_trace(go.Scatter(
                x=[r["previous_total_score"], r["total_score"]], y=[y, y], mode="lines",
                line={"color": "#43a047" if up else "#e53935", "width": 3},
                hoverinfo="skip", showlegend=False))
    prev = [rows[r]["previous_total_score"] for r in reps]
    now = [rows[r]["total_score"] for r in reps]
    fig.add_trace(go.Scatter(
        x=prev, y=ys, mode="markers", name=fmt.quarter_label(py, pq),
        marker={"color": "#bdbdbd", "size": 10},
        hovertext=[f"{y}<br>{fmt.quarter_label(py, pq)}: total {fmt.score(p)}, rank "
                   + (str(rows[r]["previous_rank_in_region"])
                      if rows[r]["previous_rank_in_region"] is not None else "none")
                   for r, p, y in zip(reps, prev, ys, strict=True)], hoverinfo="text"))
    fig.add_trace(go.Scatter(
        x=now, y=ys, mode="markers+text", name=quarter, marker={"color": "#212121", "size": 10},
        text=[fmt.NA if rows[r]["total_change"] is None else
              f"{rows[r]['total_change']:+.1f}" for r in reps],
        textposition="top center", textfont={"size": 10},
        hovertext=[f"{y}<br>{quarter}: total {fmt.score(n)}" for n, y in zip(now, ys, strict=True)],
        hoverinfo="text"))
    fig.update_layout(title="Total: last quarter -> this quarter",
                      xaxis={"range": [0, 105]},
                      legend={"orientation": "h", "y": -0.12, "x": 0, "yanchor": "top"})
    # the ranking's rows, named on the left chart (and in each point's hover)
    fig.update_yaxes(type="category", showticklabels=False, range=[len(reps) - 0.5, -0.8])
    return fig


def fte_note(card: pl.DataFrame) -> None:
    """Why the region's FTE (every role) is more than the FTE of the reps on the card."""
    roles = q.region_fte_by_role(reader, scope, region_id, f.year, f.quarter)
    if roles.is_empty():
        return
    total = roles["fte"].sum()
    on_card = roles["fte_on_scorecard"].sum()
    parts = ", ".join(f"{fmt.plain(r['role'])} {r['fte']:.2f} ({r['reps']} "
                      f"{'rep' if r['reps'] == 1 else 'reps'})"
                      for r in roles.iter_rows(named=True))
    st.caption(
        f"FTE: the {card.height} reps above (the assessed reps, account responsibles) count "
        f"{on_card:.2f} FTE. The region's FTE of {total:.2f} counts every role employed in "
        f"the quarter: {parts}. The region's per-head figures (Region against region) "
        "divide by all of them: solution and field responsibles share the accounts' work "
        "but win no revenue of their own; the reps' per-head figures divide by their own FTE.")


def ranking_view(card: pl.DataFrame) -> None:
    components = q.dimension1_components(reader, scope, region_id, f.year, f.quarter)
    st.caption(market_line(card, components, short=True))
    ranked = card.filter(pl.col("ranked"))
    minimum = card["min_scored_actions"].drop_nulls()
    no_actions = "" if actions_ok else layer_text(layers.get("key_actions"),
                                                  "Dimension 2 (the key actions)")
    if not actions_ok:
        st.caption(no_actions + " Totals and ranks below rest on dimension 1 and the "
                   "few actions this build can score.")

    shown = ranking_table(card, KEY_COLUMNS)
    table(shown, key="scorecard", file_name=f"scorecard_{region_id}_{f.year}Q{f.quarter}",
          column_config=KEY_COLUMNS, hide=[c for c in shown.columns if c not in KEY_COLUMNS])
    unranked = card.filter(~pl.col("ranked"))
    if unranked.height:
        st.caption(
            "Not ranked (too few key actions scored to compare fairly"
            + (f"; the minimum is {minimum[0]} of {NINE}" if minimum.len() else "") + "): "
            + "; ".join(f"{fmt.plain(r['rep_name'])}: not ranked: {r['actions_scored']} of "
                        f"{NINE} scored" for r in unranked.iter_rows(named=True)) + ".")
    few = ranked.filter(pl.col("actions_scored") < NINE)
    if few.height:
        st.caption(
            "Ranked on fewer than nine actions (the others could not be scored, which counts "
            "neither for nor against them): " + ", ".join(
                f"{fmt.plain(r['rep_name'])} ({r['actions_scored']} of {NINE} scored)"
                for r in few.iter_rows(named=True)) + ".")

    m = st.columns(4)
    with m[0]:
        metric("Ranked reps", f"{ranked.height} of {card.height}", help_key="rank_in_region",
               extra_help=(f"A rep is ranked with at least {minimum[0]} of the nine key "
                           "actions scored." if minimum.len() else ""))
    with m[1]:
        best = ranked.sort("total_score", descending=True, nulls_last=True)
        metric("Best ranked total",
               fmt.score(best["total_score"][0]) if best.height else fmt.NA,
               help_key="total_score",
               extra_help=(f"{fmt.plain(best['rep_name'][0])}." if best.height else ""))
    with m[2]:
        metric("Mean total", fmt.score(card["total_score"].mean()), help_key="total_score",
               delta=None if card["previous_total_score"].drop_nulls().is_empty() else
               f"{card['total_change'].mean():+.1f} vs {fmt.quarter_label(py, pq)}",
               extra_help="The small figure: the mean change of the reps' totals since "
                          "last quarter (reps with a total then).")
    with m[3]:
        metric("Mean dimension 2", fmt.score(card["dimension2_score"].mean()) if actions_ok
               else fmt.NOT_AVAILABLE, help_key="dimension2_score", extra_help=no_actions)
    fte_note(card)

    labels = rep_labels(card)
    left, right = st.columns([3, 2])
    height = max(260, 150 + 42 * card.height)
    with left:
        chart(composition_figure(card, components, labels), key="composition", height=height)
    with right:
        chart(change_figure(card, labels), key="change", height=height)

    if not actions_ok:
        layer_missing(layers.get("key_actions"), "The key actions heatmap")
    else:
        cells = q.key_actions(reader, scope, region_id, f.year, f.quarter)
        if cells.is_empty():
            empty("No key-action cells for this region and quarter.",
                  "Key actions need strategies, plans, plan items, activities, complaints "
                  "and feedback (data/raw).")
        else:
            names = dict(cells.select("action_no", "action_name").unique().iter_rows())
            fig = key_action_heatmap(
                cells, names, short_names=SHORT_ACTION_NAMES, row_labels=labels,
                dimension2=dict(card.select("rep_id", "dimension2_score").iter_rows()))
            chart(fig, key="key_actions", height=max(280, 170 + 42 * card.height))
    inferred = card["owned_accounts_inferred"].drop_nulls().sum()
    if inferred:
        st.caption(f"Ownership inferred: {fmt.count(inferred)} of "
                   f"{fmt.count(card['owned_accounts'].drop_nulls().sum())} measured "
                   "accounts were given to their rep of the quarter from activities and "
                   "won deals (no owner recorded for them).")
    with st.expander("All columns: revenue, profit, FTE, growth, weights, accounts"):
        first = ["rank", "rep_name", *MORE_COLUMNS]
        every = ranking_table(card, dict.fromkeys(first))
        table(every, key="scorecard_all",
              file_name=f"scorecard_all_{region_id}_{f.year}Q{f.quarter}",
              hide=[c for c in every.columns if c not in first],
              column_config={**KEY_COLUMNS, **MORE_COLUMNS})


# The ranking fits a 1280-pixel screen: the widths below add up to 808 px of the 820 px
# beside the sidebar (test_the_rankings_key_columns_fit_1280_pixels).
D1_NA = "dimension 1 not scored (a market type judged on the key actions only, or no result)"
KEY_COLUMNS = {
    "rank": st.column_config.TextColumn(
        "Rank", width=72, help=help_for("rank_in_region") + " 'not ranked': fewer key "
        "actions scored than the minimum (the total is still shown)."),
    "scored": st.column_config.TextColumn(
        "Scored", width=52, help="Key actions scored of the nine; an action that cannot be "
        "scored counts neither for nor against the rep."),
    "rep_name": st.column_config.TextColumn("Rep", width=96),
    "total_score": score_column("Total", help=help_for("total_score"), color=TOTAL_COLOUR,
                                width=72),
    "change": st.column_config.TextColumn(
        "Δ total", width=52, alignment="right",
        help="Total this quarter - total last quarter. n/a: no scorecard last quarter."),
    "previous": st.column_config.TextColumn(
        "Prev.", width=42, help="Rank in the region last quarter ('–': not ranked or no "
        "scorecard then)."),
    "dimension1_score": st.column_config.NumberColumn(
        "Dim 1", format="%.1f", width=48, help=na_help(help_for("dimension1_score"), D1_NA)),
    "dimension2_score": st.column_config.NumberColumn(
        "Dim 2", format="%.1f", width=48,
        help=na_help(help_for("dimension2_score"), "no key action could be scored")),
    "revenue_per_head": money_column("Rev./head", help=help_for("revenue_per_head"),
                                     width=84),
    "profit_per_head": money_column(
        "Profit/head", width=96,
        help=na_help(help_for("profit_per_head"), "no profit in this build")),
    "revenue_target_completion_pct": percent_column(
        "Rev. vs tgt", width=70,
        help=na_help(help_for("revenue_target_completion"), "no revenue target")),
    "profit_target_completion_pct": percent_column(
        "Profit vs tgt", width=76,
        help=na_help(help_for("profit_target_completion"), "no profit target or no profit")),
}
MORE_COLUMNS = {
    "revenue": money_column("Revenue", help=help_for("revenue")),
    "profit": money_column("Profit", help=na_help(help_for("profit"),
                                                  "no profit in this build")),
    "fte": st.column_config.NumberColumn("FTE", format="%.2f", help=help_for("fte")),
    "revenue_yoy_growth_pct": percent_column(
        "Revenue growth",
        help=na_help(help_for("revenue_yoy_growth"), "no revenue a year earlier")),
    "profit_yoy_growth_pct": percent_column(
        "Profit growth", help=na_help(help_for("profit_yoy_growth"),
                                      "no profit a year earlier")),
    "previous_total_score": st.column_config.NumberColumn(
        "Prev. total", format="%.1f",
        help=na_help("Total last quarter.", "no scorecard last quarter")),
    "owned_accounts": st.column_config.NumberColumn(
        "Accounts", help="Accounts the rep owned in the quarter (the AR of the period)."),
    "owned_accounts_inferred": st.column_config.NumberColumn(
        "Accounts inferred", help="Of them, owned by inference from the quarter's "
        "activities and won deals."),
    "market_type": "Market type",
    "weight_dimension1_pct": percent_column("Weight dim 1", help=help_for("weights")),
    "weight_dimension2_pct": percent_column("Weight dim 2", help=help_for("weights")),
    "actions_scored": st.column_config.NumberColumn(
        "Actions scored", help=help_for("actions_scored")),
    "min_scored_actions": st.column_config.NumberColumn(
        "Minimum to rank", help="Key actions a rep needs scored to be ranked."),
}


# -- Rep detail ------------------------------------------------------------------------------

def total_line(row: dict) -> str:
    """'Total 81.4 = 0.70 × 100.0 (dimension 1) + 0.30 × 38.0 (dimension 2) = 70.0 + 11.4'."""
    d1, d2, total = row["dimension1_score"], row["dimension2_score"], row["total_score"]
    w1, w2 = row["weight_dimension1"], row["weight_dimension2"]
    if total is None:
        return "**No total**: neither dimension could be scored this quarter."
    if d1 is not None and d2 is not None:
        return (f"**Total {fmt.score(total)}** = {w1:.2f} × {fmt.score(d1)} (dimension 1) "
                f"+ {w2:.2f} × {fmt.score(d2)} (dimension 2) = {fmt.score(w1 * d1)} + "
                f"{fmt.score(w2 * d2)}")
    if d2 is not None:
        return (f"**Total {fmt.score(total)}** = dimension 2 ({fmt.score(d2)}) alone: "
                "dimension 1 cannot be scored"
                + (" (a market type judged on the key actions only)" if not w1 else
                   f", so its weight {w1:.2f} is left out and dimension 2's weight "
                   f"{w2:.2f} is divided by itself"))
    return (f"**Total {fmt.score(total)}** = dimension 1 ({fmt.score(d1)}) alone: no key "
            f"action could be scored, so dimension 2's weight {w2:.2f} is left out")


def neighbours(card: pl.DataFrame, row: dict) -> str:
    """Who is just above and just below among the ranked reps, and by how much."""
    ranked = card.filter(pl.col("ranked")).sort("total_score", descending=True)
    if not row["ranked"]:
        if row["total_score"] is None:
            return ""
        place = ranked.filter(pl.col("total_score") > row["total_score"]).height + 1
        return (f"On its total alone it would place {place} of {ranked.height + 1}, but a "
                f"total resting on {row['actions_scored']} of {NINE} key actions says too "
                "little to rank.")
    ids = ranked["rep_id"].to_list()
    i = ids.index(row["rep_id"])
    parts = []
    if i > 0:
        a = ranked.row(i - 1, named=True)
        parts.append(f"{fmt.score(a['total_score'] - row['total_score'])} points behind "
                     f"{fmt.plain(a['rep_name'])} (rank {a['rank_in_region']}, "
                     f"{fmt.score(a['total_score'])})")
    if i + 1 < len(ids):
        b = ranked.row(i + 1, named=True)
        parts.append(f"{fmt.score(row['total_score'] - b['total_score'])} points ahead of "
                     f"{fmt.plain(b['rep_name'])} (rank {b['rank_in_region']}, "
                     f"{fmt.score(b['total_score'])})")
    text = "; ".join(parts)
    return text[:1].upper() + text[1:] + "." if text else ""


def detail_view(card: pl.DataFrame) -> None:
    labels = rep_labels(card)
    rep_id = st.selectbox("Rep", list(labels), format_func=labels.get, key="sc_rep",
                          help="Reps of the region, best first.")
    row = card.filter(pl.col("rep_id") == rep_id).row(0, named=True)
    n_ranked = card.filter(pl.col("ranked")).height
    minimum = row["min_scored_actions"]
    standing = (f"rank **{row['rank_in_region']} of {n_ranked}** ranked reps "
                f"({row['actions_scored']} of {NINE} key actions scored"
                + (f"; the minimum to rank is {minimum}" if minimum is not None else "") + ")"
                if row["ranked"] else
                f"**not ranked: {row['actions_scored']} of {NINE} scored**"
                + (f" (the minimum to rank is {minimum})" if minimum is not None else ""))
    before = fmt.quarter_label(py, pq)
    if row["previous_total_score"] is None:
        trend = f"no scorecard in {before}"
    else:
        was = (f"rank {row['previous_rank_in_region']}" if row["previous_rank_in_region"]
               is not None else "not ranked")
        trend = (f"{before}: {was}, total {fmt.score(row['previous_total_score'])} "
                 f"(**{row['total_change']:+.1f}**)")
    st.markdown(f"#### {fmt.plain(row['rep_name'])}")
    st.markdown(f"{standing[:1].upper()}{standing[1:]}. {trend}. {neighbours(card, row)}")

    components = q.dimension1_components(reader, scope, region_id, f.year, f.quarter,
                                         rep_id=rep_id)
    with st.container(border=True):
        st.markdown(("**Why this rank**" if row["ranked"] else "**How the total is made**")
                    + "  \n" + total_line(row))
        st.caption(market_line(card, components))

    d1 = row["dimension1_score"]
    st.markdown("##### Dimension 1, results: " + (
        fmt.score(d1) if d1 is not None or not components.is_empty() else "not used"))
    if components.is_empty():
        st.caption("No dimension-1 component in this market type: the total rests on the key "
                   "actions.")
    else:
        not_available = pl.lit(not profit_ok) & pl.col("component").str.starts_with("profit")
        shown = components.with_columns(
            pl.col("component").replace_strict(COMPONENTS, default=pl.col("component"))
            .alias("component_label"),
            pl.when(not_available).then(pl.lit(f"{fmt.NOT_AVAILABLE} (scored as 0)"))
            .otherwise(pl.struct("component", "component_value").map_elements(
                lambda c: component_value(c["component"], c["component_value"]),
                return_dtype=pl.String)).alias("value"),
            pl.struct(components.columns).map_elements(how_scored, return_dtype=pl.String)
            .alias("how"),
            # what the table shows ('n/a' for a component not scored); the numbers stay
            # beside them for the CSV
            pl.col("component_score").map_elements(fmt.score, return_dtype=pl.String,
                                                    skip_nulls=False).alias("score_shown"),
            pl.col("points").map_elements(fmt.score, return_dtype=pl.String,
                                          skip_nulls=False).alias("points_shown"),
            (pl.col("weight") * 100).alias("weight_pct"),
            (pl.col("weight_used") * 100).alias("weight_used_pct"),
        )
        cols = ["component_label", "value", "score_shown", "how", "weight_pct"]
        renormalised = components.filter(
            pl.col("weight_used").is_not_null()
            & ((pl.col("weight_used") - pl.col("weight")).abs() > 1e-9)).height > 0
        if renormalised:
            cols.append("weight_used_pct")
        cols += ["points_shown", "description", "component", "rep_id", "component_score",
                 "weight", "weight_used", "points"]
        not_scored = "not scored this quarter (no value): left out of dimension 1"
        table(shown_only(shown.select(cols), cols[:cols.index("description")],
                         formats={"weight_used_pct": fmt.pct_points}),
              key="rep_dimension1",
              file_name=f"dimension1_{rep_id}_{f.year}Q{f.quarter}",
              hide=("component", "rep_id", "description", "component_score", "weight",
                    "weight_used", "points"), column_config={
                  "component_label": st.column_config.TextColumn("Component", width=156),
                  "value": st.column_config.TextColumn("Value", width=70),
                  "score_shown": st.column_config.TextColumn(
                      "Score", width=56, alignment="right",
                      help=na_help("0-100.", not_scored)),
                  "how": st.column_config.TextColumn("How scored", width=380),
                  "weight_pct": percent_column(
                      "Weight", width=60,
                      help="The component's weight in the seed scorecard_dimension1_components."),
                  "weight_used_pct": percent_column(
                      "Weight used", width=80,
                      help=na_help("Re-normalised over the components that could be scored.",
                                   not_scored)),
                  "points_shown": st.column_config.TextColumn(
                      "Points", width=60, alignment="right",
                      help=na_help("Score x weight used; dimension 1 is their sum.",
                                   not_scored)),
              })
        scored = components.filter(pl.col("points").is_not_null())
        st.caption("Dimension 1 = " + " + ".join(
            f"{c['weight_used']:.2f} × {c['component_score']:.1f}"
            for c in scored.iter_rows(named=True))
            + f" = {fmt.score(scored['points'].sum())}" if scored.height else
            "No component could be scored: dimension 1 is left out of the total.")
    used = set(components["component"].to_list())
    aside = [f"{COMPONENTS[m].lower()} {component_value(m, row[m])}" for m in (
        "revenue_target_completion", "profit_target_completion", "revenue_per_head",
        "profit_per_head", "revenue_yoy_growth") if m not in used and row.get(m) is not None]
    if aside:
        st.caption(f"Not part of dimension 1 in a {fmt.plain(fmt.label(row['market_type']).lower())}"
                   f" market, so they do not move the rank: {fmt.plain(', '.join(aside))}. "
                   "All results: the expander at the bottom.")

    d2 = row["dimension2_score"]
    st.markdown(f"##### Dimension 2, the nine key actions: {fmt.score(d2)}")
    rep_cells = q.key_actions(reader, scope, region_id, f.year, f.quarter, rep_id=rep_id)
    if rep_cells.is_empty():
        empty("No key-action cell for this rep.", "See the data quality page.")
    else:
        scores = rep_cells["score"].drop_nulls()
        if scores.len():
            st.caption(f"Dimension 2 = 100 × mean of the {scores.len()} actions scored = "
                       f"100 × ({' + '.join(f'{s:.2f}' for s in scores)}) / {scores.len()} "
                       f"= {fmt.score(100 * scores.mean())}. An action that cannot be scored "
                       "counts neither for nor against the rep.")
        actions = fmt.as_percent(rep_cells.drop("rep_name").with_columns(
                  pl.col("numerator", "denominator").round(2),
                  pl.col("not_scored_reason").fill_null("")).with_columns(
                  pl.struct("numerator", "denominator").map_elements(
                      lambda r: f"{r['numerator'] or 0:g} / {r['denominator'] or 0:g}",
                      return_dtype=pl.String).alias("ratio")).select(
                      "action_no", "action_name", "score", "ratio", "not_scored_reason",
                      "numerator", "denominator", "action_group", "rep_id"), "score")
        table(fmt.readable(actions, formats={"score_pct": fmt.pct_points},
                           keep=("numerator", "denominator")),
              key="rep_actions",
              file_name=f"key_actions_{rep_id}_{f.year}Q{f.quarter}",
              hide=("rep_id", "action_group", "numerator", "denominator"),
              column_config={
                  "action_no": st.column_config.NumberColumn("No", width=36),
                  "action_name": st.column_config.TextColumn("Action", width=320),
                  "ratio": st.column_config.TextColumn(
                      "Num. / den.", width=80, help="Numerator / denominator (see the action's rule)."),
                  "score_pct": st.column_config.ProgressColumn(
                      "Score", min_value=0, max_value=100, format=fmt.PERCENT_FORMAT,
                      width=96, color=D2_COLOUR,
                      help=na_help(help_for("action_score"),
                                   "not scored (the reason is beside it)")),
                  "not_scored_reason": st.column_config.TextColumn("Not scored because",
                                                                   width=280),
              })

    with st.expander("All results of the quarter (dimension 1 uses only the components "
                     "above)"):
        perf = q.rep_performance(reader, scope, rep_id, f.year, f.quarter)
        if perf.is_empty():
            empty("No results for this rep in the quarter.",
                  "Results come from won opportunities where the rep is the AR.")
        else:
            p = perf.row(0, named=True)
            in_d1 = {c["component"]: c["weight"] for c in components.iter_rows(named=True)}
            market = fmt.label(row["market_type"]).lower()

            def counts(measure: str) -> str:
                return (f"yes, weight {fmt.pct(in_d1[measure])}" if measure in in_d1
                        else f"no (not a component of a {market} market)")

            fte = p.get("fte") or 0
            measures = [
                ("Revenue", fmt.money(p.get("revenue")), "revenue",
                 help_for("revenue")),
                ("Profit", fmt.money(p.get("profit")), "profit", help_for("profit")),
                ("FTE", f"{fte:.2f}", "", help_for("fte")),
                ("Revenue per head", fmt.money(p.get("revenue_per_head")),
                 "revenue_per_head", f"{fmt.money(p.get('revenue'))} / {fte:.2f} FTE"),
                ("Profit per head", fmt.money(p.get("profit_per_head")), "profit_per_head",
                 f"{fmt.money(p.get('profit'))} / {fte:.2f} FTE"),
                ("Revenue growth", fmt.pct(p.get("revenue_yoy_growth"), 1),
                 "revenue_yoy_growth",
                 (f"{fmt.money(p.get('revenue'))} / {fmt.money(p.get('revenue_prior_year'))}"
                  " (same quarter last year) - 1")),
                ("Profit growth", fmt.pct(p.get("profit_yoy_growth"), 1),
                 "profit_yoy_growth",
                 f"{fmt.money(p.get('profit'))} / {fmt.money(p.get('profit_prior_year'))} - 1"),
                ("Revenue target completion", fmt.pct(p.get("revenue_target_completion")),
                 "revenue_target_completion",
                 f"{fmt.money(p.get('revenue'))} / {fmt.money(p.get('revenue_target'))}"),
                ("Profit target completion", fmt.pct(p.get("profit_target_completion")),
                 "profit_target_completion",
                 f"{fmt.money(p.get('profit'))} / {fmt.money(p.get('profit_target'))}"),
                ("Cash collected", fmt.money(p.get("cash_collected")), "cash_collected",
                 help_for("cash_collected")),
            ]
            rows = [(name, value, counts(key) if key else "no", how)
                    for name, value, key, how in measures]
            table(pl.DataFrame(rows, schema=["measure", "value", "in_dimension1", "how"],
                               orient="row"),
                  key="rep_results", file_name=f"results_{rep_id}_{f.year}Q{f.quarter}",
                  column_config={"measure": "Measure", "value": "Value",
                                 "in_dimension1": "In dimension 1",
                                 "how": "Numerator / denominator"})


# -- Region against region -------------------------------------------------------------------

COMPANY = "Company (all regions)"


def regions_view() -> None:
    regions = q.region_comparison(reader, scope, f, f.year, f.quarter)
    company = q.company_benchmark(reader, scope, f.year, f.quarter)
    if regions.is_empty():
        empty(f"No region results in {quarter}.", FILTERS_TOO_NARROW)
        return
    if company.height:
        c = company.row(0, named=True)
        label = f"Company (all {c['regions']} regions)"
        st.caption(
            f"{label}: the whole company's results, every region summed (per head: summed "
            "revenue / summed FTE; completion: regions with a target; mean total: every "
            f"scored rep, {c['reps_scored']} of them). Aggregates only: "
            + ("no other region's or rep's own figures are shown."
               if not scope.sees_all_regions else "the benchmark beside each region."))
        both = pl.concat([regions, company.select(
            pl.lit(label).alias("region_name"), pl.lit(None, pl.String).alias("market_type"),
            *[pl.col(col) for col in company.columns if col in regions.columns
              and col not in ("region_name", "market_type")])], how="diagonal_relaxed")
    else:
        label = None
        both = regions
    order = regions["region_name"].to_list()
    long = regions.unpivot(index="region_name", on=["revenue_per_head", "profit_per_head"],
                           variable_name="measure", value_name="per_head")
    long = long.with_columns(pl.col("measure").replace_strict(
        {"revenue_per_head": "Revenue per head", "profit_per_head": "Profit per head"}))
    bench = company.row(0, named=True) if company.height else {}
    left, right = st.columns(2)
    with left:
        fig = bars(long, "region_name", "per_head", color="measure", barmode="group",
                   x_title="", y_title="Per head", x_order=order,
                   title="Per-head revenue and profit (dashed: company)")
        for measure, colour, where in (("revenue_per_head", "#0d47a1", "top right"),
                                       ("profit_per_head", "#64b5f6", "top right")):
            if bench.get(measure) is not None:
                fig.add_hline(y=bench[measure], line_dash="dash", line_color=colour,
                              annotation_text=f"company {fmt.money(bench[measure])}",
                              annotation_position=where, annotation_font_size=10)
        chart(fig, key="region_per_head", height=330)
    with right:
        fig = bars(regions.with_columns(pl.col("mean_total_score").round(0)),
                   "region_name", "mean_total_score", color="market_type",
                   colours=MARKET_COLOURS, text=True, x_title="", y_title="Mean total",
                   legend_title="Market type", x_order=order,
                   title="Mean scorecard total of the reps (dashed: company)")
        fig.update_yaxes(range=[0, 100])
        if bench.get("mean_total_score") is not None:
            fig.add_hline(y=bench["mean_total_score"], line_dash="dash", line_color="#424242",
                          annotation_text=f"company {fmt.score(bench['mean_total_score'])}",
                          annotation_position="top right", annotation_font_size=10)
        chart(fig, key="region_scores", height=330)
    region_cols = ["region_name", "market_type", "revenue_per_head", "profit_per_head",
                   "revenue_target_completion_pct", "profit_target_completion_pct",
                   "revenue_yoy_growth_pct", "mean_total_score", "fte", "reps_scored"]
    regions_shown = fmt.as_percent(
        both.with_columns(pl.col("market_type").fill_null("all types")).select(
            "region_name", "market_type", "revenue_per_head", "profit_per_head",
            "revenue_target_completion", "profit_target_completion", "revenue_yoy_growth",
            "mean_total_score", "fte", "reps_scored", "revenue", "profit",
            "best_total_score", "region_id"),
        "revenue_target_completion", "profit_target_completion", "revenue_yoy_growth")
    table(shown_only(regions_shown, region_cols, formats={
              "revenue_per_head": number_text, "profit_per_head": number_text,
              "revenue_target_completion_pct": fmt.pct_points,
              "profit_target_completion_pct": fmt.pct_points,
              "revenue_yoy_growth_pct": fmt.pct_points, "mean_total_score": fmt.score}),
          key="regions", file_name=f"regions_{f.year}Q{f.quarter}",
          hide=("region_id", "revenue", "profit", "best_total_score"), column_config={
              "region_name": st.column_config.TextColumn("Region", width=150),
              "market_type": st.column_config.TextColumn("Market type", width=86),
              "fte": st.column_config.NumberColumn(
                  "FTE", format="%.1f", width=50, help="Every role employed in the quarter "
                  "(AR, SR, FR), by days: the Ranking's reps are the assessed ARs only."),
              "revenue_per_head": money_column("Rev./head", width=84,
                                               help=help_for("revenue_per_head")),
              "profit_per_head": money_column(
                  "Profit/head", width=90,
                  help=na_help(help_for("profit_per_head"), "no profit in this build")),
              "revenue_yoy_growth_pct": percent_column(
                  "Growth", width=70,
                  help=na_help(help_for("revenue_yoy_growth"), "no revenue a year earlier")),
              "revenue_target_completion_pct": percent_column(
                  "Rev. vs tgt", width=76,
                  help=na_help(help_for("revenue_target_completion"), "no revenue target")),
              "profit_target_completion_pct": percent_column(
                  "Profit vs tgt", width=80,
                  help=na_help(help_for("profit_target_completion"),
                               "no profit target or no profit")),
              "mean_total_score": st.column_config.NumberColumn(
                  "Mean total", format="%.1f", width=72, help=help_for("mean_total_score")),
              "reps_scored": st.column_config.NumberColumn("Reps scored", width=76),
          })
    st.caption("FTE counts every role employed in the quarter (account, solution and field "
               "responsibles), so a region's per head divides its revenue by more people than "
               "the Ranking's reps (account responsibles only) hold. Mean totals mix market "
               "types: a saline-alkali region is judged on the key actions only.")


# -- the chosen view -------------------------------------------------------------------------

if view == "Region against region":
    regions_view()
else:
    card = q.scorecard(reader, scope, region_id, f.year, f.quarter)
    if card.is_empty():
        empty(f"No scorecard for {fmt.plain(region_name)} in {quarter}.",
              "Scorecards need reps with the AR role and their quarter's activities and "
              "plans. " + FILTERS_TOO_NARROW)
    elif view == "Rep detail":
        detail_view(card)
    else:
        ranking_view(card)

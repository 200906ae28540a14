"""Overview (sales leadership): results of the quarter, health bands, tiers, top alerts."""

import polars as pl
import streamlit as st
from ui import fmt
from ui.charts import BAND_COLOURS, TIER_COLOURS, bars
from ui.context import current
from ui.helptext import help_for
from ui.widgets import (
    FILTERS_TOO_NARROW,
    NO_INTERACTIONS,
    chart,
    coverage_line,
    empty,
    layer_missing,
    layer_text,
    metric,
    table,
)

from rapport.warehouse import queries as q

ctx = current()
reader, scope, f = ctx.reader, ctx.scope, ctx.filters

st.title("Overview")
if f.year is None:
    empty("The warehouse has no quarters with results or tiers yet.",
          "Load opportunities and accounts (data/raw), then run `rapport build`.")
    st.stop()

prev_year, prev_quarter = q.previous_quarter(f.year, f.quarter)
st.caption(
    f"{fmt.quarter_label(f.year, f.quarter)} against {fmt.quarter_label(prev_year, prev_quarter)}"
    f" · {fmt.plain(ctx.regions_label())} · data as of {fmt.date(ctx.build.get('as_of_date'))}"
    f" · built {fmt.date(ctx.build.get('built_at') or ctx.build.get('finished_at'))}"
)
layers = q.layers(reader, scope)
covered = coverage_line(q.coverage(reader, scope), layers)
if covered:
    st.caption(covered)

# -- Business results ---------------------------------------------------------------------
now = q.kpis(reader, scope, f, f.year, f.quarter)
before = q.kpis(reader, scope, f, prev_year, prev_quarter)
cur = now.row(0, named=True) if now.height else {}
old = before.row(0, named=True) if before.height else {}

st.subheader("Business results")
if not cur:
    empty(f"No rep results for {fmt.quarter_label(f.year, f.quarter)} in the selected regions.",
          "Results come from won opportunities and reps (data/raw/opportunities.csv, reps.csv).")
else:
    if f.industries or f.tiers:
        st.caption("Industry and tier filters do not apply to results: revenue is credited "
                   "to reps, who sell across industries and tiers.")
    row1 = st.columns(4)
    with row1[0]:
        metric("Revenue", fmt.money(cur["revenue"]), help_key="revenue",
               delta=fmt.delta_ratio(cur["revenue"], old.get("revenue")),
               extra_help=help_for("vs_previous"))
    profit_ok = layers.available("profit")
    no_profit = "" if profit_ok else layer_text(layers.get("profit"), "Profit")
    with row1[1]:
        metric("Profit", fmt.money(cur["profit"]) if profit_ok else fmt.NOT_AVAILABLE,
               help_key="profit",
               delta=fmt.delta_ratio(cur["profit"], old.get("profit")) if profit_ok else None,
               extra_help=no_profit or help_for("vs_previous"))
    with row1[2]:
        metric("Revenue per head", fmt.money(cur["revenue_per_head"]),
               help_key="revenue_per_head",
               delta=fmt.delta_ratio(cur["revenue_per_head"], old.get("revenue_per_head")),
               extra_help=help_for("vs_previous"))
    with row1[3]:
        metric("Profit per head",
               fmt.money(cur["profit_per_head"]) if profit_ok else fmt.NOT_AVAILABLE,
               help_key="profit_per_head",
               delta=fmt.delta_ratio(cur["profit_per_head"], old.get("profit_per_head"))
               if profit_ok else None,
               extra_help=no_profit or help_for("vs_previous"))
    targets_ok, cash_ok = layers.available("targets"), layers.available("cash")
    no_targets = "" if targets_ok else layer_text(layers.get("targets"), "Target completion")
    no_cash = "" if cash_ok else layer_text(layers.get("cash"), "Cash collected")
    row2 = st.columns(4)
    with row2[0]:
        metric("Revenue target completion",
               fmt.pct(cur["revenue_target_completion"]) if targets_ok
               else fmt.NOT_AVAILABLE,
               help_key="revenue_target_completion",
               delta=fmt.delta_points(cur["revenue_target_completion"],
                                      old.get("revenue_target_completion")),
               extra_help=no_targets or help_for("vs_previous"))
    with row2[1]:
        metric("Profit target completion",
               fmt.pct(cur["profit_target_completion"]) if profit_ok and targets_ok
               else fmt.NOT_AVAILABLE,
               help_key="profit_target_completion",
               delta=fmt.delta_points(cur["profit_target_completion"],
                                      old.get("profit_target_completion")),
               extra_help=no_profit or no_targets or help_for("vs_previous"))
    with row2[2]:
        metric("Revenue target",
               fmt.money(cur["revenue_target"]) if targets_ok else fmt.NOT_AVAILABLE,
               help_key="revenue_target", extra_help=no_targets)
    with row2[3]:
        metric("Cash collected",
               fmt.money(cur["cash_collected"]) if cash_ok else fmt.NOT_AVAILABLE,
               help_key="cash_collected",
               delta=fmt.delta_ratio(cur["cash_collected"], old.get("cash_collected"))
               if cash_ok else None,
               extra_help=no_cash or help_for("vs_previous"))
    for note in (no_profit, no_targets, no_cash):
        if note:
            st.caption(note)

# -- Health bands and tiers ---------------------------------------------------------------
left, right = st.columns(2)
with left:
    st.subheader("Relationship health", help=help_for("health_band"))
    month_end = q.latest_month_end(reader, scope, ctx.quarter_end) if ctx.quarter_end else None
    bands = q.health_bands(reader, scope, f, month_end) if month_end else None
    if not layers.available("relationship_health"):
        layer_missing(layers.get("relationship_health"), "Relationship health")
    elif bands is None or bands.is_empty():
        if not q.interactions_loaded(reader, scope):
            empty("No interactions in the warehouse, so there is no relationship health.",
                  NO_INTERACTIONS)
        else:
            empty("No relationship-health snapshot for the accounts in view.", FILTERS_TOO_NARROW)
    else:
        fig = bars(bands, "health_band", "accounts", color="health_band",
                   order=list(q.HEALTH_BANDS), colours=BAND_COLOURS, text=True,
                   title=f"Accounts per health band, {fmt.date(month_end)}",
                   x_title="Band", y_title="Accounts")
        fig.update_layout(showlegend=False)
        chart(fig, key="health_bands", height=300)
        with st.expander("Health band table"):
            table(bands, key="health_bands", file_name="health_bands",
                  column_config={"share": st.column_config.NumberColumn("Share", format="percent")})
with right:
    st.subheader("Account tiers", help=help_for("tier"))
    tiers = q.tier_counts(reader, scope, f)
    if tiers.is_empty():
        empty(f"No account tiers for {fmt.quarter_label(f.year, f.quarter)}.",
              "Tiers need accounts and won opportunities; " + FILTERS_TOO_NARROW)
    else:
        fig = bars(tiers, "tier", "accounts", color="tier", order=list(q.TIERS),
                   colours=TIER_COLOURS, text=True, x_title="Tier", y_title="Accounts",
                   title=f"Accounts per tier, {fmt.quarter_label(f.year, f.quarter)}")
        fig.update_layout(showlegend=False)
        chart(fig, key="tier_counts", height=300)
        with st.expander("Tier table"):
            table(tiers, key="tier_counts", file_name="tier_counts", column_config={
                "revenue_ttm": st.column_config.NumberColumn(
                    "Revenue 12m", format="compact", help=help_for("revenue_ttm")),
                "revenue_share": st.column_config.NumberColumn(
                    "Revenue share", format="percent", help=help_for("revenue_share")),
            })

# -- Alerts -------------------------------------------------------------------------------
st.subheader("Top alerts")
counts = q.alert_counts(reader, scope, f)
contacts_ok = layers.available("power_map")
if not contacts_ok:
    st.caption("Contact alerts (no approver, no coach on an S/A account) are not raised for "
               "this build: " + layer_text(layers.get("power_map"), "the power map"))
if counts.is_empty() and not contacts_ok:
    pass  # said above: the alerts need contacts
elif counts.is_empty():
    empty("No alerts on the accounts in view.",
          "Alerts come from the power map (contacts' roles and assessments) and activity "
          "concentration; none fired, or " + FILTERS_TOO_NARROW.lower())
else:
    cols = st.columns(len(counts))
    for col, row in zip(cols, counts.iter_rows(named=True)):
        # the labels of known alert types are this app's text; another code is data
        known = row["alert_type"] in fmt.ALERT_LABELS
        short, long_ = (fmt.alert_label(row["alert_type"], short=True),
                        fmt.alert_label(row["alert_type"]))
        col.metric(short if known else fmt.plain(short), fmt.count(row["alerts"]),
                   help=f"{long_ if known else fmt.plain(long_)}: {row['alerts']} "
                        f"alert(s) on {row['accounts']} account(s).", border=True)
    top = q.alerts(reader, scope, f, limit=25).with_columns(
        pl.col("alert_type").replace_strict(fmt.ALERT_LABELS, default=pl.col("alert_type")),
        pl.col("contact_name").fill_null("(whole account)"),
    )
    table(top, key="alerts", file_name="top_alerts", hide=("account_id", "contact_id"),
          column_config={
              "alert_type": st.column_config.TextColumn("Alert"),
              "tier": st.column_config.TextColumn("Tier", help=help_for("tier")),
              "account_name": "Account", "region_name": "Region", "industry": "Industry",
              "contact_name": "Contact", "contact_title": "Title",
              "decision_role": "Role", "detail": "Detail",
          })

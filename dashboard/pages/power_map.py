"""Power map: one account's decision makers by role and attitude (or one deal's, with the
roles recorded for that deal), gaps and flags, who moved since a chosen date, and the
fishbone by evaluation group."""

import datetime as dt

import polars as pl
import streamlit as st
from ui import fmt
from ui.charts import PART_COLOURS, fishbone_figure, power_map_figure
from ui.context import ACCOUNT_PARAM, current
from ui.helptext import help_for
from ui.widgets import (
    FILTERS_TOO_NARROW,
    chart,
    empty,
    layer_missing,
    metric,
    metric_row,
    na_help,
    score_column,
    table,
)

from rapport.warehouse import queries as q

ctx = current()
reader, scope, f = ctx.reader, ctx.scope, ctx.filters

st.title("Power map")
layers = q.layers(reader, scope)
if not layers.available("power_map") and not layers.available("deal_power_map"):
    layer_missing(layers.get("power_map"), "The power map")
    st.stop()
accounts = q.power_map_accounts(reader, scope, f)
mapped = accounts.filter((pl.col("mapped_contacts") > 0) | (pl.col("deals_with_contacts") > 0))


def attitudes(frame: pl.DataFrame, *columns: str) -> pl.DataFrame:
    """Attitude columns in words ('1 supports'); never assessed: n/a (fmt.readable)."""
    return frame.with_columns(pl.col(c).replace_strict(
        fmt.ATTITUDE_LABELS, default=None, return_dtype=pl.String) for c in columns
        if c in frame.columns)


def shown(frame: pl.DataFrame, hidden=(), **kwargs) -> pl.DataFrame:
    """A table as it is shown: codes as labels, gaps as 'n/a' (hidden columns as they are)."""
    return fmt.readable(frame, keep=hidden, **kwargs)


NEVER_ASSESSED = "never assessed"
NEVER_TOUCHED = "never touched"


def _account_label(r: dict) -> str:
    parts = [r["tier"] or "no tier", f"{r['mapped_contacts']} mapped"]
    if r["deals_with_contacts"]:
        parts.append(f"{r['deals_with_contacts']} deals")
    return f"{r['account_name']} ({', '.join(parts)})"


labels = {r["account_id"]: _account_label(r) for r in mapped.iter_rows(named=True)}
account_maps = {r["account_id"]: r["mapped_contacts"] for r in mapped.iter_rows(named=True)}

# An account asked for in the URL (`?account=<id>`: a row opened on the Overview, or a
# shared link) is checked against the viewer's scope: an id outside it, or unknown, shows
# "not found" and nothing else. This page keeps its own account (PM_FOCUS): choosing an
# account on Relationship health does not change it. The URL then names the account shown
# (PM_ASKED: what this page last wrote there), so only a different id is a new request.
PM_ACCOUNT, PM_FOCUS, PM_ASKED, PM_LINKED = "pm_account", "pm_focus", "_pm_asked", "_pm_linked"
asked = st.query_params.get(ACCOUNT_PARAM)
new_request = asked is not None and asked != st.session_state.get(PM_ASKED)
linked = asked if new_request else st.session_state.get(PM_LINKED)
showing = st.session_state.get(PM_ACCOUNT, st.session_state.get(PM_FOCUS))
if linked is not None and linked not in labels and (new_request or linked == showing):
    # an account outside the list (the sidebar filters, or no mapped contact) opened by a
    # link: listed first while it is shown
    found = q.account(reader, scope, linked)
    if found.is_empty() and new_request:
        st.warning(f"Account “{fmt.plain(asked[:80])}” not found: no account you may see "
                   "has this id. Open an account from the Overview's alerts, or show the "
                   "first account of the list.", icon=":material/search_off:")
        if st.button("Show the power map of the first account", key="pm_not_found"):
            st.query_params.clear()
            st.session_state.pop(PM_ASKED, None)
            st.rerun()
        st.stop()
    if not found.is_empty():
        row = found.row(0, named=True)
        labels = {linked: f"{row['account_name']} ({row['current_tier'] or 'no tier'}; "
                          "opened by link: outside the filters or without a mapped contact)",
                  **labels}
        account_maps.setdefault(linked, 0)
        st.session_state[PM_LINKED] = linked
if not labels:
    if accounts.is_empty():
        empty("No account matches the filters.", FILTERS_TOO_NARROW)
    else:
        empty("No contact has a decision role or an attitude assessment, and no deal has "
              "contacts recorded, so there is no power map.",
              "Fill contacts.decision_role (A/D/S/E/I), load contact_assessments.csv or "
              "opportunity_contacts.csv (contact roles per deal), then run `rapport build`.")
    st.stop()
ids = list(labels)
if new_request:
    st.session_state[PM_ACCOUNT] = asked  # a new request wins, once
elif st.session_state.get(PM_ACCOUNT) not in ids:
    focus = st.session_state.get(PM_FOCUS)
    st.session_state[PM_ACCOUNT] = focus if focus in ids else ids[0]
as_of = ctx.build.get("as_of_date") or dt.date.today()

c1, c2, c3 = st.columns([3, 1.3, 1.3])
account_id = c1.selectbox("Account", ids, format_func=labels.get, key=PM_ACCOUNT,
                          help="Accounts in view with at least one mapped contact or one deal "
                               "with contacts recorded, S first.")
st.session_state[PM_FOCUS] = account_id
# the URL names the account shown (a reload or a shared link opens it again)
st.query_params[ACCOUNT_PARAM] = account_id
st.session_state[PM_ASKED] = account_id
colour_by = c2.radio("Colour", ["intimacy", "recency"], horizontal=True, key="pm_colour",
                     format_func=str.capitalize,
                     help=f"Intimacy: {help_for('intimacy')} Recency: days since last touch.")
since = c3.date_input("Who moved since", value=as_of - dt.timedelta(days=90),
                      max_value=as_of, key="pm_since", help=help_for("moved"))
deal_rows = q.deals(reader, scope, account_id)
deal_labels = {"": "Whole account: roles from the contact records"}  # "": no deal
for r in deal_rows.iter_rows(named=True):
    closes = "closes" if r["opportunity_status"] == "open" else r["opportunity_status"]
    deal_labels[r["opportunity_id"]] = (
        f"{r['opportunity_name'] or r['opportunity_id']} ({closes} "
        f"{fmt.date(r['close_date'])}, {fmt.money(r['opportunity_amount'])}, "
        f"{r['deal_contacts']} contacts)")
# an account with deal maps only (e.g. a Salesforce import: roles per deal) opens on its
# first deal
first = 1 if account_maps.get(account_id, 0) == 0 and len(deal_labels) > 1 else 0
deal_id = st.selectbox(
    "Deal", list(deal_labels), index=first, format_func=lambda key: deal_labels.get(key, key),
    key=f"pm_deal_{account_id}",
    help="A deal's power map uses the roles and evaluation groups recorded for that deal "
         "(opportunity_contacts); attitude, intimacy and last touch are the contact's. "
         "Open deals first.")
if not deal_id:
    pm = q.power_map(reader, scope, account_id)
    if deal_rows.is_empty():
        st.caption("No deal of this account has contacts recorded (opportunity_contacts), so "
                   "only the account's map is shown.")
else:
    pm = q.deal_power_map(reader, scope, account_id, deal_id)
if pm.is_empty():
    if deal_id:
        empty("No contact of this deal is visible to you.",
              "The deal's contacts belong to accounts outside the regions you may see.")
    else:
        empty("No contact of this account has a decision role or an attitude assessment.",
              "Choose one of its deals above, or fill contacts.decision_role and load "
              "contact_assessments.csv, then run `rapport build`.")
    st.stop()
tiles = metric_row()  # labels never cut
with tiles:
    metric("Mapped contacts" if not deal_id else "Contacts on the deal",
           fmt.count(pm.height), help_key="influence_weight", width="content")
with tiles:
    metric("Coaches", fmt.count(pm["is_coach"].sum()), help_key="attitude", width="content")
with tiles:
    metric("Opposing", fmt.count(pm["is_opposing"].sum()), help_key="attitude", width="content")
with tiles:
    metric("Untouched 90 days", fmt.count(pm["is_untouched_90d"].sum()),
           help_key="days_since_last_touch", width="content")
with tiles:
    scored = pm.filter(pl.col("decision_role").is_not_null())
    metric("Mean contact score", fmt.score(scored["contact_key_score"].mean()),
           help_key="contact_key_score", width="content")

chart(power_map_figure(pm, colour_by), key="power_map", height=430)

left, right = st.columns(2)
with left:
    st.markdown("#### Gaps and flags")
    present = set(pm["decision_role"].drop_nulls().to_list())
    missing = [fmt.ROLE_LABELS[r] for r in q.DECISION_ROLES if r not in present]
    if missing:
        where = "on this map" if not deal_id else "in this deal"
        st.markdown(f"Roles nobody holds {where}: " + ", ".join(missing) + ".")
    if deal_id:
        st.caption("The alerts below are the account's.")
    flags = q.alerts(reader, scope, q.Filters(), account_id=account_id).with_columns(
        pl.col("alert_type").replace_strict(fmt.ALERT_LABELS, default=pl.col("alert_type")))
    if flags.is_empty():
        st.success("No alert on this account.")
    else:
        table(shown(flags.select("alert_type", "contact_name", "decision_role", "detail",
                                 "contact_id").with_columns(
                        pl.col("contact_name").fill_null("(whole account)")),
                    hidden=("contact_id", "alert_type")),
              key="pm_flags", file_name=f"{account_id}_alerts", hide=("contact_id",),
              column_config={"alert_type": "Alert", "contact_name": "Contact",
                             "decision_role": st.column_config.TextColumn(
                                 "Role", help=na_help(None, "no role recorded, or an "
                                                            "account alert")),
                             "detail": "Detail"})
with right:
    st.markdown(f"#### Who moved since {fmt.date(since)}")
    moves = q.attitude_moves(reader, scope, account_id, since)
    if moves.is_empty():
        st.info(f"No attitude changed since {fmt.date(since)}. Pick an earlier date to look "
                "further back.")
    else:
        table(shown(attitudes(moves, "attitude_before", "attitude_now"),
                    hidden=("contact_id",),
                    formats={"attitude_change": lambda v: f"{v:+d}"}),
              key="pm_moves", file_name=f"{account_id}_attitude_moves",
              hide=("contact_id",), column_config={
                  "contact_name": "Contact", "title": "Title", "decision_role": "Role",
                  "attitude_before": st.column_config.TextColumn(
                      "Before", help=na_help(help_for("attitude"),
                                             "first assessed after that date")),
                  "attitude_now": st.column_config.TextColumn(
                      "Now", help=na_help(help_for("attitude"), NEVER_ASSESSED)),
                  "attitude_change": st.column_config.NumberColumn(
                      "Change", format="%+d",
                      help=na_help(help_for("moved"), "no attitude before that date")),
                  "assessed_before": "Assessed (before)", "assessed_now": "Assessed (now)",
              })

grouped = pm.filter(pl.col("evaluation_group").is_not_null())
if grouped.is_empty():
    source = "contacts" if not deal_id else "opportunity_contacts"
    empty("No contact on this map has an evaluation group, so there is no fishbone.",
          f"Fill {source}.evaluation_group (commercial, technical, selection_decision, "
          "final_decision).")
else:
    chart(fishbone_figure(grouped), key="fishbone", height=420)

st.markdown("#### Contacts on the map")
# the codes stay beside their labels for the CSV (role_label and group_label are shown)
PM_HIDDEN = ("contact_id", "compare_date", "attitude_at_compare_date", "attitude_change",
             "decision_role", "evaluation_group")
contacts_shown = attitudes(pm, "current_attitude").with_columns(
    pl.col("decision_role").alias("role_label"),
    pl.col("evaluation_group").alias("group_label"))
contacts_shown = contacts_shown.select(
    *[c if c not in ("decision_role", "evaluation_group") else
      ("role_label" if c == "decision_role" else "group_label") for c in pm.columns],
    "decision_role", "evaluation_group")
table(shown(contacts_shown, hidden=PM_HIDDEN,
            kinds={"role_label": "decision_role", "group_label": "evaluation_group"},
            formats={"intimacy": lambda v: f"{v:.2f}", "support_norm": lambda v: f"{v:.2f}",
                     "contact_key_score": fmt.score,
                     "influence_weight": lambda v: f"{v:.1f}"}),
      key="pm_contacts", file_name=f"{deal_id or account_id}_power_map",
      hide=PM_HIDDEN,
      column_config={
          "contact_name": "Contact", "title": "Title", "department": "Department",
          "level": "Level", "role_label": "Role", "group_label": "Evaluation group",
          "influence_weight": st.column_config.NumberColumn(
              "Influence", format="%.1f", help=help_for("influence_weight")),
          "current_attitude": st.column_config.TextColumn(
              "Attitude", help=na_help(help_for("attitude"), NEVER_ASSESSED)),
          "attitude_assessed_date": "Assessed",  # a date (n/a: never assessed)
          "support_norm": st.column_config.NumberColumn(
              "Support", format="%.2f", help=na_help(help_for("support_norm"),
                                                     NEVER_ASSESSED)),
          "intimacy": st.column_config.NumberColumn(
              "Intimacy", format="%.2f", help=na_help(help_for("intimacy"), NEVER_TOUCHED)),
          "contact_key_score": score_column(
              "Contact score", help=na_help(help_for("contact_key_score"),
                                            "no decision role (not scored)"),
              color=PART_COLOURS["Key"]),
          "last_touch_date": "Last touch",  # a date (n/a: never touched)
          "days_since_last_touch": st.column_config.NumberColumn(
              "Days since", help=na_help(help_for("days_since_last_touch"), NEVER_TOUCHED)),
          "is_untouched_90d": st.column_config.CheckboxColumn("Untouched 90d"),
          "is_opposing": st.column_config.CheckboxColumn("Opposes"),
          "is_coach": st.column_config.CheckboxColumn("Coach"),
      }, height=300)

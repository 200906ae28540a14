"""Power map: one account's decision makers (or one deal's, with the roles recorded for that
deal) in one of three views, only the open one computed: an org chart (reporting lines,
attitude, influence, coaches, empty slots for the roles nobody holds), role against attitude,
and the fishbone by evaluation group; then gaps with a next move each, flags, who moved since
a chosen date, and the contacts table."""

import csv
import datetime as dt

import polars as pl
import streamlit as st
from ui import fmt
from ui.charts import (
    PART_COLOURS,
    fishbone_figure,
    org_chart_figure,
    org_chart_height,
    power_map_figure,
)
from ui.context import ACCOUNT_PARAM, current
from ui.helptext import help_for
from ui.orgchart import Node, layout
from ui.widgets import (
    FILTERS_TOO_NARROW,
    account_finder,
    account_list_note,
    chart,
    empty,
    find_text,
    layer_missing,
    metric,
    metric_row,
    na_help,
    nothing_found,
    score_column,
    table,
)

from rapport.paths import SEEDS_DIR
from rapport.serving import queries as q

ctx = current()
reader, scope, f = ctx.reader, ctx.scope, ctx.filters

st.title("Power map")
layers = q.layers(reader, scope)
if not layers.available("power_map") and not layers.available("deal_power_map"):
    layer_missing(layers.get("power_map"), "The power map")
    st.stop()
# An account asked for in the URL (`?account=<id>`: a row opened on the Overview, or a
# shared link) is checked against the viewer's scope: an id outside it, or unknown, shows
# "not found" and nothing else. This page keeps its own account (PM_FOCUS): choosing an
# account on Relationship health does not change it. The URL then names the account shown
# (PM_ASKED: what this page last wrote there), so only a different id is a new request.
PM_ACCOUNT, PM_FOCUS, PM_ASKED, PM_LINKED = "pm_account", "pm_focus", "_pm_asked", "_pm_linked"
PM_FIND = "pm_find"  # the Find box of a list cut at the configured limit
asked = st.query_params.get(ACCOUNT_PARAM)
# The accounts with a map, S first, at most the configured number (the account shown and
# the one asked for are kept): a list of 50,000 would cost seconds to send and draw.
limit = fmt.account_list_limit()
mapped = q.power_map_accounts(
    reader, scope, f, mapped_only=True, find=find_text(PM_FIND), limit=limit,
    keep=[a for a in (asked, st.session_state.get(PM_ACCOUNT), st.session_state.get(PM_FOCUS))
          if a])


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
    if nothing_found(PM_FIND, mapped, limit, "account with a power map"):
        pass
    elif q.power_map_accounts(reader, scope, f, limit=1).is_empty():
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

account_finder(PM_FIND, mapped, limit)
c1, c3 = st.columns([3, 1.3])
account_id = c1.selectbox("Account", ids, format_func=labels.get, key=PM_ACCOUNT,
                          help="Accounts in view with at least one mapped contact or one deal "
                               "with contacts recorded, S first.")
account_list_note(mapped, limit, "accounts with a power map (S first)")
st.session_state[PM_FOCUS] = account_id
# the URL names the account shown (a reload or a shared link opens it again)
st.query_params[ACCOUNT_PARAM] = account_id
st.session_state[PM_ASKED] = account_id
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

VIEWS = ["Org chart", "Role x attitude", "Fishbone"]
view = st.segmented_control(
    "View", VIEWS, default=VIEWS[0], required=True, key="pm_view",
    help="Only the chosen view is drawn. Org chart: who reports to whom, fill = attitude, "
         "border = influence, a star = coach, amber slots = roles nobody holds. Role x "
         "attitude: the classic power map. Fishbone: the contacts by evaluation group.")


@st.cache_data(show_spinner=False)
def repair_moves() -> dict[str, dict[str, str]]:
    """gap -> {label, move, activity_type}: the seed power_map_repair_moves (editable by the
    data team; a gap without a row shows no move)."""
    try:
        with (SEEDS_DIR / "power_map_repair_moves.csv").open(encoding="utf-8",
                                                             newline="") as handle:
            return {r["gap"]: r for r in csv.DictReader(handle) if r.get("gap")}
    except OSError:
        return {}


MOVES = repair_moves()
present = set(pm["decision_role"].drop_nulls().to_list())
missing_roles = [r for r in q.DECISION_ROLES if r not in present]
LINE_NOTES = {  # fct_power_map.reports_to_status -> the note beside a box without a line
    "missing manager": "manager not a contact of this account",
    "manager off map": "manager not on the map (no role, no assessment)",
}


def org_nodes(frame: pl.DataFrame, lines: pl.DataFrame | None) -> list[Node]:
    """The layout's nodes, most influential first; the line drawn is the warehouse's
    manager_contact_id (a deal's map takes the account's lines, by contact)."""
    if lines is not None:
        frame = frame.join(lines, on="contact_id", how="left")
    if "manager_contact_id" not in frame.columns:
        return [Node(r["contact_id"]) for r in frame.iter_rows(named=True)]
    nodes = []
    for r in frame.iter_rows(named=True):
        note = LINE_NOTES.get(r["reports_to_status"])
        if r["is_cycle_break"]:
            note = "reporting loop broken here"
        nodes.append(Node(r["contact_id"], r["manager_contact_id"], note))
    return nodes


if view == "Org chart":
    lines = None
    if deal_id:  # the deal's contacts with the account's reporting lines
        lines = q.power_map(reader, scope, account_id).select(
            "contact_id", "reports_to_status", "manager_contact_id", "is_cycle_break")
    nodes = org_nodes(pm, lines)
    chart_layout = layout(nodes, missing_roles, max_columns=7)
    height = org_chart_height(chart_layout)
    figure = org_chart_figure(pm, chart_layout,
                              {r: MOVES.get(f"no_{r}", {}).get("label", "") for r in missing_roles})
    if height > 760:  # a big account: the chart scrolls inside a box of fixed height
        with st.container(height=760):
            chart(figure, key="org_chart", height=height)
    else:
        chart(figure, key="org_chart", height=height)
    drawn = len(chart_layout.edges) + sum(len(t.members) for t in chart_layout.teams)
    notes = sum(1 for b in chart_layout.boxes.values() if b.note)
    if drawn == 0:
        st.caption("No reporting line is recorded for these contacts "
                   "(contacts.reports_to_contact_id), so the boxes stand side by side.")
    else:
        st.caption(f"{fmt.count(drawn)} reporting lines drawn"
                   + (f"; {fmt.count(notes)} "
                      + ("contact without a line carries" if notes == 1
                         else "contacts without a line carry")
                      + " a ⚠ note (hover for details)" if notes else "")
                   + (". A framed team: a manager's reports wrapped into rows."
                      if chart_layout.teams else "."))
elif view == "Role x attitude":
    colour_by = st.radio("Colour", ["intimacy", "recency"], horizontal=True, key="pm_colour",
                         format_func=str.capitalize,
                         help=f"Intimacy: {help_for('intimacy')} Recency: days since last "
                              "touch.")
    chart(power_map_figure(pm, colour_by), key="power_map", height=540)
else:
    grouped = pm.filter(pl.col("evaluation_group").is_not_null())
    if grouped.is_empty():
        source = "contacts" if not deal_id else "opportunity_contacts"
        empty("No contact on this map has an evaluation group, so there is no fishbone.",
              f"Fill {source}.evaluation_group (commercial, technical, selection_decision, "
              "final_decision).")
    else:
        chart(fishbone_figure(grouped), key="fishbone", height=420)

left, right = st.columns(2)
with left:
    st.markdown("#### Gaps and next moves")
    gaps = [f"no_{r}" for r in missing_roles]
    if not pm["is_coach"].any():
        gaps.append("no_coach")
    if pm["is_opposing"].any():
        gaps.append("opposes")
    if pm["current_attitude"].null_count():
        gaps.append("not_assessed")
    lines_md = []
    for gap in gaps:
        row = MOVES.get(gap)
        if row and row.get("move"):
            lines_md.append(f"- **{fmt.plain(row.get('label') or fmt.label(gap))}**: "
                            f"{fmt.plain(row['move'])}")
    if lines_md:
        where = "on this map" if not deal_id else "in this deal"
        st.markdown(f"Gaps {where}, each with a suggested next move:\n" + "\n".join(lines_md))
    else:
        st.success("Every role is held, a coach is on the map, nobody opposes and everyone "
                   "is assessed.")
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
              # half a page wide: title and dates stay in the CSV
              hide=("contact_id", "title", "assessed_before", "assessed_now"),
              column_config={
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

st.markdown("#### Alerts on this account")
if deal_id:
    st.caption("The account's alerts, whichever deal is shown.")
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
                         "detail": "Detail"}, height=260)

st.markdown("#### Contacts on the map")
# Ten columns fit at 1280 px without scrolling; the others (department, level, evaluation
# group, support, assessed date, days since, the flags one by one, the codes) stay in the CSV.
FLAG_TEXTS = (("is_coach", "coach"), ("is_opposing", "opposes"),
              ("is_untouched_90d", "untouched 90d"))
names = dict(zip(pm["contact_id"].to_list(), pm["contact_name"].to_list(), strict=True))


def reports_to(r: dict) -> str:
    status = r.get("reports_to_status")
    if status is None or status == "none":
        return "-"
    if r.get("is_cycle_break"):
        return "loop, broken here"
    if status in ("ok", "cycle"):
        return names.get(r.get("manager_contact_id")) or "-"
    return "not on the map" if status == "manager off map" else "not at this account"


contacts_shown = attitudes(pm, "current_attitude").with_columns(
    pl.col("decision_role").alias("role_label"),
    pl.col("evaluation_group").alias("group_label"),
    pl.concat_str([pl.when(pl.col(c)).then(pl.lit(t)) for c, t in FLAG_TEXTS],
                  separator=", ", ignore_nulls=True).alias("flags"),
)
if "reports_to_status" in pm.columns:
    contacts_shown = contacts_shown.with_columns(pl.Series(
        "reports_to", [reports_to(r) for r in pm.iter_rows(named=True)], dtype=pl.String))
SHOWN = ["contact_name", "title", "role_label", "current_attitude", "influence_weight",
         "contact_key_score", "intimacy", "last_touch_date", "flags", "reports_to"]
SHOWN = [c for c in SHOWN if c in contacts_shown.columns]
contacts_shown = contacts_shown.select(
    *SHOWN, *[c for c in contacts_shown.columns if c not in SHOWN])
PM_HIDDEN = tuple(c for c in contacts_shown.columns if c not in SHOWN)
contacts_shown = shown(
    contacts_shown, hidden=PM_HIDDEN,
    kinds={"role_label": "decision_role", "group_label": "evaluation_group"},
    formats={"intimacy": lambda v: f"{v:.2f}", "support_norm": lambda v: f"{v:.2f}",
             "contact_key_score": fmt.score, "influence_weight": lambda v: f"{v:.1f}"})
# a date column with a gap has become text ('n/a': never touched)
touch_column = (st.column_config.TextColumn
                if contacts_shown.schema["last_touch_date"] == pl.String
                else lambda *a, **k: st.column_config.DateColumn(*a, format="YYYY-MM-DD", **k))
table(contacts_shown,
      key="pm_contacts", file_name=f"{deal_id or account_id}_power_map",
      hide=PM_HIDDEN,
      column_config={
          "contact_name": st.column_config.TextColumn("Contact", width="small"),
          "title": st.column_config.TextColumn("Title", width="small"),
          "role_label": st.column_config.TextColumn("Role", width="small"),
          "influence_weight": st.column_config.NumberColumn(
              "Infl.", format="%.1f", help=help_for("influence_weight"), width=50),
          "current_attitude": st.column_config.TextColumn(
              "Attitude", help=na_help(help_for("attitude"), NEVER_ASSESSED), width="small"),
          "intimacy": st.column_config.NumberColumn(
              "Intimacy", format="%.2f", help=na_help(help_for("intimacy"), NEVER_TOUCHED),
              width=70),
          "contact_key_score": score_column(
              "Score", help=na_help(help_for("contact_key_score"),
                                    "no decision role (not scored)"),
              color=PART_COLOURS["Key"], width=80),
          "last_touch_date": touch_column(
              "Last touch", width=90,
              help=na_help("The last activity with the contact.", NEVER_TOUCHED)),
          "flags": st.column_config.TextColumn(
              "Flags", help="Coach (attitude 3), opposes (-1), untouched for 90 days or more.",
              width="small"),
          "reports_to": st.column_config.TextColumn(
              "Reports to", width="small",
              help="The manager drawn on the org chart; 'not on the map': a contact of the "
                   "account without a role or an assessment; 'not at this account': an id "
                   "that is not a present contact of the account; 'loop, broken here': the "
                   "chain of managers came back to this contact."),
      }, height=300)

"""Record assessments: a contact's decision role, attitude, evaluation group, reports-to and
a note, or a contact missing from the CRM, written to the capture store (rapport/serving/capture_store.py;
never to the served warehouse, which is read-only). The next `rapport build` reads the store;
until then a change shows as "pending, in the next build"."""

import datetime as dt

import polars as pl
import streamlit as st
from ui import fmt
from ui.context import current, current_viewer
from ui.widgets import (
    FILTERS_TOO_NARROW,
    account_finder,
    account_list_note,
    empty,
    find_text,
    metric,
    metric_row,
    nothing_found,
    table,
)

from rapport.contract import contract
from rapport.serving import capture_store as capture
from rapport.serving import queries as q

ctx = current()
reader, scope, f = ctx.reader, ctx.scope, ctx.filters
viewer = current_viewer()

st.title("Record assessments")
if not viewer.may_record:
    empty(f"The role {fmt.plain(viewer.role.replace('_', ' '))} reads only: it may not record "
          "assessments.", "Ask the account's regional director, account team or the data "
                         "team (docs/security.md).")
    st.stop()

PENDING, BUILT = "pending, in the next build", "built"
NO_ROLE, NO_GROUP, NO_BOSS = "", "", ""
ADD_NEW = "__add__"

manager = viewer.role == "account_manager"
CAP_ACCOUNT, CAP_FIND = "cap_account", "cap_find"
# At most the configured number of accounts in the list (the one chosen is kept), S first;
# past it a Find box narrows the list in SQL.
limit = fmt.account_list_limit()
searched = find_text(CAP_FIND)
accounts = q.capture_accounts(reader, scope, f, rep_id=viewer.rep_id if manager else None,
                              find=searched, limit=limit,
                              keep=[st.session_state[CAP_ACCOUNT]]
                              if st.session_state.get(CAP_ACCOUNT) else [])
upto = q.captured_upto(reader, scope)
started = str(ctx.build.get("started_at") or "")[:19]


def pending_version(row: dict) -> bool:
    """Recorded after what the served build read: its id is above the build's last merged
    id (meta.capture_state), or (a build from before the store) after the build started."""
    if upto:
        return row["id"] > upto["last_version_id"]
    return not started or str(row["assessed_at"]) > started


def pending_contact(row: dict) -> bool:
    if upto:
        return row["id"] > upto["last_contact_id"]
    return not started or str(row["created_at"]) > started


who = ("you (local demo)" if viewer.email == "local-demo" else fmt.plain(viewer.email))
st.caption(f"Writes are recorded as {who}, with the time, in the capture store and the audit "
           "log; nothing is overwritten (each save is a new version). The next `rapport "
           "build` takes them in.")
as_of = ctx.build.get("as_of_date")
today = dt.datetime.now(dt.UTC).date()
if as_of is not None and as_of < today:
    st.caption(f"The served build's data runs to {fmt.date(as_of)}: the next build dates an "
               f"assessment recorded today ({fmt.date(today)}) on its own as-of date, so the "
               "map shows it as the contact's current stance; the history keeps the real time.")
if nothing_found(CAP_FIND, accounts, limit, "account you may record for"):
    st.stop()
if accounts.is_empty():
    empty("No account you may record for." if not manager else
          f"No account with you ({fmt.plain(viewer.rep_id)}) on its team (AR, SR, FR) in view.",
          FILTERS_TOO_NARROW)
    st.stop()

names = {r["account_id"]: f"{r['account_name']} ({r['tier'] or 'no tier'}, "
                          f"{r['region_name'] or r['region_id']})"
         for r in accounts.iter_rows(named=True)}
account_finder(CAP_FIND, accounts, limit)
account_id = st.selectbox("Account", list(names), format_func=names.get, key=CAP_ACCOUNT)
account_list_note(accounts, limit, "accounts you may record for (S first)")
row = accounts.filter(pl.col("account_id") == account_id).row(0, named=True)
team = frozenset(r for r in (row["ar_rep_id"], row["sr_rep_id"], row["fr_rep_id"],
                             row["period_ar_rep_id"]) if r)

contacts = q.capture_contacts(reader, scope, account_id)
added = [c for c in capture.added_contacts(account_id)
         if c["contact_id"] not in set(contacts["contact_id"].to_list())]
facts = capture.AccountFacts(account_id=account_id, region_id=row["region_id"], team=team,
                             contacts=frozenset(contacts["contact_id"].to_list()))
recorded = capture.versions(account_id=account_id)

labels = {c["contact_id"]: f"{c['contact_name'] or c['contact_id']}"
                           f"{' · ' + c['title'] if c['title'] else ''}"
          for c in contacts.iter_rows(named=True)}
labels |= {c["contact_id"]: f"{capture.masked(c['full_name'], scope.may_see_pii)}"
                            f"{' · ' + c['title'] if c['title'] else ''} (added, pending)"
           for c in added}

pending_rows = [v for v in recorded if pending_version(v)]
pending_added = [c for c in capture.added_contacts(account_id) if pending_contact(c)]
with metric_row():
    metric("Accounts you may record for" if not searched else "Accounts found",
           fmt.count(int(accounts["matching"][0])), help_key="",
           width="content", extra_help=(
               "Accounts in view (your regions and the sidebar filters) "
               + ("whose account team (AR, SR, FR, or the AR of the latest quarter) includes "
                  "you." if manager else "that your role may record for.")))
    metric("Contacts of the account", fmt.count(len(labels)), help_key="", width="content",
           extra_help="Contacts of the account in the served warehouse, plus contacts added "
                      "here and not built yet.")
    metric("Pending, in the next build", fmt.count(len(pending_rows) + len(pending_added)),
           help_key="", width="content",
           extra_help="Assessment versions and added contacts of this account recorded after "
                      "the served build read the capture store; the next `rapport build` "
                      "takes them in.")

choice = st.selectbox("Contact", [*labels, ADD_NEW], key=f"cap_contact_{account_id}",
                      format_func=lambda c: "➕ Add a contact missing from the CRM"
                      if c == ADD_NEW else labels[c])


RESULT = "_cap_result"  # what the last save said, shown once


def _say(saved: str, exc: Exception | None) -> None:
    st.session_state[RESULT] = ("error", str(exc)) if exc else ("success", saved)


# Saving runs in the submit button's callback (before the page runs again), reading the
# form's values from the session state: the click can then never be lost to a rerun.
def _save_assessment(facts: capture.AccountFacts, contact_id: str, suffix: str) -> None:
    state = st.session_state
    try:
        new = capture.record_assessment(
            viewer, facts, facts.account_id, contact_id,
            attitude=state[f"cap_attitude_{suffix}"], decision_role=state[f"cap_role_{suffix}"],
            evaluation_group=state[f"cap_group_{suffix}"],
            reports_to_contact_id=state[f"cap_boss_{suffix}"], note=state[f"cap_note_{suffix}"])
    except (capture.CaptureError, capture.CaptureRefused) as exc:
        _say("", exc)
    else:
        _say(f"Saved as {new.ref}: {PENDING}.", None)


def _add_contact(facts: capture.AccountFacts) -> None:
    state = st.session_state
    try:
        new = capture.add_contact(
            viewer, facts, facts.account_id, full_name=state["cap_new_name"],
            title=state["cap_new_title"], department=state["cap_new_department"],
            level=state["cap_new_level"])
    except (capture.CaptureError, capture.CaptureRefused) as exc:
        _say("", exc)
    else:
        _say(f"Added {new.ref}: pick it in the list to record its assessment.", None)


if choice == ADD_NEW:
    levels = ["", *(contract().tables["contacts"].columns["level"].allowed or ())]
    with st.form(f"cap_add_{account_id}", clear_on_submit=True):
        st.text_input("Full name", max_chars=capture.TEXT_MAX, key="cap_new_name")
        st.text_input("Title", max_chars=capture.TEXT_MAX, key="cap_new_title")
        st.text_input("Department", max_chars=capture.TEXT_MAX, key="cap_new_department")
        st.selectbox("Level", levels, key="cap_new_level",
                     format_func=lambda v: fmt.words(v) if v else "not known")
        st.form_submit_button("Add the contact", type="primary", key="cap_add_submit",
                              on_click=_add_contact, args=(facts,))
else:
    contact = next((c for c in contacts.iter_rows(named=True) if c["contact_id"] == choice),
                   {})
    mine = [v for v in recorded if v["contact_id"] == choice]

    def _latest(field: str, built: str):
        """The form starts from the latest version that recorded the field, else from the
        warehouse (a version may leave a field out: None)."""
        found = [v[field] for v in mine if v[field] is not None]
        return found[-1] if found else contact.get(built)

    start = {
        "decision_role": _latest("decision_role", "decision_role") or NO_ROLE,
        "evaluation_group": _latest("evaluation_group", "evaluation_group") or NO_GROUP,
        "attitude": _latest("attitude", "current_attitude"),
        "reports_to_contact_id": _latest("reports_to_contact_id", "reports_to_contact_id")
        or NO_BOSS,
    }
    roles = [NO_ROLE, *q.DECISION_ROLES]
    groups = [NO_GROUP, *q.EVALUATION_GROUPS]
    attitudes = [None, *capture.ATTITUDE_WORDS]
    bosses = [NO_BOSS, *(c for c in labels if c != choice)]
    suffix = f"{account_id}_{choice}"
    with st.form(f"cap_form_{suffix}"):
        st.selectbox("Decision role", roles, index=roles.index(start["decision_role"])
                     if start["decision_role"] in roles else 0, key=f"cap_role_{suffix}",
                     format_func=lambda r: fmt.ROLE_LABELS.get(r, r) if r else "none")
        st.selectbox(
            "Attitude toward us", attitudes, key=f"cap_attitude_{suffix}",
            index=attitudes.index(start["attitude"]) if start["attitude"] in attitudes else 0,
            format_func=lambda a: "not assessed" if a is None
            else f"{a} {capture.ATTITUDE_WORDS[a]}")
        st.selectbox("Evaluation group", groups,
                     index=groups.index(start["evaluation_group"])
                     if start["evaluation_group"] in groups else 0, key=f"cap_group_{suffix}",
                     format_func=lambda g: fmt.words(g) if g else "none")
        st.selectbox("Reports to", bosses, key=f"cap_boss_{suffix}",
                     index=bosses.index(start["reports_to_contact_id"])
                     if start["reports_to_contact_id"] in bosses else 0,
                     format_func=lambda b: labels.get(b, b) if b else "nobody recorded")
        st.text_area("Note", max_chars=capture.NOTE_MAX, key=f"cap_note_{suffix}")
        st.form_submit_button("Save the assessment", type="primary", key="cap_submit",
                              on_click=_save_assessment, args=(facts, choice, suffix))

said = st.session_state.pop(RESULT, None)
if said:
    (st.error if said[0] == "error" else st.success)(fmt.plain(said[1]))


def _versions_frame(rows: list[dict]) -> pl.DataFrame:
    return pl.DataFrame({
        "assessment_id": [v["assessment_id"] for v in rows],
        "status": [PENDING if pending_version(v) else BUILT for v in rows],
        "contact": [labels.get(v["contact_id"], v["contact_id"]) for v in rows],
        "assessed_at": [str(v["assessed_at"]) for v in rows],
        "attitude": [None if v["attitude"] is None
                     else f"{v['attitude']} {capture.ATTITUDE_WORDS[v['attitude']]}"
                     for v in rows],
        "decision_role": [v["decision_role"] or None for v in rows],
        "evaluation_group": [v["evaluation_group"] or None for v in rows],
        "reports_to": [labels.get(v["reports_to_contact_id"], v["reports_to_contact_id"])
                       or None for v in rows],
        "note": [capture.masked_note(v["note"], scope.may_see_pii) for v in rows],
        "written_by": [v["written_by"] for v in rows],
    }, schema={c: pl.String for c in (
        "assessment_id", "status", "contact", "assessed_at", "attitude", "decision_role",
        "evaluation_group", "reports_to", "note", "written_by")})


if choice != ADD_NEW:
    st.subheader("History of this contact")
    mine = [v for v in recorded if v["contact_id"] == choice][::-1]
    if mine:
        table(fmt.readable(_versions_frame(mine), keep=("assessment_id", "status")), key="cap_history",
              file_name=f"assessments_{choice}")
    else:
        st.caption("Nothing recorded here yet for this contact; the power map shows what the "
                   "CRM import holds.")

st.subheader("Pending, in the next build")
if pending_rows or pending_added:
    if pending_rows:
        table(fmt.readable(_versions_frame(pending_rows[::-1]), keep=("assessment_id", "status")),
              key="cap_pending",
              file_name=f"pending_{account_id}")
    if pending_added:
        table(pl.DataFrame({
            "contact_id": [c["contact_id"] for c in pending_added],
            "full_name": [capture.masked(c["full_name"], scope.may_see_pii)
                          for c in pending_added],
            "title": [c["title"] or None for c in pending_added],
            "created_at": [str(c["created_at"]) for c in pending_added],
            "written_by": [c["written_by"] for c in pending_added],
        }, schema={c: pl.String for c in ("contact_id", "full_name", "title", "created_at",
                                          "written_by")}),
              key="cap_pending_contacts", file_name=f"pending_contacts_{account_id}")
else:
    st.caption("Nothing pending for this account: the served build holds every change "
               "recorded here.")

st.subheader("Contacts of the account, as built")
shown = contacts.with_columns(
    pl.col("current_attitude").replace_strict(fmt.ATTITUDE_LABELS, default=None,
                                              return_dtype=pl.String))
table(fmt.readable(shown, keep=("contact_id",)), key="cap_contacts",
      file_name=f"contacts_{account_id}")

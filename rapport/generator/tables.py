"""One builder per contract table: simulated arrays -> polars frames with contract columns."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date

import numpy as np
import polars as pl

from rapport.generator import names
from rapport.generator.activity import LAYERS, OUTCOME_TEXTS, TYPES
from rapport.generator.commerce import NO_VALUE, STATUSES
from rapport.generator.output import (
    _nullify,
    booleans,
    dates,
    decimals,
    frame,
    id_width,
    ids,
    integers,
    texts,
    timestamps,
)
from rapport.generator.service import SEVERITIES
from rapport.generator.simulate import World
from rapport.generator.timeline import to_day
from rapport.generator.world import (
    DECISION_ROLES,
    EVAL_GROUPS,
    LEVELS,
    MARKET_TYPES,
    NO_LEAVE,
    ROLES,
)

CHUNK_ROWS = 1_000_000
# how often optional customer fields are missing, per habit of the account's AR
# (diligent, average, elite_private, neglectful)
MISSING_FACTOR = np.array([0.5, 1.0, 1.3, 2.5])


@dataclass
class Ids:
    """How every entity is named in the files."""

    region: Callable[[np.ndarray], pl.Series]
    rep: Callable[[np.ndarray], pl.Series]
    account: Callable[[np.ndarray], pl.Series]
    contact: Callable[[np.ndarray], pl.Series]
    opportunity: Callable[[np.ndarray], pl.Series]
    plan: Callable[[np.ndarray], pl.Series]
    plan_item: Callable[[np.ndarray], pl.Series]
    contact_number: np.ndarray  # contact position -> number in its id


def _gatherer(series: pl.Series) -> Callable[[np.ndarray], pl.Series]:
    """idx -> series[idx], negative idx missing (identifiers are formatted once per entity)."""

    def gather(idx: np.ndarray) -> pl.Series:
        idx = np.asarray(idx, dtype=np.int64)
        return _nullify(series.gather(np.maximum(idx, 0)), idx < 0)

    return gather


def make_ids(w: World) -> Ids:
    # contact numbers are shuffled so that ids do not reveal the account or the role
    perm = np.random.default_rng([w.seed, 1000]).permutation(w.contacts.n) + 1

    def seq(prefix: str, n: int) -> Callable[[np.ndarray], pl.Series]:
        return _gatherer(ids(prefix, np.arange(n) + 1, id_width(n)))

    return Ids(
        region=lambda idx: ids("R", np.asarray(idx) + 1, 2),
        rep=seq("REP", w.reps.n), account=seq("ACC", w.accounts.n),
        contact=_gatherer(ids("CON", perm, id_width(w.contacts.n))),
        opportunity=seq("OPP", w.opportunities.n), plan=seq("PLN", w.plans.n),
        plan_item=seq("PIT", w.items.n), contact_number=perm,
    )


def _rng(w: World, table: str) -> np.random.Generator:
    return np.random.default_rng([w.seed, 2000 + TABLE_ORDER.index(table)])


def _one(df: pl.DataFrame) -> tuple[Iterator[pl.DataFrame], int]:
    return iter([df]), df.height


def _names(first: np.ndarray, last: np.ndarray) -> pl.Series:
    return pl.select(pl.concat_str([pl.lit(texts(names.FIRST_NAMES, first)), pl.lit(" "),
                                    pl.lit(texts(names.LAST_NAMES, last))])).to_series()


def _emails(first: np.ndarray, last: np.ndarray, number: np.ndarray, domain: pl.Series | str,
            missing: np.ndarray) -> pl.Series:
    dom = pl.lit(domain)
    s = pl.select(pl.concat_str([
        pl.lit(texts(names.FIRST_NAMES, first)).str.to_lowercase(), pl.lit("."),
        pl.lit(texts(names.LAST_NAMES, last)).str.to_lowercase(),
        pl.lit(pl.Series(number).cast(pl.String)), pl.lit("@"), dom])).to_series()
    return _nullify(s, missing)


def regions(w: World, i: Ids):
    r = w.regions
    idx = np.arange(r.n)
    return _one(frame("regions", {
        "region_id": i.region(idx), "region_name": pl.Series(list(r.name), dtype=pl.String),
        "country": texts(names.COUNTRIES, r.country)}))


def region_market_types(w: World, i: Ids):
    r = w.regions
    reg = np.repeat(np.arange(r.n), len(r.years))
    year = np.tile(r.years, r.n)
    return _one(frame("region_market_types", {
        "region_id": i.region(reg), "year": integers(year),
        "market_type": texts(MARKET_TYPES, r.market_type.ravel())}))


def reps(w: World, i: Ids):
    p = w.reps
    idx = np.arange(p.n)
    return _one(frame("reps", {
        "rep_id": i.rep(idx), "rep_name": _names(p.first, p.last),
        "email": _emails(p.first, p.last, idx + 1, "sales.rapport.example", p.email_missing),
        "region_id": i.region(p.region), "role": texts(ROLES, p.role),
        "fte": decimals(np.rint(p.fte * 100), 2, precision=3),
        "hire_date": dates(p.hire), "leave_date": dates(p.leave, p.leave == NO_LEAVE),
        "manager_rep_id": i.rep(p.manager)}))


def _account_names(w: World) -> pl.Series:
    a = w.accounts
    nouns = [n for ind in names.INDUSTRIES for n in names.INDUSTRY_NOUNS[ind]]
    per = len(names.INDUSTRY_NOUNS["telecom"])
    dup = pl.Series(np.where(a.name_dup > 0, a.name_dup + 1, 0)).cast(pl.String)
    dup = pl.select(pl.when(pl.lit(dup) == "0").then(pl.lit("")).otherwise(
        pl.lit(" ") + pl.lit(dup))).to_series()
    return pl.select(pl.concat_str([
        pl.lit(texts(names.COMPANY_PREFIXES, a.name_prefix)), pl.lit(" "),
        pl.lit(texts(nouns, a.industry * per + a.name_noun)), pl.lit(" "),
        pl.lit(texts(names.COMPANY_SUFFIXES, a.name_suffix)), pl.lit(dup)])).to_series()


def _no_dates(n: int) -> pl.Series:
    """An empty date column of n rows (a contract column the simulation does not model)."""
    return dates(np.zeros(n, dtype=np.int64), np.ones(n, dtype=bool))


def accounts(w: World, i: Ids):
    a, rng = w.accounts, _rng(w, "accounts")
    n = a.n
    sloppy = MISSING_FACTOR[a.habit]
    idx = np.arange(n)
    annual = a.value * 400_000.0 * rng.uniform(1.5, 4.0, n)  # stated wallet > what we win
    potential = np.round(annual / 1000.0) * 1000.0 * 100
    demo = np.clip(np.rint(5 * (1 - a.rank_pct) ** 2 + rng.normal(0, 0.7, n)), 0, 5)
    return _one(frame("accounts", {
        "account_id": i.account(idx), "account_name": _account_names(w),
        "industry": texts(names.INDUSTRIES, a.industry), "region_id": i.region(a.region),
        "ar_rep_id": i.rep(w.reps.owner_at(a.ar, np.full(n, w.tl.end))),
        "sr_rep_id": i.rep(w.reps.owner_at(a.sr, np.full(n, w.tl.end))),
        "fr_rep_id": i.rep(w.reps.owner_at(a.fr, np.full(n, w.tl.end))),
        "spend_potential": decimals(potential, 2, rng.random(n) < 0.05 * sloppy),
        "demonstration_value": integers(demo, rng.random(n) < 0.08 * sloppy),
        "has_strategic_agreement": booleans(w.has_agreement),
        "is_exclusive_partner": booleans(w.is_exclusive),
        "created_date": dates(a.created, rng.random(n) < 0.05),
        # the simulated world closes no account: every closed_date is empty
        "closed_date": _no_dates(n)}))


def _reports_to(w: World) -> np.ndarray:
    """Each contact's manager (a contact position, -1 for none): a plausible tree per account.
    The approver (A) and, without one, the decision makers (D) head it; D report to the A;
    supporters (S) and influencers (I) to a D; evaluators (E) to an S (a D when the account
    has no S); about 70% of the contacts without a role to a D or an S, the rest to nobody.
    Deterministic by seed, from a stream of its own (the other tables' numbers stay)."""
    c = w.contacts
    rng = np.random.default_rng([w.seed, 5000])
    n, a = c.n, len(c.start)
    per_role = [np.bincount(c.account[c.role == r], minlength=a) for r in range(6)]
    has_a, n_d, n_s = per_role[1] > 0, per_role[2], per_role[3]
    first_d = c.start + per_role[1]  # roles sit contiguous: A, D..., S..., E, I, then none
    first_s = first_d + n_d
    acc = c.account

    def one_of(first: np.ndarray, count: np.ndarray) -> np.ndarray:
        pick = first[acc] + (rng.random(n) * np.maximum(count[acc], 1)).astype(np.int64)
        return np.where(count[acc] > 0, pick, -1)

    to_a = np.where(has_a[acc], c.start[acc], -1)
    to_d = one_of(first_d, n_d)
    to_s = one_of(first_s, n_s)
    to_ds = one_of(first_d, n_d + n_s)
    loose = rng.random(n) < 0.7
    return np.select(
        [c.role == 1, c.role == 2, (c.role == 3) | (c.role == 5), c.role == 4],
        [np.full(n, -1), to_a, to_d, np.where(to_s >= 0, to_s, to_d)],
        np.where(loose, to_ds, -1))


def contacts(w: World, i: Ids):
    c, rng = w.contacts, _rng(w, "contacts")
    n = c.n
    a = w.accounts
    # customer information is kept by the account's AR: neglectful reps leave more gaps
    sloppy = MISSING_FACTOR[a.habit[c.account]]

    def gaps(rate: float) -> np.ndarray:
        return rng.random(n) < np.minimum(rate * sloppy, 0.95)

    level_titles = [t for lv in LEVELS for t in names.LEVEL_TITLES[lv]]
    per_level = [len(names.LEVEL_TITLES[lv]) for lv in LEVELS]
    offsets = np.concatenate([[0], np.cumsum(per_level)[:-1]])
    t_idx = offsets[c.level] + (rng.random(n) * np.array(per_level)[c.level]).astype(np.int64)
    title = pl.select(pl.concat_str([pl.lit(texts(names.DEPARTMENTS, c.department)),
                                     pl.lit(" "), pl.lit(texts(level_titles, t_idx))])
                      ).to_series()
    approver_title = texts(names.APPROVER_TITLES,
                           rng.integers(0, len(names.APPROVER_TITLES), n))
    title = pl.select(pl.when(pl.lit(pl.Series(c.role == 1))).then(pl.lit(approver_title))
                      .otherwise(pl.lit(title))).to_series()
    title = _nullify(title, gaps(0.05))
    birthday = to_day(date(1955, 1, 1)) + rng.integers(0, 45 * 365, n)
    notes = np.where(rng.random(n) < 0.35 / sloppy, rng.integers(0, len(names.PRIVATE_NOTES), n),
                     -1)
    acc_created = a.created[c.account]
    before = acc_created < w.tl.start
    created = np.where(before, acc_created + (rng.random(n) * (w.tl.start - acc_created))
                       .astype(np.int64), acc_created)
    domain = pl.select(pl.lit(texts(names.COMPANY_PREFIXES, a.name_prefix[c.account]))
                       .str.to_lowercase() + pl.lit(".example")).to_series()
    order = np.argsort(i.contact_number, kind="stable")  # rows in id order
    manager = _reports_to(w)
    cols = {
        "contact_id": i.contact(np.arange(n)), "account_id": i.account(c.account),
        "full_name": _names(c.first, c.last), "title": title,
        "department": texts(names.DEPARTMENTS,
                            np.where(gaps(0.06), -1, c.department)),
        "level": texts(LEVELS, np.where(gaps(0.04), -1, c.level)),
        "decision_role": texts(DECISION_ROLES, np.where(c.role > 0, c.role, -1)),
        "evaluation_group": texts(EVAL_GROUPS, np.where(
            (c.role > 0) & gaps(0.05), -1, c.eval_group)),
        "is_rising_star": booleans(c.rising_star),
        "is_active": booleans(np.where(rng.random(n) < 0.02, -1, c.active.astype(np.int64))),
        "birthday": dates(birthday, gaps(0.3)),
        "private_notes": texts(names.PRIVATE_NOTES, notes),
        "email": _emails(c.first, c.last, i.contact_number % 100, domain,
                         gaps(0.1)),
        "created_date": dates(created, rng.random(n) < 0.1),
        # leavers are marked by is_active alone (today's value): every left_date is empty
        "left_date": _no_dates(n),
        "reports_to_contact_id": _nullify(i.contact(np.maximum(manager, 0)), manager < 0),
    }
    return _one(frame("contacts", cols)[order])


def contact_assessments(w: World, i: Ids):
    s = w.assessments
    return _one(frame("contact_assessments", {
        "assessment_id": ids("ASM", np.arange(s.n) + 1, id_width(s.n)),
        "contact_id": i.contact(s.contact), "assessed_date": dates(s.day),
        "attitude": integers(s.attitude), "intimacy": integers(s.intimacy, s.intimacy < 0),
        "assessor_rep_id": i.rep(s.assessor)}))


def interactions(w: World, i: Ids):
    x = w.interactions
    width = id_width(x.n)

    def chunks() -> Iterator[pl.DataFrame]:
        for lo in range(0, max(x.n, 1), CHUNK_ROWS):
            sl = slice(lo, min(lo + CHUNK_ROWS, x.n))
            yield frame("interactions", {
                "interaction_id": ids("INT", np.arange(sl.start, sl.stop) + 1, width),
                "occurred_at": timestamps(x.ts[sl]),
                "logged_at": timestamps(x.logged[sl], x.logged[sl] < 0),
                "rep_id": i.rep(x.rep[sl]), "account_id": i.account(x.account[sl]),
                "contact_id": i.contact(x.contact[sl]),
                "activity_type": texts(TYPES, x.type[sl]),
                "outcome": texts(OUTCOME_TEXTS, x.outcome[sl]),
                "plan_item_id": i.plan_item(x.plan_item[sl])})

    return chunks(), x.n


def opportunities(w: World, i: Ids):
    o = w.opportunities
    stages = ("Closed Won", "Closed Lost") + names.OPEN_STAGES
    stage = np.where(o.stage == -2, 0, np.where(o.stage == -3, 1, np.where(
        o.stage >= 0, o.stage + 2, -1)))
    year = pl.Series(o.created.astype(np.int32)).cast(pl.Date).dt.year().cast(pl.String)
    topic = texts(names.OPPORTUNITY_TOPICS, o.topic)
    name = pl.select(pl.concat_str([pl.lit(topic), pl.lit(" "), pl.lit(year)])).to_series()
    return _one(frame("opportunities", {
        "opportunity_id": i.opportunity(np.arange(o.n)), "account_id": i.account(o.account),
        "opportunity_name": name, "ar_rep_id": i.rep(o.ar), "sr_rep_id": i.rep(o.sr),
        "fr_rep_id": i.rep(o.fr), "created_date": dates(o.created),
        "close_date": dates(o.close, o.close < 0), "stage": texts(stages, stage),
        "status": texts(STATUSES, o.status), "amount": decimals(o.amount, 2),
        "margin_pct": decimals(o.margin, 4, o.margin == NO_VALUE, precision=6),
        "cost": decimals(np.where(o.cost == NO_VALUE, 0, o.cost), 2, o.cost == NO_VALUE),
        "product_line": texts(names.PRODUCT_LINES, o.product_line)}))


def opportunity_contacts(w: World, i: Ids):
    oc = w.opportunity_contacts
    return _one(frame("opportunity_contacts", {
        "opportunity_id": i.opportunity(oc.opportunity), "contact_id": i.contact(oc.contact),
        "decision_role": texts(DECISION_ROLES, np.where(oc.role > 0, oc.role, -1)),
        "evaluation_group": texts(EVAL_GROUPS, oc.eval_group)}))


def payments(w: World, i: Ids):
    p = w.payments
    order = np.lexsort((p.opportunity, p.day))
    return _one(frame("payments", {
        "payment_id": ids("PAY", np.arange(p.n) + 1, id_width(p.n)),
        "opportunity_id": i.opportunity(p.opportunity[order]), "paid_date": dates(p.day[order]),
        "amount": decimals(p.amount[order], 2)}))


def account_strategies(w: World, i: Ids):
    s = w.strategies
    return _one(frame("account_strategies", {
        "strategy_id": ids("STR", np.arange(s.n) + 1, id_width(s.n)),
        "account_id": i.account(s.account), "owner_rep_id": i.rep(s.owner),
        "approved_date": dates(s.approved), "valid_to": dates(s.valid_to, s.valid_to < 0)}))


def relationship_plans(w: World, i: Ids):
    p = w.plans
    return _one(frame("relationship_plans", {
        "plan_id": i.plan(np.arange(p.n)), "account_id": i.account(p.account),
        "owner_rep_id": i.rep(p.owner), "valid_from": dates(p.valid_from),
        "valid_to": dates(p.valid_to, p.valid_to < 0),
        "covers_key": booleans(p.covers[:, 0]), "covers_general": booleans(p.covers[:, 1]),
        "covers_org": booleans(p.covers[:, 2])}))


def plan_items(w: World, i: Ids):
    t = w.items
    descs = [d for lay in LAYERS for d in names.PLAN_DESCRIPTIONS[lay]]
    counts = np.array([len(names.PLAN_DESCRIPTIONS[lay]) for lay in LAYERS])
    offsets = np.concatenate([[0], np.cumsum(counts)[:-1]])
    desc = np.where(t.description >= 0,
                    offsets[t.layer] + t.description % counts[t.layer], -1)
    return _one(frame("plan_items", {
        "plan_item_id": i.plan_item(np.arange(t.n)), "plan_id": i.plan(t.plan),
        "layer": texts(LAYERS, t.layer), "owner_rep_id": i.rep(t.owner),
        "target_contact_id": i.contact(t.target),
        "planned_activity_type": texts(TYPES, t.planned_type),
        "description": texts(descs, desc), "due_date": dates(t.due),
        "done_date": dates(t.done, t.done < 0)}))


def complaints(w: World, i: Ids):
    c = w.complaints
    return _one(frame("complaints", {
        "complaint_id": ids("CMP", np.arange(c.n) + 1, id_width(c.n)),
        "account_id": i.account(c.account), "contact_id": i.contact(c.contact),
        "owner_rep_id": i.rep(c.owner), "severity": texts(SEVERITIES, c.severity),
        "opened_at": timestamps(c.opened), "closed_at": timestamps(c.closed, c.closed < 0),
        "sla_days": integers(c.sla_days, c.sla_days < 0),
        "is_customer_confirmed": booleans(c.confirmed)}))


def feedback_items(w: World, i: Ids):
    f = w.feedback
    return _one(frame("feedback_items", {
        "feedback_id": ids("FBK", np.arange(f.n) + 1, id_width(f.n)),
        "account_id": i.account(f.account), "contact_id": i.contact(f.contact),
        "recorded_by_rep_id": i.rep(f.rep), "recorded_date": dates(f.day),
        "category": texts(names.FEEDBACK_CATEGORIES, f.category),
        "routed_to": texts(names.ROUTING_TEAMS, f.routed_to),
        "routed_date": dates(f.routed_day, f.routed_day < 0)}))


def satisfaction_surveys(w: World, i: Ids):
    s = w.surveys
    return _one(frame("satisfaction_surveys", {
        "survey_id": ids("SRV", np.arange(s.n) + 1, id_width(s.n)),
        "account_id": i.account(s.account), "contact_id": i.contact(s.contact),
        "survey_date": dates(s.day), "score": decimals(s.score, 1, precision=4)}))


def targets(w: World, i: Ids):
    t = w.targets
    rep_ids = i.rep(np.where(t.is_region, -1, t.scope))
    region_ids = i.region(np.where(t.is_region, t.scope, 0))
    scope_id = pl.select(pl.when(pl.lit(pl.Series(t.is_region))).then(pl.lit(region_ids))
                         .otherwise(pl.lit(rep_ids))).to_series()
    return _one(frame("targets", {
        "scope": texts(("rep", "region"), t.is_region.astype(np.int64)), "scope_id": scope_id,
        "year": integers(t.year), "quarter": integers(t.quarter),
        "revenue_target": decimals(np.where(t.revenue == NO_VALUE, 0, t.revenue), 2,
                                   t.revenue == NO_VALUE),
        "profit_target": decimals(np.where(t.profit == NO_VALUE, 0, t.profit), 2,
                                  t.profit == NO_VALUE)}))


def competitor_stances(w: World, i: Ids):
    s = w.competitors
    return _one(frame("competitor_stances", {
        "contact_id": i.contact(s.contact), "competitor": texts(names.COMPETITORS, s.competitor),
        "assessed_date": dates(s.day), "attitude": integers(s.attitude)}))


BUILDERS = {
    "regions": regions, "region_market_types": region_market_types, "reps": reps,
    "accounts": accounts, "contacts": contacts, "contact_assessments": contact_assessments,
    "interactions": interactions, "opportunities": opportunities,
    "opportunity_contacts": opportunity_contacts, "payments": payments,
    "account_strategies": account_strategies, "relationship_plans": relationship_plans,
    "plan_items": plan_items, "complaints": complaints, "feedback_items": feedback_items,
    "satisfaction_surveys": satisfaction_surveys, "targets": targets,
    "competitor_stances": competitor_stances,
}
TABLE_ORDER = tuple(BUILDERS)
# Contract tables the generator leaves out on purpose: an absent optional file is an empty
# table. account_owners (the CRM's owner history): the demo shows the inferred AR of the
# period (docs/metrics-scorecard.md, "Common rules"), which is what most exports get.
NOT_GENERATED = frozenset({"account_owners"})

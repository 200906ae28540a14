"""Relationship plans and plan items, and the interactions (activities) they lead to."""

from __future__ import annotations

import csv
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np
import polars as pl

from rapport.generator import names
from rapport.generator.timeline import SECONDS_PER_DAY, Timeline
from rapport.generator.world import (
    FR,
    SR,
    Accounts,
    Contacts,
    Reps,
    choose,
    lookup_choose,
    lookup_tables,
)
from rapport.paths import SEEDS_DIR

KEY, GENERAL, ORG = range(3)
LAYERS = ("key", "general", "org")

KEY_TYPES = ("office_visit_project", "office_visit_regular", "private_activity",
             "external_dinner_family", "home_visit", "executive_visit",
             "exhibition_invitation", "hq_visit")
# per habit: diligent, average, elite_private, neglectful (deep ladder steps are rare)
KEY_MIX = np.array([
    [0.38, 0.30, 0.11, 0.030, 0.010, 0.07, 0.05, 0.04],
    [0.42, 0.32, 0.09, 0.020, 0.005, 0.05, 0.04, 0.035],
    [0.27, 0.26, 0.24, 0.090, 0.040, 0.04, 0.03, 0.03],
    [0.52, 0.35, 0.05, 0.008, 0.002, 0.03, 0.02, 0.02],
])
GENERAL_TYPES = ("phone_call", "email_exchange", "technical_seminar", "joint_exhibition",
                 "project_celebration", "birthday_greeting", "holiday_visit", "small_gift",
                 "sports_event", "group_dinner", "annual_party")
GENERAL_MIX = np.array([
    [0.26, 0.25, 0.08, 0.03, 0.03, 0.08, 0.08, 0.05, 0.04, 0.07, 0.03],
    [0.30, 0.28, 0.07, 0.03, 0.03, 0.06, 0.06, 0.04, 0.04, 0.06, 0.03],
    [0.30, 0.22, 0.05, 0.02, 0.03, 0.07, 0.07, 0.05, 0.06, 0.10, 0.03],
    [0.40, 0.35, 0.05, 0.02, 0.02, 0.03, 0.04, 0.02, 0.02, 0.03, 0.02],
])
GROUP_EVENTS = ("technical_seminar", "joint_exhibition", "project_celebration", "annual_party")
ORG_TYPES = ("executive_summit", "executive_dialogue", "strategy_benchmarking",
             "process_integration", "joint_innovation_centre", "joint_brand_event", "joint_csr",
             "strategic_agreement_signing", "exclusive_partnership", "culture_exchange")
ORG_MIX = np.array([
    [0.16, 0.26, 0.14, 0.10, 0.07, 0.06, 0.05, 0.05, 0.03, 0.08],  # top 5% accounts
    [0.30, 0.36, 0.18, 0.12, 0.02, 0.01, 0.01, 0.0, 0.0, 0.0],  # the others
])
EVENING_TYPES = ("private_activity", "external_dinner_family", "home_visit", "group_dinner",
                 "annual_party")
TYPES = KEY_TYPES + GENERAL_TYPES + ORG_TYPES
TYPE_INDEX = {t: i for i, t in enumerate(TYPES)}
TYPE_LAYER = np.array([KEY] * len(KEY_TYPES) + [GENERAL] * len(GENERAL_TYPES)
                      + [ORG] * len(ORG_TYPES))
# attitude pull of one activity on the contact who receives it
TYPE_PULL = np.array([1.0, 2.0, 3.0, 4.0, 5.0, 2.5, 1.5, 2.0] + [0.3] * len(GENERAL_TYPES)
                     + [0.0] * len(ORG_TYPES))
DEPTH = np.array([1, 2, 3, 4, 5, 0, 0, 0] + [0] * (len(GENERAL_TYPES) + len(ORG_TYPES)))

OUTCOME_TEXTS = names.OUTCOMES["key"] + names.OUTCOMES["general"] + names.OUTCOMES["org"]
OUTCOME_OFFSET = np.array([0, len(names.OUTCOMES["key"]),
                           len(names.OUTCOMES["key"]) + len(names.OUTCOMES["general"])])
OUTCOME_COUNT = np.array([len(names.OUTCOMES[k]) for k in LAYERS])

# per habit: diligent, average, elite_private, neglectful
ACTIVITY_LEVEL = np.array([1.3, 1.0, 0.9, 0.35])
ROLE_SHARE = np.array([[0.50, 0.30, 0.20], [0.65, 0.20, 0.15], [0.93, 0.04, 0.03],
                       [0.70, 0.18, 0.12]])
KEY_SHARE = np.array([0.45, 0.45, 0.60, 0.40])
OUTCOME_MISSING = np.array([0.03, 0.12, 0.30, 0.45])
LOG_DELAY_HOURS = np.array([5.0, 18.0, 36.0, 110.0])
LOGGED_MISSING = np.array([0.01, 0.04, 0.08, 0.15])
PLAN_SHARE = np.array([1.1, 1.0, 0.7, 0.5])
PLAN_COVERS = np.array([[0.98, 0.95, 0.9], [0.9, 0.8, 0.6], [0.95, 0.5, 0.4], [0.6, 0.5, 0.3]])
ITEM_DONE = np.array([0.93, 0.78, 0.72, 0.42])
ITEM_ON_TIME = np.array([0.88, 0.72, 0.65, 0.35])
PLANNED_KEY = ("office_visit_regular", "private_activity", "executive_visit",
               "exhibition_invitation", "hq_visit", "office_visit_project",
               "external_dinner_family")
PLANNED_GENERAL = ("technical_seminar", "holiday_visit", "birthday_greeting", "group_dinner",
                   "sports_event", "phone_call")
PLANNED_ORG = ("executive_dialogue", "executive_summit", "strategy_benchmarking",
               "process_integration", "joint_brand_event")
PLANNED_DEFAULT = np.array([TYPE_INDEX["office_visit_regular"], TYPE_INDEX["phone_call"],
                            TYPE_INDEX["executive_dialogue"]])


def check_taxonomy() -> None:
    """Every activity type used here must be in the taxonomy seed, in the same layer."""
    path = SEEDS_DIR / "activity_taxonomy.csv"
    with path.open(newline="", encoding="utf-8") as handle:
        layer = {r["activity_type"].strip().lower(): r["layer"].strip().lower()
                 for r in csv.DictReader(handle)}
    for t, lay in zip(TYPES, TYPE_LAYER):
        if layer.get(t) != LAYERS[lay]:
            raise ValueError(
                f"{path}: activity_type {t!r} (layer {LAYERS[lay]}) is missing or in another "
                f"layer; the generator uses it: restore it or update rapport/generator/activity.py")


def role_base(accounts: Accounts, role: np.ndarray, acc: np.ndarray) -> np.ndarray:
    """Base rep of the given iron-triangle role per row (the AR where SR/FR is missing)."""
    ar, sr, fr = accounts.ar[acc], accounts.sr[acc], accounts.fr[acc]
    base = np.where(role == SR, sr, np.where(role == FR, fr, ar))
    return np.where(base < 0, ar, base)


@dataclass
class Plans:
    n: int
    account: np.ndarray
    owner: np.ndarray
    valid_from: np.ndarray
    valid_to: np.ndarray  # -1 open-ended
    covers: np.ndarray  # [n, 3]: 1 true, 0 false, -1 missing


@dataclass
class PlanItems:
    n: int
    plan: np.ndarray
    account: np.ndarray
    layer: np.ndarray
    owner: np.ndarray
    target: np.ndarray  # -1 none
    planned_type: np.ndarray  # -1 missing
    description: np.ndarray  # -1 missing, else index into the layer's descriptions
    due: np.ndarray
    done: np.ndarray  # -1 not done


def make_plans(rng: np.random.Generator, tl: Timeline, accounts: Accounts,
               reps: Reps) -> Plans:
    p = np.where(accounts.top20, 0.9, 0.45) * PLAN_SHARE[accounts.habit]
    has = np.flatnonzero(rng.random(accounts.n) < p)
    first = accounts.window_start(tl)[has] + rng.integers(0, 90, len(has))
    acc_parts, from_parts = [], []
    day = first
    alive = np.ones(len(has), dtype=bool)
    while alive.any():
        acc_parts.append(has[alive])
        from_parts.append(day[alive])
        day = day + 365 + rng.integers(-15, 16, len(has))
        alive &= day <= tl.end - 30
    account = np.concatenate(acc_parts)
    valid_from = np.concatenate(from_parts)
    order = np.lexsort((valid_from, account))
    account, valid_from = account[order], valid_from[order]
    n = len(account)
    has_next = np.zeros(n, dtype=bool)
    has_next[:-1] = account[1:] == account[:-1]
    nxt = np.concatenate([valid_from[1:], [0]])
    valid_to = np.where(has_next, nxt - 1,
                        np.where(rng.random(n) < 0.5, -1, valid_from + 364))
    owner = reps.owner_at(accounts.ar[account], valid_from)
    probs = PLAN_COVERS[reps.habit[owner]].copy()
    probs[:, 2] *= np.where(accounts.rank_pct[account] < 0.3, 1.0, 0.5)
    covers = (rng.random((n, 3)) < probs).astype(np.int64)
    covers[rng.random((n, 3)) < 0.03] = -1
    return Plans(n, account, owner, valid_from, valid_to, covers)


def make_plan_items(rng: np.random.Generator, tl: Timeline, accounts: Accounts, reps: Reps,
                    contacts: Contacts, plans: Plans) -> PlanItems:
    acc_of_plan = plans.account
    k = 3 + rng.poisson(1.5 + 4.0 * (1.0 - accounts.rank_pct[acc_of_plan]))
    plan = np.repeat(np.arange(plans.n), k)
    n = len(plan)
    acc = acc_of_plan[plan]
    layer = choose(rng, [0.5, 0.35, 0.15], n)
    org_ok = (plans.covers[plan, 2] == 1) & (accounts.rank_pct[acc] < 0.3)
    layer = np.where((layer == ORG) & ~org_ok, GENERAL, layer)
    start = plans.valid_from[plan]
    stop = np.where(plans.valid_to[plan] >= 0, plans.valid_to[plan], start + 364)
    due = start + (rng.random(n) * np.maximum(stop - start - 20, 1)).astype(np.int64) + 20
    role = choose(rng, [0.75, 0.15, 0.10], n)
    base = role_base(accounts, role, acc)
    habit = reps.habit[reps.owner_at(base, np.minimum(due, tl.end))]
    done_flag = rng.random(n) < ITEM_DONE[habit]
    on_time = rng.random(n) < ITEM_ON_TIME[habit]
    done = np.where(on_time, due - rng.integers(0, 26, n), due + rng.integers(1, 76, n))
    done = np.maximum(done, start)
    done = np.where(done_flag & (done <= tl.end), done, -1)
    owner = reps.owner_at(base, np.where(done >= 0, done, np.minimum(due, tl.end)))
    target = np.full(n, -1, dtype=np.int64)
    is_key = layer == KEY
    target[is_key] = contacts.pick(rng, acc[is_key], contacts.key_weight)
    is_gen = np.flatnonzero((layer == GENERAL) & (rng.random(n) < 0.85))
    target[is_gen] = contacts.pick(rng, acc[is_gen], contacts.general_weight)
    planned = np.full(n, -1, dtype=np.int64)
    for lay, pool in ((KEY, PLANNED_KEY), (GENERAL, PLANNED_GENERAL), (ORG, PLANNED_ORG)):
        idx = np.flatnonzero(layer == lay)
        planned[idx] = np.array([TYPE_INDEX[t] for t in pool])[
            rng.integers(0, len(pool), len(idx))]
    planned[rng.random(n) < 0.05] = -1
    desc = rng.integers(0, 4, n)
    desc[rng.random(n) < 0.25] = -1
    return PlanItems(n, plan, acc, layer, owner, target, planned, desc, due, done)


@dataclass
class Interactions:
    n: int
    ts: np.ndarray  # seconds since epoch, sorted ascending
    logged: np.ndarray  # seconds, -1 missing
    rep: np.ndarray
    account: np.ndarray
    contact: np.ndarray  # -1 company-level
    type: np.ndarray  # index into TYPES
    outcome: np.ndarray  # index into OUTCOME_TEXTS, -1 missing
    plan_item: np.ndarray  # -1 unplanned


def _type_tables() -> np.ndarray:
    """One activity-type distribution per (account tier, habit): row = tier * 4 + habit.

    Tiers: 0 top 5% of accounts, 1 next 15%, 2 the rest (organisational events are rare and
    concentrated on the top accounts).
    """
    p_org = np.array([0.06, 0.025, 0.002])
    rows = []
    for tier in range(3):
        org_mix = ORG_MIX[0 if tier == 0 else 1]
        for habit in range(4):
            key = KEY_SHARE[habit]
            general = 1.0 - key - p_org[tier]
            rows.append(np.concatenate([key * KEY_MIX[habit] / KEY_MIX[habit].sum(),
                                        general * GENERAL_MIX[habit] / GENERAL_MIX[habit].sum(),
                                        p_org[tier] * org_mix / org_mix.sum()]))
    return lookup_tables(np.array(rows))


def _triangle(accounts: Accounts, reps: Reps) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per account and role (AR, SR, FR; the AR stands in for a missing one): base rep, the
    day after which the successor holds it, and the successor."""
    base = np.stack([accounts.ar, np.where(accounts.sr < 0, accounts.ar, accounts.sr),
                     np.where(accounts.fr < 0, accounts.ar, accounts.fr)], axis=1)
    switch = reps.leave[base]
    succ = np.where(reps.successor[base] >= 0, reps.successor[base], base)
    return base.astype(np.int32), switch.astype(np.int32), succ.astype(np.int32)


def make_interactions(rng: np.random.Generator, n_total: int, tl: Timeline,
                      accounts: Accounts, reps: Reps, contacts: Contacts,
                      items: PlanItems) -> Interactions:
    """Unplanned activities (grouped by account, vectorised) plus one per done plan item.

    The accounts are split in two halves simulated on two threads (numpy releases the GIL),
    each with its own random stream, then merged in time order: the result does not depend
    on thread timing.
    """
    done = np.flatnonzero(items.done >= 0)
    if len(done) > n_total // 5:  # planned activities are at most a fifth of all
        done = np.sort(rng.choice(done, n_total // 5, replace=False))
    window = accounts.window_start(tl)
    p_acc = accounts.value ** 0.55 * ACTIVITY_LEVEL[accounts.habit] * (
        (tl.end - window + 1) / tl.days)
    counts = rng.multinomial(n_total - len(done), p_acc / p_acc.sum())
    half = accounts.n // 2
    streams = rng.spawn(2)
    ctx = _Context(tl, accounts, reps, contacts, *_triangle(accounts, reps), _type_tables())
    with ThreadPoolExecutor(max_workers=2) as pool:
        first = pool.submit(_part, streams[0], ctx, counts, 0, half, None)
        second = pool.submit(_part, streams[1], ctx, counts, half, accounts.n, (items, done))
        parts = [first.result(), second.result()]
    cols = {k: np.concatenate([p[k] for p in parts]) for k in parts[0]}
    del parts
    n = len(cols["minute"])
    # time order; the row number breaks ties so that the key is unique (a stable result)
    key = cols.pop("minute").astype(np.int64) * n + np.arange(n, dtype=np.int64)
    order = pl.Series(key).arg_sort().to_numpy()
    del key
    out = {k: v[order] for k, v in cols.items()}
    return Interactions(n, out["ts"], out["logged"], out["rep"], out["acc"], out["contact"],
                        out["typ"], out["outcome"], out["from_plan"])


@dataclass
class _Context:
    tl: Timeline
    accounts: Accounts
    reps: Reps
    contacts: Contacts
    base: np.ndarray  # [account, role] from _triangle
    switch: np.ndarray
    succ: np.ndarray
    type_tables: np.ndarray


def _part(rng: np.random.Generator, ctx: _Context, counts: np.ndarray, lo: int, hi: int,
          planned: tuple[PlanItems, np.ndarray] | None) -> dict[str, np.ndarray]:
    """The activities of accounts lo..hi-1 (plus the planned ones, if given), row-local."""
    tl, accounts, reps, contacts = ctx.tl, ctx.accounts, ctx.reps, ctx.contacts
    counts = counts[lo:hi]
    n_rand = int(counts.sum())
    acc = np.repeat(np.arange(lo, hi, dtype=np.int32), counts)
    day = tl.sample_days_grouped(rng, accounts.window_start(tl)[lo:hi], counts)
    base, switch, succ = ctx.base, ctx.switch, ctx.succ
    moved = day > np.repeat(switch[lo:hi, 0], counts)  # the AR of the day is the successor
    habit = np.where(moved, np.repeat(reps.habit[succ[lo:hi, 0]].astype(np.int8), counts),
                     np.repeat(reps.habit[base[lo:hi, 0]].astype(np.int8), counts))
    del moved
    u = rng.random(n_rand, dtype=np.float32)
    cum_share = np.cumsum(ROLE_SHARE, axis=1).astype(np.float32)
    role = (u >= cum_share[habit, 0]).astype(np.int32) + (u >= cum_share[habit, 1])
    del u
    flat = acc * 3 + role
    del role
    rep = np.where(day > switch.ravel()[flat], succ.ravel()[flat], base.ravel()[flat])
    del flat
    tier = np.select([accounts.rank_pct[lo:hi] < 0.05, accounts.rank_pct[lo:hi] < 0.2], [0, 1], 2)
    combo = np.repeat((tier * 4).astype(np.int32), counts) + habit
    del habit
    typ = lookup_choose(ctx.type_tables, combo, rng.random(n_rand, dtype=np.float32))
    typ = typ.astype(np.int32)
    del combo
    contact = np.full(n_rand, -1, dtype=np.int32)
    lay = TYPE_LAYER[typ]
    is_key = np.flatnonzero(lay == KEY)
    contact[is_key] = contacts.pick(rng, acc[is_key], contacts.key_weight)
    del is_key
    group = np.isin(typ, [TYPE_INDEX[t] for t in GROUP_EVENTS]) & (
        rng.random(n_rand, dtype=np.float32) < 0.5)
    is_gen = np.flatnonzero((lay == GENERAL) & ~group)
    del group, lay
    contact[is_gen] = contacts.pick(rng, acc[is_gen], contacts.general_weight)
    del is_gen
    from_plan = np.full(n_rand, -1, dtype=np.int32)
    if planned is not None:
        items, done = planned
        p_type = np.where(items.planned_type[done] >= 0, items.planned_type[done],
                          PLANNED_DEFAULT[items.layer[done]])
        p_contact = np.where(TYPE_LAYER[p_type] == ORG, -1, items.target[done])
        from_plan = np.concatenate([from_plan, done.astype(np.int32)])
        acc = np.concatenate([acc, items.account[done].astype(np.int32)])
        day = np.concatenate([day, items.done[done].astype(np.int32)])
        rep = np.concatenate([rep, items.owner[done].astype(np.int32)])
        typ = np.concatenate([typ, p_type.astype(np.int32)])
        contact = np.concatenate([contact, p_contact.astype(np.int32)])
    n = len(acc)

    evening = np.zeros(len(TYPES), dtype=bool)
    evening[[TYPE_INDEX[t] for t in EVENING_TYPES]] = True
    minute = rng.integers(0, 630, n, dtype=np.int32)  # 08:00-18:29
    ev = evening[typ]
    minute[ev] = 600 + minute[ev] % 240  # 18:00-21:59 for dinners and visits at home
    del ev
    minute += (day - np.int32(tl.start)) * 1440 + 480  # minutes since the first day
    del day
    ts = (minute.astype(np.int64) + tl.start * 1440) * 60
    h = reps.habit[rep]
    delay_minutes = (rng.standard_exponential(n, dtype=np.float32)
                     * (LOG_DELAY_HOURS * 60).astype(np.float32)[h]).astype(np.int64)
    last_second = (tl.end + 1) * SECONDS_PER_DAY - 1
    logged = np.minimum(ts + delay_minutes * 60, np.maximum(last_second, ts))
    del delay_minutes
    logged[rng.random(n, dtype=np.float32) < LOGGED_MISSING.astype(np.float32)[h]] = -1
    u = rng.random(n, dtype=np.float32)
    miss = OUTCOME_MISSING.astype(np.float32)[h]
    lay = TYPE_LAYER[typ]
    # one uniform: below the habit's missing rate -> not logged complete, else which text
    pick = ((u - miss) / (1.0 - miss) * OUTCOME_COUNT[lay]).astype(np.int32)
    outcome = np.where(u < miss, -1, OUTCOME_OFFSET[lay] + np.minimum(
        pick, OUTCOME_COUNT[lay] - 1)).astype(np.int32)
    return {"minute": minute, "ts": ts, "logged": logged, "rep": rep.astype(np.int32),
            "acc": acc, "contact": contact, "typ": typ, "outcome": outcome,
            "from_plan": from_plan}

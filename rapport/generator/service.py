"""Account strategies, complaints, feedback items and satisfaction surveys."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import numpy as np

from rapport.generator import names
from rapport.generator.commerce import role_owner
from rapport.generator.timeline import SECONDS_PER_DAY, Timeline, to_day, year_of
from rapport.generator.world import Accounts, Contacts, Reps, choose

# per habit: diligent, average, elite_private, neglectful
STRATEGY_SHARE = np.array([1.1, 1.0, 0.8, 0.5])
COMPLAINT_CLOSED = np.array([0.97, 0.90, 0.85, 0.70])
COMPLAINT_IN_SLA = np.array([0.88, 0.70, 0.60, 0.40])
COMPLAINT_CONFIRMED = np.array([0.95, 0.85, 0.80, 0.60])
FEEDBACK_LEVEL = np.array([1.5, 1.0, 0.6, 0.4])
FEEDBACK_ROUTED = np.array([0.85, 0.65, 0.45, 0.25])
SEVERITIES = ("low", "medium", "high")
DEFAULT_SLA_DAYS = np.array([14, 7, 3, 7])  # low, medium, high, missing (as complaint_sla.csv)
EXPLICIT_SLA_DAYS = np.array([3, 5, 7, 10, 14, 30])
SURVEY_MONTHS = (5, 11)  # survey waves around the 15th, +-20 days


@dataclass
class Strategies:
    n: int
    account: np.ndarray
    owner: np.ndarray  # -1 missing
    approved: np.ndarray
    valid_to: np.ndarray  # -1 open-ended


def make_strategies(rng: np.random.Generator, tl: Timeline, accounts: Accounts,
                    reps: Reps) -> Strategies:
    p = np.where(accounts.top20, 0.85, 0.35) * STRATEGY_SHARE[accounts.habit]
    has = np.flatnonzero(rng.random(accounts.n) < p)
    window = accounts.window_start(tl)[has]
    in_period = accounts.created[has] >= tl.start
    day = np.where(in_period, window + rng.integers(0, 60, len(has)),
                   np.maximum(window - rng.integers(0, 200, len(has)), accounts.created[has]))
    accs, days = [], []
    alive = np.ones(len(has), dtype=bool)
    while alive.any():
        accs.append(has[alive])
        days.append(day[alive])
        day = day + 365 + rng.integers(-30, 31, len(has))
        alive &= (day <= tl.end) & (rng.random(len(has)) < 0.8)
    account, approved = np.concatenate(accs), np.concatenate(days)
    order = np.lexsort((approved, account))
    account, approved = account[order], approved[order]
    n = len(account)
    has_next = np.zeros(n, dtype=bool)
    has_next[:-1] = account[1:] == account[:-1]
    nxt = np.concatenate([approved[1:], [0]])
    valid_to = np.where(has_next, nxt - 1,
                        np.where(rng.random(n) < 0.55, -1, approved + 364))
    owner = reps.owner_at(accounts.ar[account], approved)
    owner = np.where(rng.random(n) < 0.05, -1, owner)
    return Strategies(n, account, owner, approved, valid_to)


@dataclass
class Complaints:
    n: int
    account: np.ndarray
    contact: np.ndarray  # -1 missing
    owner: np.ndarray
    severity: np.ndarray  # index into SEVERITIES, -1 missing
    opened: np.ndarray  # seconds
    closed: np.ndarray  # seconds, -1 open
    sla_days: np.ndarray  # -1 missing (severity default applies)
    confirmed: np.ndarray  # 1 true, 0 false, -1 missing


def make_complaints(rng: np.random.Generator, tl: Timeline, accounts: Accounts, reps: Reps,
                    contacts: Contacts) -> Complaints:
    n = max(10, round(accounts.n * tl.days / 365.25 * 0.8))
    window = accounts.window_start(tl)
    acc = choose(rng, accounts.value ** 0.3 * (tl.end - window + 1), n)
    day = tl.sample_days(rng, window[acc])
    opened = day * SECONDS_PER_DAY + (8 * 60 + rng.integers(0, 600, n)) * 60
    owner = role_owner(accounts, reps, np.where(rng.random(n) < 0.6, 0, 2), acc, day)
    contact = contacts.pick(rng, acc, contacts.general_weight)
    contact = np.where(rng.random(n) < 0.2, -1, contact)
    severity = choose(rng, [0.5, 0.35, 0.15], n)
    severity = np.where(rng.random(n) < 0.03, -1, severity)
    explicit = rng.random(n) < 0.08
    sla = np.where(explicit, EXPLICIT_SLA_DAYS[rng.integers(0, 6, n)], -1)
    effective = np.where(explicit, sla, DEFAULT_SLA_DAYS[severity])
    habit = reps.habit[owner]
    within = rng.random(n) < COMPLAINT_IN_SLA[habit]
    frac = np.where(within, rng.uniform(0.05, 1.0, n), rng.uniform(1.05, 4.0, n))
    closed = opened + (frac * effective * SECONDS_PER_DAY).astype(np.int64) // 60 * 60
    is_closed = (rng.random(n) < COMPLAINT_CLOSED[habit]) & (
        closed < (tl.end + 1) * SECONDS_PER_DAY)
    closed = np.where(is_closed, closed, -1)
    p_conf = np.where(within, COMPLAINT_CONFIRMED[habit], 0.5)
    confirmed = np.where(is_closed & (rng.random(n) < p_conf), 1, 0)
    confirmed = np.where(rng.random(n) < 0.08, -1, confirmed)
    order = np.lexsort((acc, opened))
    return Complaints(n, acc[order], contact[order], owner[order], severity[order],
                      opened[order], closed[order], sla[order], confirmed[order])


@dataclass
class Feedback:
    n: int
    account: np.ndarray
    contact: np.ndarray  # -1 missing
    rep: np.ndarray
    day: np.ndarray
    category: np.ndarray  # -1 missing
    routed_to: np.ndarray  # -1 not routed
    routed_day: np.ndarray  # -1 missing


def make_feedback(rng: np.random.Generator, tl: Timeline, accounts: Accounts, reps: Reps,
                  contacts: Contacts) -> Feedback:
    n = max(10, round(accounts.n * tl.days / 365.25 * 3.0))
    window = accounts.window_start(tl)
    acc = choose(rng, accounts.value ** 0.3 * FEEDBACK_LEVEL[accounts.habit]
                 * (tl.end - window + 1), n)
    day = tl.sample_days(rng, window[acc])
    rep = role_owner(accounts, reps, choose(rng, [0.7, 0.2, 0.1], n), acc, day)
    contact = contacts.pick(rng, acc, contacts.general_weight)
    contact = np.where(rng.random(n) < 0.15, -1, contact)
    category = choose(rng, names.FEEDBACK_CATEGORY_WEIGHTS, n)
    category = np.where(rng.random(n) < 0.04, -1, category)
    routed = rng.random(n) < FEEDBACK_ROUTED[reps.habit[rep]]
    routed_to = np.where(routed, rng.integers(0, len(names.ROUTING_TEAMS), n), -1)
    routed_day = np.where(routed, np.minimum(day + rng.integers(0, 11, n), tl.end), -1)
    routed_day = np.where(routed & (rng.random(n) < 0.03), -1, routed_day)
    order = np.lexsort((acc, day))
    return Feedback(n, acc[order], contact[order], rep[order], day[order], category[order],
                    routed_to[order], routed_day[order])


@dataclass
class Surveys:
    n: int
    account: np.ndarray
    contact: np.ndarray  # -1 missing
    day: np.ndarray
    score: np.ndarray  # tenths (0..100)


def make_surveys(rng: np.random.Generator, tl: Timeline, accounts: Accounts,
                 contacts: Contacts, support: np.ndarray, complaints: Complaints) -> Surveys:
    first_year = int(year_of(np.array([tl.start]))[0])
    waves = []
    for year in range(first_year, first_year + 5):
        for month in SURVEY_MONTHS:
            d = to_day(date(year, month, 15))
            if tl.start <= d - 20 and d + 20 <= tl.end:
                waves.append(d)
    window = accounts.window_start(tl)
    accs, days = [], []
    for wave in waves:
        take = (window <= wave - 20) & (rng.random(accounts.n) < np.where(accounts.top20, 0.8,
                                                                            0.55))
        a = np.flatnonzero(take)
        k = rng.integers(1, 5, len(a))
        a = np.repeat(a, k)
        accs.append(a)
        days.append(wave + rng.integers(-20, 21, len(a)))
    acc, day = np.concatenate(accs), np.concatenate(days)
    n = len(acc)
    contact = contacts.pick(rng, acc, contacts.general_weight)
    contact = np.where(rng.random(n) < 0.1, -1, contact)
    q = tl.quarter_index(day)
    open_complaints = np.bincount(complaints.account[complaints.closed < 0],
                                  minlength=accounts.n)
    mean = 6.2 + 0.7 * support[acc, q] - 0.6 * (open_complaints[acc] > 0)
    score = np.clip(np.rint(rng.normal(mean, 1.3) * 10), 0, 100).astype(np.int64)
    order = np.lexsort((acc, day))
    return Surveys(n, acc[order], contact[order], day[order], score[order])

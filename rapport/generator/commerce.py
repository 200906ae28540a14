"""Opportunities (with their contacts), payments and targets."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from rapport.generator import names
from rapport.generator.timeline import Timeline, year_of
from rapport.generator.world import AR, FR, SR, Accounts, Contacts, Regions, Reps, choose

OPPORTUNITIES_PER_ACCOUNT_YEAR = 4.0
REVENUE_PER_ACCOUNT_YEAR = 400_000.0  # mean won revenue per account and year
BASE_WIN_RATE = 0.45
QUARTER_END_PUSH = 0.4  # share of won deals pulled into the last days of their quarter
WON, LOST, OPEN = range(3)
STATUSES = ("won", "lost", "open")


@dataclass
class Opportunities:
    n: int
    account: np.ndarray
    ar: np.ndarray
    sr: np.ndarray  # -1 missing
    fr: np.ndarray
    created: np.ndarray
    close: np.ndarray  # -1 missing
    status: np.ndarray
    stage: np.ndarray  # index into names.OPEN_STAGES, -2 closed won, -3 closed lost, -1 missing
    amount: np.ndarray  # in cents
    margin: np.ndarray  # basis points (1/10000), NO_VALUE when missing
    cost: np.ndarray  # cents, NO_VALUE when missing
    topic: np.ndarray  # -1 missing name
    product_line: np.ndarray  # -1 missing


NO_VALUE = np.iinfo(np.int64).min


def make_opportunities(rng: np.random.Generator, tl: Timeline, accounts: Accounts,
                       reps: Reps, support: np.ndarray) -> Opportunities:
    years = tl.days / 365.25
    n = max(accounts.n, round(accounts.n * years * OPPORTUNITIES_PER_ACCOUNT_YEAR))
    window = accounts.window_start(tl)
    lo = np.maximum(accounts.created, tl.start - 90)
    p = accounts.value ** 0.5 * (tl.end - lo + 1)
    acc = choose(rng, p, n)
    span = tl.end - 3 - lo[acc]
    created = lo[acc] + (rng.random(n) * span).astype(np.int64)
    close = created + np.maximum(14, rng.lognormal(np.log(70), 0.6, n)).astype(np.int64)
    is_open = close > tl.end
    close = np.where(is_open, close, np.maximum(close, np.maximum(tl.start, window[acc])))
    q = tl.quarter_index(np.minimum(close, tl.end))
    p_win = np.clip(BASE_WIN_RATE - 0.05 + 0.1 * support[acc, q], 0.12, 0.8)
    status = np.where(is_open, OPEN, np.where(rng.random(n) < p_win, WON, LOST))
    push = (status == WON) & (rng.random(n) < QUARTER_END_PUSH)
    pushed = tl.quarter_ends[q] - rng.integers(0, 12, n)
    push &= (pushed >= created) & (pushed <= tl.end)
    close = np.where(push, pushed, close)
    # deals per account ~ value^0.5 and amount ~ value^0.5: won revenue follows account value
    expected_deals = n * p / p.sum()
    active_years = (tl.end - window + 1) / 365.25
    mean_amount = (REVENUE_PER_ACCOUNT_YEAR * accounts.value * active_years
                   / np.maximum(expected_deals * BASE_WIN_RATE, 1e-9))
    amount = mean_amount[acc] * rng.lognormal(-0.18, 0.6, n)
    amount = np.maximum(np.round(amount / 100.0) * 100.0, 500.0)
    cents = (amount * 100).astype(np.int64)
    margin_f = np.clip(rng.normal(0.24, 0.09, n), -0.3, 0.65)
    kind = choose(rng, [0.88, 0.10, 0.02], n)  # margin given, cost given, neither
    margin = np.where(kind == 0, np.rint(margin_f * 10_000).astype(np.int64), NO_VALUE)
    cost = np.where(kind == 1, np.rint(cents * (1 - margin_f)).astype(np.int64), NO_VALUE)
    ref = np.where(status == OPEN, tl.end, close)
    ar = reps.owner_at(accounts.ar[acc], ref)
    sr = reps.owner_at(accounts.sr[acc], ref)
    fr = reps.owner_at(accounts.fr[acc], ref)
    sr = np.where(rng.random(n) < 0.12, -1, sr)
    fr = np.where(rng.random(n) < 0.22, -1, fr)
    close = np.where(is_open & (rng.random(n) < 0.08), -1, close)
    stage = np.where(status == WON, -2, np.where(status == LOST, -3, choose(
        rng, [0.3, 0.3, 0.25, 0.15], n)))
    stage = np.where((status == OPEN) & (rng.random(n) < 0.06), -1, stage)
    topic = rng.integers(0, len(names.OPPORTUNITY_TOPICS), n)
    topic = np.where(rng.random(n) < 0.04, -1, topic)
    product = rng.integers(0, len(names.PRODUCT_LINES), n)
    product = np.where(rng.random(n) < 0.05, -1, product)
    order = np.lexsort((acc, created))
    return Opportunities(n, acc[order], ar[order], sr[order], fr[order], created[order],
                         close[order], status[order], stage[order], cents[order],
                         margin[order], cost[order], topic[order], product[order])


@dataclass
class OpportunityContacts:
    n: int
    opportunity: np.ndarray
    contact: np.ndarray
    role: np.ndarray  # 0 missing
    eval_group: np.ndarray  # -1 missing


def make_opportunity_contacts(rng: np.random.Generator, opps: Opportunities,
                              contacts: Contacts) -> OpportunityContacts:
    holders = np.bincount(contacts.account[contacts.role > 0],
                          minlength=len(contacts.start))
    chosen = np.flatnonzero((rng.random(opps.n) < 0.7) & (holders[opps.account] > 0))
    acc = opps.account[chosen]
    k = np.minimum(holders[acc], rng.integers(2, 6, len(chosen)))
    opp = np.repeat(chosen, k)
    j = np.arange(len(opp)) - np.repeat(np.cumsum(k) - k, k)
    offset = np.repeat((rng.random(len(chosen)) * holders[acc]).astype(np.int64), k)
    a = opps.account[opp]
    contact = contacts.start[a] + (offset + j) % holders[a]
    n = len(opp)
    role = np.where(rng.random(n) < 0.85, contacts.role[contact], rng.integers(1, 6, n))
    role = np.where(rng.random(n) < 0.08, 0, role)
    group = np.where(rng.random(n) < 0.85, contacts.eval_group[contact], rng.integers(0, 4, n))
    group = np.where(rng.random(n) < 0.1, -1, group)
    return OpportunityContacts(n, opp, contact, role, group)


@dataclass
class Payments:
    n: int
    opportunity: np.ndarray
    day: np.ndarray
    amount: np.ndarray  # cents


def make_payments(rng: np.random.Generator, tl: Timeline, opps: Opportunities) -> Payments:
    won = np.flatnonzero((opps.status == WON) & (rng.random(opps.n) < 0.87))
    k = choose(rng, [0.5, 0.3, 0.2], len(won)) + 1
    split = np.array([[1.0, 0, 0], [0.5, 0.5, 0], [0.3, 0.4, 0.3]])[k - 1]
    opp = np.repeat(won, k)
    j = np.arange(len(opp)) - np.repeat(np.cumsum(k) - k, k)
    share = split[np.repeat(np.arange(len(won)), k), j]
    total = opps.amount[opp]
    amount = np.round(total * share).astype(np.int64)
    last = j == np.repeat(k, k) - 1  # the last instalment takes the rounding remainder
    paid_before = np.cumsum(amount) - amount
    first_of = np.repeat(np.cumsum(k) - k, k)
    amount = np.where(last, total - (paid_before - paid_before[first_of]), amount)
    gap = rng.integers(15, 60, len(opp)) + j * rng.integers(60, 95, len(opp))
    day = opps.close[opp] + gap
    keep = day <= tl.end
    return Payments(int(keep.sum()), opp[keep], day[keep], amount[keep])


@dataclass
class Targets:
    n: int
    is_region: np.ndarray
    scope: np.ndarray  # rep or region index
    year: np.ndarray
    quarter: np.ndarray
    revenue: np.ndarray  # cents, NO_VALUE missing
    profit: np.ndarray  # cents, NO_VALUE missing


def make_targets(rng: np.random.Generator, tl: Timeline, regions: Regions, accounts: Accounts,
                 reps: Reps, opps: Opportunities) -> Targets:
    won = opps.status == WON
    revenue = np.bincount(opps.account[won], opps.amount[won].astype(float),
                          minlength=accounts.n)
    active_q = np.maximum(1, (tl.end - accounts.window_start(tl)) / 91.3)
    per_quarter = revenue / active_q
    rows = []
    years = year_of(tl.quarter_starts)
    for q in range(tl.n_quarters):
        mid = np.full(accounts.n, tl.quarter_starts[q] + 45)
        owner = reps.owner_at(accounts.ar, mid)
        owner = np.where(accounts.window_start(tl) <= tl.quarter_ends[q], owner, -1)
        has = owner >= 0
        rep_sum = np.bincount(owner[has], per_quarter[has], minlength=reps.n)
        year_idx = int(np.searchsorted(regions.years, years[q]))
        saline = regions.market_type[reps.region, year_idx] == 0
        employed = (reps.hire <= tl.quarter_ends[q]) & (reps.leave >= tl.quarter_starts[q])
        ok = np.flatnonzero((reps.role == AR) & employed & ~saline & (rep_sum > 0))
        rev = np.round(rep_sum[ok] * rng.uniform(0.95, 1.35, len(ok)) / 1e6) * 1e6
        prof = np.round(rev * rng.uniform(0.18, 0.3, len(ok)) / 1e5) * 1e5
        prof = np.where(rng.random(len(ok)) < 0.05, np.nan, prof)
        reg_rev = np.bincount(reps.region[ok], rev, minlength=regions.n)
        reg_prof = np.bincount(reps.region[ok], np.nan_to_num(prof), minlength=regions.n)
        reg = np.flatnonzero(reg_rev > 0)
        factor = rng.uniform(1.0, 1.1, len(reg))
        quarter = (tl.quarter_starts[q].astype("datetime64[D]").astype("datetime64[M]")
                   .astype(np.int64) % 12) // 3 + 1
        for is_region, scope, r, p in ((0, ok, rev, prof),
                                       (1, reg, np.round(reg_rev[reg] * factor / 1e6) * 1e6,
                                        np.round(reg_prof[reg] * factor / 1e5) * 1e5)):
            rows.append(np.stack([np.full(len(scope), is_region), scope,
                                  np.full(len(scope), years[q]), np.full(len(scope), quarter),
                                  np.where(np.isnan(r), NO_VALUE, r).astype(np.int64),
                                  np.where(np.isnan(p), NO_VALUE, p).astype(np.int64)]))
    t = np.concatenate(rows, axis=1)
    return Targets(t.shape[1], t[0].astype(bool), t[1], t[2], t[3], t[4], t[5])


def role_owner(accounts: Accounts, reps: Reps, role: np.ndarray, acc: np.ndarray,
               day: np.ndarray) -> np.ndarray:
    base = np.where(role == SR, accounts.sr[acc], np.where(role == FR, accounts.fr[acc],
                                                          accounts.ar[acc]))
    base = np.where(base < 0, accounts.ar[acc], base)
    return reps.owner_at(base, day)

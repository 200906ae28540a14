"""Attitude history: drift with the activity a contact receives; assessments; competitors."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from rapport.generator import names
from rapport.generator.activity import DEPTH, TYPE_PULL, Interactions
from rapport.generator.timeline import SECONDS_PER_DAY, Timeline
from rapport.generator.world import Accounts, Contacts, Reps, choose

# per habit of the AR: diligent, average, elite_private, neglectful
ASSESS_RATE = np.array([0.85, 0.55, 0.30, 0.18])
ATTITUDE_GAIN = 1.0  # per quarter, times log(1 + activity pull / median pull)
ATTITUDE_CEILING = 3.6  # gains shrink as the latent attitude nears it
NEGLECT_DECAY = 0.3  # per quarter while the latent attitude is above neutral
OPPOSED_DRIFT = 0.2  # per quarter for contacts who lean to a competitor

@dataclass
class Attitudes:
    """Simulated attitude per contact at the end of each quarter."""

    latent: np.ndarray  # [contact, quarter]
    attitude: np.ndarray  # [contact, quarter] -1..3
    max_depth: np.ndarray  # [contact, quarter] deepest ladder step reached so far


def simulate_attitudes(rng: np.random.Generator, tl: Timeline, contacts: Contacts,
                       inter: Interactions) -> Attitudes:
    nq = tl.n_quarters
    has = inter.contact >= 0
    c = inter.contact[has]
    q = tl.quarter_index(inter.ts[has] // SECONDS_PER_DAY)
    cell = c * nq + q
    pull = np.bincount(cell, TYPE_PULL[inter.type[has]], minlength=contacts.n * nq)
    pull = pull.reshape(contacts.n, nq)
    depth = np.zeros(contacts.n * nq, dtype=np.int64)
    np.maximum.at(depth, cell, DEPTH[inter.type[has]])
    depth = np.maximum.accumulate(depth.reshape(contacts.n, nq), axis=1)
    holders = contacts.role > 0
    touched = pull[holders][pull[holders] > 0]
    norm = float(np.median(touched)) if touched.size else 1.0
    start = np.where(holders, choose(rng, [0.07, 0.30, 0.40, 0.16, 0.07], contacts.n),
                     choose(rng, [0.03, 0.60, 0.30, 0.06, 0.01], contacts.n)) - 1
    start = np.where(contacts.opposed, -1, start)
    latent = start + rng.uniform(-0.3, 0.3, contacts.n)
    lat = np.empty((contacts.n, nq))
    for k in range(nq):
        # more and deeper activity raises support, with diminishing returns near "coach";
        # neglect lets it fall back; contacts leaning to a competitor drift down
        headroom = (ATTITUDE_CEILING - latent) / (ATTITUDE_CEILING + 1.5)
        gain = ATTITUDE_GAIN * np.log1p(pull[:, k] / norm) * headroom
        decay = np.where(latent > 0.3, NEGLECT_DECAY, 0.0) + np.where(contacts.opposed,
                                                                      OPPOSED_DRIFT, 0.0)
        latent = latent + gain - decay + rng.normal(0, 0.2, contacts.n)
        latent = np.minimum(np.maximum(latent, -1.45), 3.45)
        lat[:, k] = latent
    att = np.clip(np.rint(lat), -1, 3).astype(np.int64)
    return Attitudes(lat, att, depth)


@dataclass
class Assessments:
    n: int
    contact: np.ndarray
    day: np.ndarray
    attitude: np.ndarray
    intimacy: np.ndarray  # -1 missing
    assessor: np.ndarray  # -1 missing


def _day_in_quarter(rng: np.random.Generator, tl: Timeline, q: np.ndarray,
                    lo: np.ndarray) -> np.ndarray:
    first = np.maximum(tl.quarter_starts[q], lo)
    last = np.minimum(tl.quarter_ends[q], tl.end)
    return first + (rng.random(len(q)) * (last - first + 1)).astype(np.int64)


def make_assessments(rng: np.random.Generator, tl: Timeline, accounts: Accounts, reps: Reps,
                     contacts: Contacts, att: Attitudes) -> Assessments:
    nq = tl.n_quarters
    eligible = np.flatnonzero((contacts.role > 0) | (contacts.rising_star == 1)
                              | (rng.random(contacts.n) < 0.08))
    acc = contacts.account[eligible]
    open_from = accounts.window_start(tl)[acc]
    parts = []
    for q in range(nq):
        mid = np.full(len(eligible), (tl.quarter_starts[q] + tl.quarter_ends[q]) // 2)
        habit = reps.habit[reps.owner_at(accounts.ar[acc], mid)]
        rate = ASSESS_RATE[habit] + (0.6 if q == 0 else 0.0)
        pick = (rng.random(len(eligible)) < rate) & (open_from <= tl.quarter_ends[q])
        pick &= tl.quarter_starts[q] <= tl.end
        parts.append(np.stack([eligible[pick], np.full(int(pick.sum()), q)]))
    cq = np.concatenate(parts, axis=1)
    contact, q = cq[0], cq[1]
    acc = contacts.account[contact]
    day = _day_in_quarter(rng, tl, q, accounts.window_start(tl)[acc])
    n = len(contact)
    attitude = att.attitude[contact, q]
    intimacy = np.where(rng.random(n) < 0.4, -1, att.max_depth[contact, q])
    assessor = reps.owner_at(accounts.ar[acc], day)
    assessor = np.where(rng.random(n) < 0.05, -1, assessor)
    order = np.lexsort((contact, day))
    return Assessments(n, contact[order], day[order], attitude[order], intimacy[order],
                       assessor[order])


@dataclass
class CompetitorStances:
    n: int
    contact: np.ndarray
    competitor: np.ndarray  # index into names.COMPETITORS
    day: np.ndarray
    attitude: np.ndarray


def make_competitor_stances(rng: np.random.Generator, tl: Timeline, accounts: Accounts,
                            contacts: Contacts, att: Attitudes) -> CompetitorStances:
    nq = tl.n_quarters
    who = np.flatnonzero((contacts.role > 0) & ((rng.random(contacts.n) < 0.3)
                                                | contacts.opposed))
    n_comp = len(names.COMPETITORS)
    comp1 = rng.integers(0, n_comp, len(who))
    second = rng.random(len(who)) < 0.4
    comp2 = (comp1[second] + rng.integers(1, n_comp, int(second.sum()))) % n_comp
    pair_c = np.concatenate([who, who[second]])
    pair_comp = np.concatenate([comp1, comp2])
    rows = []
    for k in range(3):  # up to three assessments per pair, one in each third of the period
        keep = np.ones(len(pair_c), dtype=bool) if k == 0 else rng.random(len(pair_c)) < 0.5
        q = (k * nq) // 3 + rng.integers(0, max(1, nq // 3), len(pair_c))
        q = np.minimum(q, nq - 1)
        rows.append(np.stack([pair_c[keep], pair_comp[keep], q[keep]]))
    c, comp, q = np.concatenate(rows, axis=1)
    acc = contacts.account[c]
    open_from = accounts.window_start(tl)[acc]
    ok = open_from <= tl.quarter_ends[q]
    c, comp, q, acc = c[ok], comp[ok], q[ok], acc[ok]
    day = _day_in_quarter(rng, tl, q, open_from[ok])
    ours = att.attitude[c, q]
    raw = 1.4 - 0.6 * ours + 1.2 * contacts.opposed[c] + rng.normal(0, 0.6, len(c))
    attitude = np.clip(np.rint(raw), -1, 3).astype(np.int64)
    key = (c * n_comp + comp) * 100_000 + day
    _, first = np.unique(key, return_index=True)
    first = np.sort(first)
    c, comp, day, attitude = c[first], comp[first], day[first], attitude[first]
    order = np.lexsort((comp, day, c))
    return CompetitorStances(len(c), c[order], comp[order], day[order], attitude[order])


def account_support(tl: Timeline, accounts: Accounts, contacts: Contacts,
                    att: Attitudes) -> np.ndarray:
    """[account, quarter] mean latent attitude of the approver and decision makers (0 if none)."""
    ad = np.flatnonzero((contacts.role == 1) | (contacts.role == 2))
    acc = contacts.account[ad]
    total = np.zeros((accounts.n, tl.n_quarters))
    np.add.at(total, acc, att.latent[ad])
    count = np.bincount(acc, minlength=accounts.n)[:, None]
    return np.where(count > 0, total / np.maximum(count, 1), 0.0)

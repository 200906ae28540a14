"""Regions, market types, reps (with habits), accounts (with value) and contacts (with roles).

Everything is held as numpy arrays indexed by position; identifiers are made on output.
"""

from __future__ import annotations

from dataclasses import dataclass
from statistics import NormalDist

import numpy as np

from rapport.generator import names
from rapport.generator.scales import Scale
from rapport.generator.timeline import Timeline, year_of

HABITS = ("diligent", "average", "elite_private", "neglectful")
DILIGENT, AVERAGE, ELITE, NEGLECTFUL = range(4)
HABIT_SHARES = np.array([0.35, 0.30, 0.15, 0.20])
ROLES = ("AR", "SR", "FR")
AR, SR, FR = range(3)
MARKET_TYPES = ("saline_alkali", "new", "mature")
NO_LEAVE = 10**7  # a day far after any period: "still employed"

# Decision roles of contacts: 0 = none.
DECISION_ROLES = ("", "A", "D", "S", "E", "I")
ROLE_INFLUENCE = np.array([0.03, 1.0, 0.9, 0.6, 0.5, 0.3])
LEVELS = ("high", "middle", "low")
EVAL_GROUPS = ("commercial", "technical", "selection_decision", "final_decision")


def choose(rng: np.random.Generator, p: np.ndarray | list[float], n: int) -> np.ndarray:
    """n draws of indices 0..len(p)-1 with probabilities p (vectorised)."""
    cdf = np.cumsum(np.asarray(p, dtype=float))
    cdf /= cdf[-1]
    return np.minimum(np.searchsorted(cdf, rng.random(n), side="right"), len(cdf) - 1)


LOOKUP_BUCKETS = 1 << 16


def lookup_tables(probs: np.ndarray, buckets: int = LOOKUP_BUCKETS) -> np.ndarray:
    """Inverse-CDF tables, one row per distribution: u in [0, 1) -> int(u * buckets) -> choice.

    A table lookup is one memory access per draw (a binary search is about 20); probabilities
    are kept to 1/65536.
    """
    probs = np.atleast_2d(np.asarray(probs, dtype=float))
    cdf = np.cumsum(probs, axis=1)
    cdf /= cdf[:, -1:]
    mids = (np.arange(buckets) + 0.5) / buckets
    out = np.empty((len(probs), buckets + 1), dtype=np.int16)
    for i, row in enumerate(cdf):
        out[i, :buckets] = np.minimum(np.searchsorted(row, mids, side="right"), probs.shape[1] - 1)
    out[:, buckets] = out[:, buckets - 1]  # u * buckets may round up to `buckets`
    return out


def lookup_choose(tables: np.ndarray, row: np.ndarray | int, u: np.ndarray) -> np.ndarray:
    """Choices for uniforms u from the table rows `row` (one row per draw, or one for all)."""
    buckets = tables.shape[1] - 1
    flat = (u * buckets).astype(np.int32)
    if isinstance(row, int | np.integer):
        return tables[row][flat]
    return tables.ravel()[np.asarray(row, dtype=np.int32) * (buckets + 1) + flat]


def stratified(rng: np.random.Generator, shares: np.ndarray, n: int) -> np.ndarray:
    """n labels whose counts follow shares (largest remainder, every label once when n allows)."""
    raw = shares * n
    counts = np.floor(raw).astype(int)
    if n >= len(shares):
        counts = np.maximum(counts, 1)
    while counts.sum() > n:
        counts[np.argmax(counts)] -= 1
    order = np.argsort(-(raw - np.floor(raw)), kind="stable")
    i = 0
    while counts.sum() < n:
        counts[order[i % len(order)]] += 1
        i += 1
    return rng.permutation(np.repeat(np.arange(len(shares)), counts))


@dataclass
class Regions:
    n: int
    name: np.ndarray  # object array of str
    country: np.ndarray  # index into names.COUNTRIES, -1 missing
    share: np.ndarray  # share of accounts and reps
    years: np.ndarray  # calendar years covered
    market_type: np.ndarray  # [region, year] -> index into MARKET_TYPES


def make_regions(rng: np.random.Generator, scale: Scale, tl: Timeline) -> Regions:
    g = scale.regions
    base = list(names.REGION_NAMES)
    labels = [base[i % len(base)] + ("" if i < len(base) else f" {i // len(base) + 1}")
              for i in range(g)]
    share = rng.dirichlet(np.full(g, 4.0))
    country = choose(rng, [0.4, 0.3, 0.2, 0.1], g)
    country[rng.random(g) < 0.1] = -1
    years = np.unique(year_of(np.array([tl.start, tl.end])))
    years = np.arange(years[0], years[-1] + 1)
    mt = np.zeros((g, len(years)), dtype=np.int64)
    mt[:, 0] = rng.permutation(np.arange(g) % 3)
    for y in range(1, len(years)):
        prev = mt[:, y - 1]
        u = rng.random(g)
        nxt = prev.copy()
        nxt[(prev == 0) & (u < 0.3)] = 1  # saline-alkali land starts to grow
        nxt[(prev == 1) & (u < 0.25)] = 2  # new market matures
        nxt[(prev == 2) & (u < 0.08)] = 1  # mature market disrupted
        for t in range(3):  # every market type present every year
            if not (nxt == t).any():
                counts = np.bincount(nxt, minlength=3)
                donor = np.flatnonzero(nxt == np.argmax(counts))[0]
                nxt[donor] = t
        mt[:, y] = nxt
    return Regions(g, np.array(labels, dtype=object), country, share, years, mt)


@dataclass
class Reps:
    n: int
    region: np.ndarray
    role: np.ndarray
    habit: np.ndarray
    hire: np.ndarray
    leave: np.ndarray  # NO_LEAVE when still employed
    successor: np.ndarray  # -1 when none
    manager: np.ndarray  # -1 when none
    fte: np.ndarray
    first: np.ndarray  # index into FIRST_NAMES
    last: np.ndarray
    email_missing: np.ndarray

    def owner_at(self, base: np.ndarray, day: np.ndarray) -> np.ndarray:
        """The rep holding a base rep's accounts on `day` (the successor after a leave)."""
        valid = base >= 0
        b = np.where(valid, base, 0)
        moved = valid & (day > self.leave[b])
        return np.where(moved, self.successor[b], base)

    def employed(self, rep: np.ndarray, day: np.ndarray) -> np.ndarray:
        return (self.hire[rep] <= day) & (day <= self.leave[rep])


def make_reps(rng: np.random.Generator, scale: Scale, tl: Timeline, regions: Regions) -> Reps:
    g = regions.n
    total = scale.reps
    n_base = max(4 * g, round(total / 1.1))
    n_leavers = max(1, total - n_base)
    extra = rng.multinomial(n_base - 4 * g, regions.share)
    region = np.repeat(np.arange(g), 4 + extra)
    pos = np.arange(n_base) - np.repeat(np.cumsum(4 + extra) - (4 + extra), 4 + extra)
    role = np.where(pos < 2, AR, np.where(pos == 2, SR, np.where(pos == 3, FR, -1)))
    role[role < 0] = choose(rng, [0.5, 0.25, 0.25], int((role < 0).sum()))
    habit = np.empty(n_base, dtype=np.int64)
    ars = np.flatnonzero(role == AR)
    habit[ars] = stratified(rng, HABIT_SHARES, len(ars))
    others = np.flatnonzero(role != AR)
    habit[others] = choose(rng, HABIT_SHARES, len(others))
    hire = tl.start - rng.integers(240, 3650, n_base)
    lead = np.flatnonzero(pos == 0)  # first AR of each region leads it
    manager = lead[region]
    manager[lead] = -1
    candidates = np.flatnonzero(pos != 0)
    leavers = np.sort(rng.choice(candidates, size=min(n_leavers, len(candidates)),
                                 replace=False))
    k = len(leavers)
    leave = np.full(n_base + k, NO_LEAVE, dtype=np.int64)
    leave[leavers] = rng.integers(tl.start + 60, tl.end - 30, k)
    successor = np.full(n_base + k, -1, dtype=np.int64)
    successor[leavers] = n_base + np.arange(k)
    s_hire = leave[leavers] - rng.integers(0, 45, k)
    n = n_base + k
    fte = np.array([1.0, 0.8, 0.5])[choose(rng, [0.85, 0.1, 0.05], n)]
    return Reps(
        n=n,
        region=np.concatenate([region, region[leavers]]),
        role=np.concatenate([role, role[leavers]]),
        habit=np.concatenate([habit, choose(rng, HABIT_SHARES, k)]),
        hire=np.concatenate([hire, s_hire]),
        leave=leave,
        successor=successor,
        manager=np.concatenate([manager, manager[leavers]]),
        fte=fte,
        first=rng.integers(0, len(names.FIRST_NAMES), n),
        last=rng.integers(0, len(names.LAST_NAMES), n),
        email_missing=rng.random(n) < 0.03,
    )


@dataclass
class Accounts:
    n: int
    value: np.ndarray  # relative account value (mean 1)
    rank_pct: np.ndarray  # 0 = most valuable .. 1
    region: np.ndarray
    industry: np.ndarray
    created: np.ndarray  # day
    ar: np.ndarray  # base owners (as at the start; Reps.owner_at gives later owners)
    sr: np.ndarray  # -1 when none
    fr: np.ndarray
    habit: np.ndarray  # habit of the base AR
    name_prefix: np.ndarray
    name_noun: np.ndarray
    name_suffix: np.ndarray
    name_dup: np.ndarray

    @property
    def top20(self) -> np.ndarray:
        return self.rank_pct < 0.2

    def window_start(self, tl: Timeline) -> np.ndarray:
        return np.maximum(self.created, tl.start)


VALUE_SIGMA = 1.45
# share of an account's contacts its team is in touch with, by habit of the AR
KNOWN_SHARE = np.array([0.92, 0.7, 0.5, 0.4])


def make_accounts(rng: np.random.Generator, scale: Scale, tl: Timeline, regions: Regions,
                  reps: Reps) -> Accounts:
    n = scale.accounts
    nd = NormalDist()
    z = np.array([nd.inv_cdf((i + 0.5) / n) for i in range(n)])
    rank = rng.permutation(n)  # rank 0 = most valuable
    value = np.exp(VALUE_SIGMA * z[::-1][rank])
    value /= value.mean()
    rank_pct = rank / n
    region = choose(rng, regions.share, n)
    industry = choose(rng, names.INDUSTRY_WEIGHTS, n)
    created = np.where(rng.random(n) < 0.85, tl.start - rng.integers(60, 5000, n),
                       tl.start + rng.integers(0, int(tl.days * 0.6), n))
    ar = np.empty(n, dtype=np.int64)
    sr = np.full(n, -1, dtype=np.int64)
    fr = np.full(n, -1, dtype=np.int64)
    base = np.arange(reps.n) < (reps.n - (reps.successor >= 0).sum())
    tier_pref = np.array([2.0, 1.0, 3.0, 0.5])  # diligent, average, elite, neglectful
    for g in range(regions.n):
        members = np.flatnonzero(region == g)
        if members.size == 0:
            continue
        members = members[np.argsort(rank[members])]  # most valuable first
        ars = np.flatnonzero(base & (reps.region == g) & (reps.role == AR))
        ars = ars[np.argsort(-tier_pref[reps.habit[ars]], kind="stable")]
        head = min(len(ars), len(members))
        ar[members[:head]] = ars[:head]  # every AR owns at least one account
        rest = members[head:]
        top = rank_pct[rest] < 0.2
        w_top = tier_pref[reps.habit[ars]]
        ar[rest[top]] = ars[choose(rng, w_top, int(top.sum()))]
        ar[rest[~top]] = ars[rng.integers(0, len(ars), int((~top).sum()))]
        for role, target, p_missing in ((SR, sr, (0.02, 0.1)), (FR, fr, (0.05, 0.22))):
            pool = np.flatnonzero(base & (reps.region == g) & (reps.role == role))
            target[members] = pool[rng.integers(0, len(pool), len(members))]
            miss = rng.random(len(members)) < np.where(rank_pct[members] < 0.2, *p_missing)
            target[members[miss]] = -1
    n_nouns = len(names.INDUSTRY_NOUNS["telecom"])
    combos = len(names.COMPANY_PREFIXES) * n_nouns * len(names.COMPANY_SUFFIXES)
    # a distinct name per account within an industry (numbered when the combinations run out)
    within = np.zeros(n, dtype=np.int64)
    for i in range(len(names.INDUSTRIES)):
        idx = np.flatnonzero(industry == i)
        within[idx] = np.arange(len(idx))
    combo = rng.permutation(combos)[within % combos]
    return Accounts(
        n=n, value=value, rank_pct=rank_pct, region=region, industry=industry,
        created=created.astype(np.int64), ar=ar, sr=sr, fr=fr, habit=reps.habit[ar],
        name_prefix=combo // (n_nouns * len(names.COMPANY_SUFFIXES)),
        name_noun=(combo // len(names.COMPANY_SUFFIXES)) % n_nouns,
        name_suffix=combo % len(names.COMPANY_SUFFIXES),
        name_dup=within // combos,
    )


@dataclass
class Contacts:
    n: int
    account: np.ndarray  # contacts are contiguous per account
    start: np.ndarray  # [account] first contact position
    count: np.ndarray  # [account] number of contacts
    role: np.ndarray  # index into DECISION_ROLES (0 none)
    level: np.ndarray  # index into LEVELS
    department: np.ndarray  # index into names.DEPARTMENTS
    eval_group: np.ndarray  # index into EVAL_GROUPS, -1 none
    rising_star: np.ndarray  # 1 true, 0 false, -1 missing
    active: np.ndarray  # bool
    opposed: np.ndarray  # leans to a competitor (opposition drifts down)
    first: np.ndarray
    last: np.ndarray
    key_weight: np.ndarray  # who gets key-layer activities within the account
    general_weight: np.ndarray  # who gets general-layer activities

    def pick(self, rng: np.random.Generator, account: np.ndarray,
             weights: np.ndarray) -> np.ndarray:
        """One contact of each given account, chosen with the given per-contact weights.

        Fastest when `account` is sorted (the binary searches then stay in cache).
        """
        cum = np.cumsum(weights)
        before = np.concatenate([[0.0], cum])
        lo = before[self.start]
        span = before[self.start + self.count] - lo
        target = lo[account] + rng.random(len(account)) * span[account]
        idx = np.searchsorted(cum, target, side="right")
        return np.minimum(idx, (self.start + self.count - 1)[account]).astype(np.int32)


def make_contacts(rng: np.random.Generator, scale: Scale, accounts: Accounts) -> Contacts:
    a = accounts.n
    raw = accounts.value ** 0.35 * rng.lognormal(0, 0.2, a)
    raw = raw / raw.sum() * scale.contacts
    count = np.maximum(3, np.round(raw)).astype(np.int64)
    start = np.concatenate([[0], np.cumsum(count)[:-1]])
    n = int(count.sum())
    account = np.repeat(np.arange(a), count)
    pos = np.arange(n) - start[account]
    size = count[account]
    # decision roles by position within the account: A, then 1-2 D, S, E, I, then none
    has_a = rng.random(a) < np.where(accounts.rank_pct < 0.2, 0.95, 0.82)
    n_d = 1 + ((count >= 8) & (rng.random(a) < 0.5))
    n_s = np.minimum(2, count // 6) + (rng.random(a) < 0.3)
    n_e = 1 + (count // 8) + (rng.random(a) < 0.3)
    n_i = np.minimum(2, count // 5) * (rng.random(a) < 0.7)
    ha = has_a.astype(np.int64)
    b_d = ha + n_d
    b_s = b_d + n_s
    b_e = b_s + n_e
    b_i = b_e + n_i
    role = np.select(
        [pos < ha[account], pos < b_d[account], pos < b_s[account], pos < b_e[account],
         pos < b_i[account]], [1, 2, 3, 4, 5], 0)
    role = np.where(pos < size, role, 0)
    level = np.select([role == 1, role == 2, (role == 3) | (role == 4)],
                      [0, choose(rng, [0.8, 0.2], n), choose(rng, [0.3, 0.6, 0.1], n)],
                      choose(rng, [0.08, 0.37, 0.55], n))
    dept = rng.integers(1, len(names.DEPARTMENTS), n)
    dept = np.where(role == 1, 0, dept)  # approvers sit in the executive office
    eval_group = np.select(
        [role == 1, role == 2, role == 3, role == 4, role == 5],
        [3, np.where(rng.random(n) < 0.7, 2, 3), np.where(rng.random(n) < 0.6, 1, 0),
         np.where(rng.random(n) < 0.6, 1, 0), np.where(rng.random(n) < 0.5, 0, 1)],
        np.where(rng.random(n) < 0.15, rng.integers(0, 2, n), -1))
    rising = np.where((role == 0) & (level > 0) & (rng.random(n) < 0.1), 1, 0)
    rising = np.where(rng.random(n) < 0.15, -1, rising)
    active = rng.random(n) >= np.where(role > 0, 0.03, 0.07)
    opposed = (role > 0) & (rng.random(n) < 0.08)
    habit = accounts.habit[account]
    # elite-private reps concentrate on the top decision makers; others spread
    gamma = np.where(habit == ELITE, 2.0, 1.0)
    key_w = np.where(role > 0, ROLE_INFLUENCE[role] ** gamma,
                     np.where(habit == ELITE, 0.005, 0.04))
    spread = np.array([0.15, 0.6, 1.0, 1.6])[habit]  # Zipf exponent over contacts
    shuffled = rng.random(n) + account  # random order within account
    order = np.argsort(shuffled, kind="stable")
    rank_in = np.empty(n, dtype=np.int64)
    rank_in[order] = np.arange(n) - start[account[order]]
    gen_w = (rank_in + 1.0) ** (-spread)
    activity = np.where(active, 1.0, 0.12)
    # the contacts the account team actually knows: broad for diligent reps, narrow for
    # neglectful ones; the others are touched only by chance (breadth, coverage)
    known = rng.random(n) < KNOWN_SHARE[habit]
    gen_w = np.where(known, gen_w, 0.003)
    key_w = np.where(known | (role == 1) | (role == 2), key_w, key_w * 0.05)
    return Contacts(
        n=n, account=account, start=start, count=count, role=role, level=level,
        department=dept, eval_group=eval_group, rising_star=rising, active=active,
        opposed=opposed, first=rng.integers(0, len(names.FIRST_NAMES), n),
        last=rng.integers(0, len(names.LAST_NAMES), n),
        key_weight=key_w * activity, general_weight=gen_w * activity,
    )

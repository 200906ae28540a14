"""Days as integers (days since 1970-01-01), seasonality, quarters."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import numpy as np

EPOCH = date(1970, 1, 1)
SECONDS_PER_DAY = 86_400


def to_day(d: date) -> int:
    return (d - EPOCH).days


def month_of(days: np.ndarray) -> np.ndarray:
    return days.astype("datetime64[D]").astype("datetime64[M]").astype(np.int64) % 12 + 1


def year_of(days: np.ndarray) -> np.ndarray:
    return days.astype("datetime64[D]").astype("datetime64[Y]").astype(np.int64) + 1970


def day_of_month(days: np.ndarray) -> np.ndarray:
    d = days.astype("datetime64[D]")
    return (d - d.astype("datetime64[M]")).astype(np.int64) + 1


@dataclass(frozen=True)
class Timeline:
    """The activity period and its seasonal day weights."""

    start: int  # first day (inclusive)
    end: int  # last day (inclusive)
    weights: np.ndarray  # relative activity per day
    cdf: np.ndarray  # cumulative share up to and including each day
    quarter_starts: np.ndarray  # first day of each calendar quarter in the period
    quarter_ends: np.ndarray  # last day of each quarter
    inverse: np.ndarray  # inverse-CDF lookup table: bucket of [0, 1) -> day offset

    @property
    def days(self) -> int:
        return self.end - self.start + 1

    @property
    def n_quarters(self) -> int:
        return len(self.quarter_starts)

    def quarter_index(self, days: np.ndarray) -> np.ndarray:
        return np.searchsorted(self.quarter_starts, days, side="right") - 1

    def sample_days(self, rng: np.random.Generator, lo: np.ndarray) -> np.ndarray:
        """One seasonal day per element, not before lo (a day array, clipped to the period)."""
        lo = np.minimum(np.maximum(lo, self.start), self.end) - self.start
        before = np.where(lo > 0, self.cdf[np.maximum(lo - 1, 0)], 0.0)
        target = before + rng.random(len(lo)) * (1.0 - before)
        return self.start + np.maximum(self.inverse[self._bucket(target)], lo)

    def _bucket(self, target: np.ndarray) -> np.ndarray:
        return (target * (len(self.inverse) - 1)).astype(np.int32)

    def sample_days_grouped(self, rng: np.random.Generator, lo: np.ndarray,
                            counts: np.ndarray) -> np.ndarray:
        """counts[g] seasonal days for each group g, none before lo[g]; int32 days."""
        lo = np.minimum(np.maximum(lo, self.start), self.end) - self.start
        before = np.where(lo > 0, self.cdf[np.maximum(lo - 1, 0)], 0.0)
        target = np.repeat(before.astype(np.float32), counts)
        target += rng.random(len(target), dtype=np.float32) * np.repeat(
            (1.0 - before).astype(np.float32), counts)
        day = self.inverse[self._bucket(target)].astype(np.int32)
        np.maximum(day, np.repeat(lo.astype(np.int32), counts), out=day)
        day += np.int32(self.start)
        return day


def seasonal_weights(days: np.ndarray) -> np.ndarray:
    """Working days, summer and holiday dips, quarter-end pushes."""
    weekday = (days + 3) % 7  # 0 = Monday (1970-01-01 was a Thursday)
    month = month_of(days)
    dom = day_of_month(days)
    w = np.where(weekday < 5, 1.0, np.where(weekday == 5, 0.12, 0.05))
    month_factor = np.array([0, 0.85, 0.7, 1.05, 1.0, 0.95, 1.05, 0.75, 0.65, 1.0, 0.85, 1.0,
                             0.9])
    w = w * month_factor[month]
    holidays = ((month == 12) & (dom >= 23)) | ((month == 1) & (dom <= 2)) | (
        (month == 10) & (dom <= 7)) | ((month == 2) & (dom >= 8) & (dom <= 16))
    w = np.where(holidays, w * 0.25, w)
    quarter_end = np.isin(month, (3, 6, 9, 12)) & (dom >= 15)
    return np.where(quarter_end, w * 1.15, w)


def make_timeline(start: date, end: date) -> Timeline:
    first, last = to_day(start), to_day(end)
    days = np.arange(first, last + 1)
    weights = seasonal_weights(days)
    cdf = np.cumsum(weights)
    cdf /= cdf[-1]
    months = days.astype("datetime64[D]").astype("datetime64[M]")
    is_q_start = (day_of_month(days) == 1) & np.isin(month_of(days), (1, 4, 7, 10))
    q_starts = days[is_q_start]
    if q_starts.size == 0 or q_starts[0] != first:
        q_first = (months[0].astype(np.int64) // 3 * 3).astype("datetime64[M]")
        q_starts = np.concatenate([[q_first.astype("datetime64[D]").astype(np.int64)], q_starts])
    q_ends = np.concatenate([q_starts[1:] - 1, [np.int64(last)]])
    # the last quarter ends on its calendar end even when the period stops inside it
    last_q_end = ((q_starts[-1].astype("datetime64[D]").astype("datetime64[M]") + 3)
                  .astype("datetime64[D]").astype(np.int64) - 1)
    q_ends[-1] = last_q_end
    buckets = 1 << 20  # fine enough for the lightest day (a Sunday in a holiday)
    inverse = np.searchsorted(cdf, (np.arange(buckets) + 0.5) / buckets, side="right")
    inverse = np.minimum(inverse, len(days) - 1).astype(np.int16)
    inverse = np.concatenate([inverse, inverse[-1:]])  # target * buckets may round up
    return Timeline(first, last, weights, cdf, q_starts.astype(np.int64), q_ends.astype(np.int64),
                    inverse)

"""Dataset sizes: the named scales and integer scales (a number of interactions)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

END_DATE = date(2026, 6, 30)
DEMO_INTERACTIONS = 200_000
MIN_INTERACTIONS = 2_000


@dataclass(frozen=True)
class Scale:
    name: str
    interactions: int
    accounts: int
    contacts: int
    reps: int
    regions: int
    years: int
    end: date = END_DATE

    @property
    def start(self) -> date:
        """First day of activity: `years` whole years ending on `end`."""
        return date(self.end.year - self.years, self.end.month, self.end.day) + timedelta(days=1)


DEMO = Scale("demo", DEMO_INTERACTIONS, accounts=300, contacts=3_000, reps=60, regions=7, years=2)
BENCH = Scale("bench", 10_000_000, accounts=50_000, contacts=500_000, reps=2_000, regions=30,
              years=3)


def _from_interactions(n: int) -> Scale:
    """Everything scaled from the demo ratios; floors keep every business pattern present."""
    f = n / DEMO.interactions
    accounts = max(20, round(DEMO.accounts * f))
    reps = max(16, round(DEMO.reps * f))
    regions = min(30, max(3, round(reps / (DEMO.reps / DEMO.regions))))
    return Scale(f"{n}", n, accounts=accounts, contacts=accounts * 10, reps=reps,
                 regions=regions, years=DEMO.years)


def parse_scale(scale: str | int) -> Scale:
    """`demo`, `bench` or a number of interactions (int or digits, `_` and `,` allowed)."""
    if isinstance(scale, int) and not isinstance(scale, bool):
        n = scale
    else:
        text = str(scale).strip().lower()
        if text == "demo":
            return DEMO
        if text == "bench":
            return BENCH
        digits = text.replace("_", "").replace(",", "")
        if not digits.isdigit():
            raise ValueError(
                f"scale {scale!r} is not demo, bench or a number of interactions "
                f"(e.g. --scale 50000)")
        n = int(digits)
    if n < MIN_INTERACTIONS:
        raise ValueError(f"scale {n} is too small: use at least {MIN_INTERACTIONS} interactions")
    if n == DEMO.interactions:
        return DEMO
    return _from_interactions(n)

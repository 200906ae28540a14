"""great-expectations suites for rapport, defined in code.

`build_batches(ctx)` returns every batch to validate: one suite per raw table (its clean
rows), one per mart, the reconciliation suite (cross-table sums computed in DuckDB, asserted
on the small result frames) and the quarantine suite (raw = clean + quarantined, quarantine
rates against expectations/thresholds.yml).

Loaded by rapport.checks.runner (it imports great_expectations); never import this package
from the dashboard.
"""

from __future__ import annotations

from expectations._base import Batch, SuiteContext, load_thresholds
from expectations.marts import mart_batches
from expectations.raw_tables import raw_table_batches
from expectations.reconciliation import quarantine_batches, reconciliation_batches


def build_batches(ctx: SuiteContext) -> list[Batch]:
    return [
        *raw_table_batches(ctx),
        *quarantine_batches(ctx),
        *mart_batches(ctx),
        *reconciliation_batches(ctx),
    ]


__all__ = ["Batch", "SuiteContext", "build_batches", "load_thresholds"]

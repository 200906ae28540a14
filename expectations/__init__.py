"""great-expectations suites for rapport, defined in code.

`build_batches(ctx)` returns every batch to validate: one suite per raw table (its clean
rows), one per mart, the reconciliation suite (cross-table sums computed in DuckDB, asserted
on the small result frames) and the quarantine suite (raw = clean + quarantined, quarantine
rates against expectations/thresholds.yml).

Loaded by rapport.pipeline.checks.runner (it imports great_expectations); never import this package
from the dashboard.
"""

from __future__ import annotations

from expectations._base import Batch, SuiteContext, load_thresholds
from expectations.marts import mart_batches
from expectations.raw_tables import raw_table_batches
from expectations.reconciliation import quarantine_batches, reconciliation_batches

PHASES = ("input", "output", "all")


def build_batches(ctx: SuiteContext, phase: str = "all") -> list[Batch]:
    """The batches of a phase: `input` needs only the gate's output (raw, validated, meta),
    so a build can stop before dbt when its input is bad; `output` checks what dbt built."""
    if phase not in PHASES:
        raise ValueError(f"unknown check phase {phase!r}; use one of {PHASES}")
    batches: list[Batch] = []
    if phase in ("input", "all"):
        batches += [*raw_table_batches(ctx), *quarantine_batches(ctx)]
    if phase in ("output", "all"):
        batches += [*mart_batches(ctx), *reconciliation_batches(ctx)]
    return batches


__all__ = ["PHASES", "Batch", "SuiteContext", "build_batches", "load_thresholds"]

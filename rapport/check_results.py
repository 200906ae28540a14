"""Check results: the model, the blocking rule, the meta.dq_results table and the summary.

No great_expectations import here: the dashboard may import this module.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime

import duckdb

PASS, WARN, FAIL, ERROR = "pass", "warn", "fail", "error"
# the check needs a layer this build's data does not have (meta.layers): not run, never a pass
NOT_APPLICABLE = "not_applicable"
STATUSES = (PASS, WARN, FAIL, ERROR, NOT_APPLICABLE)
BLOCKING_STATUSES = (FAIL, ERROR)
SEVERITY_FAIL, SEVERITY_WARN = "fail", "warn"

DQ_RESULTS_DDL = """
create table if not exists meta.dq_results (
    build_id varchar not null,
    suite varchar not null,
    expectation varchar not null,
    "column" varchar,
    success boolean,
    status varchar not null,
    observed_value varchar,
    unexpected_count bigint,
    severity varchar not null,
    checked_at timestamp not null,
    detail varchar
)
"""


@dataclass
class CheckResult:
    """One expectation's outcome.

    status: pass | warn (failed, severity warn) | fail (failed, severity fail) |
    error (the expectation could not be evaluated; always blocking, never a pass) |
    not_applicable (not run: it needs a layer the build's data does not have, e.g. the
    relationship-health checks without interactions; success is None, never a pass; the
    reason is in `detail`).
    """

    suite: str
    expectation: str
    column: str | None
    success: bool | None
    status: str
    severity: str
    observed_value: str | None = None
    unexpected_count: int | None = None
    detail: str | None = None

    @property
    def blocking(self) -> bool:
        return self.status in BLOCKING_STATUSES


def status_for(success: bool, raised: bool, severity: str) -> str:
    """The status rule: an exception is an error whatever GX says; else severity decides."""
    if raised:
        return ERROR
    if success:
        return PASS
    return WARN if severity == SEVERITY_WARN else FAIL


@dataclass
class CheckReport:
    results: list[CheckResult] = field(default_factory=list)
    checked_at: datetime = field(default_factory=lambda: datetime.now(UTC).replace(tzinfo=None))

    @property
    def blocking(self) -> list[CheckResult]:
        return [r for r in self.results if r.blocking]

    @property
    def passed(self) -> bool:
        return not self.blocking

    def counts(self) -> dict[str, int]:
        counter = Counter(r.status for r in self.results)
        counts = {s: counter.get(s, 0) for s in (PASS, WARN, FAIL, ERROR)}
        if counter.get(NOT_APPLICABLE):
            counts[NOT_APPLICABLE] = counter[NOT_APPLICABLE]
        return counts

    def one_line(self) -> str:
        c = self.counts()
        line = (f"{len(self.results)} expectations: {c[PASS]} pass, {c[WARN]} warn, "
                f"{c[FAIL]} fail, {c[ERROR]} error")
        if c.get(NOT_APPLICABLE):
            line += f", {c[NOT_APPLICABLE]} not applicable"
        return line

    def not_applicable_lines(self) -> list[str]:
        """One line per reason: the suites whose checks were not applicable, and why."""
        by_reason: dict[str, list[str]] = {}
        for r in self.results:
            if r.status == NOT_APPLICABLE:
                suites = by_reason.setdefault(r.detail or "", [])
                if r.suite not in suites:
                    suites.append(r.suite)
        return [f"  {', '.join(suites)}: {reason}" for reason, suites in by_reason.items()]

    def summary(self, limit: int = 30) -> str:
        """Human-readable: the counts, then every blocking result, then the warnings."""
        lines = [self.one_line()]
        for title, status in (("blocking", None), ("warnings", WARN)):
            rows = self.blocking if status is None else [r for r in self.results
                                                        if r.status == status]
            if not rows:
                continue
            lines.append(f"{title}:")
            for r in rows[:limit]:
                lines.append("  " + describe(r))
            if len(rows) > limit:
                lines.append(f"  ... and {len(rows) - limit} more (see meta.dq_results)")
        na = self.not_applicable_lines()
        if na:
            lines.append("not applicable (not run, never counted as passed; see meta.layers):")
            lines += na
        return "\n".join(lines)


def describe(r: CheckResult) -> str:
    where = f"{r.suite} / {r.expectation}" + (f" [{r.column}]" if r.column else "")
    bits = [f"{r.status.upper():5} {where}"]
    if r.observed_value is not None:
        bits.append(f"observed {r.observed_value}")
    if r.unexpected_count:
        bits.append(f"{r.unexpected_count} unexpected")
    if r.detail:
        bits.append(r.detail if len(r.detail) <= 240 else r.detail[:237] + "...")
    return "; ".join(bits)


def write_results(con: duckdb.DuckDBPyConnection, build_id: str, report: CheckReport) -> int:
    """Append the report to meta.dq_results (creating it). Returns the rows written."""
    con.execute("create schema if not exists meta")
    con.execute(DQ_RESULTS_DDL)
    # a not-applicable result has no success; a file from an earlier build (incremental:
    # the served build's copy) made the column not null
    con.execute("alter table meta.dq_results alter column success drop not null")
    rows = [
        (build_id, r.suite, r.expectation, r.column, r.success, r.status, r.observed_value,
         r.unexpected_count, r.severity, report.checked_at, r.detail)
        for r in report.results
    ]
    if rows:
        con.executemany(
            "insert into meta.dq_results values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", rows
        )
    return len(rows)

"""Data checks (great-expectations) on a built warehouse.

This package's __init__ imports nothing heavy: `rapport.checks.results` (the result model and
the meta.dq_results table) is safe for the dashboard; only `rapport.checks.runner` imports
great_expectations.
"""

from rapport.checks.results import BLOCKING_STATUSES, CheckReport, CheckResult

__all__ = ["BLOCKING_STATUSES", "CheckReport", "CheckResult"]

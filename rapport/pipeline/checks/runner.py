"""Run the great-expectations suites (expectations/) against a DuckDB warehouse.

Every batch's SQL is run in DuckDB and only its result becomes a pandas DataFrame: the rows
that may break a row-level expectation (a violations frame, see expectations/_base.py), a
one-row aggregate or a small cross-table result, never a whole big table. Each frame is
validated through an ephemeral GX context with a pandas data source, a dataframe asset and a
whole-dataframe batch definition: GX's SQL route on a DuckDB file (through duckdb-engine)
fails on every expectation with "list index out of range" (GX issues #10738, #11579).

Imports great_expectations (about 5 s): never import this module from the dashboard.
"""

from __future__ import annotations

import importlib.util
import logging
import os
import sys
from datetime import date
from pathlib import Path
from types import ModuleType
from typing import Any

import duckdb

from rapport.check_results import (
    ERROR,
    NOT_APPLICABLE,
    SEVERITY_FAIL,
    CheckReport,
    CheckResult,
    status_for,
)
from rapport.errors import raise_if_stopping
from rapport.paths import EXPECTATIONS_DIR
from rapport.pipeline.checks.gx_import import import_great_expectations

os.environ.setdefault("GX_ANALYTICS_ENABLED", "False")

_EXPECTATIONS_MODULE = "expectations"


def load_expectations(directory: Path = EXPECTATIONS_DIR) -> ModuleType:
    """Import the suites package from expectations/ (it is not an installed package)."""
    import_great_expectations()
    loaded = sys.modules.get(_EXPECTATIONS_MODULE)
    if loaded is not None and Path(getattr(loaded, "__file__", "")).parent == directory:
        return loaded
    spec = importlib.util.spec_from_file_location(
        _EXPECTATIONS_MODULE, directory / "__init__.py",
        submodule_search_locations=[str(directory)],
    )
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot load the expectation suites from {directory}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[_EXPECTATIONS_MODULE] = module
    spec.loader.exec_module(module)
    return module


def run_checks(con: duckdb.DuckDBPyConnection, build_id: str, as_of_date: date | None,
               thresholds_path: Path | None = None, phase: str = "all") -> CheckReport:
    """Run the suites of expectations/ against the warehouse open on `con`.

    phase: `input` (raw-table and quarantine suites: need only ingest and gate), `output`
    (mart and reconciliation suites: need dbt's models) or `all`.
    """
    from rapport.contract import contract

    suites = load_expectations()
    thresholds_path = thresholds_path or _thresholds_override()
    ctx = suites.SuiteContext(con=con, build_id=build_id, as_of_date=as_of_date,
                              thresholds=suites.load_thresholds(thresholds_path),
                              contract=contract())
    return run_batches(con, suites.build_batches(ctx, phase))


def _thresholds_override() -> Path | None:
    value = os.environ.get("RAPPORT_THRESHOLDS")
    return Path(value) if value else None


def run_batches(con: duckdb.DuckDBPyConnection, batches: list[Any]) -> CheckReport:
    """Validate each batch (suite, name, sql, expectations, params, rows_sql) and collect the
    results.

    Each frame is validated as a GX batch of a whole-dataframe batch definition against an
    expectation suite (`Batch.validate`: the same validator a checkpoint runs, without a
    checkpoint's per-run bookkeeping, which cost about 0.15 s per batch).
    """
    import great_expectations as gx
    from great_expectations.data_context.types.base import ProgressBarsConfig

    for name in ("great_expectations", "great_expectations.data_context.types.base"):
        logging.getLogger(name).setLevel(logging.ERROR)  # GX sets INFO on some of its loggers
    context = gx.get_context(mode="ephemeral")
    context.variables.progress_bars = ProgressBarsConfig(globally=False)
    source = context.data_sources.add_pandas("rapport_duckdb")
    report = CheckReport()
    for index, batch in enumerate(batches):
        raise_if_stopping()  # a stop signal ends the checks here even if GX swallowed it
        label = f"{index:03d}_{batch.suite}_{batch.name}"
        reason = getattr(batch, "not_applicable", None)
        if reason:  # needs a layer the data does not have: not run, never a pass
            report.results.extend(_not_applicable(batch, expectation, reason)
                                  for expectation in batch.expectations)
            continue
        try:
            frame = (con.execute(batch.sql, batch.params) if batch.params
                     else con.execute(batch.sql)).df()
            rows_of = getattr(batch, "rows_sql", None)
            total = int(con.execute(rows_of).fetchone()[0]) if rows_of else None
        except duckdb.Error as exc:
            report.results.extend(_errors(batch, f"could not read the data: {_first_line(exc)}"))
            continue
        try:
            asset = source.add_dataframe_asset(name=label)
            definition = asset.add_batch_definition_whole_dataframe(f"{label}_whole")
            suite = gx.ExpectationSuite(name=label)
            for expectation in batch.expectations:
                suite.add_expectation(expectation)
            run = definition.get_batch(batch_parameters={"dataframe": frame}).validate(
                suite, result_format={"result_format": "SUMMARY"})
        except Exception as exc:  # noqa: BLE001 - GX failed: every expectation of it errors
            report.results.extend(_errors(batch, f"great_expectations failed: "
                                                 f"{type(exc).__name__}: {_first_line(exc)}"))
            continue
        finally:
            del frame
        seen: set[str] = set()
        for result in run.results:
            seen.add(str(result.expectation_config.id))
            report.results.append(_to_result(batch, result, total))
        for expectation in batch.expectations:
            if str(expectation.id) not in seen:
                report.results.append(_error_for(batch, expectation,
                                                 "great_expectations returned no result"))
    return report


def _to_result(batch: Any, result: Any, total: int | None = None) -> CheckResult:
    """One GX result as a CheckResult. `total`: the rows a violations frame was selected from
    (Batch.rows_sql): the unexpected rows are then reported out of it, not out of the frame."""
    config = result.expectation_config
    meta = config.meta or {}
    severity = meta.get("severity", SEVERITY_FAIL)
    raised, message = _exception(result.exception_info)
    success = bool(result.success) and not raised
    data = result.result or {}
    observed = data.get("observed_value")
    if observed is None and "unexpected_count" in data:
        sample = data.get("partial_unexpected_list") or []
        of = data.get("element_count") if total is None else total
        observed = (f"{data.get('unexpected_count')} of {of} unexpected"
                    + (f", e.g. {_short(sample[:5])}" if sample else ""))
    unexpected = data.get("unexpected_count")
    detail = _kwargs_text(config.kwargs)
    if raised:
        detail = f"{message} ({detail})" if detail else message
    return CheckResult(
        suite=batch.suite,
        expectation=meta.get("name") or config.type,
        column=_column_of(config.kwargs),
        success=success,
        status=status_for(success, raised, severity),
        severity=severity,
        observed_value=None if observed is None else _short(observed),
        unexpected_count=None if unexpected is None else int(unexpected),
        detail=f"{batch.name}: {detail}" if detail else batch.name,
    )


def _exception(info: Any) -> tuple[bool, str]:
    """GX reports exceptions flat ({raised_exception: ...}) or keyed by metric id."""
    if not info:
        return False, ""
    if isinstance(info, dict) and "raised_exception" in info:
        entries = [info]
    elif isinstance(info, dict):
        entries = [v for v in info.values() if isinstance(v, dict)]
    else:
        return True, str(info)
    messages = [str(e.get("exception_message") or "exception") for e in entries
                if e.get("raised_exception")]
    return bool(messages), "; ".join(dict.fromkeys(messages))


def _errors(batch: Any, message: str) -> list[CheckResult]:
    """One error for a batch that could not be validated at all (it blocks)."""
    count = len(batch.expectations)
    return [CheckResult(batch.suite, "validate_batch", None, False, ERROR, SEVERITY_FAIL,
                        detail=f"{batch.name}: {message} ({count} expectation(s) not run)")]


def _not_applicable(batch: Any, expectation: Any, reason: str) -> CheckResult:
    meta = expectation.meta or {}
    return CheckResult(
        suite=batch.suite,
        expectation=meta.get("name") or expectation.expectation_type,
        column=_column_of(expectation.configuration.kwargs),
        success=None,
        status=NOT_APPLICABLE,
        severity=meta.get("severity", SEVERITY_FAIL),
        detail=reason,
    )


def _error_for(batch: Any, expectation: Any, message: str) -> CheckResult:
    meta = expectation.meta or {}
    kwargs = expectation.configuration.kwargs
    return CheckResult(
        suite=batch.suite,
        expectation=meta.get("name") or expectation.expectation_type,
        column=_column_of(kwargs),
        success=False,
        status=ERROR,
        severity=meta.get("severity", SEVERITY_FAIL),
        detail=f"{batch.name}: {message}",
    )


def _column_of(kwargs: dict) -> str | None:
    if kwargs.get("column"):
        return str(kwargs["column"])
    if kwargs.get("column_list"):
        return ",".join(kwargs["column_list"])
    if kwargs.get("column_A"):
        return f"{kwargs['column_A']},{kwargs['column_B']}"
    return None


def _kwargs_text(kwargs: dict) -> str:
    skip = {"batch_id", "column", "column_list", "column_A", "column_B", "result_format"}
    parts = [f"{k}={_short(v)}" for k, v in kwargs.items() if k not in skip and v is not None]
    return ", ".join(parts)


def _short(value: Any, limit: int = 200) -> str:
    text = str(value.item() if hasattr(value, "item") else value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _first_line(exc: BaseException) -> str:
    return (str(exc).strip().splitlines() or [""])[0]

"""Import CRM exports into contract-shaped raw files through a mapping file (docs/import.md).

    rapport import exports/ --mapping salesforce            # a ready mapping, by name
    rapport import exports/ --mapping my-crm.yml --out data/raw

Every input row is either written to a contract table or quarantined with its reasons in
data/imports/<run>/import_quarantine.csv; the report beside it counts both per table.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from rapport.contract import Contract, contract
from rapport.errors import RapportError
from rapport.paths import data_dir, raw_dir
from rapport.pipeline.importer.engine import Importer, ImportOutcome
from rapport.pipeline.importer.mapping import MappingError, load_mapping
from rapport.pipeline.importer.report import build_report, render_text, save_report
from rapport.pipeline.importer.writer import check_output_folder, write_tables

__all__ = ["ImportResult", "MappingError", "import_exports", "run_import"]


@dataclass(frozen=True)
class ImportResult:
    run_id: str
    out: Path
    report_dir: Path
    report: dict[str, Any]
    outcome: ImportOutcome


def _run_id(base: Path) -> str:
    """A time stamp to the millisecond (UTC), e.g. 20261123T134126.123Z."""
    now = datetime.now(UTC)
    stamp = now.strftime("%Y%m%dT%H%M%S") + f".{now.microsecond // 1000:03d}Z"
    run_id, n = stamp, 1
    while (base / run_id).exists():
        n += 1
        run_id = f"{stamp}-{n}"
    return run_id


def import_exports(
    source: Path,
    mapping: Path,
    out: Path | None = None,
    report: Path | None = None,
    spec: Contract | None = None,
) -> ImportResult:
    """Import and write; raises MappingError (exit code 2) when nothing can be written."""
    spec = spec or contract()
    out = Path(out) if out is not None else raw_dir()
    loaded = load_mapping(Path(mapping), spec)
    check_output_folder(out, spec)  # refuse early, before reading the exports
    outcome = Importer(loaded, Path(source), spec).run()
    imports_dir = data_dir() / "imports"
    run_id = _run_id(imports_dir)
    report_dir = Path(report) if report is not None else imports_dir / run_id
    files = write_tables(outcome, out, spec, run_id)
    summary = build_report(outcome, run_id, out, files)
    summary["report_dir"] = str(report_dir)
    save_report(outcome, summary, report_dir)
    return ImportResult(
        run_id=run_id, out=out, report_dir=report_dir, report=summary, outcome=outcome
    )


def run_import(source: Path, mapping: Path, out: Path | None, report: Path | None) -> int:
    """The `rapport import` command: 0 when written (even with quarantined rows); 2 on bad
    input or when a core table ends with no rows."""
    try:
        result = import_exports(Path(source), Path(mapping), out, report)
    except RapportError as exc:
        print(f"rapport import: {exc}", file=sys.stderr)
        return exc.exit_code
    print(render_text(result.report), end="")
    print(f"Report, quarantine and lineage saved in {result.report_dir}")
    return _core_tables_written(result)


def _core_tables_written(result: ImportResult) -> int:
    """0 when every core table got rows; 2 (with what to do) when one ended empty, which
    `rapport build` would refuse anyway: better said now, with the report at hand."""
    tables = result.report["tables"]
    empty = [name for name in contract().core_tables
             if not (tables.get(name) or {}).get("written")]
    if not empty:
        return 0
    written = sum(int(t.get("written") or 0) for t in tables.values())
    what = ("nothing was written" if not written
            else f"the core table(s) {', '.join(empty)} ended with no rows")
    print(f"rapport import: {what}; `rapport build` needs rows in "
          f"{', '.join(contract().core_tables)}. Map a source for "
          f"{', '.join(empty)} in the mapping file (docs/import.md), or see why their rows "
          f"were quarantined in {result.report_dir / 'import_report.txt'}", file=sys.stderr)
    return 2

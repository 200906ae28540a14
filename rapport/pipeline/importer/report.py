"""The import report: counts per table and source file, reasons with examples, fuzzy matches.

Saved as import_report.json (for tools and tests) and import_report.txt (for people), next
to import_quarantine.csv (every row not written, with its raw values) and lineage.csv
(which source row each written row came from).
"""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

from rapport.pipeline.importer.engine import REASONS, ImportOutcome, raw_json

QUARANTINE_FILE = "import_quarantine.csv"
LINEAGE_FILE = "lineage.csv"
REPORT_JSON = "import_report.json"
REPORT_TEXT = "import_report.txt"

STATUS_TEXT = {
    "imported": "imported",
    "derived": "derived from other tables",
    "empty_required": (
        "not in this export: written empty (header only), the contract requires the file"
    ),
    "no_file": "not in this export (optional): no file written, the build treats it as empty",
    "not_mapped": "not in the mapping (optional): no file written, the build treats it as empty",
}


def build_report(
    outcome: ImportOutcome, run_id: str, out: Path, written_files: list[str]
) -> dict[str, Any]:
    tables: dict[str, Any] = {}
    for name, table in outcome.tables.items():
        sources = []
        for s in table.sources:
            sources.append(
                {
                    "file": s.file,
                    "status": s.status,
                    "read": s.read,
                    "written": s.written,
                    "quarantined": s.quarantined,
                    "by_reason": dict(sorted(s.by_reason.items())),
                    "examples": s.examples,
                    "blank_lines_ignored": s.blank_lines,
                    "note": s.note,
                }
            )
        imported = [s for s in table.sources if s.status == "imported"]
        tables[name] = {
            "status": table.status,
            "status_text": STATUS_TEXT[table.status],
            "read": sum(s.read for s in imported),
            "written": len(table.rows),
            "quarantined": sum(s.quarantined for s in imported),
            "sources": sources,
            "defaults_applied": dict(sorted(table.defaults.items())),
            "blanked": {
                c: {"count": len(v), "examples": v[:3]} for c, v in sorted(table.blanked.items())
            },
            "first_of_several_taken": dict(sorted(table.first_taken.items())),
            "windows_closed": dict(sorted(table.windows_closed.items())),
            "columns_not_mapped": table.unmapped_columns
            if table.status in ("imported", "derived")
            else [],
            "warnings": table.warnings,
        }
    imported_tables = [t for t in tables.values() if t["status"] == "imported"]
    return {
        "run_id": run_id,
        "mapping": str(outcome.mapping.path),
        "mapping_name": outcome.mapping.name,
        "source": str(outcome.source_dir),
        "out": str(out),
        "files_written": written_files,
        "totals": {
            "read": sum(t["read"] for t in imported_tables),
            "written": sum(t["written"] for t in imported_tables),
            "quarantined": sum(t["quarantined"] for t in imported_tables),
        },
        "reasons": {code: text for code, text in REASONS.items()},
        "tables": tables,
        "fuzzy_matches": [vars(m) for m in outcome.fuzzy_matches],
        "unused_files": outcome.unused_files,
    }


def render_text(report: dict[str, Any]) -> str:
    lines = [
        f"rapport import {report['run_id']}: {report['mapping_name']} ({report['mapping']})",
        f"from {report['source']} to {report['out']}",
        "",
        f"{'table':<22} {'source file':<28} {'read':>6} {'written':>8} {'quarantined':>12}",
    ]
    for name, table in report["tables"].items():
        for s in table["sources"]:
            if s["status"] == "imported":
                lines.append(
                    f"{name:<22} {s['file']:<28} {s['read']:>6} {s['written']:>8} "
                    f"{s['quarantined']:>12}"
                )
            elif s["status"] == "derived":
                lines.append(
                    f"{name:<22} {'(' + s['file'] + ')':<28} {'':>6} {s['written']:>8} "
                    f"{'':>12}  {s['note']}"
                )
    totals = report["totals"]
    lines += [
        (
            f"{'total':<22} {'':<28} {totals['read']:>6} {totals['written']:>8} "
            f"{totals['quarantined']:>12}"
        ),
        "",
    ]

    quarantined = [
        (n, s) for n, t in report["tables"].items() for s in t["sources"] if s["quarantined"]
    ]
    if quarantined:
        lines.append("Quarantined rows by reason (all rows are in import_quarantine.csv):")
        for name, s in quarantined:
            for code, count in s["by_reason"].items():
                lines.append(f"  {name} / {s['file']}: {code} x{count}")
                for example in s["examples"].get(code, []):
                    lines.append(f"      row {example['row']}: {example['detail']}")
        lines.append("")

    notes = []
    for name, table in report["tables"].items():
        for column, count in table["defaults_applied"].items():
            notes.append(f"  {name}.{column}: the mapping's default used on {count} row(s)")
        for column, info in table["blanked"].items():
            notes.append(
                f"  {name}.{column}: left blank on {info['count']} row(s), "
                f"e.g. {info['examples'][0]}"
            )
        for column, count in table["first_of_several_taken"].items():
            notes.append(f"  {name}.{column}: first of several values taken on {count} row(s)")
        for column, count in table.get("windows_closed", {}).items():
            notes.append(f"  {name}.{column}: set to the day before the next change on "
                         f"{count} row(s) (windows:)")
        notes += [f"  {w}" for w in table["warnings"]]
    if notes:
        lines += ["Applied by the mapping (rows written):", *notes, ""]

    fuzzy = report["fuzzy_matches"]
    lines.append(f"Fuzzy matches applied: {len(fuzzy)}")
    for m in fuzzy:
        lines.append(
            f"  {m['table']}.{m['column']} {m['file']} row {m['row']}: {m['value']!r} -> "
            f"{m['matched']!r} ({m['target']}, {m['kind']}, {m['score']:.2f})"
        )
    lines.append("")

    absent = [
        (n, t) for n, t in report["tables"].items() if t["status"] not in ("imported", "derived")
    ]
    if absent:
        lines.append("Tables not imported:")
        for name, table in absent:
            lines.append(f"  {name}: {table['status_text']}")
            for s in table["sources"]:
                if s["note"]:
                    lines.append(f"      {s['note']}")
        lines.append("")
    if report["unused_files"]:
        lines += [
            "Files in the export folder the mapping does not use: "
            + ", ".join(report["unused_files"]),
            "",
        ]
    lines.append(
        "Next: `rapport build` checks the written files (references, ranges, rules) and "
        "quarantines what fails there too (meta.dq_quarantine)."
    )
    return "\n".join(lines) + "\n"


def save_report(outcome: ImportOutcome, report: dict[str, Any], folder: Path) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / REPORT_JSON).write_text(
        json.dumps(report, indent=2, ensure_ascii=False) + "\n", encoding="utf-8"
    )
    (folder / REPORT_TEXT).write_text(render_text(report), encoding="utf-8")
    with (folder / QUARANTINE_FILE).open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(
            ["source_file", "source_row", "target_table", "reasons", "detail", "raw_values"]
        )
        for row in outcome.quarantine:
            writer.writerow(
                [
                    row.source_file,
                    row.source_row,
                    row.table,
                    row.reasons,
                    row.detail,
                    raw_json(row.raw),
                ]
            )
    with (folder / LINEAGE_FILE).open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(["table", "written_row", "source_file", "source_row"])
        for name, table in outcome.tables.items():
            for i, (file, row) in enumerate(table.lineage, start=1):
                writer.writerow([name, i, file, row or ""])

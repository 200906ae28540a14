"""Write the imported tables as contract raw files (data/raw/<table>.csv).

The output folder may hold files of an earlier import (listed in its MARKER file), which
are replaced. Contract files that an import did not write (demo data from `rapport
generate`, files put there by hand) are never overwritten or deleted: the import stops
and says so.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

from rapport.contract import Contract
from rapport.pipeline.importer.engine import ImportOutcome
from rapport.pipeline.importer.mapping import MappingError
from rapport.pipeline.ingest import FORMATS

MARKER = ".rapport-import.json"


def _contract_files(out: Path, spec: Contract) -> set[str]:
    names = {f"{t}.{fmt}" for t in spec.tables for fmt in FORMATS}
    return {p.name for p in out.iterdir() if p.is_file() and p.name in names}


def check_output_folder(out: Path, spec: Contract) -> set[str]:
    """Files of an earlier import that may be replaced; MappingError if others are there."""
    if not out.exists():
        return set()
    if not out.is_dir():
        raise MappingError(f"{out}: exists and is not a folder; choose another --out.")
    present = _contract_files(out, spec)
    earlier: set[str] = set()
    marker = out / MARKER
    if marker.exists():
        try:
            earlier = set(json.loads(marker.read_text(encoding="utf-8")).get("files", []))
        except (ValueError, AttributeError):
            earlier = set()
    foreign = sorted(present - earlier)
    if foreign:
        raise MappingError(
            f"{out}: holds raw files that no earlier `rapport import` wrote "
            f"({', '.join(foreign)}); the import will not overwrite them. Move them away "
            "(they may be demo data from `rapport generate`), or import into another folder "
            "with --out."
        )
    return present


def write_tables(outcome: ImportOutcome, out: Path, spec: Contract, run_id: str) -> list[str]:
    """Write every imported table; returns the file names written."""
    replaceable = check_output_folder(out, spec)
    out.mkdir(parents=True, exist_ok=True)
    for name in replaceable:
        (out / name).unlink()
    written = []
    for table in outcome.tables.values():
        if table.status in ("not_mapped", "no_file"):
            continue
        path = out / f"{table.table}.csv"
        with path.open("w", newline="", encoding="utf-8") as handle:
            writer = csv.writer(handle, lineterminator="\n")
            writer.writerow(table.columns)
            for row in table.rows:
                writer.writerow([row.get(c, "") for c in table.columns])
        written.append(path.name)
    (out / MARKER).write_text(
        json.dumps(
            {"run_id": run_id, "mapping": str(outcome.mapping.path), "files": written}, indent=2
        )
        + "\n",
        encoding="utf-8",
    )
    return written

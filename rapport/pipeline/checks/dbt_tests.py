"""meta.dbt_tests: one row per dbt test of a build, recorded in the warehouse at build time.

dbt writes every node's outcome to run_results.json (and what each test checks to
manifest.json) in the build's artefacts folder (builds/<build_id>.dbt/). The build copies
one row per data test and unit test, plus any other node (model, seed) that failed or was
skipped, into the warehouse file itself, so that Data quality lists the tests from the file
alone (a copied warehouse, or one whose artefacts folder was cleaned up). Exposures and
models that ran are not checks and get no row.

No great_expectations and no polars import here: the build imports it after dbt ran.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import duckdb

DBT_TESTS_DDL = """
create or replace table meta.dbt_tests (
    build_id varchar not null,
    unique_id varchar not null,
    kind varchar not null,          -- test, unit_test, or the failing node's type (model...)
    name varchar not null,          -- the test: not_null, accepted_values, a singular test
    model varchar,                  -- the model (or source) the test is attached to
    "column" varchar,
    severity varchar not null,      -- fail: blocks the build when it fails; warn: warns only
    status varchar not null,        -- pass, warn, fail, error (a skipped node is an error)
    dbt_status varchar,             -- dbt's own status (pass, fail, skipped, runtime error...)
    failures bigint,                -- failing rows, when dbt counted them
    message varchar,                -- dbt's message (may quote data values: masked at view)
    checked_at timestamp
)
"""

STATUS = {"pass": "pass", "success": "pass", "warn": "warn", "fail": "fail",
          "error": "error", "runtime error": "error", "skipped": "error"}
# a node other than a test is a row only when it did not run well
NODE_FAILED = ("error", "fail", "runtime error", "skipped", "warn")
_KEEP = ("name", "attached_node", "column_name", "test_metadata", "config", "model",
         "depends_on")


def read_artefacts(folder: Path) -> tuple[dict, dict] | None:
    """(run_results.json, {test uid: manifest node}) of a dbt target folder, or None when
    dbt left no run results (it did not run, or crashed first)."""
    try:
        run = json.loads((folder / "run_results.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    try:
        manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
        found = {**manifest.get("nodes", {}), **manifest.get("unit_tests", {})}
    except (OSError, ValueError):
        found = {}
    return run, {uid: {k: node.get(k) for k in _KEEP} for uid, node in found.items()
                 if uid.startswith(("test.", "unit_test."))}


def _model_of(uid: str, node: dict) -> str:
    if uid.startswith("unit_test."):
        return node.get("model") or uid.split(".")[2]
    attached = node.get("attached_node") or next(
        iter((node.get("depends_on") or {}).get("nodes") or []), "")
    return attached.rsplit(".", 1)[-1] if attached else ""


def test_rows(run: dict, nodes: dict, build_id: str) -> list[tuple[Any, ...]]:
    """The rows of meta.dbt_tests for one dbt run (in DBT_TESTS_DDL's column order)."""
    checked_at = str((run.get("metadata") or {}).get("generated_at") or "")[:19] or None
    if checked_at:
        checked_at = checked_at.replace("T", " ")
    rows = []
    for result in run.get("results") or []:
        uid = str(result.get("unique_id") or "")
        kind = uid.split(".", 1)[0]
        status = str(result.get("status") or "")
        if kind not in ("test", "unit_test") and status not in NODE_FAILED:
            continue  # a model or seed that ran, an exposure (no-op): not a check
        node = nodes.get(uid, {})
        model = _model_of(uid, node) if kind in ("test", "unit_test") else uid.split(".")[-1]
        if kind == "unit_test":
            name = node.get("name") or uid.split(".")[-1]
        elif kind == "test":
            name = ((node.get("test_metadata") or {}).get("name") or node.get("name")
                    or uid.split(".")[2])
        else:
            name = f"{kind}:{model}"
        failures = result.get("failures")
        severity = str((node.get("config") or {}).get("severity") or "error").lower()
        rows.append((
            build_id, uid, kind, name, model or None, node.get("column_name"),
            "warn" if severity == "warn" else "fail", STATUS.get(status, "error"),
            status or None, failures if isinstance(failures, int) else None,
            " ".join(str(result.get("message") or "").split()) or None, checked_at,
        ))
    return rows


def write_dbt_tests(con: duckdb.DuckDBPyConnection, build_id: str, folder: Path) -> int:
    """(Re)create meta.dbt_tests with this build's rows (none when dbt left no run results:
    the table then says 'recorded, no test ran'). Returns the rows written."""
    con.execute("create schema if not exists meta")
    con.execute(DBT_TESTS_DDL)
    found = read_artefacts(folder)
    rows = test_rows(*found, build_id) if found else []
    for start in range(0, len(rows), 250):  # a few multi-row inserts (executemany: ~1 ms a row)
        chunk = rows[start:start + 250]
        marks = ", ".join(["(" + ", ".join("?" * len(chunk[0])) + ")"] * len(chunk))
        con.execute(f"insert into meta.dbt_tests values {marks}",
                    [value for row in chunk for value in row])
    return len(rows)

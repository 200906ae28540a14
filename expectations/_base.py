"""Building blocks of the suites: a batch (a SQL query + its expectations) and helpers."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import duckdb
import yaml

from rapport.contract import Contract

THRESHOLDS_FILE = Path(__file__).resolve().parent / "thresholds.yml"


def load_thresholds(path: Path | None = None) -> dict[str, Any]:
    return yaml.safe_load((path or THRESHOLDS_FILE).read_text(encoding="utf-8"))


@dataclass
class Batch:
    """One DataFrame to validate: `sql` selects only the columns the expectations need.

    `suite` is the logical suite the results are stored under (meta.dq_results.suite);
    `name` tells the batches of one suite apart.
    """

    suite: str
    name: str
    sql: str
    expectations: list = field(default_factory=list)
    params: dict = field(default_factory=dict)


@dataclass
class SuiteContext:
    con: duckdb.DuckDBPyConnection
    build_id: str
    as_of_date: date | None
    thresholds: dict[str, Any]
    contract: Contract

    def relations(self) -> set[str]:
        """'schema.name' of every table and view in the warehouse."""
        rows = self.con.execute(
            "select table_schema || '.' || table_name from information_schema.tables"
        ).fetchall()
        return {r[0] for r in rows}

    def columns(self, relation: str) -> list[str]:
        schema, name = relation.split(".", 1)
        rows = self.con.execute(
            "select column_name from information_schema.columns "
            "where table_schema = ? and table_name = ? order by ordinal_position",
            [schema, name],
        ).fetchall()
        return [r[0] for r in rows]


def fail(expectation, name: str | None = None):
    """Mark an expectation blocking (a failure stops the publish)."""
    return _tag(expectation, "fail", name)


def warn(expectation, name: str | None = None):
    """Mark an expectation as a warning (recorded and printed; the build still publishes)."""
    return _tag(expectation, "warn", name)


def _tag(expectation, severity: str, name: str | None):
    meta = dict(expectation.meta or {})
    meta["severity"] = severity
    if name:
        meta["name"] = name
    expectation.meta = meta
    return expectation


def q(identifier: str) -> str:
    """Quote an identifier for DuckDB."""
    return '"' + identifier.replace('"', '""') + '"'

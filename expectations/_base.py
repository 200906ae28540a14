"""Building blocks of the suites: a batch (a SQL query + its expectations) and helpers.

Big tables never reach pandas whole. Row-level expectations (not null, in set, between,
unique) are validated on a *violations frame*: `violations_batch` derives from each
expectation the SQL test of a row that could break it, and DuckDB selects only the rows that
pass at least one test (plus every row whose key occurs more than once). GX then runs the
same expectations on that frame: every row that breaks an expectation is in the frame, and a
row that breaks none of them is unexpected for none of them, so each expectation's success
and unexpected count are what they would be on the whole table. The runner reports them out
of the table's real row count (`Batch.rows_sql`). Table-level figures (row counts, means,
distinct values) are one-row aggregates or `select distinct` frames (`row_count_batch`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import duckdb
import great_expectations.expectations as gxe
import yaml

from rapport.contract import Contract

THRESHOLDS_FILE = Path(__file__).resolve().parent / "thresholds.yml"


def load_thresholds(path: Path | None = None) -> dict[str, Any]:
    return yaml.safe_load((path or THRESHOLDS_FILE).read_text(encoding="utf-8"))


@dataclass
class Batch:
    """One DataFrame to validate: `sql` selects only the columns the expectations need.

    `suite` is the logical suite the results are stored under (meta.dq_results.suite);
    `name` tells the batches of one suite apart. `rows_sql`, when set, counts the rows `sql` was filtered from
    (a violations frame): the results then report unexpected rows out of that count.
    """

    suite: str
    name: str
    sql: str
    expectations: list = field(default_factory=list)
    params: dict = field(default_factory=dict)
    rows_sql: str | None = None
    # set: the batch is not run and each of its expectations is reported not_applicable
    # with this reason ('needs interactions and contacts: no interactions file')
    not_applicable: str | None = None


@dataclass
class SuiteContext:
    con: duckdb.DuckDBPyConnection
    build_id: str
    as_of_date: date | None
    thresholds: dict[str, Any]
    contract: Contract
    _layers: dict | None = field(default=None, repr=False)

    def layers(self) -> dict:
        """{layer: LayerStatus} of the warehouse's data (rapport.pipeline.coverage), computed once."""
        if self._layers is None:
            from rapport.pipeline.coverage import layer_status

            self._layers = layer_status(self.con, self.contract)
        return self._layers

    def not_applicable(self, *layers: str) -> str | None:
        """Why checks needing these layers do not apply (None: they all are available)."""
        missing = [self.layers()[n] for n in layers
                   if n in self.layers() and not self.layers()[n].available]
        if not missing:
            return None
        return "; ".join(f"needs {s.needs} ({s.layer}): {s.reason}" for s in missing)

    def relations(self) -> set[str]:
        """'schema.name' of every table and view in the warehouse."""
        rows = self.con.execute(
            "select table_schema || '.' || table_name from information_schema.tables"
        ).fetchall()
        return {r[0] for r in rows}

    def row_count(self, relation: str) -> int:
        return int(self.con.execute(f"select count(*) from {relation}").fetchone()[0])

    def columns(self, relation: str) -> list[str]:
        return list(self.column_types(relation))

    def column_types(self, relation: str) -> dict[str, str]:
        """{column: DuckDB data type} of a relation, in column order ({} when it is absent)."""
        schema, name = relation.split(".", 1)
        rows = self.con.execute(
            "select column_name, data_type from information_schema.columns "
            "where table_schema = ? and table_name = ? order by ordinal_position",
            [schema, name],
        ).fetchall()
        return {r[0]: r[1] for r in rows}


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


# --------------------------------------------------------------------------- pushed-down checks

ROW_COUNT = "row_count"
_NUMERIC = ("TINYINT", "SMALLINT", "INTEGER", "BIGINT", "HUGEINT", "UTINYINT", "USMALLINT",
            "UINTEGER", "UBIGINT", "UHUGEINT", "FLOAT", "REAL", "DOUBLE", "DECIMAL")
_FLOAT = ("FLOAT", "REAL", "DOUBLE")


def row_count_batch(suite: str, relation: str, expectations: list) -> Batch:
    """A one-row frame holding the relation's count(*) in column `row_count`; validate it with
    `row_count_expectation` (observed value = the row count)."""
    return Batch(suite, ROW_COUNT, f"select count(*) as {ROW_COUNT} from {relation}",
                 expectations)


def row_count_expectation(min_value: float | None = None, max_value: float | None = None):
    """The row count of a `row_count_batch` between min and max (inclusive)."""
    return gxe.ExpectColumnMaxToBeBetween(column=ROW_COUNT, min_value=min_value,
                                          max_value=max_value)


# Rows per pass when looking for repeated keys: DuckDB's hash aggregate holds about 60 bytes
# per distinct key (10M keys: about 600 MB); a bigger table is split into passes over
# hash(key) % passes, each holding at most this many keys (about 150 MB).
KEYS_PER_PASS = 2_500_000


def violations_batch(suite: str, name: str, relation: str, expectations: list,
                     types: dict[str, str], rows: int | None = None) -> Batch:
    """A batch whose frame holds only the rows of `relation` that may break an expectation.

    Supported: ExpectColumnValuesToNotBeNull / ToBeInSet / ToBeBetween / ToBeUnique and
    ExpectCompoundColumnsToBeUnique, without `mostly` (their verdict must not depend on the
    number of expected rows). `types` ({column: DuckDB type}) decides how far a test can be
    pushed down; where the SQL test could disagree with GX's pandas test (an in-set on a
    non-text column, a between on a non-numeric column or with non-numeric bounds) the frame
    takes every non-null value of the column and leaves the verdict to GX.

    Uniqueness: the frame takes every row whose key occurs more than once. With `rows` (the
    relation's row count) above KEYS_PER_PASS, repeated keys are found by hash(key) in
    partitions: a row whose key's hash repeats is taken, a superset of the repeated keys
    (a hash collision only adds a row GX then finds unique).
    """
    columns: list[str] = []
    tests: list[str] = []
    keys: list[list[str]] = []
    for expectation in expectations:
        kind, kwargs = expectation.expectation_type, expectation.configuration.kwargs
        if kwargs.get("mostly") not in (None, 1, 1.0) or kwargs.get("row_condition"):
            raise ValueError(f"{kind} with mostly or row_condition cannot run on a "
                             f"violations frame ({suite} / {name})")
        if kind == "expect_compound_columns_to_be_unique":
            keys.append(list(kwargs["column_list"]))
            columns += kwargs["column_list"]
            continue
        column = kwargs["column"]
        columns.append(column)
        if kind == "expect_column_values_to_be_unique":
            keys.append([column])
        elif kind == "expect_column_values_to_not_be_null":
            tests.append(_null_test(column, types))
        elif kind == "expect_column_values_to_be_in_set":
            tests.append(_not_in_set_test(column, kwargs["value_set"], types))
        elif kind == "expect_column_values_to_be_between":
            tests.append(_outside_test(column, kwargs, types))
        else:
            raise ValueError(f"{kind} cannot run on a violations frame ({suite} / {name})")
    passes = -(-(rows or 0) // KEYS_PER_PASS)
    ctes = []
    for i, key in enumerate(dict.fromkeys(tuple(k) for k in keys)):
        cte = f"duplicate_keys_{i}"
        if passes > 1:
            ctes.append(f"{cte} as (\n" + "\n    union all\n".join(
                f"    (select key_hash from (select {_key_hash(key)} as key_hash "
                f"from {relation})\n     where key_hash % {passes} = {p} "
                f"group by key_hash having count(*) > 1)" for p in range(passes)) + "\n)")
            tests.append(f"{_key_hash(key, 'checked')} in (select key_hash from {cte})")
            continue
        cols = ", ".join(q(c) for c in key)
        ctes.append(f"{cte} as (\n    select {cols} from {relation}\n"
                    f"    group by {cols}\n    having count(*) > 1\n)")
        match = " and ".join(f"{cte}.{q(c)} is not distinct from checked.{q(c)}"
                             for c in key)
        tests.append(f"exists (select 1 from {cte} where {match})")
    selected = ", ".join(f"checked.{q(c)}" for c in dict.fromkeys(columns)) or "1 as one"
    where = "\n   or ".join(f"({t})" for t in tests) or "false"
    sql = ((f"with {', '.join(ctes)}\n" if ctes else "")
           + f"select {selected}\nfrom {relation} as checked\nwhere {where}")
    return Batch(suite, name, sql, list(expectations),
                 rows_sql=f"select count(*) from {relation}")


def _key_hash(key: tuple[str, ...], alias: str | None = None) -> str:
    """hash() of a key's columns (a row of them for a compound key)."""
    cols = ", ".join(f"{alias}.{q(c)}" if alias else q(c) for c in key)
    return f"hash({cols})" if len(key) == 1 else f"hash(row({cols}))"


def _base_type(types: dict[str, str], column: str) -> str:
    return types.get(column, "").upper().split("(")[0].strip()


def _null_test(column: str, types: dict[str, str]) -> str:
    # pandas (GX) counts a float NaN as missing; SQL does not
    if _base_type(types, column) in _FLOAT:
        return f"checked.{q(column)} is null or isnan(checked.{q(column)})"
    return f"checked.{q(column)} is null"


def _not_in_set_test(column: str, values: list, types: dict[str, str]) -> str:
    col = f"checked.{q(column)}"
    if _base_type(types, column) != "VARCHAR" or not all(isinstance(v, str) for v in values):
        return f"{col} is not null"
    if not values:
        return f"{col} is not null"
    listed = ", ".join("'" + v.replace("'", "''") + "'" for v in values)
    return f"{col} is not null and {col} not in ({listed})"


def _outside_test(column: str, kwargs: dict, types: dict[str, str]) -> str:
    col = f"checked.{q(column)}"
    lo, hi = kwargs.get("min_value"), kwargs.get("max_value")
    bounds = [b for b in (lo, hi) if b is not None]
    numeric = _base_type(types, column) in _NUMERIC and all(
        isinstance(b, int | float) and not isinstance(b, bool) and math.isfinite(b)
        for b in bounds)
    if not numeric or not bounds:
        return f"{col} is not null"
    # compared as doubles, as pandas compares the frame's float64 / int64 values
    value = f"cast({col} as double)"
    parts = []
    if lo is not None:
        parts.append(f"{value} {'<=' if kwargs.get('strict_min') else '<'} {float(lo)!r}")
    if hi is not None:
        parts.append(f"{value} {'>=' if kwargs.get('strict_max') else '>'} {float(hi)!r}")
    if _base_type(types, column) in _FLOAT:
        parts.append(f"isnan({col})")  # GX treats NaN as missing; harmless to include
    return " or ".join(parts)

"""The raw data contract (rapport/contract.yml) as typed Python objects.

The file's shape and rules are declared in rapport/contract_schema.py (pydantic models).
"""

from __future__ import annotations

import csv
from dataclasses import dataclass, field
from datetime import date
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

import yaml

from rapport.paths import CONTRACT_FILE, SEEDS_DIR

if TYPE_CHECKING:  # pydantic is imported when a contract is loaded, not with this module
    from rapport.contract_schema import ColumnSpec, LayerSpec, TableSpec

# the SQL type a contract type is stored as (DuckDB names; the raw and validated schemas)
SQL_TYPES = {"string": "varchar", "integer": "bigint", "decimal": "double", "date": "date",
             "timestamp": "timestamp", "boolean": "boolean"}


@dataclass(frozen=True)
class Bounds:
    """The contract-level bounds every number and date column gets (contract.yml `bounds`).

    number_abs_max            a number column without its own min (max) rejects values below
                              -number_abs_max (above number_abs_max)
    earliest_date             a date or timestamp before it is rejected, unless the column
                              sets its own `earliest`
    latest_years_after_as_of  a date or timestamp more than this many years after the as-of
                              date is rejected
    """

    number_abs_max: float = 1e12
    earliest_date: date = date(1990, 1, 1)
    latest_years_after_as_of: int = 10


@dataclass(frozen=True)
class Column:
    name: str
    type: str
    required: bool = False
    description: str = ""
    allowed: tuple[str, ...] | None = None
    case: str | None = None
    min: float | None = None
    max: float | None = None
    references: tuple[str, str] | None = None  # (table, column)
    pii: bool = False
    earliest: date | None = None  # dates / timestamps: overrides Bounds.earliest_date
    belongs_to: str | None = None  # the referenced row's column of this name must equal ours
    # required only on rows whose <column> is one of <values> (contract `required_when`),
    # e.g. ("status", ("won",)): an open deal may lack it and is kept, counted as incomplete
    required_when: tuple[str, tuple[str, ...]] | None = None
    default: str | None = None  # the documented default staging applies when it is empty


@dataclass(frozen=True)
class Check:
    name: str
    rule: str


@dataclass(frozen=True)
class Table:
    name: str
    description: str
    primary_key: tuple[str, ...]
    columns: dict[str, Column]
    core: bool = False  # enough to publish: the file must exist and end with clean rows
    checks: tuple[Check, ...] = field(default_factory=tuple)
    bounds: Bounds = field(default_factory=Bounds)
    feeds: tuple[str, ...] = ()  # the layers (contract `layers`) this table feeds

    @property
    def required_table(self) -> bool:
        """The earlier name of `core`: the build stops when the file is absent."""
        return self.core

    @property
    def required_columns(self) -> list[str]:
        return [c.name for c in self.columns.values() if c.required]

    @property
    def needed_columns(self) -> list[str]:
        """Columns a file (or a mapping) must have: the required ones and those required on
        some rows (`required_when`: a deals file without amount would lose every won deal)."""
        return [c.name for c in self.columns.values() if c.required or c.required_when]

    @property
    def parents(self) -> set[str]:
        return {c.references[0] for c in self.columns.values() if c.references} - {self.name}


@dataclass(frozen=True)
class Layer:
    """What the warehouse can show from some tables (contract `layers`): available when every
    table that `feeds` it has clean rows and, with `columns_any`, at least one of those
    columns is filled on some row."""

    name: str
    needs: str  # human text: 'interactions and contacts'
    description: str = ""
    tables: tuple[str, ...] = ()  # the tables whose `feeds` name this layer
    columns_any: tuple[tuple[str, str], ...] = ()  # (table, column): at least one filled


@dataclass(frozen=True)
class Contract:
    version: int
    tables: dict[str, Table]
    bounds: Bounds = field(default_factory=Bounds)
    layers: dict[str, Layer] = field(default_factory=dict)

    @property
    def core_tables(self) -> list[str]:
        return [t.name for t in self.tables.values() if t.core]

    def in_dependency_order(self) -> list[Table]:
        """Tables ordered so that every referenced table comes before its referrers."""
        done: list[str] = []
        pending = dict(self.tables)
        while pending:
            ready = [n for n, t in pending.items() if t.parents <= set(done)]
            if not ready:
                raise ValueError(f"contract: reference cycle among {sorted(pending)}")
            for name in sorted(ready, key=list(self.tables).index):
                done.append(name)
                del pending[name]
        return [self.tables[n] for n in done]


def _taxonomy_values(name: str, seeds_dir: Path) -> tuple[str, ...]:
    path = seeds_dir / f"{name}.csv"
    with path.open(newline="", encoding="utf-8") as handle:
        return tuple(row["activity_type"].strip().lower() for row in csv.DictReader(handle))


def _column(name: str, spec: ColumnSpec, seeds_dir: Path) -> Column:
    allowed = spec.allowed
    if spec.allowed_from:
        allowed = list(_taxonomy_values(spec.allowed_from, seeds_dir))
    return Column(
        name=name,
        type=spec.type,
        required=spec.required,
        description=spec.description,
        allowed=tuple(str(v) for v in allowed) if allowed is not None else None,
        case=spec.case,
        min=spec.min,
        max=spec.max,
        references=spec.references,
        pii=spec.pii,
        earliest=spec.earliest,
        belongs_to=spec.belongs_to,
        required_when=spec.required_when,
        default=None if spec.default is None else str(spec.default),
    )


def _check_required_when(tables: dict[str, Table]) -> None:
    for table in tables.values():
        for col in table.columns.values():
            if col.required_when is None:
                continue
            other, values = col.required_when
            where = f"contract: {table.name}.{col.name} required_when {other}"
            if other not in table.columns:
                raise ValueError(f"{where}: {table.name} has no column {other}")
            allowed = table.columns[other].allowed
            if allowed is not None and set(values) - set(allowed):
                raise ValueError(f"{where}: {sorted(set(values) - set(allowed))} are not "
                                 f"allowed values of {other}")


def _table(name: str, spec: TableSpec, bounds: Bounds, seeds_dir: Path) -> Table:
    core = spec.core if spec.core is not None else spec.required_table
    return Table(
        name=name,
        description=" ".join(spec.description.split()),
        primary_key=tuple(spec.primary_key),
        columns={c: _column(c, s, seeds_dir) for c, s in spec.columns.items()},
        core=bool(core),  # `required_table` is the earlier name of `core`
        checks=tuple(Check(name=c.name, rule=c.rule) for c in spec.checks),
        bounds=bounds,
        feeds=tuple(spec.feeds),
    )


def _layer(name: str, spec: LayerSpec, tables: dict[str, Table]) -> Layer:
    """A layer, with the tables that feed it."""
    return Layer(
        name=name,
        needs=spec.needs or name,
        description=" ".join(spec.description.split()),
        tables=tuple(t.name for t in tables.values() if name in t.feeds),
        columns_any=tuple(spec.columns_any),
    )


def load_contract(path: Path = CONTRACT_FILE, seeds_dir: Path = SEEDS_DIR) -> Contract:
    """Read the contract file, validated by its schema (rapport/contract_schema.py);
    ValueError lists every problem with its place in the file."""
    from pydantic import ValidationError

    from rapport.contract_schema import ContractFile, problems

    raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    try:
        spec = ContractFile.model_validate(raw)
    except ValidationError as exc:
        found = problems(exc)
        raise ValueError(f"contract {path} has {len(found)} problem(s):\n  "
                         + "\n  ".join(found)) from None
    b = spec.bounds
    bounds = Bounds(number_abs_max=b.number_abs_max, earliest_date=b.earliest_date,
                    latest_years_after_as_of=b.latest_years_after_as_of)
    tables = {n: _table(n, t, bounds, seeds_dir) for n, t in spec.tables.items()}
    _check_required_when(tables)
    return Contract(version=spec.version, tables=tables, bounds=bounds,
                    layers={n: _layer(n, lay, tables) for n, lay in spec.layers.items()})


@lru_cache(maxsize=1)
def contract() -> Contract:
    """The project's contract, loaded once per process."""
    return load_contract()

"""The raw data contract (rapport/contract.yml) as typed Python objects."""

from __future__ import annotations

import csv
from dataclasses import dataclass, field
from datetime import date, datetime
from functools import lru_cache
from pathlib import Path

import yaml

from rapport.paths import CONTRACT_FILE, SEEDS_DIR

TYPES = ("string", "integer", "decimal", "date", "timestamp", "boolean")
# the SQL type a contract type is stored as (DuckDB names; the raw and validated schemas)
SQL_TYPES = {"string": "varchar", "integer": "bigint", "decimal": "double", "date": "date",
             "timestamp": "timestamp", "boolean": "boolean"}
NUMBER_TYPES = ("integer", "decimal")
MOMENT_TYPES = ("date", "timestamp")


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


def _date(value: object, where: str) -> date:
    """A contract date: YAML reads an unquoted 1990-01-01 as a date already."""
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value))
    except ValueError:
        raise ValueError(f"contract: {where} must be a date YYYY-MM-DD, not {value!r}") from None


def _bounds(spec: dict | None) -> Bounds:
    spec = dict(spec or {})
    unknown = set(spec) - {"number_abs_max", "earliest_date", "latest_years_after_as_of"}
    if unknown:
        raise ValueError(f"contract: unknown bounds key(s) {sorted(unknown)}")
    default = Bounds()
    found = Bounds(
        number_abs_max=float(spec.get("number_abs_max", default.number_abs_max)),
        earliest_date=_date(spec.get("earliest_date", default.earliest_date),
                            "bounds.earliest_date"),
        latest_years_after_as_of=int(spec.get("latest_years_after_as_of",
                                              default.latest_years_after_as_of)),
    )
    if not 0 < found.number_abs_max < float("inf") or found.latest_years_after_as_of < 0:
        raise ValueError(f"contract: bounds must be positive and finite: {found}")
    return found


COLUMN_KEYS = {"type", "required", "description", "allowed", "allowed_from", "case", "min",
               "max", "earliest", "references", "belongs_to", "pii", "required_when", "default"}
TABLE_KEYS = {"description", "core", "required_table", "primary_key", "columns", "checks",
              "feeds"}


def _column(name: str, spec: dict, seeds_dir: Path) -> Column:
    unknown = set(spec) - COLUMN_KEYS
    if unknown:  # a typo, or an unquoted comma in a {flow: mapping} that split a description
        raise ValueError(f"contract: column {name} has unknown key(s) {sorted(map(str, unknown))}")
    if spec["type"] not in TYPES:
        raise ValueError(f"contract: column {name} has unknown type {spec['type']!r}")
    if spec["type"] not in NUMBER_TYPES and ("min" in spec or "max" in spec):
        raise ValueError(f"contract: column {name}: min / max are for numbers "
                         f"(a date column sets `earliest`)")
    if "earliest" in spec and spec["type"] not in MOMENT_TYPES:
        raise ValueError(f"contract: column {name}: earliest is for dates and timestamps")
    if spec.get("belongs_to") and not spec.get("references"):
        raise ValueError(f"contract: column {name}: belongs_to needs references")
    allowed = spec.get("allowed")
    if spec.get("allowed_from"):
        allowed = _taxonomy_values(spec["allowed_from"], seeds_dir)
    ref = spec.get("references")
    when = spec.get("required_when")
    if when is not None:
        if spec.get("required"):
            raise ValueError(f"contract: column {name}: required_when is for a column that "
                             f"is not required on every row (required: false)")
        if not isinstance(when, dict) or len(when) != 1:
            raise ValueError(f"contract: column {name}: required_when is one "
                             f"{{column: [values]}}, not {when!r}")
        (other, values), = when.items()
        values = values if isinstance(values, list) else [values]
        when = (str(other), tuple(str(v) for v in values))
    return Column(
        name=name,
        type=spec["type"],
        required=bool(spec.get("required", False)),
        description=str(spec.get("description", "")),
        allowed=tuple(str(v) for v in allowed) if allowed is not None else None,
        case=spec.get("case"),
        min=spec.get("min"),
        max=spec.get("max"),
        references=tuple(ref.split(".", 1)) if ref else None,
        pii=bool(spec.get("pii", False)),
        earliest=_date(spec["earliest"], f"{name}.earliest") if "earliest" in spec else None,
        belongs_to=spec.get("belongs_to"),
        required_when=when,
        default=None if spec.get("default") is None else str(spec["default"]),
    )


def _check_belongs_to(tables: dict[str, Table]) -> None:
    """belongs_to: the parent is referenced by its one-column primary key (so the join finds
    one row) and has the named column, and so does this table."""
    for table in tables.values():
        for col in table.columns.values():
            if not col.belongs_to:
                continue
            parent, parent_col = col.references
            where = f"contract: {table.name}.{col.name} belongs_to {col.belongs_to}"
            if tables[parent].primary_key != (parent_col,):
                raise ValueError(f"{where}: {parent}.{parent_col} is not {parent}'s primary key")
            if col.belongs_to not in tables[parent].columns:
                raise ValueError(f"{where}: {parent} has no column {col.belongs_to}")
            if col.belongs_to not in table.columns:
                raise ValueError(f"{where}: {table.name} has no column {col.belongs_to}")


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


def _layers(spec: dict | None, tables: dict[str, Table]) -> dict[str, Layer]:
    """The layers, each with the tables that feed it; every `feeds` names a layer."""
    layers = {}
    for name, lspec in (spec or {}).items():
        lspec = dict(lspec or {})
        unknown = set(lspec) - {"needs", "description", "columns_any"}
        if unknown:
            raise ValueError(f"contract: layer {name} has unknown key(s) {sorted(unknown)}")
        columns = []
        for ref in lspec.get("columns_any", []):
            table, _, column = str(ref).partition(".")
            if table not in tables or column not in tables[table].columns:
                raise ValueError(f"contract: layer {name}: columns_any names {ref}, which is "
                                 f"not a contract column")
            columns.append((table, column))
        layers[name] = Layer(
            name=name,
            needs=str(lspec.get("needs") or name),
            description=" ".join(str(lspec.get("description", "")).split()),
            tables=tuple(t.name for t in tables.values() if name in t.feeds),
            columns_any=tuple(columns),
        )
    for table in tables.values():
        unknown = [f for f in table.feeds if f not in layers]
        if unknown:
            raise ValueError(f"contract: table {table.name} feeds unknown layer(s) {unknown}; "
                             f"declare them under `layers`")
    for layer in layers.values():
        if not layer.tables:
            raise ValueError(f"contract: layer {layer.name} is fed by no table")
    return layers


def load_contract(path: Path = CONTRACT_FILE, seeds_dir: Path = SEEDS_DIR) -> Contract:
    raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    bounds = _bounds(raw.get("bounds"))
    tables = {}
    for tname, tspec in raw["tables"].items():
        unknown = set(tspec) - TABLE_KEYS
        if unknown:
            raise ValueError(f"contract: table {tname} has unknown key(s) {sorted(unknown)}")
        feeds = tspec.get("feeds") or []
        tables[tname] = Table(
            name=tname,
            description=" ".join(str(tspec.get("description", "")).split()),
            primary_key=tuple(tspec["primary_key"]),
            columns={c: _column(c, s, seeds_dir) for c, s in tspec["columns"].items()},
            # `required_table` is the earlier name of `core`
            core=bool(tspec.get("core", tspec.get("required_table", False))),
            checks=tuple(Check(**c) for c in tspec.get("checks", [])),
            bounds=bounds,
            feeds=tuple(str(f) for f in (feeds if isinstance(feeds, list) else [feeds])),
        )
    _check_belongs_to(tables)
    _check_required_when(tables)
    return Contract(version=int(raw["version"]), tables=tables, bounds=bounds,
                    layers=_layers(raw.get("layers"), tables))


@lru_cache(maxsize=1)
def contract() -> Contract:
    """The project's contract, loaded once per process."""
    return load_contract()

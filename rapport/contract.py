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
    required_table: bool = False
    checks: tuple[Check, ...] = field(default_factory=tuple)
    bounds: Bounds = field(default_factory=Bounds)

    @property
    def required_columns(self) -> list[str]:
        return [c.name for c in self.columns.values() if c.required]

    @property
    def parents(self) -> set[str]:
        return {c.references[0] for c in self.columns.values() if c.references} - {self.name}


@dataclass(frozen=True)
class Contract:
    version: int
    tables: dict[str, Table]
    bounds: Bounds = field(default_factory=Bounds)

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
               "max", "earliest", "references", "belongs_to", "pii"}


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


def load_contract(path: Path = CONTRACT_FILE, seeds_dir: Path = SEEDS_DIR) -> Contract:
    raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    bounds = _bounds(raw.get("bounds"))
    tables = {}
    for tname, tspec in raw["tables"].items():
        tables[tname] = Table(
            name=tname,
            description=" ".join(str(tspec.get("description", "")).split()),
            primary_key=tuple(tspec["primary_key"]),
            columns={c: _column(c, s, seeds_dir) for c, s in tspec["columns"].items()},
            required_table=bool(tspec.get("required_table", False)),
            checks=tuple(Check(**c) for c in tspec.get("checks", [])),
            bounds=bounds,
        )
    _check_belongs_to(tables)
    return Contract(version=int(raw["version"]), tables=tables, bounds=bounds)


@lru_cache(maxsize=1)
def contract() -> Contract:
    """The project's contract, loaded once per process."""
    return load_contract()

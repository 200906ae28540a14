"""The raw data contract (rapport/contract.yml) as typed Python objects."""

from __future__ import annotations

import csv
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import yaml

from rapport.paths import CONTRACT_FILE, SEEDS_DIR

TYPES = ("string", "integer", "decimal", "date", "timestamp", "boolean")


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


def _column(name: str, spec: dict, seeds_dir: Path) -> Column:
    if spec["type"] not in TYPES:
        raise ValueError(f"contract: column {name} has unknown type {spec['type']!r}")
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
    )


def load_contract(path: Path = CONTRACT_FILE, seeds_dir: Path = SEEDS_DIR) -> Contract:
    raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    tables = {}
    for tname, tspec in raw["tables"].items():
        tables[tname] = Table(
            name=tname,
            description=" ".join(str(tspec.get("description", "")).split()),
            primary_key=tuple(tspec["primary_key"]),
            columns={c: _column(c, s, seeds_dir) for c, s in tspec["columns"].items()},
            required_table=bool(tspec.get("required_table", False)),
            checks=tuple(Check(**c) for c in tspec.get("checks", [])),
        )
    return Contract(version=int(raw["version"]), tables=tables)


@lru_cache(maxsize=1)
def contract() -> Contract:
    """The project's contract, loaded once per process."""
    return load_contract()

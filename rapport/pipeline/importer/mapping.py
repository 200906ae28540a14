"""Mapping files: load a YAML mapping, check it against the contract, return typed specs.

The format is documented in docs/import.md and, with comments, in
rapport/mappings/example-commented.yml; its shape is declared in mapping_schema.py (pydantic
models), and this module checks the validated file against the contract. Every error names the mapping file and the path
inside it (tables.opportunities.columns.status.map) and says what to write instead.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from rapport.contract import Column, Contract, Table
from rapport.errors import RapportError
from rapport.paths import SEEDS_DIR
from rapport.pipeline.importer.mapping_schema import (
    DEFAULT_FUZZY_THRESHOLD,
    ColumnNode,
    DerivedTable,
    DeriveNode,
    Invalid,
    MappingFile,
    SourceNode,
    SourcesTable,
    WindowsNode,
    keep_errors,
    template_fields,
)
from rapport.pipeline.importer.mapping_schema import where as where_in
from rapport.pipeline.importer.values import text_key

MAPPINGS_DIR = Path(__file__).resolve().parents[2] / "mappings"
ROW_FIELD = "_row"  # in a template: the source row number (1 = first data row)


class MappingError(RapportError):
    """The mapping file or the export folder does not fit: nothing is written."""

    exit_code = 2


class _TextLoader(yaml.SafeLoader):
    """YAML where every scalar stays text: `yes`, `0` and `1.0` are labels, not bool/int."""


_TextLoader.yaml_implicit_resolvers = {}


@dataclass(frozen=True)
class JoinSpec:
    table: str
    by: tuple[str, ...]
    returns: str
    fuzzy: bool = False
    threshold: float = DEFAULT_FUZZY_THRESHOLD


@dataclass(frozen=True)
class Part:
    """One way to read a value from a source row: a column, a template or a constant."""

    columns: tuple[str, ...] = ()  # header alternatives: the first present in the file
    template: str | None = None  # "{FirstName} {LastName}"
    value: str | None = None  # a constant


@dataclass(frozen=True)
class ColumnSpec:
    target: str
    contract_type: str
    parts: tuple[Part, ...]  # one part, or first_of: the first non-blank wins
    optional: bool = False  # source columns may be absent from the file
    split: str | None = None
    take_first: bool = False
    id_format: str | None = None
    value_map: dict[str, str] | None = None  # keys are text_key()-normalised
    unmapped: str = "quarantine"
    date_formats: tuple[str, ...] = ()
    decimal_separator: str | None = None
    scale: str | None = None
    joins: tuple[JoinSpec, ...] = ()
    on_unmatched: str = "quarantine"
    default: str | None = None

    @property
    def source_columns(self) -> list[tuple[str, ...]]:
        """Header alternatives this spec reads (one tuple per column it needs)."""
        found: list[tuple[str, ...]] = []
        for part in self.parts:
            if part.columns:
                found.append(part.columns)
            if part.template:
                found.extend(
                    (name,) for name in template_fields(part.template) if name != ROW_FIELD
                )
        return found

    @property
    def is_first_of(self) -> bool:
        return len(self.parts) > 1


@dataclass(frozen=True)
class WhereSpec:
    column: str
    values: frozenset[str]  # text_key()-normalised
    negate: bool
    shown: tuple[str, ...]


@dataclass(frozen=True)
class WindowsSpec:
    """Rows of a source are change events (an owner change: who holds it from a day on):
    within a group of rows with the same `by` values, a row whose `to` is blank holds until
    the day before the group's next later `from`; the group's last row stays open."""

    by: tuple[str, ...]  # contract columns that group the events (account_id, role)
    from_column: str  # the contract date column the event starts on (valid_from)
    to_column: str  # the contract date column filled with the day before the next (valid_to)


@dataclass(frozen=True)
class SourceSpec:
    file: str  # a file name or a glob pattern inside the source folder
    columns: tuple[ColumnSpec, ...]
    optional: bool = False
    where: tuple[WhereSpec, ...] = ()
    delimiter: str = ","
    encoding: str = "utf-8-sig"
    windows: WindowsSpec | None = None


@dataclass(frozen=True)
class DeriveSpec:
    sources: tuple[tuple[str, str], ...]  # (table, column) whose written values become rows
    columns: tuple[str, ...]  # contract columns that take the value


@dataclass(frozen=True)
class TableMapping:
    table: str
    sources: tuple[SourceSpec, ...] = ()
    derive: DeriveSpec | None = None

    @property
    def depends_on(self) -> set[str]:
        deps = {j.table for s in self.sources for c in s.columns for j in c.joins}
        if self.derive:
            deps |= {t for t, _ in self.derive.sources}
        return deps - {self.table}


@dataclass(frozen=True)
class Mapping:
    path: Path
    name: str
    tables: dict[str, TableMapping] = field(default_factory=dict)

    def in_processing_order(self, spec: Contract) -> list[TableMapping]:
        """Mapped tables ordered so that join targets and derive sources come first."""
        order = list(spec.tables)
        done: list[str] = []
        pending = dict(self.tables)
        while pending:
            ready = [n for n, t in pending.items() if t.depends_on <= set(done)]
            if not ready:
                raise MappingError(
                    f"mapping {self.path}: the joins of tables {sorted(pending)} depend on "
                    "each other in a cycle; break it by joining on ids in one direction only."
                )
            for name in sorted(ready, key=order.index):
                done.append(name)
                del pending[name]
        return [self.tables[n] for n in done]


def resolve_mapping_path(mapping: Path) -> Path:
    """A mapping file path, or the name of a ready mapping (salesforce, hubspot...)."""
    if mapping.exists():
        return mapping
    ready = MAPPINGS_DIR / f"{mapping.name}.yml"
    if mapping.parent == Path(".") and ready.exists():
        return ready
    if mapping.parent == Path(".") and (MAPPINGS_DIR / mapping.name).exists():
        return MAPPINGS_DIR / mapping.name
    names = ", ".join(sorted(p.stem for p in MAPPINGS_DIR.glob("*.yml")))
    raise MappingError(
        f"{mapping}: no such mapping file. Give the path of your mapping (YAML) or the name "
        f"of a ready mapping: {names}."
    )


def activity_labels(seeds_dir: Path = SEEDS_DIR) -> dict[str, str]:
    """Activity taxonomy labels ("Home visit") by text key -> activity_type ("home_visit")."""
    path = seeds_dir / "activity_taxonomy.csv"
    with path.open(newline="", encoding="utf-8") as handle:
        return {
            text_key(r["label"]): r["activity_type"].strip().lower() for r in csv.DictReader(handle)
        }


class _Checker:
    """Checks one mapping file's validated nodes against the contract and makes the specs,
    collecting every problem it finds (those of the schema included)."""

    def __init__(self, path: Path, spec: Contract) -> None:
        self.path = path
        self.contract = spec
        self.problems: list[str] = []
        self.labels = activity_labels()
        self.top = MappingFile.model_construct(tables={})
        self.listed: set[str] = set()  # the tables the file names
        self.imported: set[str] = set()  # those read from files (not derived)

    def fail(self, where: str, message: str) -> None:
        self.problems.append(f"  {where}: {message}")

    def valid(self, where: str, node: Any) -> Any:
        """The node to check further; an invalid node's errors are listed, and what is left
        of it without the keys in error (or None) is checked further."""
        if isinstance(node, Invalid):
            for error in node.errors:
                self.fail(where_in(where, error["loc"]), error["msg"])
            return node.partial
        return node

    # ---------- tables

    def mapping(self, raw: Any) -> Mapping:
        if not isinstance(raw, dict):
            raise MappingError(f"mapping {self.path}: expected a YAML mapping at the top level")
        if not isinstance(raw.get("tables"), dict) or not raw["tables"]:
            raise MappingError(f"mapping {self.path}: `tables:` is missing or empty")
        self.listed = set(raw["tables"])
        self.imported = {
            n for n, t in raw["tables"].items() if isinstance(t, dict) and "derive" not in t
        }
        top = self.valid("", keep_errors(MappingFile.model_validate, raw))
        tables: dict[str, TableMapping] = {}
        if top is not None:
            self.top = top
            for name, node in top.tables.items():
                if (table := self.table(f"tables.{name}", name, node)) is not None:
                    tables[name] = table
        if self.problems:
            raise MappingError(
                f"mapping {self.path} has {len(self.problems)} problem(s):\n"
                + "\n".join(self.problems)
                + "\nFix them (docs/import.md describes the format) and run the import again."
            )
        return Mapping(path=self.path, name=self.top.name or self.path.stem, tables=tables)

    def table(self, where: str, name: str, node: Any) -> TableMapping | None:
        if name not in self.contract.tables:
            self.fail(where, f"not a contract table; tables: {', '.join(self.contract.tables)}")
            return None
        table = self.contract.tables[name]
        node = self.valid(where, node)
        if isinstance(node, DerivedTable):
            return TableMapping(table=name, derive=self.derive(f"{where}.derive", table,
                                                               node.derive))
        if isinstance(node, SourcesTable):
            items = [(f"{where}.sources[{i}]", s) for i, s in enumerate(node.sources)]
        elif isinstance(node, SourceNode):
            items = [(where, node)]
        else:
            return None
        sources = tuple(s for at, item in items if (s := self.source(at, table, item)))
        return TableMapping(table=name, sources=sources)

    def source(self, where: str, table: Table, node: Any) -> SourceSpec | None:
        node = self.valid(where, node)
        if node is None:
            return None
        columns = tuple(
            spec
            for name, column in node.columns.items()
            if (spec := self.column(f"{where}.columns.{name}", table, name, column))
        )
        for required in table.needed_columns:
            if required not in node.columns:
                self.fail(
                    f"{where}.columns",
                    f"{table.name}.{required} is required by the "
                    "contract: map it from a column, a constant ({value: ...}) or a default",
                )
        windows = node.windows and self.windows(
            f"{where}.windows", table, node.windows, set(node.columns)
        )
        return SourceSpec(
            file=node.file,
            columns=columns,
            optional=node.optional,
            where=tuple(
                WhereSpec(column=column, values=frozenset(text_key(v) for v in values),
                          negate=negate, shown=values)
                for column, (negate, values) in node.where.items()
            ),
            delimiter=node.delimiter or self.top.delimiter,
            encoding=self.top.encoding if node.encoding is None else node.encoding,
            windows=windows,
        )

    def windows(self, where: str, table: Table, node: WindowsNode, mapped: set[str]) -> WindowsSpec:
        for column in node.by:
            if column not in table.columns:
                self.fail(f"{where}.by", f"{table.name} has no column {column!r}")
            elif column not in mapped:
                self.fail(f"{where}.by", f"{column} is not mapped in this source")
        for key, column in (("from", node.from_), ("to", node.to)):
            if column not in table.columns:
                self.fail(f"{where}.{key}", f"a column of {table.name}, not {column!r}")
            elif table.columns[column].type != "date":
                self.fail(f"{where}.{key}",
                          f"{column} is a {table.columns[column].type}, not a date")
        if node.from_ not in mapped:
            self.fail(f"{where}.from", f"{node.from_} is not mapped in this source")
        if node.from_ == node.to:
            self.fail(f"{where}.to", "a column other than `from`")
        return WindowsSpec(by=node.by, from_column=node.from_, to_column=node.to)

    def derive(self, where: str, table: Table, node: DeriveNode) -> DeriveSpec:
        sources = []
        for i, item in enumerate(node.from_):
            t, c = item.table, item.column
            if t not in self.contract.tables or c not in self.contract.tables[t].columns:
                self.fail(f"{where}.from[{i}]", f"{t}.{c} is not a contract column")
            elif t not in self.listed:
                self.fail(f"{where}.from[{i}]", f"{t} is not imported by this mapping")
            else:
                sources.append((t, c))
        for column in node.columns:
            if column not in table.columns:
                self.fail(f"{where}.columns", f"{table.name} has no column {column!r}")
        if len(table.primary_key) != 1 or table.primary_key[0] not in node.columns:
            self.fail(f"{where}.columns", f"must include the key {', '.join(table.primary_key)}")
        missing = [c for c in table.required_columns if c not in node.columns]
        if missing:
            self.fail(f"{where}.columns", f"must include the required {', '.join(missing)}")
        if not sources:
            self.fail(f"{where}.from", "name at least one table.column to derive rows from")
        return DeriveSpec(sources=tuple(sources), columns=node.columns)

    # ---------- columns

    def column(self, where: str, table: Table, name: str, node: Any) -> ColumnSpec | None:
        if name not in table.columns:
            self.fail(where, f"{table.name} has no column {name!r}; "
                             f"its columns: {', '.join(table.columns)}")
            return None
        node = self.valid(where, node)
        if node is None:
            return None
        target = table.columns[name]
        self.fits_type(where, target, node)
        joins = tuple(j for i, item in enumerate(node.join)
                      if (j := self.join(f"{where}.join[{i}]", item)))
        if node.on_unmatched == "blank" and node.join and target.required:
            self.fail(
                f"{where}.on_unmatched",
                f"{target.name} is required: a blank would only "
                "move the row to the build's quarantine; keep `quarantine`",
            )
        id_format = node.id_format or (self.top.id_format if name.endswith("_id") else None)
        numeric = node.decimal_separator is not None or node.scale is not None
        return ColumnSpec(
            target=name,
            contract_type=target.type,
            parts=tuple(Part(columns=p.column or (), template=p.template, value=p.value)
                        for p in node.parts),
            optional=node.optional,
            split=node.split,
            take_first=node.take,
            id_format=None if id_format == "none" else id_format,
            value_map=None if node.map is None else self.value_map(f"{where}.map", target,
                                                                     node.map),
            unmapped=node.unmapped or "quarantine",
            date_formats=(node.date or self.top.date_format)
            if target.type in ("date", "timestamp") else (),
            decimal_separator=(node.decimal_separator or ".") if numeric else None,
            scale=node.scale,
            joins=joins,
            on_unmatched=node.on_unmatched or "quarantine",
            default=node.default,
        )

    def fits_type(self, where: str, target: Column, node: ColumnNode) -> None:
        """Date formats for dates only, decimal separator and scale for numbers only."""
        if node.date is not None and target.type not in ("date", "timestamp"):
            self.fail(f"{where}.date", f"{target.name} is a {target.type}, not a date")
        numeric = node.decimal_separator is not None or node.scale is not None
        if numeric and target.type not in ("decimal", "integer"):
            self.fail(
                where,
                f"decimal_separator/scale apply to numbers; {target.name} is a {target.type}",
            )

    def join(self, where: str, node: Any) -> JoinSpec | None:
        node = self.valid(where, node)
        if node is None:
            return None
        if node.table not in self.contract.tables:
            self.fail(f"{where}.table", f"{node.table!r} is not a contract table")
            return None
        target = self.contract.tables[node.table]
        if node.table not in self.imported:
            self.fail(
                f"{where}.table",
                f"joins look rows up in an imported table; {node.table!r} "
                "is not imported from a file by this mapping",
            )
        for column in node.by:
            if column not in target.columns:
                self.fail(f"{where}.by", f"{node.table} has no column {column!r}")
        returns = node.returns
        if returns is None and len(target.primary_key) == 1:
            returns = target.primary_key[0]
        if returns not in target.columns:
            self.fail(f"{where}.return", f"{node.table} has no column {returns!r}")
        return JoinSpec(table=node.table, by=node.by, returns=str(returns), fuzzy=node.fuzzy,
                        threshold=node.threshold)

    def value_map(self, where: str, target: Column, pairs: dict[str, str]) -> dict[str, str]:
        result: dict[str, str] = {}
        if target.allowed is not None:  # contract values map to themselves
            result.update({text_key(v): v for v in target.allowed})
            if target.name in ("activity_type", "planned_activity_type"):
                result.update(self.labels)
        for key, value in pairs.items():
            out = value.strip()
            if out and target.allowed is not None:
                out = {"lower": out.lower(), "upper": out.upper()}.get(target.case or "", out)
                if out not in target.allowed:
                    self.fail(
                        f"{where}.{key}",
                        f"{value.strip()!r} is not allowed for {target.name}; "
                        f"use one of {', '.join(target.allowed)} (or '' for no value)",
                    )
                    continue
            result[text_key(key)] = out
        return result


def load_mapping(path: Path, spec: Contract) -> Mapping:
    """Read and check a mapping file; MappingError lists every problem found."""
    path = resolve_mapping_path(Path(path))
    try:
        raw = yaml.load(path.read_text(encoding="utf-8"), Loader=_TextLoader)
    except yaml.YAMLError as exc:
        raise MappingError(f"mapping {path}: not valid YAML ({exc})") from None
    mapping = _Checker(path, spec).mapping(raw)
    mapping.in_processing_order(spec)  # raises on a join cycle
    return mapping

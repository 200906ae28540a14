"""Mapping files: load a YAML mapping, check it against the contract, return typed specs.

The format is documented in docs/import.md and, with comments, in
rapport/mappings/example-commented.yml. Every error names the mapping file and the path
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
from rapport.importer.values import DATE_FORMATS, ID_FORMATS, text_key
from rapport.paths import SEEDS_DIR

MAPPING_VERSION = "1"
MAPPINGS_DIR = Path(__file__).resolve().parents[1] / "mappings"
UNMAPPED_POLICIES = ("quarantine", "pass", "blank")
UNMATCHED_POLICIES = ("quarantine", "blank")
ROW_FIELD = "_row"  # in a template: the source row number (1 = first data row)
MIN_FUZZY_THRESHOLD = 0.8
DEFAULT_FUZZY_THRESHOLD = 0.9


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


def template_fields(template: str) -> list[str]:
    """Column names inside {braces} of a template."""
    names, depth, current = [], 0, ""
    for ch in template:
        if ch == "{":
            depth, current = depth + 1, ""
        elif ch == "}" and depth:
            depth -= 1
            names.append(current)
        elif depth:
            current += ch
    return names


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
    """Reads one mapping file's YAML into specs, collecting every problem it finds."""

    def __init__(self, path: Path, spec: Contract) -> None:
        self.path = path
        self.contract = spec
        self.problems: list[str] = []

    def fail(self, where: str, message: str) -> None:
        self.problems.append(f"  {where}: {message}")

    # ---------- scalars

    def text(self, where: str, value: Any, allow_empty: bool = True) -> str | None:
        if isinstance(value, str) and (allow_empty or value.strip()):
            return value
        self.fail(where, f"expected a text value, got {value!r}")
        return None

    def flag(self, where: str, value: Any) -> bool:
        if isinstance(value, str) and value.strip().lower() in ("true", "false", "yes", "no"):
            return value.strip().lower() in ("true", "yes")
        self.fail(where, f"expected true or false, got {value!r}")
        return False

    def names(self, where: str, value: Any) -> tuple[str, ...]:
        if isinstance(value, str) and value.strip():
            return (value.strip(),)
        if (
            isinstance(value, list)
            and value
            and all(isinstance(v, str) and v.strip() for v in value)
        ):
            return tuple(v.strip() for v in value)
        self.fail(where, f"expected a column name or a list of names, got {value!r}")
        return ()

    def keys(self, where: str, node: dict, allowed: set[str]) -> None:
        for key in node:
            if key not in allowed:
                self.fail(
                    f"{where}.{key}", f"unknown key; allowed here: {', '.join(sorted(allowed))}"
                )

    # ---------- column specs

    def part(self, where: str, item: Any) -> Part | None:
        if isinstance(item, (str, list)):
            return Part(columns=self.names(where, item))
        if isinstance(item, dict) and len(item) == 1:
            ((key, value),) = item.items()
            if key == "column":
                return Part(columns=self.names(where, value))
            if key == "template":
                text = self.text(where, value, allow_empty=False)
                if text is not None and not template_fields(text):
                    self.fail(
                        where, "a template names columns in braces, e.g. '{FirstName} {LastName}'"
                    )
                return Part(template=text)
            if key == "value":
                return Part(value=self.text(where, value))
        self.fail(where, "expected a column name, {column: ...}, {template: ...} or {value: ...}")
        return None

    def date_formats(self, where: str, value: Any) -> tuple[str, ...]:
        formats = (
            (value,) if isinstance(value, str) else tuple(value) if isinstance(value, list) else ()
        )
        if not formats or not all(isinstance(f, str) for f in formats):
            self.fail(where, f"expected a date format or a list of them, got {value!r}")
            return ()
        for fmt in formats:
            if fmt not in DATE_FORMATS and "%" not in fmt:
                self.fail(
                    where,
                    f"unknown date format {fmt!r}; use one of "
                    f"{', '.join(DATE_FORMATS)} or a strptime pattern such as '%d.%m.%Y'",
                )
        if "day_first" in formats and "month_first" in formats:
            self.fail(
                where,
                "day_first and month_first together would guess: 03/04/2025 "
                "reads both ways. Declare the one your export uses.",
            )
        return formats

    def join(self, where: str, node: Any, mapped: dict[str, Any]) -> JoinSpec | None:
        if not isinstance(node, dict):
            self.fail(where, "expected {table: ..., by: ...}")
            return None
        self.keys(where, node, {"table", "by", "return", "fuzzy", "threshold"})
        table = node.get("table")
        if table not in self.contract.tables:
            self.fail(f"{where}.table", f"{table!r} is not a contract table")
            return None
        target = self.contract.tables[table]
        if table not in mapped or not isinstance(mapped[table], dict) or "derive" in mapped[table]:
            self.fail(
                f"{where}.table",
                f"joins look rows up in an imported table; {table!r} "
                "is not imported from a file by this mapping",
            )
        by = self.names(f"{where}.by", node.get("by", ""))
        for column in by:
            if column not in target.columns:
                self.fail(f"{where}.by", f"{table} has no column {column!r}")
        if len(target.primary_key) == 1:
            returns = node.get("return", target.primary_key[0])
        else:
            returns = node.get("return")
        if returns not in target.columns:
            self.fail(f"{where}.return", f"{table} has no column {returns!r}")
        fuzzy = self.flag(f"{where}.fuzzy", node["fuzzy"]) if "fuzzy" in node else False
        threshold = DEFAULT_FUZZY_THRESHOLD
        if "threshold" in node:
            try:
                threshold = float(node["threshold"])
            except (TypeError, ValueError):
                threshold = -1.0
            if not MIN_FUZZY_THRESHOLD <= threshold <= 1.0:
                self.fail(
                    f"{where}.threshold",
                    f"a similarity between {MIN_FUZZY_THRESHOLD} "
                    "and 1.0 (1.0 = only case, space and accent differences)",
                )
        return JoinSpec(table=table, by=by, returns=str(returns), fuzzy=fuzzy, threshold=threshold)

    def column(
        self,
        where: str,
        target: Column,
        node: Any,
        defaults: dict[str, Any],
        mapped: dict[str, Any],
        labels: dict[str, str],
    ) -> ColumnSpec | None:
        if isinstance(node, (str, list)):
            node = {"column": node}
        if not isinstance(node, dict):
            self.fail(where, "expected a source column name or a column spec (a mapping)")
            return None
        self.keys(
            where,
            node,
            {
                "column",
                "first_of",
                "template",
                "value",
                "optional",
                "split",
                "take",
                "id_format",
                "map",
                "unmapped",
                "date",
                "decimal_separator",
                "scale",
                "join",
                "on_unmatched",
                "default",
                "description",
            },
        )
        forms = [k for k in ("column", "first_of", "template", "value") if k in node]
        parts: list[Part] = []
        if len(forms) > 1:
            self.fail(
                where, f"give one of column, first_of, template, value (found {', '.join(forms)})"
            )
        elif forms == ["first_of"]:
            items = node["first_of"]
            if not isinstance(items, list) or len(items) < 2:
                self.fail(f"{where}.first_of", "a list of at least two columns/templates/values")
            else:
                parts = [
                    p
                    for i, item in enumerate(items)
                    if (p := self.part(f"{where}.first_of[{i}]", item)) is not None
                ]
        elif forms:
            part = self.part(where, {forms[0]: node[forms[0]]})
            parts = [part] if part else []
        elif "default" not in node:
            self.fail(where, "no source: give column, first_of, template, value or a default")

        spec: dict[str, Any] = {
            "target": target.name,
            "contract_type": target.type,
            "parts": tuple(parts),
        }
        if "optional" in node:
            spec["optional"] = self.flag(f"{where}.optional", node["optional"])
        if "split" in node:
            spec["split"] = self.text(f"{where}.split", node["split"], allow_empty=False)
        if "take" in node:
            if node["take"] != "first" or "split" not in node:
                self.fail(f"{where}.take", "only `take: first`, and only together with split")
            spec["take_first"] = True
        id_format = node.get(
            "id_format", defaults.get("id_format") if target.name.endswith("_id") else None
        )
        if id_format is not None and id_format not in ID_FORMATS:
            self.fail(f"{where}.id_format", f"one of {', '.join(ID_FORMATS)}")
        spec["id_format"] = None if id_format in (None, "none") else id_format
        if "map" in node:
            spec["value_map"] = self.value_map(f"{where}.map", target, node["map"], labels)
        if "unmapped" in node:
            if node["unmapped"] not in UNMAPPED_POLICIES:
                self.fail(f"{where}.unmapped", f"one of {', '.join(UNMAPPED_POLICIES)}")
            elif "map" not in node:
                self.fail(f"{where}.unmapped", "only meaningful with a map")
            spec["unmapped"] = node["unmapped"]
        if target.type in ("date", "timestamp"):
            spec["date_formats"] = self.date_formats(
                f"{where}.date", node.get("date", defaults["date"])
            )
        elif "date" in node:
            self.fail(f"{where}.date", f"{target.name} is a {target.type}, not a date")
        if "decimal_separator" in node or "scale" in node:
            if target.type not in ("decimal", "integer"):
                self.fail(
                    where,
                    f"decimal_separator/scale apply to numbers; {target.name} is a {target.type}",
                )
            sep = node.get("decimal_separator", ".")
            if sep not in (".", ","):
                self.fail(f"{where}.decimal_separator", "'.' or ','")
            spec["decimal_separator"] = sep
            if "scale" in node:
                try:
                    float(node["scale"])
                    spec["scale"] = str(node["scale"])
                except (TypeError, ValueError):
                    self.fail(f"{where}.scale", f"a number such as 0.01, got {node['scale']!r}")
        if "join" in node:
            joins = node["join"] if isinstance(node["join"], list) else [node["join"]]
            spec["joins"] = tuple(
                j
                for i, item in enumerate(joins)
                if (j := self.join(f"{where}.join[{i}]", item, mapped)) is not None
            )
        if "on_unmatched" in node:
            if node["on_unmatched"] not in UNMATCHED_POLICIES:
                self.fail(f"{where}.on_unmatched", f"one of {', '.join(UNMATCHED_POLICIES)}")
            elif "join" not in node:
                self.fail(f"{where}.on_unmatched", "only meaningful with a join")
            elif node["on_unmatched"] == "blank" and target.required:
                self.fail(
                    f"{where}.on_unmatched",
                    f"{target.name} is required: a blank would only "
                    "move the row to the build's quarantine; keep `quarantine`",
                )
            spec["on_unmatched"] = node["on_unmatched"]
        if "default" in node:
            spec["default"] = self.text(f"{where}.default", node["default"])
        return ColumnSpec(**spec)

    def value_map(
        self, where: str, target: Column, node: Any, labels: dict[str, str]
    ) -> dict[str, str]:
        if not isinstance(node, dict) or not node:
            self.fail(where, "expected source value: contract value pairs")
            return {}
        result: dict[str, str] = {}
        if target.allowed is not None:  # contract values map to themselves
            result.update({text_key(v): v for v in target.allowed})
            if target.name in ("activity_type", "planned_activity_type"):
                result.update(labels)
        for key, value in node.items():
            if not isinstance(key, str) or not isinstance(value, str):
                self.fail(f"{where}.{key}", "source values and contract values are text")
                continue
            out = value.strip()
            if out and target.allowed is not None:
                normal = (
                    out.lower()
                    if target.case == "lower"
                    else out.upper()
                    if target.case == "upper"
                    else out
                )
                if normal not in target.allowed:
                    self.fail(
                        f"{where}.{key}",
                        f"{out!r} is not allowed for {target.name}; "
                        f"use one of {', '.join(target.allowed)} (or '' for no value)",
                    )
                    continue
                out = normal
            result[text_key(key)] = out
        return result

    def where(self, where: str, node: Any) -> tuple[WhereSpec, ...]:
        if not isinstance(node, dict):
            self.fail(where, "expected column: [values] or column: {not: [values]}")
            return ()
        found = []
        for column, rule in node.items():
            negate = isinstance(rule, dict)
            values = rule.get("not") if negate else rule
            if isinstance(values, str):
                values = [values]
            if negate and set(rule) != {"not"} or not isinstance(values, list):
                self.fail(f"{where}.{column}", "expected [values] or {not: [values]}")
                continue
            found.append(
                WhereSpec(
                    column=column,
                    values=frozenset(text_key(str(v)) for v in values),
                    negate=negate,
                    shown=tuple(str(v) for v in values),
                )
            )
        return tuple(found)

    def windows(self, where: str, table: Table, node: Any, mapped: set[str]) -> WindowsSpec | None:
        if not isinstance(node, dict) or set(node) - {"by", "from", "to", "description"}:
            self.fail(where, "expected {by: [columns], from: <date column>, to: <date column>}")
            return None
        by = self.names(f"{where}.by", node.get("by", ""))
        for column in by:
            if column not in table.columns:
                self.fail(f"{where}.by", f"{table.name} has no column {column!r}")
            elif column not in mapped:
                self.fail(f"{where}.by", f"{column} is not mapped in this source")
        ends = {}
        for key in ("from", "to"):
            column = node.get(key)
            if not isinstance(column, str) or column not in table.columns:
                self.fail(f"{where}.{key}", f"a column of {table.name}, not {column!r}")
            elif table.columns[column].type != "date":
                self.fail(f"{where}.{key}", f"{column} is a {table.columns[column].type}, "
                          "not a date")
            ends[key] = column if isinstance(column, str) else ""
        if ends["from"] and ends["from"] not in mapped:
            self.fail(f"{where}.from", f"{ends['from']} is not mapped in this source")
        if ends["from"] and ends["from"] == ends["to"]:
            self.fail(f"{where}.to", "a column other than `from`")
        return WindowsSpec(by=by, from_column=ends["from"], to_column=ends["to"])

    # ---------- tables

    def source(
        self,
        where: str,
        table: Table,
        node: Any,
        defaults: dict[str, Any],
        mapped: dict[str, Any],
        labels: dict[str, str],
    ) -> SourceSpec | None:
        if not isinstance(node, dict):
            self.fail(where, "expected {file: ..., columns: {...}}")
            return None
        self.keys(
            where,
            node,
            {"file", "optional", "where", "windows", "columns", "delimiter", "encoding",
             "description"},
        )
        file = self.text(f"{where}.file", node.get("file"), allow_empty=False)
        columns_node = node.get("columns")
        if not isinstance(columns_node, dict) or not columns_node:
            self.fail(f"{where}.columns", "expected contract column: source pairs")
            columns_node = {}
        columns = []
        for name, col_node in columns_node.items():
            if name not in table.columns:
                self.fail(
                    f"{where}.columns.{name}",
                    f"{table.name} has no column {name!r}; its columns: {', '.join(table.columns)}",
                )
                continue
            spec = self.column(
                f"{where}.columns.{name}", table.columns[name], col_node, defaults, mapped, labels
            )
            if spec is not None:
                columns.append(spec)
        for required in table.needed_columns:
            if required not in columns_node:
                self.fail(
                    f"{where}.columns",
                    f"{table.name}.{required} is required by the "
                    "contract: map it from a column, a constant ({value: ...}) or a default",
                )
        delimiter = node.get("delimiter", defaults["delimiter"])
        if not isinstance(delimiter, str) or len(delimiter.replace("\\t", "\t")) != 1:
            self.fail(f"{where}.delimiter", "one character, e.g. ',' or ';' ('\\t' for tabs)")
            delimiter = ","
        return SourceSpec(
            file=file or "",
            columns=tuple(columns),
            optional=self.flag(f"{where}.optional", node["optional"])
            if "optional" in node
            else False,
            where=self.where(f"{where}.where", node["where"]) if "where" in node else (),
            delimiter=delimiter.replace("\\t", "\t"),
            encoding=str(node.get("encoding", defaults["encoding"])),
            windows=self.windows(f"{where}.windows", table, node["windows"],
                                 set(columns_node)) if "windows" in node else None,
        )

    def derive(
        self, where: str, table: Table, node: Any, mapped: dict[str, Any]
    ) -> DeriveSpec | None:
        if not isinstance(node, dict) or set(node) - {"from", "columns", "description"}:
            self.fail(where, "expected {from: [{table: ..., column: ...}], columns: [...]}")
            return None
        sources = []
        for i, item in enumerate(node.get("from") or []):
            t, c = (
                (item.get("table"), item.get("column")) if isinstance(item, dict) else (None, None)
            )
            if t not in self.contract.tables or c not in self.contract.tables[t].columns:
                self.fail(f"{where}.from[{i}]", f"{t}.{c} is not a contract column")
            elif t not in mapped:
                self.fail(f"{where}.from[{i}]", f"{t} is not imported by this mapping")
            else:
                sources.append((t, c))
        columns = self.names(f"{where}.columns", node.get("columns", ""))
        for column in columns:
            if column not in table.columns:
                self.fail(f"{where}.columns", f"{table.name} has no column {column!r}")
        if len(table.primary_key) != 1 or table.primary_key[0] not in columns:
            self.fail(f"{where}.columns", f"must include the key {', '.join(table.primary_key)}")
        missing = [c for c in table.required_columns if c not in columns]
        if missing:
            self.fail(f"{where}.columns", f"must include the required {', '.join(missing)}")
        if not sources:
            self.fail(f"{where}.from", "name at least one table.column to derive rows from")
        return DeriveSpec(sources=tuple(sources), columns=columns)

    def mapping(self, raw: Any) -> Mapping:
        if not isinstance(raw, dict):
            raise MappingError(f"mapping {self.path}: expected a YAML mapping at the top level")
        self.keys(
            "(top level)",
            raw,
            {
                "mapping_version",
                "name",
                "description",
                "encoding",
                "delimiter",
                "date_format",
                "id_format",
                "tables",
            },
        )
        if raw.get("mapping_version") != MAPPING_VERSION:
            self.fail(
                "mapping_version",
                f"must be {MAPPING_VERSION} (found {raw.get('mapping_version')!r})",
            )
        defaults = {
            "encoding": raw.get("encoding", "utf-8-sig"),
            "delimiter": raw.get("delimiter", ","),
            "date": raw.get("date_format", "iso"),
            "id_format": raw.get("id_format"),
        }
        if defaults["id_format"] is not None and defaults["id_format"] not in ID_FORMATS:
            self.fail("id_format", f"one of {', '.join(ID_FORMATS)}")
        mapped = raw.get("tables")
        if not isinstance(mapped, dict) or not mapped:
            raise MappingError(f"mapping {self.path}: `tables:` is missing or empty")
        labels = activity_labels()
        tables: dict[str, TableMapping] = {}
        for name, node in mapped.items():
            where = f"tables.{name}"
            if name not in self.contract.tables:
                self.fail(where, f"not a contract table; tables: {', '.join(self.contract.tables)}")
                continue
            table = self.contract.tables[name]
            if not isinstance(node, dict):
                self.fail(where, "expected sources: [...], or file: + columns:, or derive:")
                continue
            if "derive" in node:
                self.keys(where, node, {"derive", "description"})
                derive = self.derive(f"{where}.derive", table, node["derive"], mapped)
                tables[name] = TableMapping(table=name, derive=derive)
                continue
            if "sources" in node:
                self.keys(where, node, {"sources", "description"})
                items = node["sources"] if isinstance(node["sources"], list) else []
                if not items:
                    self.fail(f"{where}.sources", "a list of {file: ..., columns: ...}")
            else:
                items = [{k: v for k, v in node.items() if k != "description"}]
            sources = tuple(
                s
                for i, item in enumerate(items)
                if (
                    s := self.source(
                        f"{where}.sources[{i}]" if "sources" in node else where,
                        table,
                        item,
                        defaults,
                        mapped,
                        labels,
                    )
                )
                is not None
            )
            tables[name] = TableMapping(table=name, sources=sources)
        if self.problems:
            raise MappingError(
                f"mapping {self.path} has {len(self.problems)} problem(s):\n"
                + "\n".join(self.problems)
                + "\nFix them (docs/import.md describes the format) and run the import again."
            )
        return Mapping(path=self.path, name=str(raw.get("name", self.path.stem)), tables=tables)


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

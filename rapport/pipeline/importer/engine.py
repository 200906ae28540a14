"""Turn export files into contract rows through a mapping, accounting for every input row.

Each input row of each (source file, table) pair ends in exactly one of two places:
- written: a row of the contract table (values still judged later by the build's gate);
- quarantined: a row of the import quarantine, with every reason the mapping could not
  place it (reason codes in REASONS).
So, per source file and table: rows read = rows written + rows quarantined.
"""

from __future__ import annotations

import json
from bisect import bisect_right
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path

from rapport.contract import Contract, Table
from rapport.pipeline.importer.joins import Match, Miss, TableIndex, look_up
from rapport.pipeline.importer.mapping import (
    ROW_FIELD,
    ColumnSpec,
    Mapping,
    MappingError,
    SourceSpec,
    TableMapping,
    WindowsSpec,
    template_fields,
)
from rapport.pipeline.importer.sources import SourceFile, find_file, read_source
from rapport.pipeline.importer.values import (
    fuzzy_key,
    normalise_id,
    parse_date_text,
    scale_number,
    suggest_date_formats,
    text_key,
)

REASONS = {
    "blank_key": "a primary-key column is empty after mapping",
    "duplicate_key": "the same primary key as an earlier written row (the first is kept)",
    "unmatched_join": "a name or id to look up was not found in the table it refers to",
    "ambiguous_match": "a name to look up matches several rows; nothing is guessed",
    "unmapped_value": "a value the column's map does not list (add it to the map)",
    "unparseable_date": "a date or time that does not parse in the declared format",
    "multiple_values": "a list of several values where the column takes one",
    "excluded_by_where": "the mapping's `where:` filter leaves the row out on purpose",
}
EXAMPLES_PER_REASON = 3


@dataclass(frozen=True)
class Problem:
    code: str
    column: str  # contract column, or "" for row-level problems
    detail: str

    def __str__(self) -> str:
        return f"{self.code}:{self.detail}"


@dataclass
class QuarantinedRow:
    source_file: str
    source_row: int
    table: str
    problems: list[Problem]
    raw: dict[str, str]
    values: dict[str, str]

    @property
    def reasons(self) -> str:
        return ",".join(sorted({p.code for p in self.problems}))

    @property
    def detail(self) -> str:
        return "; ".join(str(p) for p in self.problems)


@dataclass
class SourceCounts:
    table: str
    file: str
    read: int = 0
    written: int = 0
    quarantined: int = 0
    blank_lines: int = 0
    by_reason: Counter = field(default_factory=Counter)
    examples: dict[str, list[dict]] = field(default_factory=dict)
    status: str = "imported"  # imported | missing_optional_file | derived
    note: str = ""


@dataclass
class TableOutcome:
    table: str
    status: str  # imported | derived | empty_required | not_mapped
    columns: list[str]
    rows: list[dict[str, str]] = field(default_factory=list)
    lineage: list[tuple[str, int]] = field(default_factory=list)
    sources: list[SourceCounts] = field(default_factory=list)
    defaults: Counter = field(default_factory=Counter)
    blanked: dict[str, list[str]] = field(default_factory=dict)
    first_taken: Counter = field(default_factory=Counter)
    windows_closed: Counter = field(default_factory=Counter)
    unmapped_columns: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class FuzzyMatch:
    table: str
    column: str
    file: str
    row: int
    value: str
    matched: str
    target: str
    kind: str
    score: float


@dataclass
class ImportOutcome:
    mapping: Mapping
    source_dir: Path
    tables: dict[str, TableOutcome]
    quarantine: list[QuarantinedRow]
    fuzzy_matches: list[FuzzyMatch]
    unused_files: list[str]


class _RowNotes:
    """What happened to a row's values besides plain copying (kept only if it is written)."""

    def __init__(self) -> None:
        self.defaults: list[str] = []
        self.blanked: list[tuple[str, str]] = []
        self.first_taken: list[str] = []
        self.fuzzy: list[tuple[str, str, Match]] = []


class Importer:
    def __init__(self, mapping: Mapping, source_dir: Path, spec: Contract) -> None:
        self.mapping = mapping
        self.source_dir = Path(source_dir)
        self.contract = spec
        self.outcomes: dict[str, TableOutcome] = {}
        self.indexes: dict[str, TableIndex] = {}
        self.quarantine: list[QuarantinedRow] = []
        self.fuzzy: list[FuzzyMatch] = []
        self._files: dict[tuple[Path, str, str], SourceFile] = {}
        self._used: set[str] = set()
        self._quarantined_values: dict[str, list[QuarantinedRow]] = {}

    # ---------- files

    def _open(self, source: SourceSpec, table: str) -> SourceFile | None:
        path = find_file(self.source_dir, source.file)
        if path is None:
            if source.optional:
                return None
            present = ", ".join(sorted(p.name for p in self.source_dir.iterdir() if p.is_file()))
            raise MappingError(
                f"{self.source_dir}: no file {source.file!r}, which the mapping needs for table "
                f"{table!r}. Files there: {present or 'none'}. Add the export, or rename it as "
                "the mapping expects."
            )
        key = (path, source.delimiter, source.encoding)
        if key not in self._files:
            self._files[key] = read_source(path, source.delimiter, source.encoding)
        self._used.add(path.name)
        return self._files[key]

    def _check_header(
        self, data: SourceFile, source: SourceSpec, table: str
    ) -> dict[tuple[str, ...], str | None]:
        resolved: dict[tuple[str, ...], str | None] = {}
        missing: list[str] = []
        for spec in source.columns:
            needed = spec.source_columns
            found = {alts: data.resolve(alts) for alts in needed}
            resolved.update(found)
            absent = [" or ".join(alts) for alts, name in found.items() if name is None]
            if not absent or spec.optional:
                continue
            if spec.is_first_of and any(found.values()):
                continue
            missing.append(f"{', '.join(absent)} (for {table}.{spec.target})")
        for rule in source.where:
            name = data.resolve((rule.column,))
            resolved[(rule.column,)] = name
            if name is None:
                missing.append(f"{rule.column} (in where:)")
        if missing:
            raise MappingError(
                f"{data.path}: column(s) missing: {'; '.join(missing)}. The header has: "
                f"{', '.join(data.header)}. Export these fields, or change the mapping "
                "(mark custom fields `optional: true`)."
            )
        return resolved

    # ---------- values

    def _read_part(
        self,
        spec: ColumnSpec,
        row: list[str],
        number: int,
        data: SourceFile,
        resolved: dict[tuple[str, ...], str | None],
    ) -> tuple[str, str]:
        """(value, where it came from) of the first part that is not blank."""
        for part in spec.parts:
            if part.value is not None:
                return part.value.strip(), "constant"
            if part.columns:
                name = resolved.get(part.columns)
                value = data.value(row, name).strip() if name else ""
                if value:
                    return value, name or ""
            if part.template:
                cells = {}
                for name in template_fields(part.template):
                    if name != ROW_FIELD:
                        header = resolved.get((name,))
                        cells[name] = data.value(row, header).strip() if header else ""
                if any(cells.values()) or not cells:  # a template of {_row} alone always fills
                    cells[ROW_FIELD] = str(number)
                    text = part.template
                    for name, cell in cells.items():
                        text = text.replace("{" + name + "}", cell)
                    return " ".join(text.split()), part.template
        return "", ""

    def _evaluate(
        self,
        spec: ColumnSpec,
        row: list[str],
        number: int,
        data: SourceFile,
        resolved: dict[tuple[str, ...], str | None],
        notes: _RowNotes,
        problems: list[Problem],
    ) -> str:
        value, origin = self._read_part(spec, row, number, data, resolved)
        shown = (
            f"{spec.target}<-{origin}={value!r}" if origin and origin != "constant" else spec.target
        )
        if value and spec.split:
            items = [v.strip() for v in value.split(spec.split) if v.strip()]
            if len(items) > 1 and spec.take_first:
                notes.first_taken.append(spec.target)
            elif len(items) > 1:
                problems.append(
                    Problem(
                        "multiple_values",
                        spec.target,
                        f"{shown} holds {len(items)} values; the column takes one "
                        "(add `take: first` to take the first)",
                    )
                )
                return ""
            value = items[0] if items else ""
        if value and spec.id_format:
            value = normalise_id(value, spec.id_format)
        if value and spec.value_map is not None:
            key = text_key(value)
            if key in spec.value_map:
                value = spec.value_map[key]
            elif spec.unmapped == "quarantine":
                problems.append(
                    Problem(
                        "unmapped_value",
                        spec.target,
                        f"{shown} is not in the map; add it to the map in the mapping file",
                    )
                )
                return ""
            elif spec.unmapped == "blank":
                notes.blanked.append((spec.target, f"{shown} not in the map"))
                value = ""
        if value and spec.date_formats:
            parsed = parse_date_text(value, spec.date_formats, spec.contract_type)
            if parsed is None:
                hint = suggest_date_formats(value)
                problems.append(
                    Problem(
                        "unparseable_date",
                        spec.target,
                        f"{shown} is not a date in format {'/'.join(spec.date_formats)}"
                        + (f" (it reads as {' or '.join(repr(h) for h in hint)}: set that "
                           "as the column's date_format)" if hint else ""),
                    )
                )
                return ""
            value = parsed
        if value and spec.decimal_separator:
            value = scale_number(value, spec.decimal_separator, spec.scale) or value
        if value and spec.joins:
            found = look_up(value, spec.joins, self.indexes)
            if isinstance(found, Miss):
                detail = found.detail + self._quarantined_hint(spec, value)
                if found.ambiguous:
                    problems.append(Problem("ambiguous_match", spec.target, f"{shown}: {detail}"))
                    return ""
                if spec.on_unmatched == "quarantine":
                    problems.append(Problem("unmatched_join", spec.target, f"{shown}: {detail}"))
                    return ""
                notes.blanked.append((spec.target, f"{shown}: {detail}"))
                value = ""
            else:
                if found.kind != "exact":
                    notes.fuzzy.append((spec.target, value, found))
                value = found.value
        if not value and spec.default is not None:
            value = spec.default
            if value:
                notes.defaults.append(spec.target)
        return value

    def _quarantined_hint(self, spec: ColumnSpec, value: str) -> str:
        for join in spec.joins:
            for row in self._quarantined_values.get(join.table, []):
                if any(row.values.get(c) == value for c in join.by):
                    return (
                        f" (the {join.table} row with it was quarantined by this import: "
                        f"{row.source_file} row {row.source_row}, {row.reasons})"
                    )
        return ""

    # ---------- tables

    def _import_source(
        self,
        table: Table,
        source: SourceSpec,
        outcome: TableOutcome,
        seen: dict[tuple[str, ...], tuple[str, int]],
    ) -> None:
        data = self._open(source, table.name)
        if data is None:
            outcome.sources.append(
                SourceCounts(
                    table=table.name,
                    file=source.file,
                    status="missing_optional_file",
                    note=f"{source.file} not in the export folder (optional): nothing read",
                )
            )
            return
        resolved = self._check_header(data, source, table.name)
        counts = SourceCounts(table=table.name, file=data.path.name, blank_lines=data.blank_lines)
        outcome.sources.append(counts)
        mapped = {s.target for s in source.columns}
        written_before = len(outcome.rows)  # this source's rows follow
        for number, row in enumerate(data.rows, start=1):
            counts.read += 1
            problems: list[Problem] = []
            notes = _RowNotes()
            values: dict[str, str] = {}
            for rule in source.where:
                cell = data.value(row, resolved[(rule.column,)]).strip()
                if (text_key(cell) in rule.values) == rule.negate:
                    shown_values = "/".join(v or "(blank)" for v in rule.shown) or "(blank)"
                    wanted = ("not " if rule.negate else "") + shown_values
                    problems.append(
                        Problem("excluded_by_where", "", f"{rule.column}={cell!r} (kept: {wanted})")
                    )
            if not problems:
                for spec in source.columns:
                    values[spec.target] = self._evaluate(
                        spec, row, number, data, resolved, notes, problems
                    )
                key = tuple(values.get(c, "") for c in table.primary_key)
                failed = {p.column for p in problems}
                blank = [
                    c
                    for c, v in zip(table.primary_key, key, strict=True)
                    if not v and c not in failed
                ]
                if blank:
                    problems.append(
                        Problem(
                            "blank_key", blank[0], f"{'/'.join(blank)} empty (key of {table.name})"
                        )
                    )
                elif not problems and key in seen:
                    first_file, first_row = seen[key]
                    problems.append(
                        Problem(
                            "duplicate_key",
                            "",
                            f"{'|'.join(key)} already written from {first_file} row {first_row}",
                        )
                    )
            if problems:
                self._quarantine_row(counts, data, number, row, table.name, problems, values)
                continue
            seen[key] = (data.path.name, number)
            counts.written += 1
            outcome.rows.append({c: values.get(c, "") for c in table.columns})
            outcome.lineage.append((data.path.name, number))
            self._keep_notes(outcome, notes, data.path.name, number)
        if source.windows is not None:
            closed = close_windows(outcome.rows[written_before:], source.windows)
            if closed:
                outcome.windows_closed[source.windows.to_column] += closed
            mapped.add(source.windows.to_column)
        outcome.unmapped_columns = sorted(
            set(outcome.unmapped_columns) | (set(table.columns) - mapped)
        )

    def _quarantine_row(
        self,
        counts: SourceCounts,
        data: SourceFile,
        number: int,
        row: list[str],
        table: str,
        problems: list[Problem],
        values: dict[str, str],
    ) -> None:
        entry = QuarantinedRow(
            source_file=data.path.name,
            source_row=number,
            table=table,
            problems=problems,
            raw=dict(zip(data.header, row, strict=True)),
            values=values,
        )
        self.quarantine.append(entry)
        self._quarantined_values.setdefault(table, []).append(entry)
        counts.quarantined += 1
        for code in sorted({p.code for p in problems}):
            counts.by_reason[code] += 1
            examples = counts.examples.setdefault(code, [])
            if len(examples) < EXAMPLES_PER_REASON:
                examples.append(
                    {
                        "row": number,
                        "detail": "; ".join(p.detail for p in problems if p.code == code),
                    }
                )

    def _keep_notes(self, outcome: TableOutcome, notes: _RowNotes, file: str, number: int) -> None:
        outcome.defaults.update(notes.defaults)
        outcome.first_taken.update(notes.first_taken)
        for column, detail in notes.blanked:
            outcome.blanked.setdefault(column, []).append(f"{file} row {number}: {detail}")
        for column, value, match in notes.fuzzy:
            self.fuzzy.append(
                FuzzyMatch(
                    table=outcome.table,
                    column=column,
                    file=file,
                    row=number,
                    value=value,
                    matched=match.matched,
                    target=f"{match.table}.{match.column}",
                    kind=match.kind,
                    score=match.score,
                )
            )

    def _derive(self, table: Table, mapping: TableMapping, outcome: TableOutcome) -> None:
        assert mapping.derive is not None
        first_seen: dict[str, str] = {}
        for source_table, column in mapping.derive.sources:
            counts = SourceCounts(
                table=table.name, file=f"{source_table}.{column}", status="derived"
            )
            for row in self.outcomes[source_table].rows:
                value = row.get(column, "")
                if not value:
                    continue
                counts.read += 1
                if value not in first_seen:
                    first_seen[value] = f"{source_table}.{column}"
                    counts.written += 1
                    outcome.rows.append(
                        {c: value if c in mapping.derive.columns else "" for c in table.columns}
                    )
                    outcome.lineage.append((f"derived from {source_table}.{column}", 0))
            counts.note = (
                f"{counts.written} distinct value(s) among {counts.read} "
                f"non-blank {source_table}.{column} values"
            )
            outcome.sources.append(counts)
        groups: dict[str, list[str]] = {}
        for value in first_seen:
            groups.setdefault(fuzzy_key(value), []).append(value)
        for spellings in groups.values():
            if len(spellings) > 1:
                outcome.warnings.append(
                    f"{table.name}: {', '.join(repr(s) for s in spellings)} differ only in case, "
                    "spaces or accents and became separate rows; make the source values agree "
                    "if they are the same"
                )
        outcome.unmapped_columns = sorted(set(table.columns) - set(mapping.derive.columns))

    def run(self) -> ImportOutcome:
        if not self.source_dir.is_dir():
            raise MappingError(f"{self.source_dir}: the export folder does not exist.")
        for mapping in self.mapping.in_processing_order(self.contract):
            table = self.contract.tables[mapping.table]
            outcome = TableOutcome(table=table.name, status="imported", columns=list(table.columns))
            self.outcomes[table.name] = outcome
            if mapping.derive:
                outcome.status = "derived"
                self._derive(table, mapping, outcome)
            else:
                seen: dict[tuple[str, ...], tuple[str, int]] = {}
                for source in mapping.sources:
                    self._import_source(table, source, outcome, seen)
                if all(s.status == "missing_optional_file" for s in outcome.sources):
                    outcome.status = "no_file"
            self.indexes[table.name] = TableIndex(table.name, outcome.rows, table.primary_key)
        for table in self.contract.tables.values():
            if table.name in self.outcomes and self.outcomes[table.name].status != "no_file":
                continue
            status = (
                "empty_required"
                if table.required_table
                else ("no_file" if table.name in self.outcomes else "not_mapped")
            )
            previous = self.outcomes.get(table.name)
            self.outcomes[table.name] = TableOutcome(
                table=table.name,
                status=status,
                columns=list(table.columns),
                sources=previous.sources if previous else [],
            )
        for outcome in self.outcomes.values():
            outcome.warnings.extend(blank_value_warnings(self.contract.tables[outcome.table],
                                                         outcome.rows))
        present = sorted(p.name for p in self.source_dir.iterdir() if p.is_file())
        return ImportOutcome(
            mapping=self.mapping,
            source_dir=self.source_dir,
            tables={t: self.outcomes[t] for t in self.contract.tables},
            quarantine=self.quarantine,
            fuzzy_matches=self.fuzzy,
            unused_files=[
                name for name in present if name not in self._used and not name.startswith(".")
            ],
        )


def close_windows(rows: list[dict[str, str]], spec: WindowsSpec) -> int:
    """Rows of one source as change events (a source's `windows:`): in each group of rows
    with the same `by` values, a row with a blank `to` gets the day before the group's next
    later `from` (ISO dates, as the import writes them); the group's last rows stay open.
    Only rows the import writes take part. Returns how many `to` values were filled."""
    groups: dict[tuple[str, ...], list[dict[str, str]]] = {}
    for row in rows:
        try:  # the import writes dates as YYYY-MM-DD; anything else takes no part
            date.fromisoformat(row.get(spec.from_column) or "")
        except ValueError:
            continue
        groups.setdefault(tuple(row.get(c, "") for c in spec.by), []).append(row)
    filled = 0
    for group in groups.values():
        starts = sorted({row[spec.from_column] for row in group})
        for row in group:
            if row.get(spec.to_column):
                continue
            later = bisect_right(starts, row[spec.from_column])
            if later < len(starts):
                row[spec.to_column] = (date.fromisoformat(starts[later])
                                       - timedelta(days=1)).isoformat()
                filled += 1
    return filled


def blank_value_warnings(table: Table, rows: list[dict[str, str]]) -> list[str]:
    """Blank values the build will care about, per column, said before the build: a value
    the contract requires (the gate will quarantine the row), one required for some
    statuses only, one the build fills with a documented default."""
    if not rows:
        return []
    warnings: list[str] = []
    total = len(rows)
    for name, column in table.columns.items():
        blank = [r for r in rows if not (r.get(name) or "").strip()]
        if not blank:
            continue
        if column.required:
            warnings.append(f"{name}: {len(blank):,} of {total:,} rows blank; the contract "
                            "requires it, so `rapport build` will quarantine them")
        elif column.required_when is not None:
            by, values = column.required_when
            needed = [r for r in blank if (r.get(by) or "").strip().lower() in values]
            kept = len(blank) - len(needed)
            text = f"{name}: {len(blank):,} of {total:,} rows blank"
            if needed:
                text += (f"; {len(needed):,} of them with {by} {'/'.join(values)}, which "
                         "needs it: the build will quarantine those")
            if kept:
                text += f"; {kept:,} kept as incomplete"
            warnings.append(text)
        elif column.default is not None:
            warnings.append(f"{name}: {len(blank):,} of {total:,} rows blank; the build uses "
                            f"the default ({column.default})")
    return warnings


def raw_json(raw: dict[str, str]) -> str:
    return json.dumps(raw, ensure_ascii=False)

"""Reading the export files a mapping names: find the file, decode it, split it into rows."""

from __future__ import annotations

import csv
import fnmatch
import io
from dataclasses import dataclass, field
from pathlib import Path

from rapport.pipeline.importer.mapping import MappingError
from rapport.pipeline.importer.values import text_key

_GLOB_CHARS = set("*?[")


@dataclass
class SourceFile:
    """One export file as read: its header and its data records (1 = first record)."""

    path: Path
    header: list[str]
    rows: list[list[str]]
    blank_lines: int = 0
    _index: dict[str, int] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for i, name in enumerate(self.header):
            self._index.setdefault(name, i)

    def resolve(self, alternatives: tuple[str, ...]) -> str | None:
        """The header name to read for these alternatives: exact first, then ignoring case."""
        for name in alternatives:
            if name in self._index:
                return name
        for name in alternatives:
            found = [h for h in self.header if text_key(h) == text_key(name)]
            if len(found) == 1:
                return found[0]
        return None

    def value(self, row: list[str], name: str) -> str:
        return row[self._index[name]]


def find_file(folder: Path, pattern: str) -> Path | None:
    """The one file in folder matching a name or glob pattern (case-insensitively if need be)."""
    files = sorted(p for p in folder.iterdir() if p.is_file())
    if _GLOB_CHARS & set(pattern):
        found = [p for p in files if fnmatch.fnmatchcase(p.name, pattern)]
        if not found:
            found = [p for p in files if fnmatch.fnmatch(p.name.lower(), pattern.lower())]
    else:
        found = [p for p in files if p.name == pattern]
        if not found:
            found = [p for p in files if p.name.lower() == pattern.lower()]
    if len(found) > 1:
        raise MappingError(
            f"{folder}: {len(found)} files match {pattern!r} ({', '.join(p.name for p in found)}). "
            "Keep one, or make the mapping's file pattern more specific."
        )
    return found[0] if found else None


def read_source(path: Path, delimiter: str, encoding: str) -> SourceFile:
    """Read a CSV export; a file that cannot be read as declared raises MappingError."""
    if path.suffix.lower() in (".xlsx", ".xls", ".xlsm"):
        raise MappingError(
            f"{path}: Excel workbooks are not read directly (openpyxl is not installed). "
            "Save the sheet as 'CSV UTF-8' and point the mapping at the .csv file."
        )
    try:
        text = path.read_text(encoding=encoding)
    except UnicodeDecodeError as exc:
        raise MappingError(
            f"{path}: not readable as {encoding} ({exc.reason} at byte {exc.start}). Export it "
            "as UTF-8, or declare its encoding in the mapping (e.g. `encoding: cp1252`)."
        ) from None
    except LookupError:
        raise MappingError(f"{path}: unknown encoding {encoding!r} in the mapping") from None
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
    records: list[tuple[int, list[str]]] = []  # (last line of the record, fields)
    try:
        for record in reader:
            records.append((reader.line_num, record))
    except csv.Error as exc:
        raise MappingError(
            f"{path}: cannot be read as CSV (line {reader.line_num}: {exc}). Export it again "
            "with RFC 4180 quoting."
        ) from None
    if not records or not any(v.strip() for v in records[0][1]):
        raise MappingError(
            f"{path}: the file is empty or has no header line. Export it again with headers."
        )
    header = [name.strip() for name in records[0][1]]
    if len(header) == 1 and delimiter not in ";\t|":
        for other in (";", "\t", "|"):
            if other in header[0]:
                shown = "\\t" if other == "\t" else other
                raise MappingError(
                    f"{path}: the header looks delimited by {shown!r}, not {delimiter!r}. "
                    f"Declare `delimiter: '{shown}'` for this file in the mapping."
                )
    rows: list[list[str]] = []
    blank = 0
    for line, record in records[1:]:
        if not any(v.strip() for v in record):
            blank += 1
            continue
        if len(record) != len(header):
            raise MappingError(
                f"{path}: line {line} has {len(record)} fields but the header has "
                f"{len(header)}. The file is truncated, has unquoted delimiters or is "
                "damaged: export it again."
            )
        rows.append(record)
    return SourceFile(path=path, header=header, rows=rows, blank_lines=blank)

"""Name and id look-ups against imported tables: exact first, fuzzy only when allowed.

Exact means equal after trimming. Fuzzy (opt-in per join) means, in this order:
1. equal after collapsing spaces, folding case and removing diacritics ("normalised");
2. otherwise a similarity of the normalised texts (difflib ratio) at or above the join's
   threshold, for texts of at least MIN_SIMILAR_LENGTH characters ("similar").
A look-up that finds two different rows at the same step is ambiguous and never guessed.
Primary-key columns (ids) are only ever matched exactly.
"""

from __future__ import annotations

from dataclasses import dataclass
from difflib import SequenceMatcher

from rapport.pipeline.importer.mapping import DEFAULT_FUZZY_THRESHOLD, JoinSpec
from rapport.pipeline.importer.values import fuzzy_key

MIN_SIMILAR_LENGTH = 8


@dataclass(frozen=True)
class Match:
    value: str  # the returned column's value
    matched: str  # the target value that matched
    table: str
    column: str
    kind: str  # exact | normalised | similar
    score: float


@dataclass(frozen=True)
class Miss:
    ambiguous: bool
    detail: str


class TableIndex:
    """Look-up structures over the written rows of one table, built on first use."""

    def __init__(self, name: str, rows: list[dict[str, str]], key_columns: tuple[str, ...]) -> None:
        self.name = name
        self.rows = rows
        self.key_columns = key_columns
        self._exact: dict[str, dict[str, list[int]]] = {}
        self._fuzzy: dict[str, dict[str, list[int]]] = {}

    def exact(self, column: str) -> dict[str, list[int]]:
        if column not in self._exact:
            index: dict[str, list[int]] = {}
            for i, row in enumerate(self.rows):
                if row.get(column):
                    index.setdefault(row[column], []).append(i)
            self._exact[column] = index
        return self._exact[column]

    def fuzzy(self, column: str) -> dict[str, list[int]]:
        if column not in self._fuzzy:
            index: dict[str, list[int]] = {}
            for value, rows in self.exact(column).items():
                index.setdefault(fuzzy_key(value), []).extend(rows)
            self._fuzzy[column] = index
        return self._fuzzy[column]


def _returned(index: TableIndex, rows: list[int], column: str) -> set[str]:
    return {index.rows[i].get(column, "") for i in rows}


def _describe(index: TableIndex, rows: list[int], by: str) -> str:
    return ", ".join(sorted({repr(index.rows[i][by]) for i in rows}))


def _similar(
    value: str, index: TableIndex, column: str, threshold: float
) -> list[tuple[float, str, list[int]]]:
    key = fuzzy_key(value)
    if len(key) < MIN_SIMILAR_LENGTH:
        return []
    found = []
    for other, rows in index.fuzzy(column).items():
        if len(other) < MIN_SIMILAR_LENGTH:
            continue
        matcher = SequenceMatcher(None, key, other, autojunk=False)
        if matcher.real_quick_ratio() < threshold or matcher.quick_ratio() < threshold:
            continue
        ratio = matcher.ratio()
        if ratio >= threshold:
            found.append((ratio, other, rows))
    return sorted(found, key=lambda f: -f[0])


def _fuzzy_step(
    value: str, join: JoinSpec, index: TableIndex, column: str, threshold: float
) -> Match | Miss | None:
    rows = index.fuzzy(column).get(fuzzy_key(value))
    if rows:
        returned = _returned(index, rows, join.returns)
        if len(returned) > 1:
            return Miss(
                True,
                f"{value!r} matches several {join.table} rows after normalising "
                f"({_describe(index, rows, column)})",
            )
        row = index.rows[rows[0]]
        return Match(returned.pop(), row[column], join.table, column, "normalised", 1.0)
    similar = _similar(value, index, column, threshold)
    if not similar:
        return None
    returned = {v for _, _, rows in similar for v in _returned(index, rows, join.returns)}
    if len(returned) > 1:
        shown = ", ".join(
            f"{index.rows[rows[0]][column]!r} ({score:.2f})" for score, _, rows in similar[:4]
        )
        return Miss(True, f"{value!r} is similar to several {join.table} rows: {shown}")
    score, _, rows = similar[0]
    return Match(
        returned.pop(), index.rows[rows[0]][column], join.table, column, "similar", round(score, 3)
    )


def look_up(
    value: str, joins: tuple[JoinSpec, ...], indexes: dict[str, TableIndex]
) -> Match | Miss:
    """Resolve value through the joins: every exact look-up first, then fuzzy ones."""
    for join in joins:
        index = indexes[join.table]
        for column in join.by:
            rows = index.exact(column).get(value)
            if not rows:
                continue
            returned = _returned(index, rows, join.returns)
            if len(returned) > 1:
                return Miss(
                    True,
                    f"{value!r} is the {column} of several {join.table} rows; "
                    "make it unique there or join on an id",
                )
            return Match(returned.pop(), value, join.table, column, "exact", 1.0)
    for join in joins:
        if not join.fuzzy:
            continue
        index = indexes[join.table]
        for column in join.by:
            if column in index.key_columns:
                continue
            found = _fuzzy_step(value, join, index, column, join.threshold)
            if found is not None:
                return found
    return Miss(False, _miss_detail(value, joins, indexes))


def _miss_detail(value: str, joins: tuple[JoinSpec, ...], indexes: dict[str, TableIndex]) -> str:
    where = " or ".join(f"{j.table}.{'/'.join(j.by)}" for j in joins)
    detail = f"{value!r} not found in {where}"
    for join in joins:  # would fuzzy matching have found it? say so, never apply it
        if join.fuzzy:
            continue
        index = indexes[join.table]
        for column in join.by:
            if column in index.key_columns:
                continue
            hint = _fuzzy_step(value, join, index, column, DEFAULT_FUZZY_THRESHOLD)
            if isinstance(hint, Match):
                return (
                    f"{detail}; closest: {hint.matched!r} ({hint.kind}, {hint.score:.2f}) - "
                    "fix the name, or set `fuzzy: true` on this join to accept such matches"
                )
    return detail

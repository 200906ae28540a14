"""Build a corrupted copy of generated raw CSV files, knowing the reason for every bad row.

`corrupt(src, out)` damages about `rate` (default 4.5%, rounded down) of the rows of every table with at
least `min_rows` rows, cycling through every damage kind the table's contract allows:

    missing_required   blank a required value
    unparseable        a number / date / timestamp / boolean that does not parse, or that
                       DuckDB would read but the contract refuses (inf, NaN, 0x10, 1_000,
                       3.5 in an integer column, epoch, infinity, a negative year, a NUL byte)
    not_allowed        a value outside the allowed set
    out_of_range       a number below the contract's min (negative amount, attitude -7...),
                       a decimal beyond the contract's bound (1e13, 1e400), a date before the
                       contract's earliest date (year 1)
    orphan_fk          a reference to a key that does not exist
    impossible_value   a cross-column rule broken (close before create, interaction in the
                       future of as_of_date, left before hired...), or a contact of another
                       account where the contract says belongs_to
    duplicate_key      a copy of an earlier row appended (the first is kept)

Only rows that no other table references are damaged, so no damage cascades into orphans
elsewhere: the quarantined rows must be exactly the damaged ones. About 1% of other rows get
harmless case and whitespace changes (" WON ", " a ") that the gate must normalise, not
quarantine. Row numbers are the gate's: 1 = first data row.
"""

from __future__ import annotations

import csv
import math
import random
import shutil
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path

from rapport.contract import Column, Contract, Table, contract

KINDS = ("missing_required", "unparseable", "not_allowed", "out_of_range", "orphan_fk",
         "impossible_value", "duplicate_key")


@dataclass(frozen=True)
class Damage:
    table: str
    row_number: int
    reason: str      # the reason code the gate must give (meta.dq_quarantine.reasons)
    column: str
    value: str
    detail: str      # what meta.dq_quarantine.detail must contain, e.g. out_of_range:amount


@dataclass(frozen=True)
class Normalised:
    table: str
    row_number: int
    column: str
    written: str
    expected: str


@dataclass
class Corpus:
    out_dir: Path
    damages: list[Damage] = field(default_factory=list)
    normalised: list[Normalised] = field(default_factory=list)
    rows: dict[str, int] = field(default_factory=dict)

    def expected_reasons(self) -> dict[tuple[str, int], str]:
        return {(d.table, d.row_number): d.reason for d in self.damages}

    def by_reason(self) -> dict[str, int]:
        counts: dict[str, int] = defaultdict(int)
        for d in self.damages:
            counts[d.reason] += 1
        return dict(sorted(counts.items()))


def _read(path: Path) -> tuple[list[str], list[list[str]]]:
    with path.open(newline="", encoding="utf-8") as handle:
        reader = csv.reader(handle)
        header = next(reader)
        return header, [row for row in reader]


def _write(path: Path, header: list[str], rows: list[list[str]]) -> None:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(header)
        writer.writerows(rows)


def _shift(text: str, days: int) -> str | None:
    """The date or timestamp `text` moved by `days`, in the same format; None if unparseable."""
    text = text.strip()
    try:
        if len(text) == 10:
            return (date.fromisoformat(text) + timedelta(days=days)).isoformat()
        return (datetime.fromisoformat(text) + timedelta(days=days)).strftime("%Y-%m-%d %H:%M:%S")
    except ValueError:
        return None


Owners = dict[tuple[str, str], dict[str, str]]  # (parent, belongs_to) -> {key: owner}


def _impossible(table: Table, col: dict[str, int], row: list[str], turn: int,
                owners: Owners | None = None) -> tuple[str, str] | None:
    """Break one of the table's checks or belongs_to rules (taking turns); returns (column,
    what the detail names: the check's name, or the belongs_to column)."""
    def get(name: str) -> str:
        return row[col[name]].strip() if name in col else ""

    rules: list[tuple[str, str]] = [("check", c.name) for c in table.checks]
    rules += [("belongs_to", c.name) for c in table.columns.values() if c.belongs_to]
    for kind, name in rules[turn % len(rules):] + rules[: turn % len(rules)]:
        if kind == "check":
            changes = _break(name, get)
        else:
            changes = _other_owner(table.columns[name], get, owners or {}, turn)
        if changes and all(c in col for c in changes) and None not in changes.values():
            for column, value in changes.items():
                row[col[column]] = value
            return next(iter(changes)), name
    return None


def _other_owner(column: Column, get, owners: Owners, turn: int) -> dict[str, str] | None:
    """Name a parent row (a contact) of another owner (account) than the row's."""
    mine = get(column.belongs_to)
    if not mine:
        return None
    known = owners.get((column.references[0], column.belongs_to), {})
    others = sorted(key for key, owner in known.items() if owner != mine)
    if not others:
        return None
    return {column.name: others[turn % len(others)]}


def _break(name: str, get) -> dict[str, str | None] | None:
    """The cell changes that break check `name` on a row (first key: the main column)."""
    if name == "interaction_in_future" and get("occurred_at"):
        return {"occurred_at": "2099-06-30 10:00:00", "logged_at": ""}
    if name == "logged_before_occurred" and get("occurred_at"):
        return {"logged_at": _shift(get("occurred_at"), -1)}
    if name == "close_before_create" and get("created_date") and get("close_date"):
        return {"close_date": _shift(get("created_date"), -30)}
    if name == "won_without_close_date":
        return {"close_date": "", "status": "won"}
    if name == "leave_before_hire" and get("hire_date"):
        return {"leave_date": _shift(get("hire_date"), -1)}
    if name == "closed_before_opened" and get("opened_at"):
        return {"closed_at": _shift(get("opened_at"), -1)}
    if name == "valid_to_before_approved" and get("approved_date"):
        return {"valid_to": _shift(get("approved_date"), -1)}
    if name == "valid_to_before_valid_from" and get("valid_from"):
        return {"valid_to": _shift(get("valid_from"), -1)}
    return None


# What does not parse, per type, taken in turn: plain garbage, and what DuckDB's casts would
# read (so the gate used to let through or silently change).
UNPARSEABLE = {
    "integer": ("12x", "3.5", "0x3", "1_0", "inf"),
    "decimal": ("1,5.0", "inf", "-Infinity", "NaN", "0x10", "1_000"),
    "date": ("31/12/2024", "epoch", "infinity", "-0001-06-01"),
    "timestamp": ("2024-13-45 25:61:00", "epoch", "-infinity", "2024-01-01 10:00:00 (BC)"),
    "boolean": ("maybe",),
    "string": ("NUL\x00",),
}


def _bad_value(kind: str, column: Column, n: int, turn: int = 0) -> str | None:
    """A bad value of `kind` for `column`: n numbers it, turn picks among the variants."""
    if kind == "missing_required":
        return ""
    if kind == "unparseable":
        choices = UNPARSEABLE.get(column.type, ())
        return choices[turn % len(choices)] if choices else None
    if kind == "not_allowed":
        return f"bogus_{n}"
    if kind == "out_of_range":
        if column.type == "date":
            return "0001-01-01"
        if column.type == "timestamp":
            return "0001-01-01 10:00:00"
        if column.type == "decimal" and column.max is None and turn % 2:
            return ("1e13", "1e400")[turn // 2 % 2]  # beyond the contract's number_abs_max
        if column.min is not None:
            return str(int(column.min) - 7)
        return str(int(column.max) + 7)
    if kind == "orphan_fk":
        return f"ORPHAN-{n:05d}"
    return None


def _columns_for(kind: str, table: Table) -> list[Column]:
    cols = list(table.columns.values())
    pk = set(table.primary_key)
    if kind == "missing_required":
        found = [c for c in cols if c.required and c.name not in pk and not c.references]
        return found or [c for c in cols if c.required and c.name not in pk]
    if kind == "unparseable":
        # strings: only free text (a NUL byte in a key would be a new, unreferenced key)
        return [c for c in cols if c.type != "string"
                or (c.name not in pk and not c.references and c.allowed is None)]
    if kind == "not_allowed":
        return [c for c in cols if c.allowed is not None]
    if kind == "out_of_range":
        return [c for c in cols if c.min is not None or c.max is not None
                or c.type in ("date", "timestamp")]
    if kind == "orphan_fk":
        return [c for c in cols if c.references]
    return []


def _referenced(spec: Contract, tables: dict[str, tuple[list[str], list[list[str]]]]
                ) -> dict[tuple[str, str], set[str]]:
    """(parent table, parent column) -> the values some child row refers to."""
    used: dict[tuple[str, str], set[str]] = defaultdict(set)
    for name, (header, rows) in tables.items():
        for column in spec.tables[name].columns.values():
            if column.references and column.name in header:
                i = header.index(column.name)
                used[column.references].update(r[i].strip() for r in rows)
    return used


def _owners(spec: Contract, tables: dict[str, tuple[list[str], list[list[str]]]],
            used: dict[tuple[str, str], set[str]]) -> Owners:
    """For every belongs_to rule: the parent rows some child refers to (so they are never
    damaged: they stay clean) and their owner, e.g. contact -> its account."""
    found: Owners = {}
    for table in spec.tables.values():
        for column in table.columns.values():
            if not column.belongs_to or column.references[0] not in tables:
                continue
            parent, key = column.references
            header, rows = tables[parent]
            k, o = header.index(key), header.index(column.belongs_to)
            kept = used.get((parent, key), set())
            found[(parent, column.belongs_to)] = {
                r[k].strip(): r[o].strip() for r in rows if r[k].strip() in kept}
    return found


def corrupt(src: Path, out: Path, rate: float = 0.045, normalise_rate: float = 0.01,
            min_rows: int = 25, seed: int = 20261123, spec: Contract | None = None) -> Corpus:
    """Write a corrupted copy of the CSV files in `src` to `out`; return what was damaged."""
    spec = spec or contract()
    rng = random.Random(seed)
    out.mkdir(parents=True, exist_ok=True)
    tables: dict[str, tuple[list[str], list[list[str]]]] = {}
    for path in sorted(src.iterdir()):
        if path.suffix == ".csv" and path.stem in spec.tables:
            tables[path.stem] = _read(path)
        elif path.is_file() and not path.name.startswith("."):
            shutil.copy2(path, out / path.name)
    used = _referenced(spec, tables)
    owners = _owners(spec, tables, used)
    corpus = Corpus(out_dir=out)

    for name, (header, rows) in tables.items():
        table = spec.tables[name]
        col = {c: i for i, c in enumerate(header)}
        n = len(rows)
        if n >= min_rows:
            free = [i for i, row in enumerate(rows)
                    if all(row[col[pc]].strip() not in used.get((name, pc), set())
                           for pc in {c for (t, c) in used if t == name} if pc in col)]
            rng.shuffle(free)
            budget = max(1, math.floor(n * rate))  # so bad / rows stays <= rate < 5%
            rules = table.checks or [c for c in table.columns.values()
                                     if c.belongs_to and c.name in col]
            kinds = [k for k in KINDS
                     if k == "duplicate_key" or (k == "impossible_value" and rules)
                     or [c for c in _columns_for(k, table) if c.name in col]]
            taken: set[int] = set()
            appended: list[list[str]] = []
            for k in range(budget):
                kind = kinds[k % len(kinds)]
                if not [i for i in free if i not in taken]:
                    kind = "duplicate_key"  # every row is referenced: only a copy cannot cascade
                if kind == "duplicate_key":
                    # copy an untouched row; the copy gets the next row number
                    source = rng.choice([i for i in range(n) if i not in taken])
                    taken.add(source)
                    appended.append(list(rows[source]))
                    key = "|".join(rows[source][col[c]] for c in table.primary_key)
                    corpus.damages.append(Damage(name, n + len(appended), kind,
                                                 ",".join(table.primary_key), key,
                                                 f"duplicate_key:{key}"))
                    continue
                while free[-1] in taken:
                    free.pop()
                index = free.pop()
                taken.add(index)
                row = rows[index]
                if kind == "impossible_value":
                    broken = _impossible(table, col, row, k // len(kinds), owners)
                    if broken is None:
                        continue
                    column_name, check_name = broken
                    value = row[col[column_name]]
                    detail = f"impossible_value:{check_name}"
                else:
                    choices = [c for c in _columns_for(kind, table) if c.name in col]
                    column = choices[k // len(kinds) % len(choices)]
                    value = _bad_value(kind, column, k, k // len(kinds) // len(choices))
                    if value is None:
                        continue
                    column_name = column.name
                    detail = f"{kind}:{column_name}"
                    row[col[column_name]] = value
                corpus.damages.append(Damage(name, index + 1, kind, column_name, value, detail))
            # harmless variants the gate must normalise: case and surrounding spaces
            variable = [c for c in table.columns.values()
                        if c.allowed is not None and c.case and c.name in col]
            if variable:
                spare = [i for i in free if i not in taken]
                for index in spare[: max(1, round(n * normalise_rate))]:
                    column = variable[index % len(variable)]
                    value = rows[index][col[column.name]].strip()
                    if not value:
                        continue
                    written = f"  {value.swapcase()} "
                    rows[index][col[column.name]] = written
                    taken.add(index)
                    corpus.normalised.append(Normalised(name, index + 1, column.name, written,
                                                        value))
            rows = rows + appended
        _write(out / f"{name}.csv", header, rows)
        corpus.rows[name] = len(rows)
    return corpus

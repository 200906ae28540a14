"""The layout of an organisation chart: where each contact's box goes, which reporting lines
are drawn, and which roles get an empty slot. Pure Python, no plotting (ui.charts draws it).

    layout(nodes, missing_roles=(), max_columns=8) -> Layout

Units: one column per box horizontally (box centres at x = column + 0.5), one row per level
vertically (row 0 at the top, y grows downwards).

- A tidy tree, layered by depth: each contact sits one row below its manager; a manager is
  centred over the span of its reports; reports keep the order they are given in (the page
  passes the most influential first); the roots (contacts without a drawn manager) stand
  side by side.
- Reporting lines are repaired, never trusted: a manager that is not among the nodes makes
  the contact a root with the note "manager not on the map"; a loop (A -> B -> A, or a
  contact reporting to itself) is broken at its smallest id, which becomes a root with the
  note "reporting loop broken here". The warehouse already breaks loops of up to 10 lines
  (fct_power_map.reports_to_status); this catches the rest.
- Readable at any size: when a manager's reports would make a row wider than max_columns,
  the sub-managers share the columns and the reports that have no reports of their own wrap
  into a grid (a "team" block with a frame, one line from the manager to the frame); the
  trees are packed into bands of at most max_columns columns, one band below the other. So 200 contacts on one account fit in
  max_columns columns and about 200 / max_columns rows: the figure grows in height (the page
  scrolls it) and never in width, except for a manager with more sub-managers than
  max_columns (drawn wider, rare).
- missing_roles: one empty slot per role nobody holds, in a row above the chart (y = -1).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

MANAGER_NOT_ON_MAP = "manager not on the map"
LOOP_BROKEN = "reporting loop broken here"
SLOT_ROW = -1.0
BAND_GAP = 0.5  # rows between two bands of trees


@dataclass(frozen=True)
class Node:
    """One contact as the layout needs it: its id, the manager whose line may be drawn
    (None: a root) and a note to show beside it (e.g. why it has no line)."""

    id: str
    parent: str | None = None
    note: str | None = None


@dataclass(frozen=True)
class Box:
    id: str
    x: float  # centre
    y: float  # row (top = 0)
    depth: int
    parent: str | None  # the manager whose line is drawn, after repair
    note: str | None


@dataclass(frozen=True)
class Team:
    """A manager's reports wrapped into a grid: drawn as one frame with one line to it."""

    parent: str
    members: tuple[str, ...]
    x0: float
    x1: float
    y0: float
    y1: float


@dataclass(frozen=True)
class Slot:
    role: str
    x: float
    y: float


@dataclass
class Layout:
    boxes: dict[str, Box] = field(default_factory=dict)
    edges: list[tuple[str, str]] = field(default_factory=list)  # (manager, report), drawn
    teams: list[Team] = field(default_factory=list)
    slots: list[Slot] = field(default_factory=list)
    width: float = 0.0  # columns
    top: float = 0.0  # smallest y (SLOT_ROW with slots)
    bottom: float = 0.0  # largest y

    @property
    def rows(self) -> float:
        """The height in rows, slots included."""
        return self.bottom - self.top + 1 if self.boxes or self.slots else 0.0


def repaired_parents(nodes: Sequence[Node]) -> tuple[dict[str, str | None], dict[str, str]]:
    """Each node's drawn manager after repair, and the notes the repair adds (node -> note):
    managers not among the nodes are dropped, and every loop loses the line of its smallest
    id."""
    ids = {n.id for n in nodes}
    parent: dict[str, str | None] = {}
    notes: dict[str, str] = {}
    for n in nodes:
        if n.parent is not None and n.parent not in ids:
            parent[n.id] = None
            notes[n.id] = MANAGER_NOT_ON_MAP
        else:
            parent[n.id] = n.parent
    state: dict[str, int] = {}  # 1 on the current path, 2 done
    for n in nodes:
        path: list[str] = []
        node: str | None = n.id
        while node is not None and state.get(node) is None:
            state[node] = 1
            path.append(node)
            node = parent[node]
        if node is not None and state.get(node) == 1:  # walked back into the path: a loop
            loop = path[path.index(node):]
            breaker = min(loop)
            parent[breaker] = None
            notes[breaker] = LOOP_BROKEN
        for p in path:
            state[p] = 2
    return parent, notes


@dataclass
class _Block:
    """A laid-out subtree, relative to its top-left corner."""

    width: float
    height: float
    places: list[tuple[str, float, float]]  # (id, x, row)
    edges: list[tuple[str, str]]
    teams: list[Team]


def _shift(block: _Block, dx: float, dy: float) -> _Block:
    return _Block(
        block.width, block.height,
        [(i, x + dx, y + dy) for i, x, y in block.places],
        block.edges,
        [Team(t.parent, t.members, t.x0 + dx, t.x1 + dx, t.y0 + dy, t.y1 + dy)
         for t in block.teams],
    )


def _grid(parent: str, leaves: list[str], columns: int) -> _Block:
    columns = max(1, min(columns, len(leaves)))
    rows = math.ceil(len(leaves) / columns)
    places = [(leaf, k % columns + 0.5, float(k // columns)) for k, leaf in enumerate(leaves)]
    team = Team(parent, tuple(leaves), 0.0, float(columns), 0.0, float(rows - 1))
    return _Block(float(columns), float(rows), places, [], [team])


def _subtree(node: str, children: dict[str, list[str]], budget: int,
             memo: dict[tuple[str, int], _Block]) -> _Block:
    """The block of `node` and its reports, at most `budget` columns wide when it can be:
    side by side when they fit; else the sub-managers share the budget and the other reports
    wrap into a grid in the columns left (at least one)."""
    if (node, budget) in memo:
        return memo[(node, budget)]
    kids = children.get(node, [])
    if not kids:
        return _Block(1.0, 1.0, [(node, 0.5, 0.0)], [], [])
    parts = [_subtree(k, children, budget, memo) for k in kids]
    direct = kids
    if sum(b.width for b in parts) > budget:
        leaves = [k for k in kids if not children.get(k)]
        managers = [k for k in kids if children.get(k)]
        share = max(1, budget // (len(managers) + (1 if leaves else 0)))
        parts = [_subtree(k, children, share, memo) for k in managers]
        room = int(budget - sum(b.width for b in parts))
        if len(leaves) > 1:
            parts.append(_grid(node, leaves, max(1, room)))
        elif leaves:
            parts.append(_subtree(leaves[0], children, 1, memo))
        direct = managers + (leaves if len(leaves) == 1 else [])
    places, edges, teams = [], [(node, k) for k in direct], []
    x = 0.0
    for part in parts:
        moved = _shift(part, x, 1.0)
        places += moved.places
        edges += moved.edges
        teams += moved.teams
        x += part.width
    width = max(x, 1.0)
    height = 1.0 + max(p.height for p in parts)
    block = _Block(width, height, [(node, width / 2, 0.0), *places], edges, teams)
    memo[(node, budget)] = block
    return block


def layout(nodes: Iterable[Node], missing_roles: Sequence[str] = (),
           max_columns: int = 8) -> Layout:
    """Place every node once (see the module's docstring); `nodes` in the order their boxes
    should come, left to right, among siblings and among roots."""
    nodes = list(nodes)
    if len({n.id for n in nodes}) != len(nodes):
        raise ValueError("orgchart.layout: node ids must be unique")
    parent, repair_notes = repaired_parents(nodes)
    children: dict[str, list[str]] = {}
    for n in nodes:
        if parent[n.id] is not None:
            children.setdefault(parent[n.id], []).append(n.id)
    roots = [n.id for n in nodes if parent[n.id] is None]
    memo: dict[tuple[str, int], _Block] = {}
    blocks = [_subtree(r, children, max_columns, memo) for r in roots]

    out = Layout()
    places: list[tuple[str, float, float]] = []
    band_x, band_y, band_height = 0.0, 0.0, 0.0
    for block in blocks:
        if band_x > 0 and band_x + block.width > max_columns:  # a new band below
            band_y += band_height + BAND_GAP
            band_x, band_height = 0.0, 0.0
        moved = _shift(block, band_x, band_y)
        places += moved.places
        out.edges += moved.edges
        out.teams += moved.teams
        band_x += block.width
        band_height = max(band_height, block.height)
        out.width = max(out.width, band_x)
    note_of = {n.id: n.note for n in nodes}
    note_of.update(repair_notes)
    for i, x, y in places:
        d, up = 0, parent[i]  # depth: lines up to the root (the repaired tree has no loop)
        while up is not None:
            d, up = d + 1, parent[up]
        out.boxes[i] = Box(i, x, y, d, parent[i], note_of.get(i))
    out.slots = [Slot(role, k + 0.5, SLOT_ROW) for k, role in enumerate(missing_roles)]
    out.width = max(out.width, float(len(out.slots)))
    ys = [b.y for b in out.boxes.values()] + [s.y for s in out.slots]
    out.top, out.bottom = (min(ys), max(ys)) if ys else (0.0, 0.0)
    return out

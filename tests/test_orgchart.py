"""The org chart layout (dashboard/ui/orgchart.py): positions worked out by hand on small
trees, repaired reporting lines (a manager not on the map, loops), empty role slots, and 200
contacts on one account. Pure Python: no warehouse, no Streamlit."""

from __future__ import annotations

import math
import sys

import pytest

from rapport.paths import DASHBOARD_DIR

sys.path.insert(0, str(DASHBOARD_DIR))
from ui.orgchart import LOOP_BROKEN, MANAGER_NOT_ON_MAP, SLOT_ROW, Node, layout


def _xy(chart) -> dict[str, tuple[float, float]]:
    return {b.id: (b.x, b.y) for b in chart.boxes.values()}


def test_a_small_tree_is_layered_and_each_manager_centred_over_its_reports():
    #        A            row 0: centred over the span of B's block (2) and C's (1): 1.5
    #      B   C          row 1: B over D and E (1.0), C in the third column (2.5)
    #     D E             row 2
    chart = layout([Node("A"), Node("B", "A"), Node("C", "A"), Node("D", "B"), Node("E", "B")])
    assert _xy(chart) == {"A": (1.5, 0), "B": (1.0, 1), "C": (2.5, 1), "D": (0.5, 2),
                          "E": (1.5, 2)}
    assert chart.edges == [("A", "B"), ("A", "C"), ("B", "D"), ("B", "E")]
    assert {b.id: b.depth for b in chart.boxes.values()} == {"A": 0, "B": 1, "C": 1, "D": 2,
                                                             "E": 2}
    assert chart.width == 3 and chart.rows == 3 and not chart.teams and not chart.slots


def test_roots_stand_side_by_side_in_the_order_given():
    chart = layout([Node("R1"), Node("R2"), Node("K", "R2"), Node("L", "R2")])
    assert _xy(chart) == {"R1": (0.5, 0), "R2": (2.0, 0), "K": (1.5, 1), "L": (2.5, 1)}


def test_a_manager_not_on_the_map_makes_a_root_with_a_note():
    chart = layout([Node("A"), Node("B", "GONE"), Node("C", "B")])
    assert _xy(chart) == {"A": (0.5, 0), "B": (1.5, 0), "C": (1.5, 1)}
    assert chart.boxes["B"].parent is None
    assert chart.boxes["B"].note == MANAGER_NOT_ON_MAP
    assert chart.edges == [("B", "C")]


def test_a_loop_is_broken_at_its_smallest_id_with_a_reason():
    # X -> Y -> Z -> X: X (smallest) loses its line and heads the chain X <- Z <- Y
    chart = layout([Node("Y", "Z"), Node("Z", "X"), Node("X", "Y"), Node("S", "S")])
    assert chart.boxes["X"].parent is None and chart.boxes["X"].note == LOOP_BROKEN
    assert chart.boxes["S"].parent is None and chart.boxes["S"].note == LOOP_BROKEN
    assert chart.edges == [("X", "Z"), ("Z", "Y")]
    assert _xy(chart) == {"X": (0.5, 0), "Z": (0.5, 1), "Y": (0.5, 2), "S": (1.5, 0)}
    assert [chart.boxes[i].depth for i in ("X", "Z", "Y", "S")] == [0, 1, 2, 0]


def test_a_note_from_the_warehouse_is_kept():
    chart = layout([Node("A", note="missing manager")])
    assert chart.boxes["A"].note == "missing manager"


def test_empty_slots_for_roles_nobody_holds_sit_in_a_row_above():
    chart = layout([Node("A")], missing_roles=["D", "S"])
    assert [(s.role, s.x, s.y) for s in chart.slots] == [("D", 0.5, SLOT_ROW),
                                                          ("S", 1.5, SLOT_ROW)]
    assert chart.top == SLOT_ROW and chart.rows == 2 and chart.width == 2


def test_a_wide_team_wraps_into_a_grid_under_its_manager():
    # 5 reports without reports of their own, 3 columns: 2 rows under the manager
    chart = layout([Node("M"), *[Node(f"r{i}", "M") for i in range(5)]], max_columns=3)
    assert _xy(chart) == {"M": (1.5, 0), "r0": (0.5, 1), "r1": (1.5, 1), "r2": (2.5, 1),
                          "r3": (0.5, 2), "r4": (1.5, 2)}
    (team,) = chart.teams
    assert (team.parent, team.members) == ("M", ("r0", "r1", "r2", "r3", "r4"))
    assert (team.x0, team.x1, team.y0, team.y1) == (0, 3, 1, 2)
    assert chart.edges == []  # one line to the team's frame instead of five


def test_trees_wider_than_the_page_are_packed_into_bands():
    chart = layout([Node(f"r{i}") for i in range(5)], max_columns=2)
    assert _xy(chart) == {"r0": (0.5, 0), "r1": (1.5, 0), "r2": (0.5, 1.5), "r3": (1.5, 1.5),
                          "r4": (0.5, 3.0)}


@pytest.mark.parametrize("shape", ["flat", "one_manager", "managers", "no_lines"])
def test_200_contacts_on_one_account_stay_within_the_columns(shape):
    n, columns = 200, 8
    if shape == "flat":  # a chain of 3 managers, everyone else under the last
        nodes = [Node("c000"), Node("c001", "c000"), Node("c002", "c001"),
                 *[Node(f"c{i:03d}", "c002") for i in range(3, n)]]
    elif shape == "one_manager":
        nodes = [Node("c000"), *[Node(f"c{i:03d}", "c000") for i in range(1, n)]]
    elif shape == "managers":  # 1 head, 4 managers, 195 reports spread over them
        nodes = [Node("c000"), *[Node(f"c{i:03d}", "c000") for i in range(1, 5)],
                 *[Node(f"c{i:03d}", f"c{1 + i % 4:03d}") for i in range(5, n)]]
    else:  # a CRM without reporting lines: 200 roots
        nodes = [Node(f"c{i:03d}") for i in range(n)]
    chart = layout(nodes, missing_roles=["A"], max_columns=columns)
    assert sorted(chart.boxes) == sorted(x.id for x in nodes)  # every contact once
    places = {(b.x, b.y) for b in chart.boxes.values()}
    assert len(places) == n  # no two boxes on one spot
    assert chart.width <= columns
    assert all(0 < b.x < columns for b in chart.boxes.values())
    # about n / columns rows: bounded, whatever the shape
    assert chart.rows <= math.ceil(n / columns) * 1.5 + 5

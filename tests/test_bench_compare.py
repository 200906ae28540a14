"""The benchmark's (tools/bench.py) comparison of two builds' marts (incremental vs full)."""

from __future__ import annotations

import duckdb

from tools.bench import FLOAT_TOLERANCE, _unpaired, compare_marts


def _warehouse(path, rows: list[tuple[str, float]]):
    """A warehouse file with one mart, marts.m (k, score), holding `rows`."""
    with duckdb.connect(str(path)) as con:
        con.execute("create schema marts")
        con.execute("create table marts.m (k varchar, score double)")
        con.executemany("insert into marts.m values (?, ?)", rows)
    return path


def test_rows_pair_on_their_other_columns_within_the_float_tolerance():
    assert FLOAT_TOLERANCE == 1e-5
    left = [("a", 1.0), ("b", 2.0), ("c", None)]
    right = [("a", 1.000001), ("b", 2.1), ("c", None)]
    # a: 1e-6 apart, paired; b: 0.1 apart, one unpaired on each side; c: both null, paired
    assert _unpaired(left, right, floats=[1]) == (1, 1)
    # a row with no partner of the same key is unpaired, whatever its numbers
    assert _unpaired([("a", 1.0)], [("z", 1.0)], floats=[1]) == (1, 1)
    assert _unpaired([("a", None)], [("a", 0.0)], floats=[1]) == (1, 1)


def test_marts_differing_only_by_a_rounding_unit_are_equal_and_real_differences_are_not(
        tmp_path):
    # 0.12344999 and 0.12345001 (2e-8 apart) round to 0.1234 and 0.1235
    files = {name: _warehouse(tmp_path / f"{name}.duckdb", [("x", score), ("y", 1.0)])
             for name, score in (("inc", 0.12344999), ("full", 0.12345001), ("other", 0.5))}
    with duckdb.connect() as con:  # the premise: the 4-decimal rounding alone tells them apart
        assert con.execute("select round(0.12344999, 4) <> round(0.12345001, 4)").fetchone()[0]
    assert compare_marts(files["inc"], files["full"]) == {}
    # 'x' differs by 0.37655001: one row only in each file
    assert compare_marts(files["inc"], files["other"]) == {"m": (2, 2, 1, 1)}


def test_the_decimals_and_the_tolerance_are_the_callers(tmp_path):
    """docs/scale-out.md compares the Spark and DuckDB builds at 6 decimals within 1e-6 and
    within 2e-6: a 2e-6 difference is a difference at 1e-6 and none at 2e-6."""
    files = {name: _warehouse(tmp_path / f"{name}.duckdb", [("x", score)])
             for name, score in (("spark", 0.500002), ("duckdb", 0.5))}
    assert compare_marts(files["spark"], files["duckdb"]) == {}  # 4 decimals: both 0.5
    assert compare_marts(files["spark"], files["duckdb"], decimals=6,
                         tolerance=1e-6 + 1e-12) == {"m": (1, 1, 1, 1)}
    assert compare_marts(files["spark"], files["duckdb"], decimals=6,
                         tolerance=2e-6 + 1e-12) == {}

"""Structural problems stop the build with a message naming the file and what to do."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from rapport.contract import contract
from rapport.errors import StructuralError
from rapport.pipeline.ingest import load_raw, load_table

REGIONS = "region_id,region_name,country\nR1,North,DE\nR2,South,\n"


def load_regions(folder: Path) -> int:
    con = duckdb.connect()
    con.execute("create schema raw")
    return load_table(con, folder, contract().tables["regions"])


def test_good_file_loads_with_row_numbers(tmp_path):
    (tmp_path / "regions.csv").write_text(REGIONS)
    con = duckdb.connect()
    con.execute("create schema raw")
    assert load_table(con, tmp_path, contract().tables["regions"]) == 2
    assert con.execute("select region_id, _source_file, _row_number from raw.regions").fetchall() \
        == [("R1", "regions.csv", 1), ("R2", "regions.csv", 2)]


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (b"region_id;region_name\nR1;x\n", "delimited by semicolons"),
        (b"region_id\tregion_name\nR1\tx\n", "delimited by tabs"),
        (b"region_id,region_name,country\nR1,No\xe9rth,DE\n", "not valid UTF-8"),
        (b"region_id,region_name,country\nR1,North,DE\nR2,So", "line 3 has 2 fields"),
        (b"region_name,country\nNorth,DE\n", "required column(s) missing: region_id"),
        (b"", "the file is empty"),
    ],
    ids=["semicolon", "tab", "latin1", "truncated", "missing-column", "empty"],
)
def test_structural_breaks_name_the_file_and_the_problem(tmp_path, content, expected):
    (tmp_path / "regions.csv").write_bytes(content)
    with pytest.raises(StructuralError) as caught:
        load_regions(tmp_path)
    message = str(caught.value)
    assert str(tmp_path / "regions.csv") in message
    assert expected in message
    assert caught.value.exit_code == 2


def test_unreadable_parquet_is_a_structural_error(tmp_path):
    (tmp_path / "regions.parquet").write_bytes(b"PAR1 this is not parquet")
    with pytest.raises(StructuralError, match="cannot be read as Parquet"):
        load_regions(tmp_path)


def test_missing_required_table_stops_the_load(tmp_path):
    (tmp_path / "regions.csv").write_text(REGIONS)
    with pytest.raises(StructuralError, match="required table 'reps' is missing"):
        load_raw(duckdb.connect(), tmp_path)


def test_two_files_for_one_table_are_refused(tmp_path):
    (tmp_path / "regions.csv").write_text(REGIONS)
    duckdb.connect().execute(
        f"copy (select 'R1' as region_id, 'N' as region_name) to '{tmp_path}/regions.parquet'")
    with pytest.raises(StructuralError, match="Keep exactly one file per table"):
        load_regions(tmp_path)


def test_parquet_and_csv_load_the_same_rows(tmp_path):
    csv_dir, pq_dir = tmp_path / "csv", tmp_path / "pq"
    csv_dir.mkdir()
    pq_dir.mkdir()
    (csv_dir / "regions.csv").write_text(REGIONS)
    duckdb.connect().execute(
        f"copy (select * from read_csv('{csv_dir}/regions.csv', all_varchar=true)) "
        f"to '{pq_dir}/regions.parquet'")
    assert load_regions(csv_dir) == load_regions(pq_dir) == 2


@pytest.mark.parametrize("fmt", ["csv", "parquet"])
def test_row_numbers_are_the_file_order_when_the_file_is_read_in_parallel(tmp_path, fmt):
    """_row_number is the row's place in the file even when DuckDB reads the file on several
    threads: 400,000 rows (about 12 MB of CSV, many of DuckDB's row groups) whose region_id
    spells its own line number, read with 4 threads."""
    rows = 400_000
    source = duckdb.connect()
    source.execute(
        f"create table regions as select 'R' || lpad(cast(i as varchar), 7, '0') as region_id, "
        f"'Region number ' || i as region_name, 'DE' as country from range(1, {rows + 1}) t(i)")
    options = "(header true)" if fmt == "csv" else "(format parquet, row_group_size 10000)"
    source.execute(f"copy regions to '{tmp_path / f'regions.{fmt}'}' {options}")
    con = duckdb.connect(config={"threads": 4})
    con.execute("create schema raw")
    assert load_table(con, tmp_path, contract().tables["regions"]) == rows
    misplaced = con.execute(
        "select count(*) from raw.regions "
        "where region_id <> 'R' || lpad(cast(_row_number as varchar), 7, '0')").fetchone()[0]
    assert misplaced == 0
    assert con.execute("select min(_row_number), max(_row_number), count(distinct _row_number) "
                       "from raw.regions").fetchone() == (1, rows, rows)

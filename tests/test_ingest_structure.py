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

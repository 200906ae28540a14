"""Structural breaks that DuckDB reported as binder errors, or without their cause, now stop
the build with a message naming the file, the line or column and what to do, with
exit code 2 and no traceback."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest
from support.pipeline import run_cli

from rapport.contract import contract
from rapport.errors import StructuralError
from rapport.pipeline.ingest import MAX_LINE_BYTES, load_raw, load_table


def load_regions(folder: Path) -> int:
    con = duckdb.connect()
    con.execute("create schema raw")
    return load_table(con, folder, contract().tables["regions"])


def message_for(folder: Path, content: bytes) -> str:
    path = folder / "regions.csv"
    path.write_bytes(content)
    with pytest.raises(StructuralError) as caught:
        load_regions(folder)
    assert caught.value.exit_code == 2
    return str(caught.value)


@pytest.mark.parametrize(("content", "expected"), [
    (b"region_id,region_name,region_id\nR1,North,R1\n",
     ("line 1 (the header) names column 'region_id' twice (fields 1 and 3). Each column may "
     "appear once: remove or rename one of them and run the build again.")),
    (b"region_id,region_name,country,Region_Name\nR1,North,DE,N\n",
     ("line 1 (the header) names the same column twice: 'region_name' (field 2) and "
     "'Region_Name' (field 4); case does not tell columns apart. Each column may appear once")),
    (b"region_id,region_name,country,\nR1,North,DE,\n",
     ("line 1 (the header) ends with a comma: field 4 has no column name. Remove the trailing "
     "comma from the header line (and from the data lines, if they end with one too) and run "
     "the build again.")),
    (b"region_id,,country\nR1,North,DE\n",
     ("line 1 (the header): field 2 of 3 has no column name. Name the column (or remove it from "
     "the header and the data lines) and run the build again.")),
], ids=["duplicate", "duplicate-other-case", "trailing-comma", "empty-name"])
def test_header_problems_name_the_file_the_field_and_the_fix(tmp_path, content, expected):
    message = message_for(tmp_path, content)
    assert message.startswith(f"{tmp_path / 'regions.csv'}: ")
    assert expected in message
    assert "Binder Error" not in message


def test_a_line_over_the_line_limit_names_the_line_the_limit_and_the_fix(tmp_path):
    long_value = b"x" * (MAX_LINE_BYTES + 10)
    message = message_for(
        tmp_path, b"region_id,region_name,country\nR1,North,DE\nR2," + long_value + b",DE\n")
    assert message == (
        f"{tmp_path / 'regions.csv'}: line 3 is longer than the limit of 2,097,152 bytes per "
        "line (2 MiB, DuckDB's max_line_size). Usually a quote (\") opened in a value is never "
        "closed, which runs the lines after it together: check line 3 and close or double the "
        "quote. If a value really is that long, shorten it in the export; then run the build "
        "again.")


def test_an_unclosed_quote_names_the_line(tmp_path):
    message = message_for(
        tmp_path, b'region_id,region_name,country\nR1,North,DE\nR2,"South,ES\nR3,East,PL\n')
    assert message == (
        f"{tmp_path / 'regions.csv'}: line 3 has a value whose quote (\") is never closed. "
        "Close the quote, or double a quote inside a quoted value (\"\"), as RFC 4180 says; "
        "then run the build again.")


@pytest.mark.parametrize(("column_sql", "kind"), [
    ("{'name': 'North'}", "STRUCT(\"name\" VARCHAR)"),
    ("['North', 'Nord']", "VARCHAR[]"),
    ("map {'en': 'North'}", "MAP(VARCHAR, VARCHAR)"),
], ids=["struct", "list", "map"])
def test_a_nested_parquet_column_is_refused(tmp_path, column_sql, kind):
    duckdb.connect().execute(
        f"copy (select 'R1' as region_id, {column_sql} as region_name) "
        f"to '{tmp_path / 'regions.parquet'}'")
    with pytest.raises(StructuralError) as caught:
        load_regions(tmp_path)
    assert str(caught.value) == (
        f"{tmp_path / 'regions.parquet'}: column 'region_name' is a nested Parquet column "
        f"({kind}); the contract wants a plain string there. Write the column flat (one value "
        "per row: flatten the struct, pick one element of the list or map) and run the build "
        "again.")


def test_a_nested_column_outside_the_contract_is_ignored(tmp_path):
    duckdb.connect().execute(
        "copy (select 'R1' as region_id, 'North' as region_name, {'a': 1} as extra) "
        f"to '{tmp_path / 'regions.parquet'}'")
    assert load_regions(tmp_path) == 1


def test_the_build_exits_2_without_a_traceback(tmp_path):
    """The whole command: `rapport build` on a raw folder whose header has a trailing comma."""
    tiny = Path(__file__).parent / "fixtures" / "tiny"
    raw = tmp_path / "raw"
    raw.mkdir()
    for path in tiny.glob("*.csv"):
        text = path.read_text(encoding="utf-8")
        if path.stem == "regions":
            lines = text.splitlines()
            text = "\n".join([lines[0] + ","] + [line + "," for line in lines[1:]]) + "\n"
        (raw / path.name).write_text(text, encoding="utf-8")
    result = run_cli("build", "--raw", str(raw), data_dir=tmp_path / "data", timeout=300)
    assert result.returncode == 2, result.stdout + result.stderr
    assert f"{raw / 'regions.csv'}: line 1 (the header) ends with a comma" in result.stderr
    assert "Traceback" not in result.stdout + result.stderr


def test_load_raw_stops_at_the_first_structural_break(tmp_path):
    (tmp_path / "regions.csv").write_text("region_id,region_name,region_id\nR1,N,R1\n")
    with pytest.raises(StructuralError, match="names column 'region_id' twice"):
        load_raw(duckdb.connect(), tmp_path)

"""The quarantine gate keeps every row: clean rows typed, bad rows with their reasons."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import duckdb
import pytest

from rapport.pipeline.ingest import load_raw
from rapport.pipeline.quarantine import TableCounts, run_gate

TODAY = date(2026, 11, 23)


def write(folder: Path, name: str, text: str) -> None:
    (folder / f"{name}.csv").write_text(text.lstrip(), encoding="utf-8")


@pytest.fixture()
def gated(tmp_path: Path):
    """A tiny raw folder with one bad row of each kind, loaded and gated."""
    write(tmp_path, "regions", """
region_id,region_name,country
R1,North,DE
R2,South,
R1,Second R1,FR
,No id,
""")
    write(tmp_path, "reps", """
rep_id,rep_name,email,region_id,role,fte,hire_date,leave_date,manager_rep_id
P1,Ann,,R1, ar ,1.0,2024-01-01,,
P2,Bob,,R9,AR,1,2024-01-01,,
P3,Cid,,R2,XX,0.5,2024-13-01,,
P4,Dan,,R2,SR,2.5,2024-01-01,2023-01-01,
""")
    write(tmp_path, "accounts", """
account_id,account_name,industry,region_id,ar_rep_id
A1,Acme, Telecom ,R1,P1
A2,Orphan rep,telecom,R1,P2
""")
    write(tmp_path, "contacts", """
contact_id,account_id,full_name,decision_role
C1,A1,Xi Yu,a
C2,A2,Zed Zee,D
""")
    write(tmp_path, "interactions", """
interaction_id,occurred_at,rep_id,account_id,contact_id,activity_type
I1,2025-01-05 10:00:00,P1,A1,C1,home_visit
I2,2031-01-01 09:00:00,P1,A1,C1,home_visit
I3,2025-01-06 11:00:00,P1,A1,,Karaoke
I4,2025-01-07 11:00:00,P1,A1,C1,HOME_VISIT
""")
    write(tmp_path, "opportunities", """
opportunity_id,account_id,ar_rep_id,created_date,close_date,status,amount
O1,A1,P1,2025-01-01,2024-01-01,won,100
O2,A1,P1,2025-01-01,2025-02-01,WON,-5
O3,A1,P1,2025-01-01,2025-02-01,won,1e3x
O4,A1,P1,2025-01-01,2025-02-01, Won ,250.5
""")
    con = duckdb.connect()
    load_raw(con, tmp_path)
    result = run_gate(con, "test-build", today=TODAY)
    yield con, result
    con.close()


def reasons_of(con, table: str) -> dict[int, str]:
    return dict(con.execute(
        "select row_number, detail from meta.dq_quarantine where table_name = ? "
        "order by row_number", [table]).fetchall())


def test_every_raw_row_is_either_clean_or_quarantined(gated):
    con, result = gated
    for table, counts in result.counts.items():
        assert counts.raw == counts.clean + counts.quarantined, table
        stored = con.execute(
            "select raw_rows, clean_rows, quarantined_rows from meta.dq_row_counts "
            "where table_name = ?", [table]).fetchone()
        assert stored == (counts.raw, counts.clean, counts.quarantined)
    assert result.counts["regions"].raw == 4
    assert result.counts["regions"].quarantined == 2


def test_each_bad_row_has_the_right_reason(gated):
    con, _ = gated
    assert reasons_of(con, "regions") == {
        3: "duplicate_key:R1",                 # the first R1 (row 1) is kept
        4: "missing_required:region_id",
    }
    assert reasons_of(con, "reps") == {
        2: "orphan_fk:region_id=R9",
        3: "not_allowed:role=XX; unparseable:hire_date=2024-13-01",
        4: "out_of_range:fte=2.5; impossible_value:leave_before_hire",
    }
    # A2's AR (P2) was itself quarantined, so A2 is an orphan; and C2 follows A2.
    assert reasons_of(con, "accounts") == {2: "orphan_fk:ar_rep_id=P2"}
    assert reasons_of(con, "contacts") == {2: "orphan_fk:account_id=A2"}
    assert reasons_of(con, "interactions") == {
        2: "impossible_value:interaction_in_future",
        3: "not_allowed:activity_type=Karaoke",
    }
    assert reasons_of(con, "opportunities") == {
        1: "impossible_value:close_before_create",
        2: "out_of_range:amount=-5",
        3: "unparseable:amount=1e3x",
    }


def test_quarantined_rows_keep_raw_values_and_source(gated):
    con, _ = gated
    build_id, source, raw_values, reasons = con.execute(
        "select build_id, source_file, raw_values, reasons from meta.dq_quarantine "
        "where table_name = 'reps' and row_number = 3").fetchone()
    assert build_id == "test-build"
    assert source == "reps.csv"
    assert reasons == "not_allowed,unparseable"
    assert json.loads(raw_values)["hire_date"] == "2024-13-01"


def test_clean_rows_are_typed_and_normalised(gated):
    con, _ = gated
    assert con.execute("select rep_id, role, fte, hire_date from validated.reps").fetchall() == [
        ("P1", "AR", 1.0, date(2024, 1, 1))
    ]
    assert con.execute("select industry from validated.accounts").fetchall() == [("telecom",)]
    assert con.execute("select decision_role from validated.contacts").fetchall() == [("A",)]
    # ' Won ' and 'won' are the same status; amounts are numbers.
    assert con.execute(
        "select opportunity_id, status, amount from validated.opportunities").fetchall() == [
        ("O4", "won", 250.5)]
    assert con.execute(
        "select interaction_id, activity_type from validated.interactions order by 1"
    ).fetchall() == [("I1", "home_visit"), ("I4", "home_visit")]


def test_required_columns_are_declared_not_null_on_the_clean_tables(gated):
    """The gate declares every required column NOT NULL on validated.<table>: the engine
    refuses a null there at insert (the dbt project does not test it again on staging)."""
    from rapport.contract import contract

    con, _ = gated
    nullable = {(t, c): n == "YES" for t, c, n in con.execute(
        "select table_name, column_name, is_nullable from information_schema.columns "
        "where table_schema = 'validated'").fetchall()}
    for table in contract().tables.values():
        for column in table.columns:
            assert nullable[(table.name, column)] is (column not in table.required_columns), (
                table.name, column)
    assert nullable[("reps", "rep_name")] is False and nullable[("reps", "email")] is True
    with pytest.raises(duckdb.ConstraintException, match="NOT NULL constraint failed"):
        con.execute("insert into validated.regions (region_id, region_name) "
                    "values ('R3', null)")


def test_default_as_of_date_is_latest_interaction_not_after_today(gated):
    _, result = gated
    # I2 (2031) is after today, so the latest usable interaction is I4 on 2025-01-07.
    assert result.as_of_date == date(2025, 1, 7)


def test_absent_optional_tables_are_empty_with_contract_columns(gated):
    con, result = gated
    assert result.counts["payments"].raw == 0
    columns = [r[0] for r in con.execute("describe validated.payments").fetchall()]
    assert columns[:4] == ["payment_id", "opportunity_id", "paid_date", "amount"]


def test_duplicates_keep_the_first_clean_row_and_clean_rows_keep_file_order(tmp_path):
    """A key's first clean row is kept even when an earlier row with that key was rejected;
    later clean rows with the key are duplicates; validated keeps the file's row order."""
    write(tmp_path, "regions", """
region_id,region_name,country
R3,,DE
R2,South,
R3,Third,FR
R1,North,
R3,Again,NL
R2,South again,
""")
    con = duckdb.connect()
    for name, header in [
        ("reps", "rep_id,rep_name,region_id,role,fte,hire_date"),
        ("accounts", "account_id,account_name,industry,region_id,ar_rep_id"),
        ("contacts", "contact_id,account_id,full_name"),
        ("interactions", "interaction_id,occurred_at,rep_id,account_id,activity_type"),
        ("opportunities", "opportunity_id,account_id,ar_rep_id,created_date,status,amount"),
    ]:
        write(tmp_path, name, header + "\n")
    load_raw(con, tmp_path)
    result = run_gate(con, "dup-build", today=TODAY)
    assert reasons_of(con, "regions") == {
        1: "missing_required:region_name",
        5: "duplicate_key:R3",
        6: "duplicate_key:R2",
    }
    assert con.execute(
        "select region_id, _row_number from validated.regions").fetchall() == [
        ("R2", 2), ("R3", 3), ("R1", 4)]
    assert result.counts["regions"] == TableCounts(raw=6, clean=3, quarantined=3)
    con.close()

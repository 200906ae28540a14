"""What `rapport import` says before the build: blank values the build will care about, a
date format that would read the values it could not parse, and a non-zero exit when a core
table ends with no rows (the build would refuse it anyway)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from rapport.contract import contract
from rapport.pipeline.importer import run_import
from rapport.pipeline.importer.engine import blank_value_warnings
from rapport.pipeline.importer.values import suggest_date_formats

FIXTURES = Path(__file__).parent / "fixtures" / "crm"


@pytest.mark.parametrize(("value", "expected"), [
    ("31-12-75", ["%d-%m-%y"]),  # the public sample's day-first two-digit years
    ("15/03/2021", ["%d/%m/%Y"]),  # 15 cannot be a month
    ("03/04/2025", ["%d/%m/%Y", "%m/%d/%Y"]),  # ambiguous: both said, day-first first
    ("2025-04-03", ["iso"]),
    ("next tuesday", []),
])
def test_a_date_that_does_not_parse_gets_the_formats_it_reads_in(value, expected):
    assert suggest_date_formats(value) == expected


def test_blank_values_are_counted_per_column_with_what_the_build_will_do():
    deals = contract().tables["opportunities"]
    base = {c: "x" for c in deals.columns}
    rows = [
        {**base, "status": "won", "amount": ""},  # needed when won: quarantined by the build
        {**base, "status": "open", "amount": ""},  # open: kept as incomplete
        {**base, "status": "open", "amount": "", "account_id": ""},
        {**base, "status": "lost"},
    ]
    warnings = blank_value_warnings(deals, rows)
    assert ("amount: 3 of 4 rows blank; 1 of them with status won, which needs it: the "
            "build will quarantine those; 2 kept as incomplete") in warnings
    assert "account_id: 1 of 4 rows blank; 1 kept as incomplete" in warnings
    reps = contract().tables["reps"]
    rep = {c: "x" for c in reps.columns}
    warnings = blank_value_warnings(reps, [{**rep, "rep_name": ""}, {**rep, "region_id": ""}])
    assert ("rep_name: 1 of 2 rows blank; the contract requires it, so `rapport build` will "
            "quarantine them") in warnings
    default = reps.columns["region_id"].default
    assert default and f"region_id: 1 of 2 rows blank; the build uses the default ({default})" \
        in warnings


def test_an_import_whose_core_table_ends_empty_exits_2_saying_what_to_do(
        tmp_path, monkeypatch, capsys):
    export = tmp_path / "export"
    shutil.copytree(FIXTURES / "salesforce", export)
    users = export / "User.csv"
    users.write_text(users.read_text(encoding="utf-8").splitlines()[0] + "\n",
                     encoding="utf-8")  # the header only: no reps
    monkeypatch.setenv("RAPPORT_DATA_DIR", str(tmp_path / "data"))
    assert run_import(export, Path("salesforce"), tmp_path / "raw", tmp_path / "report") == 2
    err = capsys.readouterr().err
    assert "ended with no rows" in err and "reps" in err
    assert "`rapport build` needs rows in regions, reps, accounts, opportunities" in err
    assert str(tmp_path / "report" / "import_report.txt") in err
    assert (tmp_path / "report" / "import_report.txt").exists()  # the report is still saved

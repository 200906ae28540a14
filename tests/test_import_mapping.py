"""Mapping files are checked before anything is read, and bad input stops the import with a
message naming the file, the place and what to do (exit code 2), writing nothing."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from rapport.contract import contract
from rapport.pipeline.importer import MappingError, import_exports, run_import
from rapport.pipeline.importer.mapping import MAPPINGS_DIR, load_mapping

FIXTURES = Path(__file__).parent / "fixtures" / "crm"


def write(path: Path, text: str) -> Path:
    path.write_text(text.lstrip(), encoding="utf-8")
    return path


@pytest.mark.parametrize("name", ["salesforce", "hubspot", "dynamics365", "example-commented"])
def test_ready_mappings_are_valid(name):
    mapping = load_mapping(MAPPINGS_DIR / f"{name}.yml", contract())
    assert {"reps", "accounts", "opportunities", "regions"} <= set(mapping.tables)


def test_every_problem_of_a_mapping_is_listed_at_once(tmp_path):
    path = write(tmp_path / "bad.yml", """
mapping_version: 1
tables:
  deal:
    file: deals.csv
    columns: {id: Id}
  reps:
    file: users.csv
    columns:
      rep_id: Id
      rep_name: Name
      region_id: {colum: Region}
      role: {value: AR}
      fte: {value: "1"}
      hire_date: {column: Start, date: [day_first, month_first]}
  opportunities:
    file: deals.csv
    columns:
      opportunity_id: Id
      account_id: {column: Company, join: {table: accounts, by: account_name}}
      ar_rep_id: {column: Owner, join: {table: reps, by: rep_name, fuzzy: true, threshold: "0.5"},
                  on_unmatched: blank}
      created_date: Created
      status: {column: Stage, map: {Won: winning}}
      discount: Discount
""")
    with pytest.raises(MappingError) as caught:
        load_mapping(path, contract())
    message = str(caught.value)
    for expected in [
        "tables.deal: not a contract table",
        "tables.reps.columns.region_id.colum: unknown key",
        "tables.reps.columns.region_id: no source: give column, first_of, template, value",
        "tables.reps.columns.hire_date.date: day_first and month_first together would guess",
        (
            "tables.opportunities.columns.account_id.join[0].table: joins look rows up in an "
            "imported table; 'accounts' is not imported"
        ),
        "tables.opportunities.columns.ar_rep_id.join[0].threshold: a similarity between 0.8",
        "tables.opportunities.columns.ar_rep_id.on_unmatched: ar_rep_id is required",
        "tables.opportunities.columns.status.map.Won: 'winning' is not allowed for status",
        "tables.opportunities.columns.discount: opportunities has no column 'discount'",
        "tables.opportunities.columns: opportunities.amount is required by the contract",
    ]:
        assert expected in message, expected
    assert message.startswith(f"mapping {path} has 10 problem(s)")


def test_yaml_words_like_yes_and_numbers_stay_labels_in_maps(tmp_path):
    path = write(tmp_path / "labels.yml", """
mapping_version: 1
tables:
  opportunities:
    file: deals.csv
    columns:
      opportunity_id: Id
      account_id: Account
      ar_rep_id: Owner
      created_date: Created
      amount: Amount
      status:
        column: Won?
        map: {yes: won, no: lost, 1: won, 0: open, ~: open}
""")
    spec = load_mapping(path, contract()).tables["opportunities"].sources[0]
    status = next(c for c in spec.columns if c.target == "status")
    assert {k: status.value_map[k] for k in ("yes", "no", "1", "0", "~")} == {
        "yes": "won", "no": "lost", "1": "won", "0": "open", "~": "open",
    }


@pytest.fixture()
def export(tmp_path: Path) -> Path:
    folder = tmp_path / "export"
    shutil.copytree(FIXTURES / "salesforce", folder)
    return folder


def test_a_missing_required_export_file_stops_the_import(tmp_path, export, capsys):
    (export / "Opportunity.csv").unlink()
    out = tmp_path / "raw"
    code = run_import(export, Path("salesforce"), out, tmp_path / "report")
    err = capsys.readouterr().err
    assert code == 2
    assert "no file 'Opportunity.csv', which the mapping needs for table 'opportunities'" in err
    assert "Files there: Account.csv, Contact.csv" in err
    assert not out.exists() and not (tmp_path / "report").exists()


def test_a_missing_export_column_stops_the_import_and_names_it(tmp_path, export, capsys):
    text = (export / "Account.csv").read_text(encoding="utf-8")
    (export / "Account.csv").write_text(text.replace("Industry", "Sector", 1), encoding="utf-8")
    assert run_import(export, Path("salesforce"), tmp_path / "raw", None) == 2
    err = capsys.readouterr().err
    assert "Account.csv: column(s) missing: Industry (for accounts.industry)" in err
    assert "The header has: Id, Name, Sector, OwnerId" in err


def test_a_file_with_another_delimiter_is_explained(tmp_path, export):
    text = (export / "User.csv").read_text(encoding="utf-8")
    (export / "User.csv").write_text(text.replace(",", ";"), encoding="utf-8")
    with pytest.raises(MappingError, match=r"looks delimited by ';', not ','.*delimiter: ';'"):
        import_exports(export, Path("salesforce"), tmp_path / "raw", tmp_path / "report")


def test_an_excel_workbook_is_refused_with_what_to_do(tmp_path, export):
    (export / "Opportunity.csv").rename(export / "Opportunity.xlsx")
    mapping = write(tmp_path / "xlsx.yml", (MAPPINGS_DIR / "salesforce.yml").read_text(
        encoding="utf-8").replace("file: Opportunity.csv", "file: Opportunity.xlsx"))
    with pytest.raises(MappingError, match="Save the sheet as 'CSV UTF-8'"):
        import_exports(export, mapping, tmp_path / "raw", tmp_path / "report")


def test_raw_files_not_written_by_an_import_are_never_overwritten(tmp_path, export):
    out = tmp_path / "raw"
    out.mkdir()
    (out / "interactions.csv").write_text("interaction_id\nI1\n", encoding="utf-8")
    with pytest.raises(MappingError, match=r"holds raw files that no earlier `rapport import` "
                       r"wrote \(interactions.csv\)"):
        import_exports(export, Path("salesforce"), out, tmp_path / "report")
    assert (out / "interactions.csv").read_text(encoding="utf-8") == "interaction_id\nI1\n"


def test_a_new_import_replaces_the_files_of_the_previous_one(tmp_path, export):
    out = tmp_path / "raw"
    first = import_exports(export, Path("salesforce"), out, tmp_path / "first")
    assert (out / "opportunity_contacts.csv").exists()
    for name in ("Contact.csv", "OpportunityContactRole.csv", "Task.csv", "Event.csv"):
        (export / name).unlink()
    second = import_exports(export, Path("salesforce"), out, tmp_path / "second")
    assert not (out / "opportunity_contacts.csv").exists()  # not in this export any more
    assert not (out / "contacts.csv").exists()  # optional: not in this export any more
    marker = json.loads((out / ".rapport-import.json").read_text(encoding="utf-8"))
    assert marker["run_id"] == second.run_id != first.run_id
    assert sorted(marker["files"]) == sorted(p.name for p in out.glob("*.csv"))


def test_the_command_prints_the_report_and_saves_it_under_data_imports(
    tmp_path, export, monkeypatch, capsys
):
    monkeypatch.setenv("RAPPORT_DATA_DIR", str(tmp_path / "data"))
    assert run_import(export, Path("salesforce"), None, None) == 0
    out = capsys.readouterr().out
    assert "opportunities          Opportunity.csv                  13       10            3" in out
    assert "total                                                   51       35           16" in out
    runs = list((tmp_path / "data" / "imports").iterdir())
    assert len(runs) == 1
    assert sorted(p.name for p in runs[0].iterdir()) == [
        "import_quarantine.csv", "import_report.json", "import_report.txt", "lineage.csv",
    ]
    assert (tmp_path / "data" / "raw" / "opportunities.csv").exists()
    report = json.loads((runs[0] / "import_report.json").read_text(encoding="utf-8"))
    by_reason = report["tables"]["opportunities"]["sources"][0]["by_reason"]
    assert by_reason == {"blank_key": 1, "duplicate_key": 1, "unparseable_date": 1}
    lineage = (runs[0] / "lineage.csv").read_text(encoding="utf-8").splitlines()
    assert "opportunities,1,Opportunity.csv,1" in lineage
    assert "opportunities,6,Opportunity.csv,7" in lineage  # row 6 was quarantined


def test_unmapped_values_can_pass_to_the_gate_or_be_blanked_and_ambiguity_is_never_guessed(
    tmp_path,
):
    export = tmp_path / "export"
    export.mkdir()
    write(export / "people.csv", """
id,name,team,fte
P1,Ann Berg,North,1
P2,Bo Lund,north ,1
P3,Bo Lund,South,1
""")
    write(export / "firms.csv", """
id,name,sector,owner
F1,Acme,Telecom,Ann Berg
F2,Bolt,Bakery,Ann Berg
F3,Coil,Telecom,Bo Lund
""")
    write(export / "deals.csv", """
id,firm,owner,state,value,made
D1,F1,Ann Berg,done,100,2025-01-02
D2,F1,Ann Berg,paused,200,2025-01-03
D3,F1,Ann Berg,WON,300,2025-01-04
""")
    mapping = write(tmp_path / "mini.yml", """
mapping_version: 1
tables:
  regions:
    derive: {from: [{table: reps, column: region_id}], columns: [region_id, region_name]}
  reps:
    file: people.csv
    columns: {rep_id: id, rep_name: name, region_id: team, role: {value: AR}, fte: fte,
              hire_date: {value: "2024-01-01"}}
  accounts:
    file: firms.csv
    columns:
      account_id: id
      account_name: name
      industry: {column: sector, map: {Telecom: telecom}, unmapped: pass}
      region_id: {value: North}
      ar_rep_id: {column: owner, join: {table: reps, by: rep_name, fuzzy: true}}
  opportunities:
    file: deals.csv
    columns:
      opportunity_id: id
      account_id: firm
      ar_rep_id: {column: owner, join: {table: reps, by: rep_name}}
      created_date: made
      status: {column: state, map: {done: won}, unmapped: blank}
      amount: value
""")
    result = import_exports(export, mapping, tmp_path / "raw", tmp_path / "report")
    # Bo Lund is the name of two reps: never guessed, even with fuzzy matching on.
    assert {(q.source_file, q.source_row): q.reasons for q in result.outcome.quarantine} == {
        ("firms.csv", 3): "ambiguous_match",
    }
    accounts = (tmp_path / "raw" / "accounts.csv").read_text(encoding="utf-8")
    assert "F2,Bolt,Bakery," in accounts  # passed as it is: the build's gate judges 'Bakery'
    deals = (tmp_path / "raw" / "opportunities.csv").read_text(encoding="utf-8").splitlines()
    # D1 mapped; D2 'paused' blanked on purpose (the gate then says missing_required);
    # D3 'WON' is a contract value and maps to itself.
    assert [line.split(",")[9] for line in deals[1:]] == ["won", "", "won"]
    assert result.report["tables"]["opportunities"]["blanked"]["status"]["count"] == 1
    # 'North' and 'north ' (trimmed: 'north') became two regions, and the report says so.
    assert result.report["tables"]["regions"]["written"] == 3
    warning = (
        "regions: 'North', 'north' differ only in case, spaces or accents and became separate "
        "rows; make the source values agree if they are the same"
    )
    assert result.report["tables"]["regions"]["warnings"] == [warning]


def test_a_windows_spec_is_checked_against_the_table_and_the_source(tmp_path):
    """`windows:` (change events -> validity windows) names a source's mapped columns and
    two date columns; every mistake is listed."""
    path = write(tmp_path / "windows.yml", """
mapping_version: 1
tables:
  account_owners:
    sources:
      - file: history.csv
        windows: {by: [account_id, rolle], from: note, to: valid_to, until: x}
        columns: {account_id: Account, role: {value: AR}, rep_id: Owner, valid_from: Day}
      - file: changes.csv
        windows: {by: [account_id, rep_id], from: valid_to, to: valid_to}
        columns: {account_id: Account, role: {value: AR}, rep_id: Owner, valid_from: Day}
""")
    with pytest.raises(MappingError) as caught:
        load_mapping(path, contract())
    message = str(caught.value)
    for expected in [
        "tables.account_owners.sources[0].windows.until: unknown key; allowed here: by, description,",
        "tables.account_owners.sources[1].windows.from: valid_to is not mapped in this source",
        "tables.account_owners.sources[1].windows.to: a column other than `from`",
    ]:
        assert expected in message, expected
    path = write(tmp_path / "windows2.yml", """
mapping_version: 1
tables:
  account_owners:
    file: history.csv
    windows: {by: [account_id, rolle], from: note, to: valid_to}
    columns: {account_id: Account, role: {value: AR}, rep_id: Owner, valid_from: Day}
""")
    with pytest.raises(MappingError) as caught:
        load_mapping(path, contract())
    message = str(caught.value)
    for expected in [
        "tables.account_owners.windows.by: account_owners has no column 'rolle'",
        "tables.account_owners.windows.from: note is a string, not a date",
    ]:
        assert expected in message, expected

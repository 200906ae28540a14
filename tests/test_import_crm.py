"""Each ready mapping imports its CRM fixture: every row written or quarantined with the
expected reason, and the revenue per rep after import and the build's gate equals the sum
worked out by hand from the fixture.

Fixtures: tests/fixtures/crm/<format>/ (column names and value conventions of each CRM's
export, with dirt: names/ids spelled two ways, stray spaces and case, unknown values,
unparseable dates, blank keys, duplicates). Each fixture row's fate is listed below.
"""

from __future__ import annotations

import csv
import json
import shutil
from datetime import date
from pathlib import Path

import duckdb
import pytest

from rapport.pipeline.importer import ImportResult, import_exports
from rapport.pipeline.ingest import load_raw
from rapport.pipeline.quarantine import default_as_of_date, run_gate

FIXTURES = Path(__file__).parent / "fixtures" / "crm"
MAPPINGS = Path(__file__).resolve().parents[1] / "rapport" / "mappings"
TODAY = date(2026, 11, 23)


def run(fixture: str | Path, mapping: str | Path, tmp_path: Path) -> ImportResult:
    source = fixture if isinstance(fixture, Path) else FIXTURES / fixture
    return import_exports(source, Path(mapping), out=tmp_path / "raw", report=tmp_path / "report")


def records(path: Path, delimiter: str = ",") -> int:
    """Data records of a fixture file, counted directly (not through the importer)."""
    with path.open(newline="", encoding="utf-8-sig") as handle:
        rows = list(csv.reader(handle, delimiter=delimiter))
    return sum(1 for row in rows[1:] if any(v.strip() for v in row))


def quarantined(result: ImportResult) -> dict[tuple[str, int], str]:
    return {(q.source_file, q.source_row): q.reasons for q in result.outcome.quarantine}


def assert_every_row_accounted(
    result: ImportResult, source: Path, files: dict[str, tuple[str, int]], delimiter: str = ","
) -> None:
    """Per file: rows read = rows in the file = written + quarantined, with no row in both."""
    per_source = {
        (s["file"], table): s
        for table, t in result.report["tables"].items()
        for s in t["sources"]
        if s["status"] == "imported"
    }
    assert {f: t for f, t in per_source} == {f: t for f, (t, _) in files.items()}
    for file, (table, expected_rows) in files.items():
        counted = records(source / file, delimiter)
        assert counted == expected_rows, file
        counts = per_source[(file, table)]
        assert counts["read"] == counted, file
        assert counts["written"] + counts["quarantined"] == counted, file
        written = {row for f, row in result.outcome.tables[table].lineage if f == file}
        parked = {row for (f, row) in quarantined(result) if f == file}
        assert len(written) == counts["written"] and len(parked) == counts["quarantined"]
        assert written | parked == set(range(1, counted + 1)), file
        assert not written & parked, file
    with (result.report_dir / "import_quarantine.csv").open(encoding="utf-8") as handle:
        saved = list(csv.DictReader(handle))
    assert len(saved) == len(result.outcome.quarantine)
    for row in saved:  # the raw values of every quarantined row are kept
        assert json.loads(row["raw_values"]), row


def gate(result: ImportResult, tmp_path: Path) -> duckdb.DuckDBPyConnection:
    con = duckdb.connect(str(tmp_path / "import.duckdb"))
    load_raw(con, result.out)
    run_gate(con, "import-test", today=TODAY)
    return con


def revenue_per_rep(con: duckdb.DuckDBPyConnection) -> dict[str, float]:
    return dict(
        con.execute(
            "select ar_rep_id, sum(amount) from validated.opportunities "
            "where status = 'won' group by ar_rep_id"
        ).fetchall()
    )


def gate_quarantine(
    con: duckdb.DuckDBPyConnection, key: dict[str, str]
) -> set[tuple[str, str, str]]:
    """(table, key value, reason codes) of every row the gate quarantined."""
    rows = con.execute("select table_name, raw_values, reasons from meta.dq_quarantine").fetchall()
    return {(t, json.loads(raw)[key[t]], reasons) for t, raw, reasons in rows}


def column(con: duckdb.DuckDBPyConnection, sql: str, *params: object) -> object:
    return con.execute(sql, list(params)).fetchone()[0]


# ---------------------------------------------------------------- Salesforce

SF_U1, SF_U2, SF_U3, SF_U4 = (
    "0058d000001AbCdAAK", "0058d000001EfGhAAK", "0058d000002JkLmAAK", "0058d000002NpQrAAK"
)


def test_salesforce_export_imports_every_row_or_quarantines_it_with_its_reason(tmp_path):
    result = run("salesforce", MAPPINGS / "salesforce.yml", tmp_path)
    source = FIXTURES / "salesforce"
    assert_every_row_accounted(result, source, {
        "User.csv": ("reps", 7),
        "Account.csv": ("accounts", 7),
        "Contact.csv": ("contacts", 6),
        "Opportunity.csv": ("opportunities", 13),
        "OpportunityContactRole.csv": ("opportunity_contacts", 6),
        "Task.csv": ("interactions", 7),
        "Event.csv": ("interactions", 5),
    })
    assert quarantined(result) == {
        ("User.csv", 5): "blank_key",  # no Id
        ("User.csv", 6): "duplicate_key",  # Priya's Id twice
        ("User.csv", 7): "unparseable_date",  # CreatedDate 15/03/2021 is not ISO
        ("Account.csv", 4): "unmapped_value",  # Industry Biotechnology is not in the map
        ("Account.csv", 6): "unmatched_join",  # owner 005...ZzZz is no user: no region
        ("Contact.csv", 3): "unparseable_date",  # Birthdate 1975-13-02
        ("Contact.csv", 6): "duplicate_key",
        ("Opportunity.csv", 6): "unparseable_date",  # CloseDate 2025-02-30
        ("Opportunity.csv", 8): "blank_key",
        ("Opportunity.csv", 9): "duplicate_key",
        ("OpportunityContactRole.csv", 4): "unmapped_value",  # Role Champion
        ("OpportunityContactRole.csv", 5): "duplicate_key",  # same deal and contact again
        ("Task.csv", 4): "excluded_by_where",  # Status Not Started
        ("Task.csv", 5): "unmapped_value",  # Type Webinar
        ("Task.csv", 6): "unparseable_date",  # ActivityDate 03/04/2025
        ("Event.csv", 4): "duplicate_key",
    }
    report = result.report
    assert report["totals"] == {"read": 51, "written": 35, "quarantined": 16}
    assert report["tables"]["regions"]["written"] == 3  # EMEA, APAC, Unassigned (derived)
    # role and fte are constants ({value: ...}); the default is for Tom, who has no Division.
    assert report["tables"]["reps"]["defaults_applied"] == {"region_id": 1}
    assert report["tables"]["interactions"]["blanked"]["contact_id"]["count"] == 3  # lead, 2 x C3
    assert report["fuzzy_matches"] == []
    assert report["tables"]["payments"]["status"] == "not_mapped"
    assert not (result.out / "payments.csv").exists()

    con = gate(result, tmp_path)
    # Written rows the gate rejects: references to rows the import quarantined. The open deal
    # without an Amount is kept (incomplete, not invalid: only won deals need an amount).
    assert gate_quarantine(con, {
        "contacts": "contact_id", "opportunities": "opportunity_id",
        "opportunity_contacts": "contact_id",
    }) == {
        ("contacts", "0038d00000FgHi5AAF", "orphan_fk"),  # its account Orbit was quarantined
        ("opportunities", "0068d00000PqRs1AAF", "orphan_fk"),  # account Orbit
        ("opportunities", "0068d00000TuVw2AAF", "orphan_fk"),  # owner Lars (bad CreatedDate)
        ("opportunity_contacts", "0038d00000XyZa3AAF", "orphan_fk"),  # contact Sofia
    }
    assert con.execute("select status, amount from validated.opportunities "
                       "where opportunity_id = '0068d00000XyZa3AAF'").fetchone() == ("open", None)
    # Contact.ReportsToId -> reports_to_contact_id: Omar reports to Lena, whose 15-character
    # id is restored to 18; nobody else has a manager.
    assert dict(con.execute("select contact_id, reports_to_contact_id from validated.contacts "
                            "where reports_to_contact_id is not null").fetchall()) == {
        "0038d00000TuVw2AAF": "0038d00000PqRs1AAF"}
    # Revenue = won deals by owner, from Opportunity.csv:
    #   Kim:    row 1 120000 + row 2 30000.50 = 150000.50 (row 9 is a duplicate of row 1,
    #           row 11 an orphan account, row 8 has no Id)
    #   Jürgen: row 3 80000 (OwnerId written as a 15-character id; row 4 is lost)
    #   Priya:  row 7 70000 (IsClosed/IsWon in upper case; row 6 has a bad CloseDate)
    #   Tom:    row 10 25000
    assert revenue_per_rep(con) == {
        SF_U1: 150000.50, SF_U2: 80000.0, SF_U3: 70000.0, SF_U4: 25000.0,
    }
    # The lower-cased 18-character owner id of Kestrel Energy is restored, so its region is
    # its owner Priya's.
    assert column(con, "select region_id from validated.accounts where account_name = ?",
                  "Kestrel Energy") == "APAC"
    # A time with an offset is stored in UTC; a multi-line description survives quoting.
    assert str(column(con, "select occurred_at from validated.interactions where "
                      "interaction_id = ?", "00U8d00000Ev005EAB")) == "2025-04-15 08:00:00"
    assert column(con, "select outcome from validated.interactions where interaction_id = ?",
                  "00T8d00000Ab007EAB") == "Lunch meeting\nwith the CFO, budget confirmed"
    assert column(con, "select count(*) from validated.interactions") == 8


def test_salesforce_owner_history_becomes_ar_windows_and_team_roles(tmp_path):
    """The Salesforce fixture plus tests/fixtures/crm/salesforce_owners/ (AccountHistory and
    AccountTeamMember): account_owners is filled, every other table is written exactly as
    without the two files."""
    export = tmp_path / "export"
    shutil.copytree(FIXTURES / "salesforce", export)
    for path in (FIXTURES / "salesforce_owners").iterdir():
        shutil.copy(path, export / path.name)
    result = run(export, MAPPINGS / "salesforce.yml", tmp_path / "with")
    without = run("salesforce", MAPPINGS / "salesforce.yml", tmp_path / "without")
    for name, table in result.outcome.tables.items():
        if name != "account_owners":
            assert table.rows == without.outcome.tables[name].rows, name
    assert_every_row_accounted(result, export, {
        "User.csv": ("reps", 7),
        "Account.csv": ("accounts", 7),
        "Contact.csv": ("contacts", 6),
        "Opportunity.csv": ("opportunities", 13),
        "OpportunityContactRole.csv": ("opportunity_contacts", 6),
        "Task.csv": ("interactions", 7),
        "Event.csv": ("interactions", 5),
        "AccountHistory.csv": ("account_owners", 13),
        "AccountTeamMember.csv": ("account_owners", 5),
    })
    owner_files = {"AccountHistory.csv", "AccountTeamMember.csv"}
    assert {k: v for k, v in quarantined(result).items() if k[0] in owner_files} == {
        ("AccountHistory.csv", 2): "excluded_by_where",  # the names row of change 1
        ("AccountHistory.csv", 4): "excluded_by_where",  # the names row of change 3
        ("AccountHistory.csv", 5): "excluded_by_where",  # Industry, not Owner
        ("AccountHistory.csv", 6): "excluded_by_where",  # the 'created' row
        ("AccountHistory.csv", 8): "duplicate_key",  # Sunrise's second change that day
        ("AccountHistory.csv", 10): "unparseable_date",  # CreatedDate 01/02/2025
        ("AccountTeamMember.csv", 3): "excluded_by_where",  # Account Manager: the owner is AR
    }
    nordwind, helix, sunrise, orbit, kestrel, pioneer = (
        "0018d00000AaBb1AAF", "0018d00000CcDd2AAF", "0018d00000EeFf3AAF",
        "0018d00000GgHh4AAF", "0018d00000IiJj5AAF", "0018d00000MmNn7AAF")
    ghost = "0058d000009ZzZzAAK"
    rows = [(r["account_id"], r["role"], r["rep_id"], r["valid_from"], r["valid_to"], r["note"])
            for r in result.outcome.tables["account_owners"].rows]
    assert rows == [
        # Nordwind: Tom -> Jürgen (15-character id, normalised) on 2023-06-01, Jürgen -> Kim
        # at 23:30 UTC on 2024-09-15: Jürgen's window ends the day before
        (nordwind, "AR", SF_U2, "2023-06-01", "2024-09-14", "AccountHistory"),
        (nordwind, "AR", SF_U1, "2024-09-15", "", "AccountHistory"),
        # Sunrise: two changes on 2024-01-10, the first row of the day is kept
        (sunrise, "AR", SF_U3, "2024-01-10", "", "AccountHistory"),
        # Kestrel: to Jürgen (id lower-cased by a spreadsheet); the next row's date does not
        # parse, so it takes no part and Jürgen's window stays open
        (kestrel, "AR", SF_U2, "2025-02-01", "", "AccountHistory"),
        (pioneer, "AR", SF_U4, "2023-08-01", "2024-04-30", "AccountHistory"),
        (pioneer, "AR", ghost, "2024-05-01", "", "AccountHistory"),
        (orbit, "AR", SF_U3, "2024-03-01", "", "AccountHistory"),
        # today's team: solution and fulfilment roles, from the day they were added, open
        (nordwind, "SR", SF_U3, "2024-02-01", "", "AccountTeamMember"),
        (nordwind, "FR", SF_U4, "2024-03-01", "", "AccountTeamMember"),
        (sunrise, "SR", SF_U1, "2024-05-05", "", "AccountTeamMember"),
        (sunrise, "SR", SF_U4, "2024-06-01", "", "AccountTeamMember"),  # 'solution  engineer'
    ]
    assert helix not in {r[0] for r in rows}  # never reassigned: no row, inferred
    table = result.report["tables"]["account_owners"]
    assert table["windows_closed"] == {"valid_to": 2}
    text = (result.report_dir / "import_report.txt").read_text(encoding="utf-8")
    assert ("account_owners.valid_to: set to the day before the next change on 2 row(s)"
            in text)

    con = gate(result, tmp_path)
    # The build's gate: the ghost user is no rep; Orbit's account was quarantined by the import
    found = gate_quarantine(con, {
        "contacts": "contact_id", "opportunities": "opportunity_id",
        "opportunity_contacts": "contact_id", "account_owners": "account_id"})
    assert {q for q in found if q[0] == "account_owners"} == {
        ("account_owners", pioneer, "orphan_fk"), ("account_owners", orbit, "orphan_fk")}
    assert len(found) == 4 + 2  # the plain export's four, unchanged
    assert column(con, "select count(*) from validated.account_owners") == 9


# ---------------------------------------------------------------- HubSpot

HUBSPOT_FILES = {
    "owners.csv": ("reps", 6),
    "companies.csv": ("accounts", 6),
    "contacts.csv": ("contacts", 8),
    "deals.csv": ("opportunities", 14),
    "engagements.csv": ("interactions", 10),
}
HUBSPOT_QUARANTINE = {
    ("owners.csv", 5): "blank_key",
    ("owners.csv", 6): "duplicate_key",
    ("companies.csv", 4): "unmapped_value",  # industry BIOTECHNOLOGY
    ("companies.csv", 5): "unmatched_join",  # owner 'kim nguyen' (case) with fuzzy off
    ("contacts.csv", 6): "blank_key",
    ("contacts.csv", 7): "unmapped_value",  # hs_buying_role GATEKEEPER
    ("contacts.csv", 8): "unparseable_date",  # createdate 'yesterday'
    ("deals.csv", 6): "unmatched_join",  # owner 'Jurgen Weiss' (no accents) with fuzzy off
    ("deals.csv", 7): "unmapped_value",  # dealstage 12345678 of a custom pipeline
    ("deals.csv", 9): "blank_key",
    ("deals.csv", 10): "duplicate_key",
    ("deals.csv", 11): "unparseable_date",  # closedate 31/04/2025
    ("deals.csv", 12): "multiple_values",  # two associated companies
    ("deals.csv", 14): "unmatched_join",  # owner 'Kim  Nguyen' (two spaces) with fuzzy off
    ("engagements.csv", 4): "excluded_by_where",  # a NOTE
    ("engagements.csv", 6): "excluded_by_where",  # a CANCELED meeting
    ("engagements.csv", 7): "unparseable_date",  # timestamp 'n/a'
    ("engagements.csv", 8): "unmapped_value",  # activity type 'Golf day'
    ("engagements.csv", 9): "unmatched_join",  # owner 999
}


def test_hubspot_export_imports_every_row_or_quarantines_it_with_its_reason(tmp_path):
    result = run("hubspot", MAPPINGS / "hubspot.yml", tmp_path)
    assert_every_row_accounted(result, FIXTURES / "hubspot", HUBSPOT_FILES)
    assert quarantined(result) == HUBSPOT_QUARANTINE
    report = result.report
    assert report["totals"] == {"read": 44, "written": 25, "quarantined": 19}
    assert report["fuzzy_matches"] == []
    # Names that fuzzy matching would have resolved are named in the reason, not applied.
    detail = next(q.detail for q in result.outcome.quarantine if q.source_row == 14
                  and q.source_file == "deals.csv")
    assert "closest: 'Kim Nguyen'" in detail and "fuzzy: true" in detail
    assert report["tables"]["reps"]["first_of_several_taken"] == {"region_id": 1}  # Kim's teams
    assert report["tables"]["interactions"]["first_of_several_taken"] == {"contact_id": 1}

    con = gate(result, tmp_path)
    assert gate_quarantine(con, {"contacts": "contact_id", "opportunities": "opportunity_id"}) == {
        ("contacts", "3005", "orphan_fk"),  # company 2004 was quarantined
    }
    # 4008 has no amount: kept, as it is not won (only won deals need an amount)
    assert con.execute("select status <> 'won', amount from validated.opportunities "
                       "where opportunity_id = '4008'").fetchone() == (True, None)
    # Revenue = won deals by owner, from deals.csv (fuzzy off):
    #   Kim 101:    4001 120000 + 4002 30000.5 ("Closed Won" label) = 150000.5
    #               (4014 'Kim  Nguyen' quarantined, 4010 duplicate)
    #   Jürgen 102: 4003 80000 (owner given by name 'Jürgen Weiß', exact)
    #               (4006 'Jurgen Weiss' quarantined)
    #   Tom 104:    4013 25000 (4011 bad date, 4012 two companies)
    assert revenue_per_rep(con) == {"101": 150000.5, "102": 80000.0, "104": 25000.0}
    role = "select decision_role from validated.contacts where contact_id = ?"
    assert column(con, role, "3002") == "A"  # BUDGET_HOLDER;INFLUENCER: the first is taken
    assert column(con, role, "3003") is None  # Champion is a stance, not a role
    assert column(con, "select activity_type from validated.interactions "
                  "where interaction_id = '5003'") == "home_visit"  # custom type = taxonomy label


def test_hubspot_with_fuzzy_joins_on_matches_the_spellings_and_reports_every_match(tmp_path):
    mapping = tmp_path / "hubspot-fuzzy.yml"
    text = (MAPPINGS / "hubspot.yml").read_text(encoding="utf-8")
    assert text.count("fuzzy: false") == 4
    mapping.write_text(text.replace("fuzzy: false", "fuzzy: true"), encoding="utf-8")
    result = run("hubspot", mapping, tmp_path)
    assert_every_row_accounted(result, FIXTURES / "hubspot", HUBSPOT_FILES)
    fixed = {("companies.csv", 5), ("deals.csv", 6), ("deals.csv", 14)}
    assert quarantined(result) == {k: v for k, v in HUBSPOT_QUARANTINE.items() if k not in fixed}
    assert {
        (m["file"], m["row"], m["column"], m["value"], m["matched"], m["kind"])
        for m in result.report["fuzzy_matches"]
    } == {
        ("companies.csv", 5, "region_id", "kim nguyen", "Kim Nguyen", "normalised"),
        ("companies.csv", 5, "ar_rep_id", "kim nguyen", "Kim Nguyen", "normalised"),
        ("deals.csv", 6, "ar_rep_id", "Jurgen Weiss", "Jürgen Weiß", "normalised"),
        ("deals.csv", 14, "ar_rep_id", "Kim  Nguyen", "Kim Nguyen", "normalised"),
    }
    assert "Fuzzy matches applied: 4" in (result.report_dir / "import_report.txt").read_text()
    con = gate(result, tmp_path)
    # Kim 150000.5 + 4014 5000 = 155000.5; Jürgen 80000 + 4006 150000 = 230000; Tom 25000.
    assert revenue_per_rep(con) == {"101": 155000.5, "102": 230000.0, "104": 25000.0}


def test_hubspot_owner_history_becomes_ar_windows(tmp_path):
    """The HubSpot fixture plus a companies_property_history.csv (tests/fixtures/crm/
    hubspot_owners/): hubspot_owner_id's past values become AR windows."""
    export = tmp_path / "export"
    shutil.copytree(FIXTURES / "hubspot", export)
    shutil.copy(FIXTURES / "hubspot_owners" / "companies_property_history.csv", export)
    result = run(export, MAPPINGS / "hubspot.yml", tmp_path / "with")
    without = run("hubspot", MAPPINGS / "hubspot.yml", tmp_path / "without")
    for name, table in result.outcome.tables.items():
        if name != "account_owners":
            assert table.rows == without.outcome.tables[name].rows, name
    assert_every_row_accounted(result, export, {
        **HUBSPOT_FILES, "companies_property_history.csv": ("account_owners", 7)})
    assert quarantined(result) == {
        **HUBSPOT_QUARANTINE,
        ("companies_property_history.csv", 3): "excluded_by_where",  # the name property
    }
    rows = [(r["account_id"], r["role"], r["rep_id"], r["valid_from"], r["valid_to"])
            for r in result.outcome.tables["account_owners"].rows]
    assert rows == [
        ("2001", "AR", "102", "2023-01-05", "2024-09-30"),  # until the day before 101's
        ("2001", "AR", "101", "2024-10-01", ""),
        ("2003", "AR", "103", "2023-03-05", ""),
        ("2006", "AR", "101", "2023-07-05", "2024-01-31"),
        ("2006", "AR", "", "2024-02-01", "2024-02-29"),  # owner removed for February
        ("2006", "AR", "104", "2024-03-01", ""),
    ]
    table = result.report["tables"]["account_owners"]
    assert table["windows_closed"] == {"valid_to": 3}
    assert table["warnings"] == [("rep_id: 1 of 6 rows blank; the contract requires it, so "
                                  "`rapport build` will quarantine them")]
    con = gate(result, tmp_path)
    assert con.execute("select table_name, reasons from meta.dq_quarantine "
                       "where table_name = 'account_owners'").fetchall() == [
        ("account_owners", "missing_required")]
    assert column(con, "select count(*) from validated.account_owners") == 5


# ---------------------------------------------------------------- Dynamics 365

DY_U = "a1b2c3d4-0000-4000-8000-00000000000"
DY_A = "0a0a0a0a-0000-4000-8000-00000000000"
DY_C = "0c0c0c0c-0000-4000-8000-00000000000"
DY_O = "0e0e0e0e-0000-4000-8000-0000000000"


def test_dynamics365_export_imports_every_row_or_quarantines_it_with_its_reason(tmp_path):
    result = run("dynamics365", MAPPINGS / "dynamics365.yml", tmp_path)
    assert_every_row_accounted(result, FIXTURES / "dynamics365", {
        "systemuser.csv": ("reps", 7),
        "account.csv": ("accounts", 7),
        "contact.csv": ("contacts", 7),
        "opportunity.csv": ("opportunities", 14),
        "activitypointer.csv": ("interactions", 9),
    })
    assert quarantined(result) == {
        ("systemuser.csv", 5): "blank_key",
        ("systemuser.csv", 6): "duplicate_key",  # Priya's GUID in upper case = the same user
        ("systemuser.csv", 7): "unparseable_date",  # createdon 25/12/2021 (month-first: no)
        ("account.csv", 4): "unmapped_value",  # industrycode 7 (Consulting)
        ("account.csv", 6): "unmatched_join",  # owner is no user: no region
        ("contact.csv", 4): "unmapped_value",  # accountrolecode 4
        ("contact.csv", 6): "duplicate_key",  # Lena's GUID in braces, upper case
        ("contact.csv", 7): "unparseable_date",  # createdon 2023-13-01
        ("opportunity.csv", 6): "unparseable_date",  # actualclosedate 2025-02-30
        ("opportunity.csv", 7): "unmapped_value",  # statecode 3
        ("opportunity.csv", 8): "blank_key",
        ("opportunity.csv", 9): "duplicate_key",
        ("activitypointer.csv", 4): "excluded_by_where",  # a task
        ("activitypointer.csv", 5): "excluded_by_where",  # statecode 2 (canceled)
        ("activitypointer.csv", 6): "unmatched_join",  # regarding a record not in the export
        ("activitypointer.csv", 7): "unparseable_date",  # actualstart 13/40/2025
        ("activitypointer.csv", 8): "duplicate_key",
    }
    assert result.report["totals"] == {"read": 44, "written": 27, "quarantined": 17}

    con = gate(result, tmp_path)
    assert gate_quarantine(con, {"contacts": "contact_id", "opportunities": "opportunity_id"}) == {
        ("contacts", DY_C + "5", "orphan_fk"),  # account 4 quarantined
        ("opportunities", DY_O + "11", "orphan_fk"),  # account 4
        ("opportunities", DY_O + "12", "orphan_fk"),  # owner 7 quarantined
    }
    # o13 has no actual or estimated value: kept, as it is not won
    assert con.execute("select status <> 'won', amount from validated.opportunities "
                       "where opportunity_id = ?", [DY_O + "13"]).fetchone() == (True, None)
    # Revenue = won deals (statecode 1 or 'Won') by owner; amount = actualvalue:
    #   Kim 1:    o1 120000 + o2 30000.5 (label 'Won', month-first close 6/30/2025) = 150000.5
    #   Jürgen 2: o3 80000 (owner GUID in braces, upper case)
    #   Priya 3:  o14 70000 (account from customerid; o6 bad date, o7 statecode 3)
    #   Tom 4:    o10 25000
    assert revenue_per_rep(con) == {
        DY_U + "1": 150000.5, DY_U + "2": 80000.0, DY_U + "3": 70000.0, DY_U + "4": 25000.0,
    }
    accounts_of = dict(con.execute(
        "select interaction_id, account_id from validated.interactions").fetchall())
    assert accounts_of == {
        "0f0f0f0f-0000-4000-8000-000000000001": DY_A + "1",  # regarding contact Lena
        "0f0f0f0f-0000-4000-8000-000000000002": DY_A + "1",  # regarding opportunity o1
        "0f0f0f0f-0000-4000-8000-000000000003": DY_A + "3",  # regarding the account
        "0f0f0f0f-0000-4000-8000-000000000009": DY_A + "2",  # regarding {0C0C...03}: Sofia
    }
    assert str(column(con, "select occurred_at from validated.interactions where "
                      "interaction_id like '%3'")) == "2025-05-02 09:00:00"  # 5/2/2025 9:00 AM
    assert str(column(con, "select hire_date from validated.reps where rep_id = ?",
                      DY_U + "2")) == "2021-06-01"  # 6/1/2021 8:00 AM, month-first
    assert column(con, "select manager_rep_id from validated.reps where rep_id = ?",
                  DY_U + "2") == DY_U + "1"


# ---------------------------------------------------------------- plain spreadsheets


def test_spreadsheet_example_mapping_joins_names_fuzzily_and_reports_each_match(tmp_path):
    result = run("spreadsheet", MAPPINGS / "example-commented.yml", tmp_path)
    assert_every_row_accounted(result, FIXTURES / "spreadsheet", {
        "team.csv": ("reps", 7),
        "customers.csv": ("accounts", 7),
        "people.csv": ("contacts", 6),
        "stance.csv": ("contact_assessments", 4),
        "deals.csv": ("opportunities", 12),
        "visits.csv": ("interactions", 8),
    }, delimiter=";")
    assert quarantined(result) == {
        ("team.csv", 5): "blank_key",  # no e-mail (the rep id)
        ("team.csv", 6): "duplicate_key",
        ("team.csv", 7): "unparseable_date",  # 31.02.2021
        ("customers.csv", 4): "unmapped_value",  # sector Biotech
        ("customers.csv", 6): "unmatched_join",  # 'Someone Else' is no rep, even fuzzily
        ("people.csv", 4): "unmapped_value",  # role Gatekeeper
        ("people.csv", 5): "unmatched_join",  # customer Orbit Biotech was quarantined
        ("people.csv", 6): "blank_key",
        ("stance.csv", 4): "unmatched_join",  # contact Mei Lin was quarantined
        ("deals.csv", 6): "unparseable_date",  # 30.02.2025
        ("deals.csv", 7): "unmapped_value",  # stage On hold
        ("deals.csv", 8): "blank_key",
        ("deals.csv", 9): "duplicate_key",
        ("deals.csv", 11): "unmatched_join",  # customer Unknown Corp
        ("visits.csv", 5): "unmapped_value",  # type Karaoke
        ("visits.csv", 6): "unparseable_date",  # 2025-05-07 is not day-first
        ("visits.csv", 8): "excluded_by_where",  # type Internal
    }
    assert {
        (m["file"], m["row"], m["column"], m["value"], m["matched"], m["kind"], m["score"])
        for m in result.report["fuzzy_matches"]
    } == {
        ("customers.csv", 2, "region_id", "Jurgen Weiss", "Jürgen Weiß", "normalised", 1.0),
        ("customers.csv", 2, "ar_rep_id", "Jurgen Weiss", "Jürgen Weiß", "normalised", 1.0),
        ("customers.csv", 3, "region_id", "priya raman", "Priya Raman", "normalised", 1.0),
        ("customers.csv", 3, "ar_rep_id", "priya raman", "Priya Raman", "normalised", 1.0),
        # 'priya ramann' vs 'priya raman': 2 x 11 matching / (12 + 11) characters = 0.957
        ("customers.csv", 5, "region_id", "Priya Ramann", "Priya Raman", "similar", 0.957),
        ("customers.csv", 5, "ar_rep_id", "Priya Ramann", "Priya Raman", "similar", 0.957),
        ("deals.csv", 2, "account_id", "Nordwind  Telecom", "Nordwind Telecom", "normalised", 1.0),
        ("deals.csv", 12, "ar_rep_id", "Jurgen Weiss", "Jürgen Weiß", "normalised", 1.0),
    }
    con = gate(result, tmp_path)
    assert con.execute("select count(*) from meta.dq_quarantine").fetchone()[0] == 0
    # Revenue = won deals by owner, from deals.csv (amounts with decimal commas):
    #   Kim:    D-01 120.000,00 + D-02 30.000,50 = 150000.5
    #   Jürgen: D-03 80.000 + D-12 10.000 ('Jurgen Weiss', fuzzy) = 90000
    #   Tom:    D-10 25.000
    assert revenue_per_rep(con) == {
        "kim.nguyen@example.com": 150000.5,
        "juergen.weiss@example.com": 90000.0,
        "tom.baker@example.com": 25000.0,
    }
    assert column(con, "select margin_pct from validated.opportunities "
                  "where opportunity_id = 'D-01'") == 0.25  # 25 (%) x 0.01
    assert column(con, "select spend_potential from validated.accounts "
                  "where account_id = 'K-001'") == 1250000.0  # 1.250.000,00
    assert str(column(con, "select created_date from validated.accounts "
                      "where account_id = 'K-001'")) == "2023-01-05"  # Excel serial 44931
    assert column(con, "select fte from validated.reps "
                  "where rep_id = 'juergen.weiss@example.com'") == 0.5  # 0,5
    assert dict(con.execute("select contact_id, attitude from validated.contact_assessments")
                .fetchall()) == {
        "lena.koch@nordwind.example": 3, "sofia.rossi@helix.example": -1,
        "omar.haddad@nordwind.example": 1,
    }


def test_dynamics365_imports_a_kept_account_owners_file(tmp_path):
    """Dynamics has no owner-history export: an account_owners.csv in the contract's columns
    beside the export is imported, its GUIDs normalised like every other id."""
    export = tmp_path / "export"
    shutil.copytree(FIXTURES / "dynamics365", export)
    shutil.copy(FIXTURES / "dynamics365_owners" / "account_owners.csv", export)
    result = run(export, MAPPINGS / "dynamics365.yml", tmp_path / "with")
    without = run("dynamics365", MAPPINGS / "dynamics365.yml", tmp_path / "without")
    for name, table in result.outcome.tables.items():
        if name != "account_owners":
            assert table.rows == without.outcome.tables[name].rows, name
    rows = [(r["account_id"], r["role"], r["rep_id"], r["valid_from"], r["valid_to"])
            for r in result.outcome.tables["account_owners"].rows]
    assert rows == [
        (f"{DY_A}1", "AR", f"{DY_U}2", "2023-01-05", "2024-09-30"),  # braces, upper case
        (f"{DY_A}1", "AR", f"{DY_U}1", "2024-10-01", ""),
        (f"{DY_A}3", "sr", f"{DY_U}4", "2024-01-15", ""),  # the gate reads it as SR
    ]
    con = gate(result, tmp_path)
    assert con.execute("select role, count(*) from validated.account_owners group by 1 "
                       "order by 1").fetchall() == [("AR", 2), ("SR", 1)]


# ---------------------------------------------------------------- partial data

PARTIAL_FILES = ("User.csv", "Account.csv", "Opportunity.csv")


@pytest.fixture()
def partial_export(tmp_path: Path) -> Path:
    """A Salesforce export with only users, accounts and opportunities."""
    folder = tmp_path / "export"
    folder.mkdir()
    for name in PARTIAL_FILES:
        shutil.copy(FIXTURES / "salesforce" / name, folder / name)
    return folder


def test_partial_export_imports_and_gates_with_every_other_table_empty(tmp_path, partial_export):
    result = run(partial_export, MAPPINGS / "salesforce.yml", tmp_path)
    assert_every_row_accounted(result, partial_export, {
        "User.csv": ("reps", 7), "Account.csv": ("accounts", 7),
        "Opportunity.csv": ("opportunities", 13),
    })
    statuses = {t: v["status"] for t, v in result.report["tables"].items()}
    # contacts and interactions are optional: no file, the build treats them as empty
    assert statuses["contacts"] == statuses["interactions"] == "no_file"
    assert statuses["opportunity_contacts"] == "no_file"
    assert sorted(p.name for p in result.out.glob("*.csv")) == [
        "accounts.csv", "opportunities.csv", "regions.csv", "reps.csv",
    ]

    con = gate(result, tmp_path)
    counts = dict(con.execute("select table_name, clean_rows from meta.dq_row_counts").fetchall())
    imported = {"regions": 3, "reps": 4, "accounts": 5, "opportunities": 8}  # 1 open, no Amount
    assert {t: n for t, n in counts.items() if n} == imported
    assert set(counts) - set(imported) == {
        "region_market_types", "account_owners", "contacts", "contact_assessments",
        "interactions", "opportunity_contacts", "payments", "account_strategies",
        "relationship_plans", "plan_items", "complaints", "feedback_items",
        "satisfaction_surveys", "targets", "competitor_stances",
    }
    assert revenue_per_rep(con) == {
        SF_U1: 150000.50, SF_U2: 80000.0, SF_U3: 70000.0, SF_U4: 25000.0,
    }


def test_partial_export_builds_marts_with_the_imported_revenue(tmp_path, partial_export):
    from rapport.pipeline import dbt_runner

    result = run(partial_export, MAPPINGS / "salesforce.yml", tmp_path)
    con = gate(result, tmp_path)
    as_of = default_as_of_date(con, TODAY)
    con.close()
    # No interactions: as-of = the latest closed deal or deal creation up to today: Kestrel
    # SCADA, won, closed 2025-08-01 (the open deal's expected 2025-12-31 close does not count;
    # the latest creation is 2025-06-01).
    assert as_of == date(2025, 8, 1)
    outcome = dbt_runner.build(tmp_path / "import.duckdb", as_of, "import-test",
                               target_path=tmp_path / "dbt", echo=None)
    assert outcome.success, outcome.error or "\n".join(str(f) for f in outcome.failures)
    con = duckdb.connect(str(tmp_path / "import.duckdb"))  # dbt ran in this process
    per_rep = dict(con.execute(
        "select rep_id, sum(revenue) from marts.fct_rep_performance group by rep_id").fetchall())
    # The same sums as the gate test: Kim 120000 + 30000.50, Jürgen 80000, Priya 70000, Tom 25000
    assert per_rep == {SF_U1: 150000.50, SF_U2: 80000.0, SF_U3: 70000.0, SF_U4: 25000.0}
    kim = dict(con.execute(
        "select quarter_end_date, revenue from marts.fct_rep_performance "
        "where rep_id = ? and year = 2025 and revenue > 0", [SF_U1]).fetchall())
    assert {str(d): r for d, r in kim.items()} == {
        "2025-03-31": 120000.0,  # closed 2025-03-15
        "2025-06-30": 30000.50,  # closed 2025-06-30
    }

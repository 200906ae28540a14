"""Coverage, not failure: a partial or incomplete export builds, publishes and records what it
covers.

- Each of the four shipped mapping fixtures (tests/fixtures/crm/*), reduced to its core
  objects (users/owners, accounts/companies, deals), imported with `rapport import`, then
  through the gate, the coverage and the input checks: meta.coverage, meta.layers and
  meta.defaults_applied, and the checks that need a missing layer recorded as
  not_applicable, never as passed. One of them (Salesforce) is also built with `rapport
  build` and default settings: published (exit 0), the output checks of missing layers not
  applicable, every won deal's amount a rep's revenue. (The other three would run the same
  build on the same three tables; a build costs about 35 s.)
- A hand-made export worked by hand: the defaults (Unassigned region and rep, hire date from
  the first activity or deal), open deals without account, amount or created date kept and
  counted, a won deal without an amount quarantined.
"""

from __future__ import annotations

import shutil
from datetime import date
from pathlib import Path

import duckdb
import pytest
from support.pipeline import run_cli

from rapport.contract import contract
from rapport.pipeline.coverage import record_coverage
from rapport.pipeline.ingest import load_raw
from rapport.pipeline.quarantine import run_gate

FIXTURES = Path(__file__).parent / "fixtures" / "crm"
MAPPINGS = Path(__file__).resolve().parents[1] / "rapport" / "mappings"

# fixture folder -> (mapping, the files of the core objects: reps, accounts, deals)
PARTIAL = {
    "salesforce": ("salesforce", ("User.csv", "Account.csv", "Opportunity.csv")),
    "hubspot": ("hubspot", ("owners.csv", "companies.csv", "deals.csv")),
    "dynamics365": ("dynamics365", ("systemuser.csv", "account.csv", "opportunity.csv")),
    "spreadsheet": (str(MAPPINGS / "example-commented.yml"),
                    ("team.csv", "customers.csv", "deals.csv")),
}

NO_CONTACTS_OR_INTERACTIONS = ("relationship_health", "activities", "power_map",
                               "deal_power_map", "attitudes", "competitors")


def served(data_dir: Path) -> duckdb.DuckDBPyConnection:
    return duckdb.connect(str(data_dir / "warehouse" / "rapport.duckdb"), read_only=True)


def _import_core_only(tmp_path: Path, fixture: str) -> Path:
    """A copy of the fixture with only the core objects, imported by the real `rapport
    import` into a new data folder (returned; the raw files are in its raw/)."""
    mapping, files = PARTIAL[fixture]
    export = tmp_path / "export"
    export.mkdir()
    for name in files:
        shutil.copy(FIXTURES / fixture / name, export / name)
    data_dir = tmp_path / "data"
    imported = run_cli("import", str(export), "--mapping", mapping, data_dir=data_dir)
    assert imported.returncode == 0, imported.stdout + imported.stderr
    return data_dir


def _assert_core_only_coverage(con: duckdb.DuckDBPyConnection, build_id: str) -> None:
    """meta.coverage, meta.layers and meta.defaults_applied of a core-only export."""
    spec = contract()
    # meta.coverage: one row per contract table x column
    coverage = con.execute(
        "select table_name, column_name, table_present, table_rows, column_present, "
        "filled_rows, filled_share from meta.coverage").fetchall()
    assert len(coverage) == sum(len(t.columns) for t in spec.tables.values())
    assert {(r[0], r[1]) for r in coverage} == {
        (t.name, c) for t in spec.tables.values() for c in t.columns}
    by_table = {}
    for table, column, present, rows, col_present, filled, share in coverage:
        by_table.setdefault(table, (present, rows))
        assert (present, rows) == by_table[table]  # one value per table
        if rows == 0:
            assert share is None and filled == 0
        else:
            assert share == pytest.approx(filled / rows)
        if not present:
            assert not col_present
    for table in ("contacts", "interactions", "opportunity_contacts", "payments"):
        assert by_table[table] == (False, 0), table
    for table in spec.core_tables:
        present, rows = by_table[table]
        assert present and rows > 0, table
    clean = dict(con.execute("select table_name, clean_rows from meta.dq_row_counts "
                             "where build_id = ?", [build_id]).fetchall())
    assert {t: r for t, (_, r) in by_table.items()} == clean

    # meta.layers: deals make revenue; no contacts or interactions, no such layers
    layers = {r[0]: r[1:] for r in con.execute(
        "select layer, available, needs, reason from meta.layers").fetchall()}
    assert set(layers) == set(spec.layers)
    assert layers["revenue"] == (True, "deals", None)
    health = layers["relationship_health"]
    assert health[:2] == (False, "interactions and contacts")
    assert "no contacts file" in health[2] and "no interactions file" in health[2]
    for layer in NO_CONTACTS_OR_INTERACTIONS:
        assert layers[layer][0] is False and layers[layer][2], layer
    assert layers["key_actions"][0] is False
    assert layers["targets"] == (False, "targets", "no targets file")

    # the defaults are recorded (used or not)
    defaults = con.execute("select table_name, column_name, default_rule, rows "
                           "from meta.defaults_applied order by all").fetchall()
    assert [(t, c) for t, c, _, _ in defaults] == [
        ("accounts", "ar_rep_id"), ("accounts", "region_id"), ("reps", "hire_date"),
        ("reps", "region_id")]


def _assert_not_applicable_without_their_layer(statuses: dict, suites: tuple[str, ...]):
    """Nothing needing a missing layer passed, and nothing failed."""
    for suite in suites:
        found = {s for (su, _), ss in statuses.items() if su == suite for s in ss}
        assert found == {"not_applicable"}, suite
    spec = contract()
    has_rows = {su for (su, e) in statuses if e == "required_table_has_rows"}
    assert has_rows == {f"raw_{t}" for t in spec.core_tables}
    assert all(statuses[(f"raw_{t}", "required_table_has_rows")] == {"pass"}
               for t in spec.core_tables)
    assert not any(s & {"fail", "error"} for s in statuses.values())


@pytest.mark.parametrize("fixture", sorted(PARTIAL))
def test_a_core_only_export_imports_gates_and_checks_with_its_coverage(tmp_path, fixture):
    """Each mapping, through import, the gate, the coverage and the input checks (the real
    functions a build runs before dbt). What comes after dbt is the same for every mapping,
    since the same three tables arrive: one of them goes through a whole build below."""
    from rapport.pipeline.checks.runner import load_expectations, run_batches

    data_dir = _import_core_only(tmp_path, fixture)
    con = duckdb.connect(str(tmp_path / "gate.duckdb"))
    try:
        load_raw(con, data_dir / "raw")
        gate = run_gate(con, "core-only")
        record_coverage(con, echo=False)
        _assert_core_only_coverage(con, "core-only")

        suites = load_expectations()
        ctx = suites.SuiteContext(con=con, build_id="core-only", as_of_date=gate.as_of_date,
                                  thresholds=suites.load_thresholds(), contract=contract())
        report = run_batches(con, suites.build_batches(ctx, "input"))
        statuses: dict[tuple[str, str], set[str]] = {}
        for r in report.results:
            statuses.setdefault((r.suite, r.expectation), set()).add(r.status)
            if r.status == "not_applicable":
                assert r.success is None and r.detail, (r.suite, r.expectation)
        _assert_not_applicable_without_their_layer(statuses, ("raw_contacts",
                                                              "raw_interactions"))
        won = con.execute("select count(*), sum(amount) from validated.opportunities "
                          "where status = 'won'").fetchone()
        assert won[0] > 0 and won[1] > 0
    finally:
        con.close()


@pytest.mark.slow
@pytest.mark.xdist_group("pipeline-build")
def test_a_core_only_export_builds_and_publishes_with_its_coverage(tmp_path):
    data_dir = _import_core_only(tmp_path, "salesforce")
    built = run_cli("build", data_dir=data_dir)
    assert built.returncode == 0, built.stdout[-4000:] + built.stderr[-4000:]
    assert "published" in built.stdout
    assert "not applicable" in built.stdout  # the console says which checks did not apply
    assert "coverage: " in built.stdout

    with served(data_dir) as con:
        build_id = con.execute("select build_id from meta.build_info").fetchone()[0]
        _assert_core_only_coverage(con, build_id)

        # checks, input and output: nothing needing a missing layer passed
        results = con.execute(
            "select suite, expectation, status, success, detail from meta.dq_results "
            "where build_id = ?", [build_id]).fetchall()
        statuses: dict[tuple[str, str], set[str]] = {}
        for suite, expectation, status, success, detail in results:
            statuses.setdefault((suite, expectation), set()).add(status)
            if status == "not_applicable":
                assert success is None and detail, (suite, expectation)
        assert statuses[("reconciliation", "every_sa_account_has_health_row")] == {
            "not_applicable"}
        _assert_not_applicable_without_their_layer(statuses, (
            "raw_contacts", "raw_interactions", "mart_fct_relationship_health",
            "mart_fct_interactions", "mart_dim_contacts", "mart_fct_power_map"))

        # the marts join: every won deal's amount is a rep's revenue
        revenue = con.execute("select sum(revenue) from marts.fct_rep_performance").fetchone()[0]
        won = con.execute("select sum(amount) from validated.opportunities "
                          "where status = 'won'").fetchone()[0]
        assert revenue == pytest.approx(won) and won > 0


# ---------------------------------------------------------------- worked by hand


def write(folder: Path, table: str, header: str, *rows: str) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"{table}.csv").write_text("\n".join([header, *rows]) + "\n", encoding="utf-8")


@pytest.fixture()
def messy_raw(tmp_path: Path) -> Path:
    return write_messy_raw(tmp_path)


def write_messy_raw(tmp_path: Path) -> Path:
    """Regions, reps, accounts, deals and a few interactions, with the gaps of a real export.

    reps: R1 complete; R2 without hire date (first interaction 2025-01-15, first deal
          2025-02-01: hired 2025-01-15); R3 without region or hire date (no activity; deals
          created 2025-03-10 and closed 2025-04-20: hired 2025-03-10).
    accounts: A1 complete; A2 without region or account responsible (-> UNASSIGNED).
    deals: O1 won (complete); O2 open, no account, amount or created date (kept); O3 lost,
          no account (kept); O4 won without an amount (quarantined: revenue needs it);
          O5 won without an account (quarantined); O6 won by R3.
    """
    raw = tmp_path / "raw"
    write(raw, "regions", "region_id,region_name", "N,North")
    write(raw, "reps", "rep_id,rep_name,region_id,role,fte,hire_date",
          "R1,Ann,N,AR,1.0,2020-01-01", "R2,Bob,N,AR,0.5,", "R3,Cy,,AR,1.0,")
    write(raw, "accounts", "account_id,account_name,industry,region_id,ar_rep_id",
          "A1,Acme,retail,N,R1", "A2,Beta,energy,,")
    write(raw, "opportunities",
          "opportunity_id,account_id,ar_rep_id,created_date,close_date,status,amount",
          "O1,A1,R1,2025-01-05,2025-03-01,won,1000",
          "O2,,R2,,2025-12-01,open,",
          "O3,,R2,2025-02-01,2025-05-01,lost,",
          "O4,A1,R1,2025-01-10,2025-03-02,won,",
          "O5,,R1,2025-01-11,2025-03-03,won,50",
          "O6,A2,R3,2025-03-10,2025-04-20,won,300")
    write(raw, "interactions", "interaction_id,occurred_at,rep_id,account_id,activity_type",
          "I1,2025-01-15 10:00:00,R2,A1,office_visit_regular",
          "I2,2025-06-01 10:00:00,R1,A1,office_visit_regular")
    return raw


def _gated(raw: Path, tmp_path: Path) -> duckdb.DuckDBPyConnection:
    con = duckdb.connect(str(tmp_path / "gate.duckdb"))
    load_raw(con, raw)
    run_gate(con, "hand", as_of_date=date(2025, 12, 31))
    return con


def test_open_deals_without_account_amount_or_created_date_are_kept_and_counted(
        tmp_path, messy_raw):
    con = _gated(messy_raw, tmp_path)
    kept = {r[0] for r in con.execute("select opportunity_id from validated.opportunities").fetchall()}
    assert kept == {"O1", "O2", "O3", "O6"}
    parked = dict(con.execute(
        "select json_extract_string(raw_values, '$.opportunity_id'), detail "
        "from meta.dq_quarantine where table_name = 'opportunities'").fetchall())
    assert parked == {
        "O4": "missing_required:amount (needed when status is won)",
        "O5": "missing_required:account_id (needed when status is won)",
    }
    record_coverage(con, echo=False)
    coverage = {(r[0]): r[1:] for r in con.execute(
        "select column_name, table_rows, column_present, filled_rows, filled_share "
        "from meta.coverage where table_name = 'opportunities'").fetchall()}
    assert coverage["account_id"] == (4, True, 2, 0.5)       # O2, O3 lack it
    assert coverage["amount"] == (4, True, 2, 0.5)           # O2, O3
    assert coverage["created_date"] == (4, True, 3, 0.75)    # O2
    assert coverage["margin_pct"] == (4, False, 0, 0.0)      # not in the file
    defaults = {(t, c): (rule, n) for t, c, rule, n in con.execute(
        "select * from meta.defaults_applied").fetchall()}
    assert defaults == {
        ("reps", "region_id"): ("UNASSIGNED", 1),                   # R3
        ("reps", "hire_date"): ("first activity or deal", 2),       # R2, R3
        ("accounts", "region_id"): ("UNASSIGNED", 1),               # A2
        ("accounts", "ar_rep_id"): ("UNASSIGNED", 1),               # A2
    }
    layers = {r[0]: r[1:] for r in con.execute("select * from meta.layers").fetchall()}
    assert layers["activities"] == (True, "interactions", None)
    assert layers["relationship_health"] == (False, "interactions and contacts",
                                             "no contacts file")
    assert layers["profit"] == (False, "margins or costs on deals",
                                "the opportunities file has no margin_pct or cost column")
    con.close()


def test_checks_of_missing_layers_are_not_applicable_and_an_empty_core_table_still_blocks(
        tmp_path, messy_raw):
    """No contacts: their suites are not applicable. No clean accounts (a core table): the
    blocking row-count check fails, with the accounts' suite not excused."""
    from rapport.pipeline.checks.runner import load_expectations, run_batches

    write(messy_raw, "accounts", "account_id,account_name,industry,region_id,ar_rep_id")
    con = _gated(messy_raw, tmp_path)
    suites = load_expectations()
    ctx = suites.SuiteContext(con=con, build_id="hand", as_of_date=date(2025, 12, 31),
                              thresholds=suites.load_thresholds(), contract=contract())
    report = run_batches(con, suites.build_batches(ctx, "input"))
    by_suite: dict[str, set[str]] = {}
    for r in report.results:
        by_suite.setdefault(r.suite, set()).add(r.status)
    assert by_suite["raw_contacts"] == {"not_applicable"}
    assert by_suite["raw_payments"] == {"not_applicable"}
    assert "not_applicable" not in by_suite["raw_accounts"]
    blocking = {(r.suite, r.expectation) for r in report.blocking}
    assert ("raw_accounts", "required_table_has_rows") in blocking
    na = next(r for r in report.results if r.suite == "raw_contacts")
    assert na.success is None and na.detail.endswith("no contacts file")
    assert "not applicable" in report.one_line() and "raw_contacts" in report.summary()
    con.close()


MESSY_AS_OF = "2025-12-31"


@pytest.fixture(scope="module")
def messy_built(tmp_path_factory) -> tuple[Path, str]:
    """The messy export built once (`rapport build --as-of 2025-12-31`), for the tests that
    read its served warehouse and the one that extends a copy of it: (folder holding raw/
    and data/, the build's console output)."""
    root = tmp_path_factory.mktemp("messy")
    raw = write_messy_raw(root)
    built = run_cli("build", "--raw", str(raw), "--as-of", MESSY_AS_OF, data_dir=root / "data")
    assert built.returncode == 0, built.stdout[-4000:] + built.stderr[-4000:]
    return root, built.stdout


@pytest.mark.slow
@pytest.mark.xdist_group("pipeline-build")
def test_defaults_give_the_unassigned_region_and_rep_and_hire_dates_from_activity(
        messy_built):
    root, stdout = messy_built
    data_dir = root / "data"
    assert "defaults applied: reps.region_id -> UNASSIGNED on 1 rows" in stdout
    with served(data_dir) as con:
        regions = con.execute("select region_id, region_name from staging.stg_regions "
                              "order by all").fetchall()
        assert regions == [("N", "North"), ("UNASSIGNED", "Unassigned")]
        reps = {r[0]: r[1:] for r in con.execute(
            "select rep_id, rep_name, region_id, hire_date from staging.stg_reps").fetchall()}
        assert reps == {
            "R1": ("Ann", "N", date(2020, 1, 1)),
            "R2": ("Bob", "N", date(2025, 1, 15)),          # first activity (deal: 02-01)
            "R3": ("Cy", "UNASSIGNED", date(2025, 3, 10)),  # first deal created
            # the rep of accounts without one, hired on the first deal date in the data
            "UNASSIGNED": ("Unassigned", "UNASSIGNED", date(2025, 1, 5)),
        }
        accounts = dict(con.execute("select account_id, region_id || '/' || ar_rep_id "
                                    "from staging.stg_accounts").fetchall())
        assert accounts == {"A1": "N/R1", "A2": "UNASSIGNED/UNASSIGNED"}
        deals = {r[0]: r[1:] for r in con.execute(
            "select opportunity_id, account_id, amount, created_date "
            "from staging.stg_opportunities").fetchall()}
        assert deals["O2"] == (None, None, None) and set(deals) == {"O1", "O2", "O3", "O6"}
        revenue = dict(con.execute("select rep_id, sum(revenue) from marts.fct_rep_performance "
                                   "group by rep_id").fetchall())
        # the 'Unassigned' placeholder holds A2 but is nobody: no performance row, no head
        assert revenue == {"R1": 1000.0, "R2": 0.0, "R3": 300.0}
        assert con.execute("select count(*) from marts.fct_rep_scorecard "
                           "where rep_id = 'UNASSIGNED'").fetchone()[0] == 0
        applied = dict(con.execute("select table_name || '.' || column_name, rows "
                                   "from meta.defaults_applied").fetchall())
        assert applied == {"reps.region_id": 1, "reps.hire_date": 2,
                           "accounts.region_id": 1, "accounts.ar_rep_id": 1}


@pytest.mark.slow
@pytest.mark.xdist_group("pipeline-build")
def test_an_incremental_build_records_its_coverage_too(tmp_path, messy_built):
    # a copy of the shared build (raw files and data folder), one more interaction appended
    shutil.copytree(messy_built[0], tmp_path / "copy")
    raw, data_dir = tmp_path / "copy" / "raw", tmp_path / "copy" / "data"
    with (raw / "interactions.csv").open("a", encoding="utf-8") as handle:
        handle.write("I3,2025-06-02 10:00:00,R3,A2,office_visit_regular\n")
    inc = run_cli("build", "--raw", str(raw), "--incremental", "--as-of", MESSY_AS_OF,
                  data_dir=data_dir)
    assert inc.returncode == 0, inc.stdout[-4000:] + inc.stderr[-4000:]
    assert "1 interactions appended" in inc.stdout, inc.stdout
    with served(data_dir) as con:
        build_id = con.execute("select build_id from meta.build_info").fetchone()[0]
        rows = con.execute("select distinct table_rows from meta.coverage "
                           "where table_name = 'interactions'").fetchall()
        assert rows == [(3,)]
        assert con.execute("select available, reason from meta.layers "
                           "where layer = 'relationship_health'").fetchone() == (
            False, "no contacts file")
        statuses = dict(con.execute(
            "select expectation, status from meta.dq_results where build_id = ? "
            "and suite = 'reconciliation' and expectation = 'every_sa_account_has_health_row'",
            [build_id]).fetchall())
        assert statuses == {"every_sa_account_has_health_row": "not_applicable"}
        assert con.execute("select rows from meta.defaults_applied "
                           "where column_name = 'hire_date'").fetchone() == (2,)


@pytest.mark.slow
@pytest.mark.xdist_group("pipeline-build")
def test_a_messy_spreadsheet_sample_imports_and_publishes_with_every_gap_counted(tmp_path):
    """tests/fixtures/crm/messy_spreadsheet (+ .yml): the issue's public sample in small.
    Accounts without owner or region, agents without hire dates, open deals without an
    account (4), an amount (5) or an engage date (2), day-first two-digit-year dates, no
    contacts, interactions or margins. Nothing is quarantined; won revenue by agent:
      Moses    1C1I7A6R 1054 + MV1LWRNH 588       = 1642
      Darcel   Z063OYW0 4514 + EC4QE1BX 50        = 4564
      Anna     ZNBS69V1 49 + QEW4YUM8 1075        = 1124
      Vicki    HAXMC4IX 2300 + 4HLGDFTR 26768     = 29068
      Rosalina (open deals only)                  = 0
    Hire dates = each agent's first engage or close date."""
    data_dir = tmp_path / "data"
    imported = run_cli("import", str(FIXTURES / "messy_spreadsheet"), "--mapping",
                       str(FIXTURES / "messy_spreadsheet.yml"), data_dir=data_dir)
    assert imported.returncode == 0, imported.stdout + imported.stderr
    built = run_cli("build", data_dir=data_dir)
    assert built.returncode == 0, built.stdout[-4000:] + built.stderr[-4000:]
    with served(data_dir) as con:
        assert con.execute("select as_of_date from meta.build_info").fetchone()[0] == date(
            2017, 3, 22)  # the latest close date (no interactions)
        counts = con.execute("select table_name, clean_rows, quarantined_rows "
                             "from meta.dq_row_counts where raw_rows > 0 order by 1").fetchall()
        assert counts == [("accounts", 8, 0), ("opportunities", 16, 0), ("regions", 3, 0),
                          ("reps", 5, 0)]
        revenue = dict(con.execute("select rep_id, sum(revenue) from marts.fct_rep_performance "
                                   "group by rep_id").fetchall())
        assert revenue == {"Moses Frase": 1642.0, "Darcel Schlecht": 4564.0,
                           "Anna Snelling": 1124.0, "Vicki Laflamme": 29068.0,
                           "Rosalina Dieter": 0.0}  # not the 'Unassigned' placeholder
        hired = dict(con.execute("select rep_id, hire_date from staging.stg_reps").fetchall())
        assert hired == {"Moses Frase": date(2016, 10, 18), "Darcel Schlecht": date(2016, 10, 25),
                         "Anna Snelling": date(2016, 10, 18),
                         "Vicki Laflamme": date(2016, 11, 3),
                         "Rosalina Dieter": date(2017, 3, 14),
                         "UNASSIGNED": date(2016, 10, 18)}
        assert con.execute("select count(*) from staging.stg_accounts where region_id = "
                           "'UNASSIGNED' and ar_rep_id = 'UNASSIGNED'").fetchone()[0] == 8
        defaults = {(t, c): n for t, c, _, n in con.execute(
            "select * from meta.defaults_applied").fetchall()}
        assert defaults == {("reps", "region_id"): 0, ("reps", "hire_date"): 5,
                            ("accounts", "region_id"): 8, ("accounts", "ar_rep_id"): 8}
        filled = {c: (n, share) for c, n, share in con.execute(
            "select column_name, filled_rows, filled_share from meta.coverage "
            "where table_name = 'opportunities'").fetchall()}
        assert filled["account_id"] == (12, 0.75)
        assert filled["amount"] == (11, 0.6875)
        assert filled["created_date"] == (14, 0.875)
        assert filled["margin_pct"] == (0, 0.0)
        layers = dict(con.execute("select layer, reason from meta.layers").fetchall())
        assert layers["revenue"] is None
        assert layers["profit"] == "no margin_pct or cost on any opportunities row"
        assert layers["relationship_health"] == "no contacts file; no interactions file"

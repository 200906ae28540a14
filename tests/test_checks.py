"""The great-expectations runner and the suites, on small hand-made DuckDB warehouses.

Real GX (ephemeral context, pandas frames read from DuckDB), no dbt. The hand-made tables are
small enough that every expected figure is worked out in a comment.
"""

from __future__ import annotations

import subprocess
import sys
from datetime import date
from pathlib import Path

import duckdb
import pytest

from rapport.pipeline.checks.gx_import import import_great_expectations

import_great_expectations()  # before the submodule import below: keeps pyspark out of GX
import great_expectations.expectations as gxe
from support.pipeline import copy_data_dir, run_cli

from rapport.check_results import CheckReport, CheckResult, write_results
from rapport.contract import contract
from rapport.paths import PROJECT_ROOT
from rapport.pipeline.checks.runner import load_expectations, run_batches

suites = load_expectations()
Batch, fail, warn = suites.Batch, suites._base.fail, suites._base.warn


def by_key(report: CheckReport) -> dict[tuple[str, str, str | None], CheckResult]:
    return {(r.suite, r.expectation, r.column): r for r in report.results}


@pytest.fixture
def con():
    with duckdb.connect() as connection:
        connection.execute("create table t as select range as id, range % 3 as v, "
                           "date '2024-01-01' + range::int as d from range(10)")
        yield connection


def test_an_expectation_that_raises_is_an_error_and_blocks_even_as_a_warning(con):
    report = run_batches(con, [Batch("s", "rows", "select id, v, d from t", [
        warn(gxe.ExpectColumnValuesToNotBeNull(column="no_such_column")),
        # GX cannot compare the frame's timestamps with a date bound: it raises
        fail(gxe.ExpectColumnValuesToBeBetween(column="d", min_value="2024-01-01")),
        fail(gxe.ExpectColumnValuesToBeUnique(column="id")),
    ])])
    results = by_key(report)
    missing = results[("s", "expect_column_values_to_not_be_null", "no_such_column")]
    assert (missing.status, missing.success, missing.blocking) == ("error", False, True)
    assert "no_such_column" in missing.detail
    assert results[("s", "expect_column_values_to_be_between", "d")].status == "error"
    assert results[("s", "expect_column_values_to_be_unique", "id")].status == "pass"
    assert not report.passed
    assert report.counts() == {"pass": 1, "warn": 0, "fail": 0, "error": 2}


def test_severity_decides_between_warn_and_fail(con):
    report = run_batches(con, [Batch("s", "rows", "select v from t", [
        # v = 0,1,2,0,1,2,0,1,2,0: max 2, mean 9/10 = 0.9
        warn(gxe.ExpectColumnMaxToBeBetween(column="v", max_value=1), name="v_max"),
        fail(gxe.ExpectColumnMeanToBeBetween(column="v", max_value=0.5), name="v_mean"),
        fail(gxe.ExpectColumnMeanToBeBetween(column="v", min_value=0.9, max_value=0.9),
             name="v_mean_exact"),
    ])])
    results = by_key(report)
    assert (results[("s", "v_max", "v")].status, results[("s", "v_max", "v")].observed_value
            ) == ("warn", "2")
    assert results[("s", "v_mean", "v")].status == "fail"
    assert results[("s", "v_mean", "v")].observed_value == "0.9"
    assert results[("s", "v_mean_exact", "v")].status == "pass"
    assert [r.expectation for r in report.blocking] == ["v_mean"]


def test_a_batch_whose_data_cannot_be_read_is_one_blocking_error(con):
    report = run_batches(con, [Batch("mart_x", "rows", "select * from marts.nothing_here", [
        fail(gxe.ExpectTableRowCountToBeBetween(min_value=1)),
        warn(gxe.ExpectTableRowCountToBeBetween(max_value=5)),
    ])])
    assert len(report.results) == 1
    only = report.results[0]
    assert (only.suite, only.expectation, only.status) == ("mart_x", "validate_batch", "error")
    assert "nothing_here" in only.detail and "2 expectation(s) not run" in only.detail


def test_results_are_stored_in_meta_dq_results(con):
    report = run_batches(con, [Batch("s", "rows", "select v from t", [
        fail(gxe.ExpectColumnValuesToBeInSet(column="v", value_set=[0, 1]), name="v_set"),
    ])])
    assert write_results(con, "b1", report) == 1
    row = con.execute('select build_id, suite, expectation, "column", success, status, '
                      "observed_value, unexpected_count, severity, checked_at is not null "
                      "from meta.dq_results").fetchone()
    # v = 2 on rows 2, 5, 8: three unexpected values of ten
    assert row == ("b1", "s", "v_set", "v", False, "fail", "3 of 10 unexpected, e.g. [2, 2, 2]",
                   3, "fail", True)


# --------------------------------------------------------------------------- project suites


def _context(con, as_of: date | None = None):
    return suites.SuiteContext(con=con, build_id="b1", as_of_date=as_of,
                               thresholds=suites.load_thresholds(), contract=contract())


@pytest.fixture
def gated():
    """Three raw tables with gate output: regions ok, reps over 5%, accounts unbalanced."""
    with duckdb.connect() as con:
        for schema in ("raw", "validated", "meta"):
            con.execute(f"create schema {schema}")
        con.execute("create table meta.dq_quarantine (build_id varchar, table_name varchar, "
                    "row_number bigint, reasons varchar)")
        con.execute("create table meta.dq_row_counts (build_id varchar, table_name varchar, "
                    "raw_rows bigint, clean_rows bigint, quarantined_rows bigint)")
        for table, raw, clean, bad, recorded_bad, reason in [
            ("regions", 200, 199, 1, 1, "missing_required"),  # 1/200 = 0.5%: not above 0.5%
            ("reps", 100, 94, 6, 6, "orphan_fk"),             # 6/100 = 6%: above 5%
            ("accounts", 100, 98, 1, 2, "weird_reason"),      # 98 + 1 = 99 <> 100
        ]:
            con.execute(f"create table raw.{table} as select range as id from range({raw})")
            con.execute(f"create table validated.{table} as select range as id "
                        f"from range({clean})")
            con.execute("insert into meta.dq_quarantine select 'b1', ?, range, ? "
                        "from range(?)", [table, reason, bad])
            con.execute("insert into meta.dq_row_counts values ('b1', ?, ?, ?, ?)",
                        [table, raw, clean, recorded_bad])
        yield con


def test_quarantine_suite_reconciles_counts_and_rates(gated):
    report = run_batches(gated, suites.quarantine_batches(_context(gated)))
    r = by_key(report)
    assert r[("quarantine", "every_raw_table_counted", None)].status == "pass"
    balance = r[("quarantine", "raw_equals_clean_plus_quarantined", "unbalanced")]
    assert (balance.status, balance.unexpected_count) == ("fail", 1)          # accounts
    agrees = r[("quarantine", "dq_row_counts_quarantined_rows_agrees",
                "quarantined_rows,recorded_quarantined_rows")]
    assert (agrees.status, agrees.unexpected_count) == ("fail", 1)            # 1 <> 2
    assert r[("quarantine", "dq_row_counts_raw_rows_agrees",
              "raw_rows,recorded_raw_rows")].status == "pass"
    # regions 0.005: exactly at the warn threshold, which is allowed ("warn above 0.5%")
    assert r[("quarantine", "quarantine_rate_warn", "regions")].status == "pass"
    # accounts 1/100 = 0.01: a warning, not a failure
    assert r[("quarantine", "quarantine_rate_warn", "accounts")].status == "warn"
    assert r[("quarantine", "quarantine_rate_fail", "accounts")].status == "pass"
    # reps 6/100 = 0.06: warns and fails
    reps_fail = r[("quarantine", "quarantine_rate_fail", "reps")]
    assert (reps_fail.status, reps_fail.observed_value) == ("fail", "0.06")
    assert r[("quarantine", "quarantine_rate_warn", "reps")].status == "warn"
    codes = r[("quarantine", "known_reason_codes", "reason")]
    assert (codes.status, codes.unexpected_count) == ("fail", 1)              # weird_reason


def test_quarantine_thresholds_come_from_the_config_file(gated):
    ctx = _context(gated)
    ctx.thresholds["quarantine_rate"]["per_table"] = {"reps": {"fail_above": 0.10}}
    r = by_key(run_batches(gated, suites.quarantine_batches(ctx)))
    assert r[("quarantine", "quarantine_rate_fail", "reps")].status == "pass"   # 6% <= 10%


@pytest.fixture
def marts():
    with duckdb.connect() as con:
        con.execute("create schema marts")
        con.execute("create schema staging")
        con.execute("""create table marts.fct_rep_performance as select * from (values
            ('R1', 2024, 1, 100.0), ('R2', 2024, 1, 50.0), ('R1', 2024, 2, 80.0))
            as v(rep_id, year, quarter, revenue)""")
        con.execute("""create table staging.stg_opportunities as select * from (values
            ('won', 100.0, date '2024-02-10'), ('won', 50.0, date '2024-03-31'),
            ('lost', 999.0, date '2024-03-01'), ('won', 70.0, date '2024-05-01'),
            ('won', 500.0, date '2024-07-01'))
            as v(status, amount, close_date)""")
        con.execute("""create table marts.fct_account_tiers as select * from (values
            ('A1', date '2024-06-30', 'S'), ('A2', date '2024-06-30', 'A'),
            ('A3', date '2024-06-30', 'B'), ('A4', date '2024-03-31', 'S'))
            as v(account_id, quarter_end_date, tier)""")
        con.execute("""create table marts.fct_relationship_health as select * from (values
            ('A1', date '2024-06-30'), ('A3', date '2024-06-30'), ('A2', date '2024-05-31'))
            as v(account_id, month_end_date)""")
        yield con


def test_reconciliation_finds_revenue_gaps_and_sa_accounts_without_health(marts):
    report = run_batches(marts, suites.reconciliation_batches(_context(marts, date(2024, 6, 30))))
    r = by_key(report)
    # Q1: mart 100 + 50 = 150, staging won 100 + 50 = 150 (the lost 999 does not count);
    # Q2: mart 80, staging 70 -> 10 apart; the July deal is after the as-of date.
    revenue = r[("reconciliation", "revenue_equals_staging_won_amount", "abs_difference")]
    assert (revenue.status, revenue.observed_value) == ("fail", "10.0")
    quarters = r[("reconciliation", "quarters_with_revenue_difference", "abs_difference")]
    assert (quarters.status, quarters.unexpected_count) == ("fail", 1)
    assert r[("reconciliation", "revenue_quarters_present", None)].observed_value == "2"
    # latest quarter 2024-06-30: A1 (S) and A2 (A); last month-end 2024-06-30 has A1, A3
    health = r[("reconciliation", "every_sa_account_has_health_row", "has_health_row")]
    assert (health.status, health.unexpected_count) == ("fail", 1)            # A2
    # tier shares of the latest quarter: S 1/3, S+A 2/3, above 0.15 and 0.35: warnings
    assert r[("reconciliation", "s_tier_share", "s_share")].status == "warn"
    assert r[("reconciliation", "sa_tier_share", "sa_share")].status == "warn"


def test_reconciliation_passes_when_the_numbers_agree(marts):
    marts.execute("update marts.fct_rep_performance set revenue = 70.0 where quarter = 2")
    marts.execute("insert into marts.fct_relationship_health values ('A2', date '2024-06-30')")
    report = run_batches(marts, suites.reconciliation_batches(_context(marts, date(2024, 6, 30))))
    assert report.passed, report.summary()


def test_an_empty_mart_fails_its_suite_unless_its_source_table_is_optional(built_warehouse):
    """Every mart's suite needs rows, except fct_opportunity_power_map, which is built from
    the optional opportunity_contacts: an export without deal contacts must still publish."""
    with duckdb.connect() as con:
        con.execute(f"attach '{built_warehouse}' as served (read_only)")
        con.execute("create schema marts")
        for (mart,) in con.execute("select table_name from information_schema.tables where "
                                   "table_catalog = 'served' and table_schema = 'marts'"
                                   ).fetchall():
            con.execute(f"create table marts.{mart} as select * from served.marts.{mart} "
                        "where false")
        report = run_batches(con, suites.mart_batches(_context(con)))
    failed = {r.suite for r in report.results if not r.success}
    assert "mart_fct_power_map" in failed and "mart_dim_accounts" in failed
    assert "mart_fct_opportunity_power_map" not in failed
    assert any(r.suite == "mart_fct_opportunity_power_map" for r in report.results)


# --------------------------------------------------------------------------- rapport check


@pytest.mark.slow
@pytest.mark.xdist_group("pipeline-check")
def test_rapport_check_on_the_served_warehouse_passes_then_fails_when_a_mart_is_wrong(
        built_warehouse: Path, tmp_path: Path):
    data_dir = copy_data_dir(built_warehouse.parent.parent, tmp_path)
    served = data_dir / "warehouse" / "rapport.duckdb"
    ok = run_cli("check", data_dir=data_dir, timeout=600)
    assert ok.returncode == 0, ok.stdout[-3000:] + ok.stderr[-3000:]
    assert "0 fail, 0 error" in ok.stdout

    with duckdb.connect(str(served)) as con:      # our private copy: make one score impossible
        con.execute("update marts.fct_relationship_health set health_score = 150 "
                    "where rowid = (select min(rowid) from marts.fct_relationship_health)")
    bad = run_cli("check", data_dir=data_dir, timeout=600)
    assert bad.returncode == 1
    assert "FAIL  mart_fct_relationship_health / expect_column_values_to_be_between " \
           "[health_score]" in bad.stdout
    assert "1 unexpected" in bad.stdout


def test_great_expectations_stays_out_of_the_modules_readers_import():
    code = ("import sys, rapport.pipeline.publish, rapport.pipeline.checks, rapport.check_results, "
            "rapport.pipeline.build; print('great_expectations' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], cwd=PROJECT_ROOT, capture_output=True,
                         text=True, check=True)
    assert out.stdout.strip() == "False"

"""The checks push row-level work into DuckDB and still fail on bad data.

Row-level expectations run on a violations frame (only the rows that may break one of them),
row counts and means on one-row aggregates, distinct-value counts on `select distinct`.
These tests prove, on small hand-made DuckDB tables, that (1) the frame GX sees holds only
the bad rows, (2) every expectation still fails with the unexpected count it would have on
the whole table, reported out of the table's real row count, and (3) the verdicts equal those
of the same expectations run on the whole table. Every figure is worked out in a comment.
"""

from __future__ import annotations

import duckdb
import pytest

from rapport.pipeline.checks.gx_import import import_great_expectations

import_great_expectations()  # before the submodule import below: keeps pyspark out of GX
import great_expectations.expectations as gxe

from rapport.check_results import CheckReport, CheckResult
from rapport.contract import contract
from rapport.pipeline.checks.runner import load_expectations, run_batches

suites = load_expectations()
Batch, fail = suites.Batch, suites._base.fail
violations_batch = suites._base.violations_batch


def by_key(report: CheckReport) -> dict[tuple[str, str, str | None], CheckResult]:
    return {(r.suite, r.expectation, r.column): r for r in report.results}


def _context(con):
    return suites.SuiteContext(con=con, build_id="b1", as_of_date=None,
                               thresholds=suites.load_thresholds(), contract=contract())


def _types(con, relation: str) -> dict[str, str]:
    return _context(con).column_types(relation)


# --------------------------------------------------------------------------- raw tables


@pytest.fixture
def reps():
    """validated.reps: 100 good reps R000..R099, then six bad rows.

    R000 again (duplicate key: both R000 rows are unexpected for primary_key_unique),
    R100 role 'XX' (not in AR/SR/FR), R101 fte 1.5 and R102 fte 0.0 (outside 0.01..1.0),
    R103 without a rep_name, R104 without an fte (region_id and hire_date may be empty:
    the staging models default them).
    """
    with duckdb.connect() as con:
        con.execute("create schema validated")
        con.execute("""
            create table validated.reps as
            select 'R' || lpad(range::varchar, 3, '0') as rep_id, 'Rep ' || range as rep_name,
                   null::varchar as email, 'REG1' as region_id, 'AR' as role,
                   1.0::decimal(5, 2) as fte, date '2020-01-01' as hire_date,
                   null::date as leave_date, null::varchar as manager_rep_id
            from range(100)
        """)
        con.execute("""
            insert into validated.reps values
            ('R000', 'Second R000', null, 'REG1', 'SR', 0.5, date '2021-01-01', null, null),
            ('R100', 'Rep 100', null, 'REG1', 'XX', 1.0, date '2021-01-01', null, null),
            ('R101', 'Rep 101', null, 'REG1', 'AR', 1.5, date '2021-01-01', null, null),
            ('R102', 'Rep 102', null, 'REG1', 'AR', 0.0, date '2021-01-01', null, null),
            ('R103', null, null, 'REG1', 'FR', 0.01, date '2021-01-01', null, null),
            ('R104', 'Rep 104', null, null, 'FR', null, null, null, null)
        """)
        yield con


def test_the_raw_table_suite_fails_on_each_kind_of_bad_row_with_its_count(reps):
    batches = [b for b in suites.raw_table_batches(_context(reps)) if b.suite == "raw_reps"]
    clean_rows = next(b for b in batches if b.name == "clean_rows")
    # the frame GX sees: the 7 rows that may break an expectation (two R000, R100..R104),
    # not the 106 rows of the table
    assert len(reps.execute(clean_rows.sql).fetchall()) == 7
    assert reps.execute(clean_rows.rows_sql).fetchone()[0] == 106

    r = by_key(run_batches(reps, batches))
    unique = r[("raw_reps", "primary_key_unique", "rep_id")]
    assert (unique.status, unique.unexpected_count) == ("fail", 2)        # both R000 rows
    assert unique.observed_value.startswith("2 of 106 unexpected")
    role = r[("raw_reps", "expect_column_values_to_be_in_set", "role")]
    assert (role.status, role.unexpected_count) == ("fail", 1)            # XX
    assert role.observed_value == "1 of 106 unexpected, e.g. ['XX']"
    fte = r[("raw_reps", "expect_column_values_to_be_between", "fte")]
    assert (fte.status, fte.unexpected_count) == ("fail", 2)              # 1.5 and 0.0
    name = r[("raw_reps", "expect_column_values_to_not_be_null", "rep_name")]
    assert (name.status, name.unexpected_count) == ("fail", 1)            # R103
    no_fte = r[("raw_reps", "expect_column_values_to_not_be_null", "fte")]
    assert (no_fte.status, no_fte.unexpected_count) == ("fail", 1)        # R104
    # optional with a default (staging): no not-null expectation
    assert ("raw_reps", "expect_column_values_to_not_be_null", "region_id") not in r
    assert ("raw_reps", "expect_column_values_to_not_be_null", "hire_date") not in r
    # a rule no row breaks passes, out of the whole table
    role = r[("raw_reps", "expect_column_values_to_not_be_null", "role")]
    assert (role.status, role.observed_value) == ("pass", "0 of 106 unexpected")
    # row counts: 106 clean reps, within 1..100,000 (thresholds.yml)
    count = r[("raw_reps", "row_count_in_range", "row_count")]
    assert (count.status, count.observed_value) == ("pass", "106")
    assert r[("raw_reps", "required_table_has_rows", "row_count")].status == "pass"


def test_a_row_count_out_of_range_fails_and_a_missing_required_table_errors(reps):
    ctx = _context(reps)
    ctx.thresholds["row_counts"]["reps"] = {"min": 1, "max": 100, "severity": "fail"}
    report = run_batches(reps, suites.raw_table_batches(ctx))
    r = by_key(report)
    count = r[("raw_reps", "row_count_in_range", "row_count")]
    assert (count.status, count.observed_value) == ("fail", "106")        # 106 > 100
    # validated.regions does not exist: regions is a required table, so its check errors
    regions = r[("raw_regions", "validate_batch", None)]
    assert regions.status == "error" and "regions does not exist" in regions.detail
    # an optional table that is absent is not checked at all
    assert not [x for x in report.results if x.suite == "raw_region_market_types"]


def test_an_empty_required_table_fails_has_rows(reps):
    reps.execute("delete from validated.reps")
    r = by_key(run_batches(reps, suites.raw_table_batches(_context(reps))))
    rows = r[("raw_reps", "required_table_has_rows", "row_count")]
    assert (rows.status, rows.observed_value) == ("fail", "0")
    assert r[("raw_reps", "primary_key_unique", "rep_id")].observed_value == \
        "0 of 0 unexpected"


@pytest.fixture
def interactions():
    """validated.interactions: 10 rows, 3 with a contact (share 0.3), 2 activity types."""
    with duckdb.connect() as con:
        con.execute("create schema validated")
        con.execute("""
            create table validated.interactions as
            select 'I' || range as interaction_id, timestamp '2024-01-01 10:00' as occurred_at,
                   null::timestamp as logged_at, 'R1' as rep_id, 'A1' as account_id,
                   case when range < 3 then 'C1' end as contact_id,
                   case when range % 2 = 0 then 'phone_call' else 'home_visit' end
                       as activity_type,
                   null::varchar as outcome, null::varchar as plan_item_id
            from range(10)
        """)
        yield con


def test_distributions_are_aggregates_and_still_warn(interactions):
    ctx = _context(interactions)
    ctx.thresholds["distributions"]["interactions_with_contact_share"] = {"min": 0.5, "max": 1}
    batches = [b for b in suites.raw_table_batches(ctx) if b.suite == "raw_interactions"]
    # the share is a one-row frame, the activity types one row per distinct value
    frames = {b.name: interactions.execute(b.sql).fetchall() for b in batches}
    assert frames["distribution"] == [(0.3,)]
    assert sorted(frames["distinct_activity_types"]) == [("home_visit",), ("phone_call",)]
    r = by_key(run_batches(interactions, batches))
    share = r[("raw_interactions", "share_with_contact", "has_contact")]
    assert (share.status, share.observed_value) == ("warn", "0.3")        # 3/10 < 0.5
    types = r[("raw_interactions", "activity_types_used", "activity_type")]
    assert (types.status, types.observed_value) == ("warn", "2")          # 2 < 3 types
    # every contract rule holds on these rows: the violations frame is empty
    clean = next(b for b in batches if b.name == "clean_rows")
    assert interactions.execute(clean.sql).fetchall() == []
    assert r[("raw_interactions", "primary_key_unique", "interaction_id")].observed_value == \
        "0 of 10 unexpected"


# --------------------------------------------------------------------------- marts


@pytest.fixture
def health_mart():
    """marts.fct_relationship_health: 3 accounts x 2 month-ends, all valid, plus one more row
    repeating (A1, 2024-01-31) with health_score 150 and health_band 'great'."""
    with duckdb.connect() as con:
        con.execute("create schema marts")
        con.execute("""
            create table marts.fct_relationship_health as
            select 'A' || a as account_id, m as month_end_date,
                   50.0::double as key_score, 50.0::double as general_score,
                   50.0::double as org_score, 60.0::double as health_score,
                   0.5::double as top_rep_share, 0.3::double as rep_hhi,
                   0.4::double as breadth, 0.2::double as department_coverage, 2 as org_level,
                   'developing' as health_band
            from range(1, 4) as a(a),
                 (values (date '2024-01-31'), (date '2024-02-29')) as m(m)
        """)
        con.execute("""
            insert into marts.fct_relationship_health values
            ('A1', date '2024-01-31', 50, 50, 50, 150, 0.5, 0.3, 0.4, 0.2, 2, 'great')
        """)
        yield con


def test_a_mart_fails_on_duplicate_grain_range_and_set_with_counts_out_of_its_rows(health_mart):
    batches = [b for b in suites.mart_batches(_context(health_mart))
               if b.suite == "mart_fct_relationship_health"]
    assert [b.name for b in batches] == ["row_count", "rows"]
    rows = batches[1]
    # frame: the two (A1, 2024-01-31) rows; the other 5 rows are fine
    assert len(health_mart.execute(rows.sql).fetchall()) == 2
    r = by_key(run_batches(health_mart, batches))
    grain = r[("mart_fct_relationship_health", "grain_unique", "account_id,month_end_date")]
    assert (grain.status, grain.unexpected_count) == ("fail", 2)
    score = r[("mart_fct_relationship_health", "expect_column_values_to_be_between",
               "health_score")]
    assert (score.status, score.unexpected_count) == ("fail", 1)          # 150 > 100
    assert score.observed_value == "1 of 7 unexpected, e.g. [150.0]"
    band = r[("mart_fct_relationship_health", "expect_column_values_to_be_in_set",
              "health_band")]
    assert (band.status, band.unexpected_count) == ("fail", 1)            # 'great'
    has_rows = r[("mart_fct_relationship_health", "has_rows", "row_count")]
    assert (has_rows.status, has_rows.observed_value) == ("pass", "7")


def test_a_missing_mart_errors_and_blocks(health_mart):
    report = run_batches(health_mart, suites.mart_batches(_context(health_mart)))
    errors = [x for x in report.results if x.suite == "mart_dim_reps"]
    # both batches of the absent mart (row count, rows) error: nothing of it passes
    assert [(x.expectation, x.status) for x in errors] == [("validate_batch", "error")] * 2
    assert not report.passed


# --------------------------------------------------------------------------- equivalence


@pytest.fixture
def mixed():
    """12 rows covering every edge the pushed-down tests must get right.

    id: 1..10, then 3 again and null   -> unique: the two 3s are unexpected (nulls ignored)
    (a, b): (x, 1) twice, (null, null) twice, the rest distinct
                                       -> compound unique: 2 (x, 1) rows; all-null rows ignored
    f (double): NaN on row 4, null on row 5, 2.5 on row 6, else 1.0
                                       -> not null: 2 (NaN counts as missing in pandas)
                                       -> between 0..2: 1 (2.5; NaN and null are ignored)
    d (decimal): 0.01 (the bound itself) on row 1, 0.009 on row 2, else 0.5
                                       -> between 0.01..1: 1 (0.009)
    s (text): 'ok' except 'bad' on row 7 and null on row 8
                                       -> in set {ok}: 1; not null: 1
    n (integer): 0..11                 -> between 1..10 strictly above 1: 0, 1, 11 -> 3
    """
    with duckdb.connect() as con:
        con.execute("""
            create table t as
            select
                case when i <= 10 then i when i = 11 then 3 end as id,
                case when i in (1, 2) then 'x' when i in (3, 4) then null else 'a' || i end as a,
                case when i in (1, 2) then 1 when i in (3, 4) then null else i end as b,
                case i when 4 then 'nan'::double when 5 then null when 6 then 2.5
                       else 1.0 end as f,
                case i when 1 then 0.01 when 2 then 0.009 else 0.5 end::decimal(6, 3) as d,
                case i when 7 then 'bad' when 8 then null else 'ok' end as s,
                (i - 1)::integer as n
            from range(1, 13) as r(i)
        """)
        yield con


def _expectations():
    return [
        fail(gxe.ExpectColumnValuesToBeUnique(column="id")),
        fail(gxe.ExpectCompoundColumnsToBeUnique(column_list=["a", "b"])),
        fail(gxe.ExpectColumnValuesToNotBeNull(column="f")),
        fail(gxe.ExpectColumnValuesToBeBetween(column="f", min_value=0, max_value=2)),
        fail(gxe.ExpectColumnValuesToBeBetween(column="d", min_value=0.01, max_value=1)),
        fail(gxe.ExpectColumnValuesToBeInSet(column="s", value_set=["ok"])),
        fail(gxe.ExpectColumnValuesToNotBeNull(column="s")),
        fail(gxe.ExpectColumnValuesToBeBetween(column="n", min_value=1, max_value=10,
                                               strict_min=True)),
    ]


@pytest.mark.parametrize("keys_per_pass", [None, 5])
def test_the_violations_frame_gives_the_verdicts_of_the_whole_table(mixed, monkeypatch,
                                                                    keys_per_pass):
    if keys_per_pass:  # 12 rows, 5 keys per pass: repeated keys found in 3 hash partitions
        monkeypatch.setattr(suites._base, "KEYS_PER_PASS", keys_per_pass)
    batch = violations_batch("s", "pushed", "t", _expectations(), _types(mixed, "main.t"),
                             rows=12)
    assert ("key_hash % 3 = 2" in batch.sql) == bool(keys_per_pass)
    whole = run_batches(mixed, [Batch("s", "whole", "select * from t", _expectations())])
    pushed = run_batches(mixed, [batch])
    def verdicts(report):
        return {(x.expectation, x.column): (x.status, x.unexpected_count, x.observed_value
                                            .split(", e.g.")[0]) for x in report.results}

    assert verdicts(pushed) == {
        ("expect_column_values_to_be_unique", "id"): ("fail", 2, "2 of 12 unexpected"),
        ("expect_compound_columns_to_be_unique", "a,b"): ("fail", 2, "2 of 12 unexpected"),
        ("expect_column_values_to_not_be_null", "f"): ("fail", 2, "2 of 12 unexpected"),
        ("expect_column_values_to_be_between", "f"): ("fail", 1, "1 of 12 unexpected"),
        ("expect_column_values_to_be_between", "d"): ("fail", 1, "1 of 12 unexpected"),
        ("expect_column_values_to_be_in_set", "s"): ("fail", 1, "1 of 12 unexpected"),
        ("expect_column_values_to_not_be_null", "s"): ("fail", 1, "1 of 12 unexpected"),
        ("expect_column_values_to_be_between", "n"): ("fail", 3, "3 of 12 unexpected"),
    }
    assert verdicts(pushed) == verdicts(whole)
    # the frame GX saw: rows 1-8, 11 and 12 (9 and 10 break nothing)
    assert len(mixed.execute(batch.sql).fetchall()) == 10


def test_the_violations_frame_is_empty_when_every_row_is_good(mixed):
    mixed.execute("delete from t where id = 3 or id is null or a = 'x' or a is null "
                  "or isnan(f) or f is null or f > 2 or d < 0.01 or s is distinct from 'ok' "
                  "or n <= 1 or n > 10")
    batch = violations_batch("s", "pushed", "t", _expectations(), _types(mixed, "main.t"))
    assert mixed.execute(batch.sql).fetchall() == []
    report = run_batches(mixed, [batch])
    assert report.passed and {x.status for x in report.results} == {"pass"}
    # rows 9 and 10 of 12 survive (n = 8, 9): "0 of 2"
    assert {x.observed_value for x in report.results} == {"0 of 2 unexpected"}


def test_a_test_sql_cannot_mirror_selects_every_non_null_value(mixed):
    # an in-set on a number, a between with a date bound on text: the SQL test could disagree
    # with pandas, so the frame takes the column's non-null rows and GX decides, as it would
    # on the whole table
    mixed.execute("alter table t add column ts timestamp default timestamp '2024-01-01'")
    exps = [fail(gxe.ExpectColumnValuesToBeInSet(column="n", value_set=[0, 1, 2])),
            fail(gxe.ExpectColumnValuesToBeBetween(column="ts", min_value="2024-01-01"))]
    batch = violations_batch("s", "pushed", "t", exps, _types(mixed, "main.t"))
    assert len(mixed.execute(batch.sql).fetchall()) == 12      # n and ts are never null
    whole = run_batches(mixed, [Batch("s", "whole", "select n, ts from t", exps)])
    pushed = run_batches(mixed, [batch])
    # n in {0, 1, 2}: 9 of 12 are not; GX cannot compare timestamps with a date: an error
    verdicts = [{x.column: (x.status, x.unexpected_count) for x in report.results}
                for report in (pushed, whole)]
    assert verdicts[0] == verdicts[1] == {"n": ("fail", 9), "ts": ("error", None)}


def test_expectations_that_need_every_row_are_refused():
    with pytest.raises(ValueError, match="mostly"):
        violations_batch("s", "x", "t", [gxe.ExpectColumnValuesToNotBeNull(
            column="a", mostly=0.9)], {})
    with pytest.raises(ValueError, match="cannot run on a violations frame"):
        violations_batch("s", "x", "t", [gxe.ExpectColumnMeanToBeBetween(
            column="a", min_value=0)], {})

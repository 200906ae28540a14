"""End to end: the performance and scorecard marts on a tiny hand-built dataset.

tests/fixtures/scorecard/ holds CSV files with the contract's columns for the tables the marts
read. They are loaded, typed as the contract says, into validated.* of a temporary DuckDB file
(every other contract table exists empty), then one real `dbt build` of the scorecard marts and
everything upstream (models, seeds, data tests, unit tests) runs on it with as_of_date
2025-06-30. Every expected value below is worked out by hand from the fixture; the comment
beside it shows the arithmetic.

The fixture, in short (quarter under test: Q2 2025, 2025-04-01 .. 2025-06-30):
  regions   R1 (mature in 2025, new in 2024), R2 (new in 2025, nothing recorded for 2024)
  reps      P1 AR R1 FTE 1.0 | P2 AR R1 FTE 0.5 | P3 SR R1 FTE 1.0 (owns no account)
            P4 AR R2 FTE 1.0 | P5 AR R2 FTE 1.0 hired 2024-07-01 | P6 AR R2 left 2025-02-10
  accounts  A1, A2 (P1), A3 (P2), A4 (P4), A5 (P5); A1 ranks first of five -> tier S,
            the others B or C (no A: rank 2 of 5 is already 20% down the population)
  iron triangle  CP7, a complaint on A3 owned by the SR P3, counts for A3's AR P2
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import duckdb
import pytest

from rapport.contract import SQL_TYPES, contract
from rapport.pipeline.dbt_runner import DbtResult, run_dbt
from rapport.pipeline.quarantine import create_meta_tables

pytestmark = pytest.mark.xdist_group("warehouse-scorecard")

FIXTURES = Path(__file__).parent / "fixtures" / "scorecard"
AS_OF = "2025-06-30"
BUILD_ID = "scorecard-fixture"
MARTS = ["fct_rep_performance", "fct_region_performance", "fct_key_actions", "fct_rep_scorecard"]
OWN_PATHS = [
    "models/intermediate/_int_perf__models.yml",
    "models/intermediate/_int_actions__models.yml",
    "models/marts/performance",
    "models/marts/scorecard",
    "seeds/_scorecard__seeds.yml",
    "tests/assert_owned_items_are_credited.sql",
]


def load_validated(db_path: Path, fixtures: Path) -> None:
    """Create validated.<table> for every contract table; fill those with a fixture CSV."""
    con = duckdb.connect(str(db_path))
    try:
        create_meta_tables(con)
        for table in contract().tables.values():
            columns = ", ".join(f'"{c.name}" {SQL_TYPES[c.type]}' for c in table.columns.values())
            con.execute(
                f'create table validated."{table.name}" '
                f"({columns}, _source_file varchar, _row_number bigint)"
            )
            path = fixtures / f"{table.name}.csv"
            if path.exists():
                header = path.read_text(encoding="utf-8").splitlines()[0].split(",")
                # as the ingest does: an optional column the file leaves out is empty
                missing = [c.name for c in table.columns.values()
                           if c.name not in header and c.required]
                if missing:
                    raise ValueError(f"{path}: missing required column(s) {missing}")
                typed = ", ".join(
                    f"cast(nullif(trim(\"{c.name}\"), '') as {SQL_TYPES[c.type]})"
                    if c.name in header else f"cast(null as {SQL_TYPES[c.type]})"
                    for c in table.columns.values()
                )
                con.execute(
                    f'insert into validated."{table.name}" '
                    f"select {typed}, ?, row_number() over () "
                    "from read_csv(?, all_varchar = true, header = true)",
                    [path.name, str(path)],
                )
            rows = con.execute(f'select count(*) from validated."{table.name}"').fetchone()[0]
            con.execute(
                "insert into meta.dq_row_counts values (?, ?, ?, ?, 0)",
                [BUILD_ID, table.name, rows, rows],
            )
    finally:
        con.close()


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, DbtResult, float]]:
    """One real dbt build of the scorecard marts (and everything upstream) on the fixture."""
    work = tmp_path_factory.mktemp("scorecard")
    db_path = work / "warehouse.duckdb"
    load_validated(db_path, FIXTURES)
    started = time.perf_counter()
    result = run_dbt(
        # The marts and every model and seed upstream, with the tests and unit tests of the
        # scorecard's own models and seeds (upstream models' tests belong to their own suites).
        ["build", "--indirect-selection", "empty", "--select", *[f"+{m}" for m in MARTS],
         *[f"path:{p}" for p in OWN_PATHS]],
        db_path,
        vars={"as_of_date": AS_OF, "build_id": BUILD_ID},
        target_path=work / "dbt-target",
        echo=None,
    )
    seconds = time.perf_counter() - started
    if not result.success:
        failures = "\n".join(str(f) for f in result.failures) or result.error
        pytest.fail(f"dbt build failed on the scorecard fixture:\n{failures}")
    yield db_path, result, seconds


@pytest.fixture(scope="module")
def con(built: tuple[Path, DbtResult, float]) -> Iterator[duckdb.DuckDBPyConnection]:
    connection = duckdb.connect(str(built[0]), read_only=True)
    yield connection
    connection.close()


def one_row(con: duckdb.DuckDBPyConnection, sql: str, params: list) -> dict:
    cursor = con.execute(sql, params)
    names = [d[0] for d in cursor.description]
    rows = cursor.fetchall()
    assert len(rows) == 1, f"expected one row, got {len(rows)}: {sql} {params}"
    return dict(zip(names, rows[0]))


def rep_quarter(con, table: str, rep_id: str, year: int = 2025, quarter: int = 2) -> dict:
    return one_row(
        con,
        f"select * from marts.{table} where rep_id = ? and year = ? and quarter = ?",
        [rep_id, year, quarter],
    )


def region_quarter(con, region_id: str, year: int = 2025, quarter: int = 2) -> dict:
    return one_row(
        con,
        "select * from marts.fct_region_performance where region_id = ? and year = ? and quarter = ?",
        [region_id, year, quarter],
    )


def test_every_mart_and_its_tests_were_built(built, con):
    _, result, _ = built
    built_models = {n.name for n in result.nodes if n.resource_type == "model"}
    assert set(MARTS) <= built_models
    unit_tests = [n for n in result.nodes if n.resource_type == "unit_test"]
    data_tests = [n for n in result.nodes if n.resource_type == "test"]
    # 27 unit tests in the scorecard's YAML files (2 of them the recorded owner of the
    # period, account_owners); data tests on every mart and seed.
    assert len(unit_tests) == 27 and all(n.status == "pass" for n in unit_tests)
    assert len(data_tests) > 100 and all(n.status == "pass" for n in data_tests)
    # Nothing owned is credited to nobody (the iron triangle's singular test).
    assert "assert_owned_items_are_credited" in {n.name for n in data_tests}
    counts = {
        mart: con.execute(f"select count(*) from marts.{mart}").fetchone()[0] for mart in MARTS
    }
    # Quarters Q1 2024 (first interaction 2024-01-10, first won deal 2024-01-15) .. Q2 2025 = 6.
    # Rep rows while employed: P1, P2, P3, P4 6 each; P5 hired 2024-07-01 -> 4; P6 left
    # 2025-02-10 -> Q1 2024 .. Q1 2025 = 5. 24 + 4 + 5 = 33.
    assert counts["fct_rep_performance"] == 33
    # Two regions x six quarters.
    assert counts["fct_region_performance"] == 12
    # Scorecard reps are ARs or account owners: P1, P2, P4 (6 each), P5 (4), P6 (5) = 27
    # (P3 is an SR owning no account); nine actions each -> 243.
    assert counts["fct_rep_scorecard"] == 27
    assert counts["fct_key_actions"] == 27 * 9


def test_rep_revenue_profit_and_per_head(con):
    p1 = rep_quarter(con, "fct_rep_performance", "P1")
    # Won and closed in Q2 2025 up to as_of: O4 120000 + O5 30000 + O13 10000 = 160000
    # (O9 lost, O10 open, O11 closes 2025-07-05 after as_of).
    assert p1["revenue"] == pytest.approx(160_000)
    # O4 120000 x 0.25 = 30000; O5 has no margin: 30000 - 18000 = 12000; O13 has neither
    # margin nor cost: left out of profit. 42000.
    assert p1["profit"] == pytest.approx(42_000)
    assert p1["revenue_without_profit"] == pytest.approx(10_000)
    assert p1["fte"] == pytest.approx(1.0)
    assert p1["revenue_per_head"] == pytest.approx(160_000)  # 160000 / 1.0
    assert p1["profit_per_head"] == pytest.approx(42_000)  # 42000 / 1.0
    assert p1["market_type"] == "mature"

    p2 = rep_quarter(con, "fct_rep_performance", "P2")
    # O6 60000 x 0.40 = 24000, FTE 0.5 -> 120000 and 48000 per head.
    assert p2["revenue"] == pytest.approx(60_000)
    assert p2["profit"] == pytest.approx(24_000)
    assert p2["revenue_per_head"] == pytest.approx(120_000)  # 60000 / 0.5
    assert p2["profit_per_head"] == pytest.approx(48_000)  # 24000 / 0.5


def test_rep_yoy_growth_target_completion_and_cash(con):
    p1 = rep_quarter(con, "fct_rep_performance", "P1")
    # Q2 2024: O1 100000 x 0.30 = 30000.
    assert p1["revenue_prior_year"] == pytest.approx(100_000)
    assert p1["profit_prior_year"] == pytest.approx(30_000)
    assert p1["revenue_yoy_growth"] == pytest.approx(0.6)  # (160000 - 100000) / 100000
    assert p1["profit_yoy_growth"] == pytest.approx(0.4)  # (42000 - 30000) / 30000
    assert p1["revenue_target_completion"] == pytest.approx(0.8)  # 160000 / 200000
    assert p1["profit_target_completion"] == pytest.approx(1.05)  # 42000 / 40000
    # PAY1 60000 on 2025-05-01; PAY2 is paid after as_of.
    assert p1["cash_collected"] == pytest.approx(60_000)

    p2 = rep_quarter(con, "fct_rep_performance", "P2")
    # Q2 2024: O2 40000, no margin: 40000 - 30000 = 10000.
    assert p2["revenue_yoy_growth"] == pytest.approx(0.5)  # (60000 - 40000) / 40000
    assert p2["profit_yoy_growth"] == pytest.approx(1.4)  # (24000 - 10000) / 10000
    assert p2["revenue_target_completion"] == pytest.approx(1.2)  # 60000 / 50000
    assert p2["profit_target_completion"] == pytest.approx(0.8)  # 24000 / 30000

    p4 = rep_quarter(con, "fct_rep_performance", "P4")
    assert p4["profit_target_completion"] is None  # profit target 0: no completion
    p5 = rep_quarter(con, "fct_rep_performance", "P5")
    # P5 was hired 2024-07-01: no Q2 2024 row, so no prior year and no growth.
    assert p5["revenue_prior_year"] is None and p5["revenue_yoy_growth"] is None


def test_region_per_head_over_the_fte_of_its_employed_reps(con):
    r1 = region_quarter(con, "R1")
    assert r1["revenue"] == pytest.approx(220_000)  # P1 160000 + P2 60000 + P3 0
    assert r1["profit"] == pytest.approx(66_000)  # 42000 + 24000
    assert r1["fte"] == pytest.approx(2.5)  # P1 1.0 + P2 0.5 + P3 1.0
    assert r1["revenue_per_head"] == pytest.approx(88_000)  # 220000 / 2.5
    assert r1["profit_per_head"] == pytest.approx(26_400)  # 66000 / 2.5
    # Q2 2024: 100000 + 40000 = 140000 revenue, 30000 + 10000 = 40000 profit.
    assert r1["revenue_yoy_growth"] == pytest.approx(80_000 / 140_000)  # 0.5714...
    assert r1["profit_yoy_growth"] == pytest.approx(0.65)  # 26000 / 40000
    assert r1["revenue_target_completion"] == pytest.approx(0.88)  # 220000 / 250000
    assert r1["profit_target_completion"] == pytest.approx(1.1)  # 66000 / 60000
    assert r1["cash_collected"] == pytest.approx(90_000)  # P1 60000 + P2 30000

    r2 = region_quarter(con, "R2")
    # P6 left in Q1: Q2 2025 FTE = P4 1.0 + P5 1.0; revenue 80000 + 40000.
    assert r2["fte"] == pytest.approx(2.0)
    assert r2["revenue_per_head"] == pytest.approx(60_000)  # 120000 / 2
    assert r2["profit_per_head"] == pytest.approx(16_000)  # (20000 + 12000) / 2
    assert r2["revenue_yoy_growth"] == pytest.approx(1.4)  # (120000 - 50000) / 50000
    # FTE by days employed: P6 left 2025-02-10, employed Jan 1 - Feb 10 = 31 + 10 = 41 of
    # Q1 2025's 90 days: P4 1.0 + P5 1.0 + P6 1.0 x 41/90 = 2.455556.
    assert region_quarter(con, "R2", 2025, 1)["fte"] == pytest.approx(2 + 41 / 90)


def test_nine_key_actions_of_one_rep(con):
    rows = con.execute(
        "select action_no, numerator, denominator, score, not_scored_reason, satisfaction_avg "
        "from marts.fct_key_actions where rep_id = 'P1' and year = 2025 and quarter = 2 "
        "order by action_no"
    ).fetchall()
    got = {r[0]: r[1:] for r in rows}
    assert sorted(got) == list(range(1, 10))
    expected = {
        # 1: A1's strategy is current; A2's expired 2025-03-31.
        1: (1, 2),
        # 2: S/A accounts: A1 only; its plan RP1 covers key, general and org.
        2: (1, 1),
        # 3: A1 (tier S): fields 3/4 (no FR) + C1 4/4 + C2 3/4 (no evaluation group) = 10/12;
        #    A (C1, 2025-05-01) and D (C2, 2025-04-01: exactly 90 days) assessed -> 1;
        #    point 0.5 x 1 + 0.5 x 10/12. A2 (tier C): 1/4 + C5 4/4 = 5/8.
        #    0.5 + 5/12 + 5/8 = 37/24.
        3: (37 / 24, 2),
        # 4: key items due: PI1 done early, PI2 late, PI3 not done.
        4: (1, 3),
        # 5: org item PI4 done a day early.
        5: (1, 1),
        # 6: general items are due in Q1 (PI5) and Q3 (PI6): nothing due.
        6: (0, 0),
        # 7: planned activities PI1, PI2, PI4: I1 logged after 23 h, I2 after 4 days (late),
        #    I3 after exactly 2 days.
        7: (2, 3),
        # 8: due in Q2: CP1 (ok), CP2 (own SLA 5 days, closed after 7), CP3 (not confirmed),
        #    CP5 (opened in March, due 2025-04-04, ok); CP4 is due in July.
        8: (2, 4),
        # 9: A1: 2 items, 1 routed -> 0.5 x 1 + 0.5 x 1/2 = 0.75; A2: none in Q2 -> 0.
        9: (0.75, 2),
    }
    for action_no, (numerator, denominator) in expected.items():
        got_numerator, got_denominator = got[action_no][0], got[action_no][1]
        assert got_numerator == pytest.approx(numerator), f"action {action_no} numerator"
        assert got_denominator == pytest.approx(denominator), f"action {action_no} denominator"
    assert got[6][2] is None
    assert got[6][3] == "no general-layer plan items due in the quarter"
    assert got[3][2] == pytest.approx(37 / 48)
    assert got[8][4] == pytest.approx(7.0)  # survey answers 8 (A1) and 6 (A2)
    assert all(got[n][3] is None for n in expected if n != 6)


def test_iron_triangle_sr_owned_complaint_counts_for_the_account_ar(con):
    # CP7 is owned by the SR P3 (no scorecard of its own: iron_triangle_credit SR -> ar) on
    # A3, whose AR is P2: it counts in P2's action 8, 1 of 1.
    row = one_row(
        con,
        "select numerator, denominator, score from marts.fct_key_actions "
        "where rep_id = 'P2' and year = 2025 and quarter = 2 and action_no = 8",
        [],
    )
    assert (row["numerator"], row["denominator"], row["score"]) == (1, 1, 1)
    credited = one_row(
        con,
        "select owner_rep_id, owner_role, credited_rep_id, credited_to, due_date "
        "from intermediate.int_actions_complaints_credited where complaint_id = 'CP7'",
        [],
    )
    assert credited["credited_rep_id"] == "P2" and credited["credited_to"] == "account_ar"
    assert str(credited["due_date"]) == "2025-05-13"  # opened 2025-05-10 + 3 days (high)
    # P3 is still not assessed: no scorecard row.
    assert con.execute(
        "select count(*) from marts.fct_rep_scorecard where rep_id = 'P3'"
    ).fetchone()[0] == 0


def test_scorecard_totals_and_ranks_under_two_market_types(con):
    # R1 is mature in 2025 (weights 0.7 / 0.3). Dimension 1: profit per head ranked in the
    # region (P2 48000 > P1 42000 -> 100 and 0), target completion capped at 100%.
    p1 = rep_quarter(con, "fct_rep_scorecard", "P1")
    p2 = rep_quarter(con, "fct_rep_scorecard", "P2")
    assert p1["dimension1_score"] == pytest.approx(45)  # 0.5 x 0 + 0.25 x 80 + 0.25 x 100
    assert p2["dimension1_score"] == pytest.approx(95)  # 0.5 x 100 + 0.25 x 100 + 0.25 x 80
    # P1 scored 8 actions: (0.5 + 1 + 37/48 + 1/3 + 1 + 2/3 + 0.5 + 0.375) / 8 = 0.643229...
    assert p1["actions_scored"] == 8
    assert p1["dimension2_score"] == pytest.approx(64.322917, abs=1e-6)
    # P2: actions 1 (1/1), 3 (1/1), 6 (1/1), 8 (1/1: CP7, owned by the SR P3 on P2's account
    # A3, high, opened 2025-05-10 10:00, due 3 days later, closed in 2 and confirmed: the
    # iron triangle credits it to A3's AR), 9 (0/1) -> 100 x 4 / 5 = 80.
    assert p2["actions_scored"] == 5
    assert p2["dimension2_score"] == pytest.approx(80)
    assert (p1["weight_dimension1"], p1["weight_dimension2"]) == pytest.approx((0.7, 0.3))
    assert p1["total_score"] == pytest.approx(50.796875)  # 0.7 x 45 + 0.3 x 64.322917
    assert p2["total_score"] == pytest.approx(90.5)  # 0.7 x 95 + 0.3 x 80
    # Ranking needs 5 of 9 actions scored (key_action_settings min_scored_actions_to_rank):
    # P1 (8 of 9) and P2 (5 of 9) are both ranked.
    assert (p1["scored_actions"], p1["ranked"]) == (8, True)
    assert (p2["scored_actions"], p2["min_scored_actions"], p2["ranked"]) == (5, 5, True)
    assert (p2["rank_in_region"], p1["rank_in_region"]) == (1, 2)
    # Owned accounts of the period: P1 A1 and A2, P2 A3; each inferred from the quarter's
    # activity and deals (I1-I3 by P1 on A1, O5/O13 won by P1 on A2, O6 won by P2 on A3).
    assert (p1["owned_accounts"], p1["owned_accounts_inferred"]) == (2, 2)
    assert (p2["owned_accounts"], p2["owned_accounts_inferred"]) == (1, 1)

    # R2 is new in 2025 (0.5 / 0.5). Dimension 1: revenue growth and revenue per head, each
    # ranked in the region. P4 is the only rep with a growth figure -> 50; per head
    # P4 80000 > P5 40000 -> 100 and 0.
    p4 = rep_quarter(con, "fct_rep_scorecard", "P4")
    p5 = rep_quarter(con, "fct_rep_scorecard", "P5")
    assert p4["market_type"] == "new"
    assert p4["dimension1_score"] == pytest.approx(75)  # 0.5 x 50 + 0.5 x 100
    assert p5["dimension1_score"] == pytest.approx(0)  # per head 0; growth not scorable
    # P4: action 1 0/1, 3 6/8, 8 1/1, 9 0.75/1 -> 100 x 2.5 / 4 = 62.5.
    assert p4["dimension2_score"] == pytest.approx(62.5)
    # P5: action 1 0/1, 3 2/4, 9 1/1 -> 50.
    assert p5["dimension2_score"] == pytest.approx(50)
    assert p4["total_score"] == pytest.approx(68.75)  # 0.5 x 75 + 0.5 x 62.5
    assert p5["total_score"] == pytest.approx(25)  # 0.5 x 0 + 0.5 x 50
    # P4 has 4 of 9 actions scored, P5 3 of 9: neither is ranked (minimum 5).
    assert (p4["scored_actions"], p4["ranked"], p4["rank_in_region"]) == (4, False, None)
    assert (p5["scored_actions"], p5["ranked"], p5["rank_in_region"]) == (3, False, None)

    # R2 has no market type for 2024: the scorecard uses the default (new) and says so.
    p4_2024 = rep_quarter(con, "fct_rep_scorecard", "P4", 2024, 2)
    assert p4_2024["market_type"] == "new" and p4_2024["is_market_type_defaulted"] is True

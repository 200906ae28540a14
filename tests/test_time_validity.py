"""End to end: time-correct history on a small hand-built dataset.

tests/fixtures/time_validity/ goes through the real pipeline front (rapport.pipeline.ingest.load_raw,
rapport.pipeline.quarantine.run_gate with as_of_date 2025-06-30) and one real `dbt build` of the whole
project. Every expected value is worked out by hand from the fixture; the comment beside it
shows the arithmetic (default seeds).

The fixture (one region R1, everything telecom):
  reps      Q1 AR FTE 1.0 (2020-01-01 ..)     Q2 AR FTE 0.5 hired 2025-05-20
            Q3 AR FTE 1.0 left 2025-02-03      Q4 SR FTE 1.0 hired 2025-06-30 (the last day)
  accounts  B1 (created 2020, potential 1000, demo 5)
            B2 (created 2025-05-10, mid-quarter; potential 2000, demo 5)
            B3 (created 2020, potential 500, demo 0)
            B4 (created 2025-08-01, after the as-of date: no row anywhere)
            B5 (created 2020, closed 2025-02-14, mid-quarter; potential 4000, demo 5; AR in
                the CRM today: Q2, hired after it closed)
  contacts  B1: K1 approver, coach since 2024-07-01, never touched;
                K2 decision maker created 2025-03-15, never assessed, never touched;
                K4 influencer created 2025-07-15, after the as-of date
            B3: K3 (no role): phone calls 2023-07-01, 2024-07-01 and 2025-06-30;
                K5 approver, supports us exclusively (2) since 2024-07-01, never touched,
                left 2025-04-15 (mid-month)
            B5: K6 approver, never assessed, never touched (no left_date: its account closed)
  deals     won: D0 B3 1,000 on 2023-03-01 (Q3) | D3 B3 34,000 on 2025-01-20 (Q3)
                 D1 B1 92,000 on 2025-04-15 (Q1) | D2 B2 21,000 on 2025-06-15 (Q2)
                 D4 B5 50,000 on 2025-02-10 (Q1), four days before B5 closed
  owners    (account_owners, the CRM's history) B1: AR Q3 2023-01-01 .. 2024-08-20, then
            AR Q1 from 2024-08-21 (open), and AR Q2 from 2025-06-20 (open: overlaps Q1's
            window, the later start wins), SR Q4 from 2025-06-30 (not used);
            B3: AR Q1 from 2025-06-20 (11 recorded days of Q2 2025)
  plans     P1 on B1 (owner Q3), three items owned by the SR Q4: I1 key due 2024-08-10,
            I2 key due 2024-09-10 (both done in time), I3 general due 2024-11-10 (not done)
  calendars months 2023-07 .. 2025-06 (first interaction 2023-07-01, 24 months);
            quarters Q1 2023 .. Q2 2025 (first won deal 2023-03-01, 10 quarters)
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from pathlib import Path

import duckdb
import pytest

from rapport.pipeline.dbt_runner import DbtResult

pytestmark = pytest.mark.xdist_group("time-validity")

FIXTURES = Path(__file__).parent / "fixtures" / "time_validity"
AS_OF = date(2025, 6, 30)
BUILD_ID = "time-validity-fixture"


@pytest.fixture(scope="module")
def built(fixture_build) -> tuple[Path, DbtResult]:
    """The fixture through the real ingest, gate and dbt build (shared with the alerts'
    recomputation, tests/test_alerts_from_raw.py: conftest)."""
    made = fixture_build("time_validity", AS_OF)
    return made.db_path, made.result


@pytest.fixture(scope="module")
def con(built: tuple[Path, DbtResult]) -> Iterator[duckdb.DuckDBPyConnection]:
    connection = duckdb.connect(str(built[0]), read_only=True)
    yield connection
    connection.close()


def rows(con: duckdb.DuckDBPyConnection, sql: str, params: list | None = None) -> list[dict]:
    cursor = con.execute(sql, params or [])
    names = [d[0] for d in cursor.description]
    return [dict(zip(names, row)) for row in cursor.fetchall()]


def one(con, sql: str, params: list) -> dict:
    found = rows(con, sql, params)
    assert len(found) == 1, f"expected one row, got {len(found)}: {sql} {params}"
    return found[0]


# --- FTE by days --------------------------------------------------------------------------


def perf(con, table: str, key: str, value: str, year: int, quarter: int) -> dict:
    return one(con, f"select * from marts.{table} where {key} = ? and year = ? and quarter = ?",
               [value, year, quarter])


def test_rep_quarters_exist_only_between_hire_and_leave(con):
    found = {(r["rep_id"], r["year"], r["quarter"]) for r in rows(
        con, "select rep_id, year, quarter from marts.fct_rep_performance")}
    # Q1: Q1 2023 .. Q2 2025 = 10; Q2 hired 2025-05-20: Q2 2025 only; Q3 left 2025-02-03:
    # Q1 2023 .. Q1 2025 = 9; Q4 hired 2025-06-30: Q2 2025 only. 10 + 1 + 9 + 1 = 21.
    assert len(found) == 21
    assert {(y, q) for r, y, q in found if r == "Q2"} == {(2025, 2)}
    assert {(y, q) for r, y, q in found if r == "Q4"} == {(2025, 2)}
    assert max((y, q) for r, y, q in found if r == "Q3") == (2025, 1)


def test_rep_hired_mid_quarter_counts_the_days_employed(con):
    q2 = perf(con, "fct_rep_performance", "rep_id", "Q2", 2025, 2)
    # Q2 2025 has 30 + 31 + 30 = 91 days; Q2 is employed 2025-05-20 .. 06-30 = 12 + 30 = 42.
    # FTE 0.5 x 42 / 91 = 21 / 91 = 0.230769; D2 21,000 -> per head 21,000 / (21/91) = 91,000
    assert (q2["days_employed"], q2["days_in_period"]) == (42, 91)
    assert q2["fte_contracted"] == pytest.approx(0.5)
    assert q2["fte"] == pytest.approx(21 / 91)
    assert q2["revenue"] == pytest.approx(21_000)
    assert q2["revenue_per_head"] == pytest.approx(91_000)
    assert q2["profit_per_head"] == pytest.approx(45_500)  # 10,500 / (21/91)
    # Q4, employed only on the quarter's last day: 1 / 91 of an FTE
    q4 = perf(con, "fct_rep_performance", "rep_id", "Q4", 2025, 2)
    assert (q4["days_employed"], q4["days_in_period"]) == (1, 91)
    assert q4["fte"] == pytest.approx(1 / 91)


def test_rep_who_left_mid_quarter_counts_the_days_employed(con):
    q3 = perf(con, "fct_rep_performance", "rep_id", "Q3", 2025, 1)
    # Q1 2025 has 31 + 28 + 31 = 90 days; Q3 is employed 2025-01-01 .. 02-03 = 31 + 3 = 34.
    # FTE 1.0 x 34 / 90 = 0.377778; D3 34,000 -> per head 34,000 / (34/90) = 90,000
    assert (q3["days_employed"], q3["days_in_period"]) == (34, 90)
    assert q3["fte"] == pytest.approx(34 / 90)
    assert q3["revenue_per_head"] == pytest.approx(90_000)
    # a full quarter is the contracted FTE
    q1 = perf(con, "fct_rep_performance", "rep_id", "Q1", 2025, 2)
    assert (q1["days_employed"], q1["fte"]) == (91, pytest.approx(1.0))
    assert q1["revenue_per_head"] == pytest.approx(92_000)


def test_region_fte_is_the_sum_of_the_reps_fte_by_days(con):
    q2 = perf(con, "fct_region_performance", "region_id", "R1", 2025, 2)
    # Q1 1.0 + Q2 21/91 + Q4 1/91 = 113/91 = 1.241758 (contracted: 1.0 + 0.5 + 1.0 = 2.5);
    # revenue 92,000 + 21,000 = 113,000 -> per head 113,000 / (113/91) = 91,000
    assert q2["fte"] == pytest.approx(113 / 91)
    assert q2["fte_contracted"] == pytest.approx(2.5)
    assert q2["reps_employed"] == 3
    assert q2["revenue_per_head"] == pytest.approx(91_000)
    q1 = perf(con, "fct_region_performance", "region_id", "R1", 2025, 1)
    # Q1 1.0 + Q3 34/90 = 124/90 = 1.377778; revenue D3 34,000 + D4 50,000 (on B5, which
    # closed that quarter: revenue is never dropped) = 84,000 -> 84,000 x 90 / 124 = 60,967.74
    assert q1["fte"] == pytest.approx(124 / 90)
    assert q1["revenue"] == pytest.approx(84_000)
    assert q1["revenue_per_head"] == pytest.approx(84_000 * 90 / 124)


# --- accounts and contacts: no row before creation -------------------------------------------


def test_no_health_row_before_an_account_or_its_parts_existed(con):
    counts = dict(con.execute(
        "select account_id, count(*) from marts.fct_relationship_health group by 1").fetchall())
    # B1, B3: 2023-07 .. 2025-06 = 24 months; B2 created 2025-05-10: May and June only;
    # B5 closed 2025-02-14: 2023-07 .. 2025-01 = 6 + 12 + 1 = 19 months (below)
    assert counts == {"B1": 24, "B2": 2, "B3": 24, "B5": 19}
    for model in ("int_accounts_key_scored", "int_accounts_general_scored",
                  "int_accounts_org_scored", "int_accounts_concentration_measured",
                  "int_accounts_attitudes_compared"):
        b2 = con.execute(f"select min(month_start_date), count(*) from intermediate.{model} "
                         "where account_id = 'B2'").fetchone()
        assert b2 == (date(2025, 5, 1), 2), model
    before = con.execute(
        "select count(*) from marts.fct_relationship_health as h "
        "inner join staging.stg_accounts as a on h.account_id = a.account_id "
        "where h.snapshot_date < a.created_date").fetchone()[0]
    assert before == 0


def test_trend_starts_at_creation(con):
    b2 = rows(con, "select month_end_date, health_score, health_band, health_change_1m, "
                   "health_change_3m from marts.fct_relationship_health "
                   "where account_id = 'B2' order by month_end_date")
    # no contact, no activity: key 0, general 0, org max(0, 0 - 15) = 0 -> health 0
    assert [r["month_end_date"] for r in b2] == [date(2025, 5, 31), date(2025, 6, 30)]
    assert [r["health_score"] for r in b2] == [0, 0]
    # the creation month has no earlier month to compare with: no change, not a jump
    assert b2[0]["health_change_1m"] is None
    assert b2[1]["health_change_1m"] == 0
    assert b2[0]["health_change_3m"] is None and b2[1]["health_change_3m"] is None


def test_a_contact_counts_from_its_created_date(con):
    def key(month_end: str) -> dict:
        return one(con, "select key_score, role_holder_count, health_score, health_change_1m "
                        "from marts.fct_relationship_health "
                        "where account_id = 'B1' and month_end_date = ?", [month_end])
    # February 2025: K2 (created 2025-03-15) does not exist yet. K1: coach -> support 1,
    # never touched -> intimacy 0: 100 x (0.6 x 1 + 0.4 x 0) = 60 -> key 60, health 30
    feb = key("2025-02-28")
    assert (feb["role_holder_count"], feb["key_score"]) == (1, pytest.approx(60))
    assert feb["health_score"] == pytest.approx(30)
    # March: K2 (D, 0.9) never assessed -> support 0.25 -> 100 x 0.6 x 0.25 = 15;
    # key = (1.0 x 60 + 0.9 x 15) / 1.9 = 73.5 / 1.9 = 38.684211 (6 decimals);
    # health 0.5 x 38.684211 = 19.3421055 -> 19.342106; change 19.342106 - 30 = -10.657894
    mar = key("2025-03-31")
    assert (mar["role_holder_count"], mar["key_score"]) == (2, pytest.approx(73.5 / 1.9))
    assert mar["health_score"] == pytest.approx(19.342106, abs=1e-9)
    assert mar["health_change_1m"] == pytest.approx(-10.657894, abs=1e-9)
    # K2's own monthly rows start in March 2025
    assert con.execute("select min(month_start_date) from intermediate.int_contacts_monthly "
                       "where contact_id = 'K2'").fetchone()[0] == date(2025, 3, 1)


def test_tiers_rank_the_accounts_that_existed_at_the_quarter_end(con):
    counts = dict(con.execute(
        "select account_id, count(*) from marts.fct_account_tiers group by 1").fetchall())
    # B2: Q2 2025 only; B5 (closed 2025-02-14): Q1 2023 .. Q4 2024 = 8 quarters (below)
    assert counts == {"B1": 10, "B2": 1, "B3": 10, "B5": 8}
    sizes = dict(con.execute("select quarter_end_date, max(population_size) "
                             "from marts.fct_account_tiers group by 1").fetchall())
    # Q1 2023 .. Q4 2024: B1, B3, B5; Q1 2025: B1, B3; Q2 2025: B1, B2, B3
    assert sizes[date(2025, 3, 31)] == 2 and sizes[date(2025, 6, 30)] == 3
    assert set(sizes.values()) == {2, 3}

    def tiers(quarter_end: str) -> dict:
        return {r["account_id"]: r for r in rows(
            con, "select * from marts.fct_account_tiers where quarter_end_date = ?",
            [quarter_end])}
    q1 = tiers("2025-03-31")
    # Q1 2025, population B1, B3 (B2's potential 2000 is not the industry's best yet, and
    # B5, closed on 2025-02-14, is not a candidate: its 4000 and D4's 50,000 count for no one):
    #   B1: revenue 0; potential 1000/1000 -> 100; demo 5/5 -> 100; no closed deal -> win
    #       rate 0.5 -> 100 x 0.7 x 0.5 = 35: 0 + 30 + 15 + 7 = 52
    #   B3: D3 34,000 is the best -> 100; 500/1000 -> 50; demo 0; 1 won of 1 -> 70
    #       (D0 of 2023-03-01 is older than 24 months): 35 + 15 + 0 + 14 = 64
    assert q1["B1"]["composite_score"] == pytest.approx(52)
    assert q1["B3"]["composite_score"] == pytest.approx(64)
    # ranks 1, 2 of 2: shares above 0 -> S, 0.5 -> C
    assert {a: (r["rank_in_population"], r["tier"]) for a, r in q1.items()} == {
        "B3": (1, "S"), "B1": (2, "C")}
    q2 = tiers("2025-06-30")
    # Q2 2025, population B1, B2, B3; revenue best B1 92,000; potential best B2 2000;
    # each won its one closed deal in 24 months -> winnability 70 -> 14 points each
    #   B1: 100 -> 35; 1000/2000 -> 15; demo 15: 35 + 15 + 15 + 14 = 79
    #   B2: 21/92 -> 35 x 22.826087% = 7.989130; 100 -> 30; demo 15: 66.989130
    #   B3: 34/92 -> 35 x 36.956522% = 12.934783; 500/2000 -> 7.5; 0: 34.434783
    assert q2["B1"]["composite_score"] == pytest.approx(79)
    assert q2["B2"]["composite_score"] == pytest.approx(35 * 21 / 92 + 59, abs=1e-6)
    assert q2["B3"]["composite_score"] == pytest.approx(35 * 34 / 92 + 21.5, abs=1e-6)
    # shares above 0 -> S, 1/3 -> B, 2/3 -> C
    assert {a: (r["rank_in_population"], r["tier"]) for a, r in q2.items()} == {
        "B1": (1, "S"), "B2": (2, "B"), "B3": (3, "C")}
    # B2's first quarter is new; B1 C -> S up, B3 S -> C down
    assert (q2["B2"]["tier_change"], q2["B2"]["previous_tier"]) == ("new", None)
    assert q2["B1"]["tier_change"] == "up" and q2["B3"]["tier_change"] == "down"


# --- accounts that close, contacts who leave ---------------------------------------------------


def test_a_closed_account_has_no_row_for_a_period_after_it_closed(con):
    # B5 exists 2020-01-01 .. 2025-02-14 (its last day). A period has a row when the account
    # exists on the period's snapshot day: January 2025 (31 Jan) does, February (28 Feb)
    # does not, so 2023-07 .. 2025-01: 6 + 12 + 1 = 19 months
    b5 = [r[0] for r in con.execute(
        "select month_end_date from marts.fct_relationship_health where account_id = 'B5' "
        "order by 1").fetchall()]
    assert (len(b5), b5[0], b5[-1]) == (19, date(2023, 7, 31), date(2025, 1, 31))
    for model in ("int_accounts_key_scored", "int_accounts_general_scored",
                  "int_accounts_org_scored", "int_accounts_concentration_measured",
                  "int_accounts_attitudes_compared"):
        assert con.execute(f"select max(month_start_date), count(*) from intermediate.{model} "
                           "where account_id = 'B5'").fetchone() == (date(2025, 1, 1), 19), model
    # quarters: Q4 2024 (31 Dec) is the last; Q1 2025, the quarter it closed in, ends on
    # 31 March, after the closing: B5 is no tier candidate then
    quarters = [r[0] for r in con.execute(
        "select quarter_end_date from marts.fct_account_tiers where account_id = 'B5' "
        "order by 1").fetchall()]
    assert (len(quarters), quarters[-1]) == (8, date(2024, 12, 31))
    q4 = {r["account_id"]: r for r in rows(
        con, "select * from marts.fct_account_tiers where quarter_end_date = '2024-12-31'")}
    # Q4 2024, population B1, B3, B5; no deal won in 2024 -> revenue 0 for all; potential
    # best B5 4000; win rate over 2023-01-01 .. 2024-12-31: B3 1 of 1 (D0) -> 70, the others
    # none closed -> 0.5 -> 35 (D4 closed 2025-02-10):
    #   B5: 0 + 100 x 0.30 + 100 x 0.15 + 35 x 0.20 = 30 + 15 + 7 = 52
    #   B1: 0 + 25 x 0.30 + 100 x 0.15 + 35 x 0.20 = 7.5 + 15 + 7 = 29.5
    #   B3: 0 + 12.5 x 0.30 + 0 + 70 x 0.20 = 3.75 + 14 = 17.75
    assert {a: r["composite_score"] for a, r in q4.items()} == {
        "B5": pytest.approx(52), "B1": pytest.approx(29.5), "B3": pytest.approx(17.75)}
    assert {a: (r["population_size"], r["rank_in_population"], r["tier"])
            for a, r in q4.items()} == {"B5": (3, 1, "S"), "B1": (3, 2, "B"), "B3": (3, 3, "C")}
    # the quarter after: B1 and B3 only (B1 52 -> C, B3 64 -> S, above), ranked 2 of 2
    q1 = {r["account_id"]: r for r in rows(
        con, "select * from marts.fct_account_tiers where quarter_end_date = '2025-03-31'")}
    assert {a: (r["population_size"], r["previous_tier"], r["tier"], r["tier_change"])
            for a, r in q1.items()} == {"B1": (2, "B", "C", "down"), "B3": (2, "C", "S", "up")}
    # dim_accounts lists B5, closed, without a current tier or health
    b5_dim = one(con, "select closed_date, current_tier, health_score from marts.dim_accounts "
                      "where account_id = 'B5'", [])
    assert b5_dim == {"closed_date": date(2025, 2, 14), "current_tier": None,
                      "health_score": None}


def test_a_closed_account_is_owned_in_its_closing_quarter_and_not_after(con):
    # ownership counts a quarter in which the account existed on any day: B5 has owner rows
    # Q1 2023 .. Q1 2025 (9 quarters), none from Q2 2025 (it closed before 1 April)
    b5 = {(r["year"], r["quarter"]): (r["period_ar_rep_id"], r["owner_source"], r["evidence"])
          for r in rows(con, "select * from intermediate.int_accounts_owner_inferred "
                             "where account_id = 'B5'")}
    assert len(b5) == 9 and max(b5) == (2025, 1)
    # Q1 2025: D4, won by Q1 on 2025-02-10 -> Q1, inferred (1); before: nobody worked it ->
    # today's AR Q2, who was not employed then: owned by no one
    assert b5[(2025, 1)] == ("Q1", "inferred", 1)
    assert b5[(2024, 4)] == ("Q2", "current", 0)
    owners = rows(con, "select rep_id, year, quarter from intermediate.int_actions_owned_accounts "
                       "where account_id = 'B5'")
    assert [(r["rep_id"], r["year"], r["quarter"]) for r in owners] == [("Q1", 2025, 1)]
    owned = one(con, "select string_agg(account_id || ':' || tier, ',' order by account_id) "
                     "as accounts from intermediate.int_actions_owned_accounts "
                     "where rep_id = 'Q1' and year = 2025 and quarter = 1", [])
    # B1 is C in Q1 2025 (above); B5 has no tier that quarter: unranked
    assert owned["accounts"] == "B1:C,B5:unranked"
    # without the closed date B5 would be today's AR Q2's in Q2 2025 (nobody worked it):
    # Q2 owns B2 only (test_ownership_of_the_period_... above), and key action 3 of Q1 in
    # Q1 2025 has 2 owned accounts, B1 and B5
    assert con.execute(
        "select denominator from marts.fct_key_actions "
        "where rep_id = 'Q1' and year = 2025 and quarter = 1 and action_no = 3"
    ).fetchone()[0] == 2
    # D4 counts for Q1 in Q1 2025: revenue is an event, never dropped with the account
    assert perf(con, "fct_rep_performance", "rep_id", "Q1", 2025, 1)["revenue"] == (
        pytest.approx(50_000))


def test_a_contact_counts_until_its_left_date(con):
    def b3(month_end: str) -> dict:
        return one(con, "select key_score, role_holder_count, health_score, health_change_1m, "
                        "our_avg_attitude from marts.fct_relationship_health "
                        "where account_id = 'B3' and month_end_date = ?", [month_end])
    # March 2025, before the leave month: K5 (A, weight 1.0) supports us exclusively (2)
    # -> support (2 + 1) / 4 = 0.75, never touched -> intimacy 0:
    # 100 x (0.6 x 0.75 + 0.4 x 0) = 45 -> key 45 / 1.0 = 45. General: K3 and K5 active, none
    # touched in 2025-01-01 .. 03-31 -> 0; org: phone calls evidence no element -> max(0,
    # 0 - 15) = 0. Health 0.5 x 45 = 22.5; our mean attitude 2 (K5, the only one assessed)
    mar = b3("2025-03-31")
    assert (mar["role_holder_count"], mar["key_score"]) == (1, pytest.approx(45))
    assert mar["health_score"] == pytest.approx(22.5)
    assert mar["our_avg_attitude"] == pytest.approx(2)
    # April, the leave month: K5 left on 15 April, before the snapshot day (30 April): no
    # role holder -> key 0, health 0, change 0 - 22.5 = -22.5; nobody assessed
    apr = b3("2025-04-30")
    assert (apr["role_holder_count"], apr["key_score"], apr["health_score"]) == (0, 0, 0)
    assert apr["health_change_1m"] == pytest.approx(-22.5)
    assert apr["our_avg_attitude"] is None
    may = b3("2025-05-31")
    assert (may["role_holder_count"], may["key_score"]) == (0, 0)
    # K5's monthly state runs from the first month of data to March 2025
    assert con.execute("select min(month_start_date), max(month_start_date) "
                       "from intermediate.int_contacts_monthly where contact_id = 'K5'"
                       ).fetchone() == (date(2023, 7, 1), date(2025, 3, 1))
    # dim_contacts lists K5, inactive on the as-of date
    k5 = one(con, "select is_active, left_date from marts.dim_contacts where contact_id = 'K5'",
             [])
    assert k5 == {"is_active": False, "left_date": date(2025, 4, 15)}


def test_closed_accounts_and_left_contacts_are_on_no_as_of_power_map_or_alert(con, built):
    # K5 left B3 on 2025-04-15; B5 (and with it its approver K6) closed on 2025-02-14
    for table in ("fct_power_map", "fct_account_alerts"):
        assert con.execute(f"select count(*) from marts.{table} where account_id = 'B5' "
                           "or contact_id in ('K5', 'K6')").fetchone()[0] == 0, table
    # B3 still has no approver (K5 left): the alert stays; B5 raises none (without the
    # windows: no no_approver for B3, and K5 and K6 never touched -> two untouched alerts)
    assert ("B3", "no_approver") in {(r[0], r[1]) for r in con.execute(
        "select account_id, alert_type from marts.fct_account_alerts").fetchall()}
    _, result = built
    tests = {n.name: n.status for n in result.nodes if n.resource_type == "test"}
    assert tests["assert_no_rows_outside_validity"] == "pass"


# --- warm-up ---------------------------------------------------------------------------------


def test_health_windows_say_when_they_are_complete(con):
    flags = {r["month_end_date"]: r for r in rows(
        con, "select * from marts.fct_relationship_health where account_id = 'B1'")}
    # The data starts 2023-07-01 (first interaction). A window is complete when its first
    # day is on or after it:
    #   general 90 days: first day = snapshot - 89; 2023-09-30 -> 2023-07-03 yes,
    #                    2023-08-31 -> 2023-06-03 no
    #   key 365 days:    2024-06-30 - 364 = 2023-07-02 yes; 2024-05-31 -> 2023-06-02 no
    #   org 24 months:   2025-06-30 -> 2023-06-30 + 1 day = 2023-07-01 yes (the boundary);
    #                    2025-05-31 -> 2023-06-01 no (exec visits, 12 months: earlier)
    #   concentration 12 calendar months: June 2024 back to July 2023 yes; May 2024 no
    def at(y: int, m: int, d: int) -> dict:
        return flags[date(y, m, d)]
    assert not at(2023, 8, 31)["general_window_complete"]
    assert at(2023, 9, 30)["general_window_complete"]
    assert not at(2024, 5, 31)["key_window_complete"]
    assert at(2024, 6, 30)["key_window_complete"]
    assert not at(2024, 5, 31)["concentration_window_complete"]
    assert at(2024, 6, 30)["concentration_window_complete"]
    assert not at(2025, 5, 31)["org_window_complete"]
    assert at(2025, 6, 30)["org_window_complete"]
    # window_complete: all four, so only the as-of month
    complete = sorted(d for d, r in flags.items() if r["window_complete"])
    assert complete == [date(2025, 6, 30)]
    assert all(r["window_complete"] is not None for r in flags.values())


def test_tier_windows_say_when_they_are_complete(con):
    flags = {r["quarter_end_date"]: r for r in rows(
        con, "select * from marts.fct_account_tiers where account_id = 'B1'")}
    # Deal data starts 2023-03-01 (the first closed deal, D0).
    #   revenue 12 months: Q1 2024 2024-03-31 -> 2023-04-01 yes; Q4 2023 -> 2023-01-01 no
    #   win rate 24 months: Q1 2025 -> 2023-04-01 yes; Q4 2024 -> 2023-01-01 no
    assert not flags[date(2023, 12, 31)]["revenue_window_complete"]
    assert flags[date(2024, 3, 31)]["revenue_window_complete"]
    assert not flags[date(2024, 12, 31)]["winnability_window_complete"]
    assert flags[date(2025, 3, 31)]["winnability_window_complete"]
    complete = sorted(d for d, r in flags.items() if r["window_complete"])
    assert complete == [date(2025, 3, 31), date(2025, 6, 30)]


def test_growth_says_whether_the_prior_year_is_whole(con):
    # Deal data starts 2023-03-01: Q2 2024's prior year Q2 2023 starts 2023-04-01 (whole);
    # Q1 2024's, Q1 2023, starts 2023-01-01 (before the data: partial)
    q1 = {(r["year"], r["quarter"]): r["yoy_window_complete"] for r in rows(
        con, "select year, quarter, yoy_window_complete from marts.fct_rep_performance "
             "where rep_id = 'Q1'")}
    assert q1[(2024, 1)] is False and q1[(2024, 2)] is True and q1[(2023, 4)] is False
    region = {(r["year"], r["quarter"]): r["yoy_window_complete"] for r in rows(
        con, "select year, quarter, yoy_window_complete from marts.fct_region_performance")}
    assert region == q1


def test_nothing_created_after_the_as_of_date_shows(con):
    # B4 (created 2025-08-01) and K4 (2025-07-15) did not exist on 2025-06-30
    for table in ("fct_relationship_health", "fct_account_tiers", "fct_account_alerts",
                  "fct_power_map"):
        assert con.execute(f"select count(*) from marts.{table} where account_id = 'B4'"
                           ).fetchone()[0] == 0, table
    assert con.execute("select count(*) from marts.fct_power_map where contact_id = 'K4'"
                       ).fetchone()[0] == 0
    # B2 and B3 have no approver; K1 and K2 (B1's role holders) were never touched; B4
    # would have had no approver and K4 would have been an untouched role holder
    alerts = {(r["account_id"], r["alert_type"], r["contact_id"])
              for r in rows(con, "select * from marts.fct_account_alerts")}
    assert alerts == {
        ("B2", "no_approver", None),
        ("B3", "no_approver", None),
        ("B1", "key_contact_untouched_90d", "K1"),
        ("B1", "key_contact_untouched_90d", "K2"),
    }
    # the intimacy window (2024-07-01 .. 2025-06-30) and the 90-day untouched window start
    # after the data (2023-07-01): the power map is out of its warm-up
    flags = {r[0] for r in con.execute("select window_complete from marts.fct_power_map"
                                       ).fetchall()}
    assert flags == {True}


def test_ownership_of_the_period_is_inferred_from_ar_activity_and_won_deals(con):
    # B3's AR today is Q3, who left on 2025-02-03. Evidence per quarter (AR-role activity +
    # won deals with the rep as the deal's AR):
    #   Q3 2024: J1, Q3's call on 2024-07-01 -> Q3, inferred (1)
    #   Q4 2024: nothing -> today's AR Q3, current
    #   Q1 2025: D3, won by Q3 on 2025-01-20 -> Q3, inferred (1)
    #   Q2 2025: J2, Q1's call on 2025-06-30 -> Q1, inferred (1)
    owners = {(r["year"], r["quarter"]): (r["period_ar_rep_id"], r["owner_source"], r["evidence"])
              for r in rows(con, "select * from intermediate.int_accounts_owner_inferred "
                                 "where account_id = 'B3'")}
    assert owners[(2024, 3)] == ("Q3", "inferred", 1)
    assert owners[(2024, 4)] == ("Q3", "current", 0)
    assert owners[(2025, 1)] == ("Q3", "inferred", 1)
    assert owners[(2025, 2)] == ("Q1", "inferred", 1)
    # B2 (created 2025-05-10): D2 won by Q2 (Val, hired 2025-05-20) on 2025-06-15 -> Q2.
    b2 = rows(con, "select * from intermediate.int_accounts_owner_inferred where account_id = 'B2'")
    assert [(r["year"], r["quarter"], r["period_ar_rep_id"]) for r in b2] == [(2025, 2, "Q2")]

    owned = {(r["rep_id"], r["year"], r["quarter"]): r["accounts"] for r in rows(
        con, "select rep_id, year, quarter, string_agg(account_id, ',' order by account_id) "
             "as accounts from intermediate.int_actions_owned_accounts group by all")}
    # The leaver Q3 owned B3 in Q1 2025 (the quarter he left in); in Q2 2025 Q1 worked it
    # and owns it beside B1 (D1, won by Q1 on 2025-04-15). With today's owner B3 would have
    # counted for Q3, who has no Q2 2025 row: for nobody.
    assert owned[("Q3", 2025, 1)] == "B3"
    assert owned[("Q1", 2025, 2)] == "B1,B3"
    assert owned[("Q2", 2025, 2)] == "B2"
    # Key action 3 of Q1 in Q2 2025 therefore has 2 owned accounts.
    assert con.execute(
        "select denominator from marts.fct_key_actions "
        "where rep_id = 'Q1' and year = 2025 and quarter = 2 and action_no = 3"
    ).fetchone()[0] == 2


# --- ownership of the period: recorded history first (account_owners) -----------------------


def owners_of(con, account: str) -> dict[tuple[int, int], dict]:
    return {(r["year"], r["quarter"]): r for r in rows(
        con, "select * from intermediate.int_accounts_owner_of_period where account_id = ?",
        [account])}


def test_recorded_ownership_decides_the_ar_of_the_period(con):
    b1 = owners_of(con, "B1")
    # every quarter of B1 (Q1 2023 .. Q2 2025) is covered by recorded AR windows
    assert len(b1) == 10 and {r["owner_source"] for r in b1.values()} == {"recorded"}
    # Q1 2023 .. Q2 2024: Q3's window (from 2023-01-01) covers every day; the inference said
    # today's AR Q1 (nobody worked B1 then: 'current')
    q1_2023 = b1[(2023, 1)]
    assert (q1_2023["period_ar_rep_id"], q1_2023["recorded_days_held"]) == ("Q3", 90)  # 31+28+31
    assert (q1_2023["inferred_ar_rep_id"], q1_2023["unrecorded_days"]) == ("Q1", 0)
    assert b1[(2024, 2)]["period_ar_rep_id"] == "Q3"
    # Q3 2024, the hand-over: Q3 Jul 1 .. Aug 20 = 31 + 20 = 51 days, Q1 Aug 21 .. Sep 30 =
    # 11 + 30 = 41 days -> Q3, who held it longer
    q3_2024 = b1[(2024, 3)]
    assert (q3_2024["period_ar_rep_id"], q3_2024["recorded_days_held"]) == ("Q3", 51)
    # Q4 2024 and Q1 2025: Q1 all 92 and 90 days
    assert (b1[(2024, 4)]["period_ar_rep_id"], b1[(2024, 4)]["recorded_days_held"]) == ("Q1", 92)
    assert (b1[(2025, 1)]["period_ar_rep_id"], b1[(2025, 1)]["recorded_days_held"]) == ("Q1", 90)
    # Q2 2025: Q2's window from 2025-06-20 overlaps Q1's open one; the later start wins from
    # then on: Q1 Apr 1 .. Jun 19 = 30 + 31 + 19 = 80 days, Q2 Jun 20 .. 30 = 11 -> Q1
    q2_2025 = b1[(2025, 2)]
    assert (q2_2025["period_ar_rep_id"], q2_2025["recorded_days_held"]) == ("Q1", 80)
    assert q2_2025["unrecorded_days"] == 0
    recorded = one(con, "select * from intermediate.int_accounts_owner_recorded "
                        "where account_id = 'B1' and year = 2025 and quarter = 2", [])
    assert (recorded["recorded_days"], recorded["period_days"]) == (91, 91)  # 80 + 11


def test_a_few_recorded_days_do_not_outweigh_the_unrecorded_ones(con):
    b3 = owners_of(con, "B3")
    # B3 Q2 2025: Q1 is recorded from 2025-06-20 only: 11 days held, 91 - 11 = 80 days with
    # no record -> the unknown holder of those 80 days wins: the inference decides (Q1 by
    # J2, evidence 1), owner_source inferred
    q2 = b3[(2025, 2)]
    assert (q2["period_ar_rep_id"], q2["owner_source"], q2["evidence"]) == ("Q1", "inferred", 1)
    assert (q2["recorded_ar_rep_id"], q2["recorded_days_held"], q2["unrecorded_days"]) == (
        "Q1", 11, 80)
    # the quarters without any record are the inference's, as before
    assert (b3[(2024, 4)]["period_ar_rep_id"], b3[(2024, 4)]["owner_source"]) == ("Q3", "current")
    assert b3[(2024, 4)]["recorded_ar_rep_id"] is None
    b2 = owners_of(con, "B2")
    assert [(k, r["period_ar_rep_id"], r["owner_source"]) for k, r in b2.items()] == [
        ((2025, 2), "Q2", "inferred")]


def test_recorded_ownership_moves_the_owned_accounts_of_the_key_actions(con):
    owned = {(r["rep_id"], r["year"], r["quarter"]): r["accounts"] for r in rows(
        con, "select rep_id, year, quarter, string_agg(account_id || ':' || owner_source, ',' "
             "order by account_id) as accounts from intermediate.int_actions_owned_accounts "
             "group by all")}
    # Q3 owned B1 by the record until Q3 2024 (the inference gave B1 to today's AR Q1) and
    # B3 by inference (J1, his call of 2024-07-01)
    assert owned[("Q3", 2024, 3)] == "B1:recorded,B3:inferred"
    assert owned[("Q3", 2024, 4)] == "B3:current"
    assert owned[("Q3", 2025, 1)] == "B3:inferred"
    # Q1 owned nothing until the hand-over quarter, then B1
    assert ("Q1", 2024, 3) not in owned
    assert owned[("Q1", 2024, 4)] == "B1:recorded"
    assert owned[("Q1", 2025, 2)] == "B1:recorded,B3:inferred"
    scorecard = {(r["rep_id"], r["year"], r["quarter"]): (r["owned_accounts"],
                                                          r["owned_accounts_inferred"])
                 for r in rows(con, "select * from marts.fct_rep_scorecard")}
    assert scorecard[("Q3", 2024, 3)] == (2, 1)
    assert scorecard[("Q1", 2025, 2)] == (2, 1)


def test_sr_items_count_for_the_recorded_ar_of_their_quarter(con):
    credited = {r["plan_item_id"]: (r["period_ar_rep_id"], r["credited_rep_id"], r["credited_to"])
                for r in rows(con, "select * from intermediate.int_actions_plan_items_credited")}
    # SR items go to the account's AR of the period (iron_triangle_credit SR -> ar):
    #   I1 due 2024-08-10, Q3 2024: the recorded AR of the quarter, Q3 (employed then)
    #   I2 due 2024-09-10: Q1 held B1 that day, but the quarter's AR is Q3 (51 of 92 days):
    #      one AR per account and quarter
    #   I3 due 2024-11-10, Q4 2024: Q1
    # With today's AR (or the inference: nobody worked B1 in 2024) all three were Q1's.
    assert credited == {
        "I1": ("Q3", "Q3", "account_ar"),
        "I2": ("Q3", "Q3", "account_ar"),
        "I3": ("Q1", "Q1", "account_ar"),
    }
    actions = {(r["rep_id"], r["year"], r["quarter"], r["action_no"]): (r["numerator"],
                                                                       r["denominator"])
               for r in rows(con, "select * from marts.fct_key_actions where action_no in (4, 6)")}
    # action 4 (key layer): I1 and I2, both done by their due date -> 2 of 2 for Q3
    assert actions[("Q3", 2024, 3, 4)] == (2, 2)
    # action 6 (general layer): I3, not done -> 0 of 1 for Q1 in Q4 2024
    assert actions[("Q1", 2024, 4, 6)] == (0, 1)


def test_overlapping_ar_windows_are_flagged_as_a_warning(built):
    _, result = built
    tests = {n.name: (n.status, n.message) for n in result.nodes if n.resource_type == "test"}
    # B1: Q1's open window (from 2024-08-21) and Q2's (from 2025-06-20) share days: one pair
    status, message = tests["assert_account_owner_windows_do_not_overlap"]
    assert (status, message) == ("warn", "Got 1 result, configured to warn if != 0")


def test_malformed_account_owner_rows_are_quarantined_with_their_reason(tmp_path):
    """The fixture's folder with bad account_owners rows appended, through the real ingest
    and gate (no build)."""
    from rapport.pipeline.ingest import load_raw
    from rapport.pipeline.quarantine import run_gate

    for path in FIXTURES.iterdir():
        (tmp_path / path.name).write_bytes(path.read_bytes())
    with (tmp_path / "account_owners.csv").open("a", encoding="utf-8") as out:
        out.write("B1,AR,QX,2024-01-01,,unknown rep\n"           # row 6
                  "B3,AR,Q1,2024-05-01,2024-04-30,ends first\n"  # row 7
                  "B3,XR,Q1,2024-05-01,,no such role\n"          # row 8
                  "B1,AR,Q1,2023-01-01,,same key as row 1\n"     # row 9
                  "B9,AR,Q1,2024-01-01,,unknown account\n"       # row 10
                  "B3,AR,Q1,,,no start\n")                       # row 11
    con = duckdb.connect()
    try:
        load_raw(con, tmp_path)
        result = run_gate(con, "owners-gate", AS_OF)
        found = dict(con.execute(
            "select row_number, detail from meta.dq_quarantine "
            "where table_name = 'account_owners' order by row_number").fetchall())
        assert found == {
            6: "orphan_fk:rep_id=QX",
            7: "impossible_value:valid_to_before_valid_from",
            8: "not_allowed:role=XR",
            9: "duplicate_key:B1|AR|2023-01-01",
            10: "orphan_fk:account_id=B9",
            11: "missing_required:valid_from",
        }
        # the fixture's own five rows stay clean ('ar' is read as AR)
        assert (result.counts["account_owners"].clean,
                result.counts["account_owners"].quarantined) == (5, 6)
        assert con.execute("select count(*) from validated.account_owners "
                           "where role = 'AR'").fetchone()[0] == 4
    finally:
        con.close()

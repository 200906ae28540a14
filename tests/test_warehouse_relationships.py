"""End to end: the relationship, health, power-map and tier marts on a tiny hand-built dataset.

tests/fixtures/tiny/ holds raw CSV files with the contract's columns. They go through the real
pipeline front: rapport.pipeline.ingest.load_raw (raw.*), rapport.pipeline.quarantine.run_gate (validated.*,
meta.dq_row_counts) with as_of_date 2024-06-30, then one real `dbt build` of the whole project
(seeds, models, data tests, unit tests) through rapport.pipeline.dbt_runner.build. Every expected value
below is worked out by hand from the fixture; the comment beside it shows the arithmetic.

The fixture, in short (as_of_date 2024-06-30, a month end; default seeds):
  regions  R1 North, R2 South
  reps     P1 AR R1, P2 SR R1 (FTE 0.5), P3 AR R2, P4 FR R2 (left 2024-03-31)
  accounts A1 telecom (potential 1000, demo 5, strategic agreement), A2 telecom (500, demo 2),
           A3 finance (800, demo 4, agreement + exclusive), A4 finance (200, demo 0)
  contacts A1: C1 CEO (A), C2 CTO (D), C3 engineer (E), C4 buyer (no role), C5 left the company
           A2: C6 CEO (A, never assessed, never touched), C7 sales rep
           A3: C8 chair (A, coach), C9 CFO (D, opposes)   A4: C10 adviser (S)
  deals    O1 (A1, won): C1 A final_decision, C2 D technical, C4 E commercial, C5 no role;
           O8 (A4, open): C10 D final_decision (on the account only a supporter, S),
           C7 I commercial (a contact of A2, in the other region: a partner on the deal)
  attitudes C1 1 on 2024-01-15 then 2 on 2024-05-10; C2 3 (2023-11-01); C3 -1 (2024-06-01);
           C8 3, C9 -1 (2024-02-01)
  activities (first 2022-05-01, so months run 2022-05 .. 2024-06 and quarters Q2 2022 .. Q2 2024)
"""

from __future__ import annotations

import json
import shutil
import tempfile
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import duckdb
import pytest

from rapport.pipeline.dbt_runner import DbtResult, parse_cache_file, run_dbt
from rapport.serving import queries as q
from rapport.serving.reader import Reader
from rapport.serving.scope import Scope

pytestmark = pytest.mark.xdist_group("warehouse-relationships")

FIXTURES = Path(__file__).parent / "fixtures" / "tiny"
AS_OF = date(2024, 6, 30)
BUILD_ID = "tiny-fixture"
MY_MARTS = [
    "dim_reps",
    "dim_accounts",
    "dim_contacts",
    "fct_interactions",
    "fct_attitude_history",
    "fct_power_map",
    "fct_opportunity_power_map",
    "fct_account_alerts",
    "fct_account_tiers",
    "fct_relationship_health",
]


@pytest.fixture(scope="module")
def built(fixture_build) -> tuple[Path, DbtResult, float]:
    """Raw fixture -> ingest -> quarantine gate -> one real dbt build of the project (shared
    with the other modules that read the tiny fixture at the same date: conftest)."""
    # unit_tests=True: the one build of the suite that runs every unit test of the project
    # (production builds leave them out: they test the code, not the data).
    made = fixture_build("tiny", AS_OF, unit_tests=True)
    return made.db_path, made.result, made.seconds


@pytest.fixture(scope="module")
def con(built: tuple[Path, DbtResult, float]) -> Iterator[duckdb.DuckDBPyConnection]:
    connection = duckdb.connect(str(built[0]), read_only=True)
    yield connection
    connection.close()


def rows(con: duckdb.DuckDBPyConnection, sql: str, params: list | None = None) -> list[dict]:
    cursor = con.execute(sql, params or [])
    names = [d[0] for d in cursor.description]
    return [dict(zip(names, row)) for row in cursor.fetchall()]


def one_row(con: duckdb.DuckDBPyConnection, sql: str, params: list) -> dict:
    found = rows(con, sql, params)
    assert len(found) == 1, f"expected one row, got {len(found)}: {sql} {params}"
    return found[0]


def health(con, account_id: str, month_end: str = "2024-06-30") -> dict:
    return one_row(
        con,
        "select * from marts.fct_relationship_health where account_id = ? and month_end_date = ?",
        [account_id, month_end],
    )


# --- the build itself ---------------------------------------------------------------------


def test_build_succeeds_with_every_test_and_unit_test(built):
    _, result, _ = built
    assert result.success, "dbt build failed:\n" + (
        "\n".join(str(f) for f in result.failures) or result.error
    )
    built_models = {n.name for n in result.nodes if n.resource_type == "model"}
    assert set(MY_MARTS) <= built_models
    unit_tests = {n.name: n.status for n in result.nodes if n.resource_type == "unit_test"}
    for name in (
        "contact_intimacy_decays_and_depth_window_is_365_days",
        "key_score_is_influence_weighted_mean_over_active_role_holders",
        "general_score_from_breadth_department_and_level_coverage",
        "org_score_from_highest_element_in_24_months_and_exec_visit_penalty",
        "concentration_is_top_rep_share_and_hhi_over_12_months",
        "health_is_weighted_layers_with_bands_and_trend",
        "tier_composite_from_four_elements_normalised_within_industry",
        "tiers_by_rank_cutoffs_per_industry_and_tier_change",
    ):
        assert unit_tests.get(name) == "pass", f"unit test {name}: {unit_tests.get(name)}"
    # every unit test the project defines ran here, and passed
    manifest = json.loads((built[0].parent / "dbt-target" / "manifest.json").read_text())
    defined = {node["name"] for node in manifest["unit_tests"].values()}
    assert len(defined) >= 40 and set(unit_tests) == defined
    assert all(status == "pass" for status in unit_tests.values()), unit_tests
    tests = {n.name: n.status for n in result.nodes if n.resource_type == "test"}
    assert tests.get("assert_row_counts_reconcile") == "pass"
    assert all(n.seconds >= 0 for n in result.nodes)


def test_marts_live_in_schema_marts_and_seeds_in_config(con):
    tables = {
        (schema, name)
        for schema, name in con.execute(
            "select table_schema, table_name from information_schema.tables"
        ).fetchall()
    }
    for mart in MY_MARTS:
        assert ("marts", mart) in tables
    assert ("config", "relationship_score_settings") in tables
    assert ("staging", "stg_interactions") in tables


def test_row_counts_of_the_marts(con):
    counts = {
        mart: con.execute(f"select count(*) from marts.{mart}").fetchone()[0] for mart in MY_MARTS
    }
    assert counts == {
        "dim_reps": 4,
        "dim_accounts": 4,
        "dim_contacts": 10,
        "fct_interactions": 16,
        "fct_attitude_history": 6,
        # contacts with a role (C1 C2 C3 C6 C8 C9 C10) or an attitude (all of those): 7
        "fct_power_map": 7,
        # the rows of opportunity_contacts.csv: O1 x C1 C2 C4 C5, O8 x C10 C7
        "fct_opportunity_power_map": 6,
        "fct_account_alerts": 7,  # listed in test_alerts
        # 4 accounts x 9 quarters (Q2 2022 .. Q2 2024)
        "fct_account_tiers": 36,
        # 4 accounts x 26 months (2022-05 .. 2024-06)
        "fct_relationship_health": 104,
    }


# --- relationship health of A1 on 2024-06-30 --------------------------------------------------


def test_key_score_of_a1(con):
    # Role holders: C1 (A, 1.0), C2 (D, 0.9), C3 (E, 0.5).
    # C1: attitude 2 -> support 3/4 = 0.75; private activity (step 3) on 2024-01-02, 180 days ago
    #     -> intimacy 3/5 * 0.5 = 0.3; contact score 100 * (0.6 * 0.75 + 0.4 * 0.3) = 57
    # C2: coach -> support 1; home visit 2023-06-15 is outside 365 days, office visit (step 2)
    #     today -> 0.4; contact score 100 * (0.6 + 0.16) = 76
    # C3: opposes -> support 0; only a phone call -> intimacy 0; contact score 0
    # key = (1.0 * 57 + 0.9 * 76 + 0.5 * 0) / 2.4 = 125.4 / 2.4 = 52.25
    assert health(con, "A1")["key_score"] == pytest.approx(52.25)


def test_general_score_of_a1(con):
    # Active contacts C1..C4 (C5 left). Touched since 2024-04-01: C2 (06-30), C3 (06-20), C4
    # (05-15); C1 last touched 2024-01-02. breadth 3/4; departments Board, IT, Procurement ->
    # IT, Procurement touched = 2/3; levels high, low, middle all touched = 3/3.
    # general = 100 * (0.5 * 0.75 + 0.3 * 2/3 + 0.2 * 1) = 37.5 + 20 + 20 = 77.5
    row = health(con, "A1")
    assert row["breadth"] == pytest.approx(0.75)
    assert row["department_coverage"] == pytest.approx(2 / 3)
    assert row["level_coverage"] == pytest.approx(1.0)
    assert row["general_score"] == pytest.approx(77.5)


def test_org_score_of_a1(con):
    # Joint innovation centre (3) on 2022-05-01 is older than 24 months; process integration
    # (2) on 2023-09-01 counts -> level 2 -> 50. The executive summit of 2023-03-10 is older
    # than 12 months -> no executive visit -> 50 - 15 = 35.
    row = health(con, "A1")
    assert row["org_level"] == 2
    assert row["has_exec_visit_12m"] is False
    assert row["org_score"] == pytest.approx(35.0)


def test_health_and_band_of_a1(con):
    # health = 0.5 * 52.25 + 0.25 * 77.5 + 0.25 * 35 = 26.125 + 19.375 + 8.75 = 54.25
    row = health(con, "A1")
    assert row["health_score"] == pytest.approx(54.25)
    assert row["health_band"] == "developing"


def test_concentration_and_competitors_of_a1(con):
    # Activities at A1 from 2023-07 to 2024-06: process integration, private activity,
    # seminar, office visit by P1 (4), phone call by P2 (1) -> top P1 4/5 = 0.8,
    # HHI 0.8^2 + 0.2^2 = 0.68. Health 54.25 < 70 -> not privately held.
    # Ours: attitudes in force C1 2, C2 3, C3 -1 -> (2 + 3 - 1) / 3 = 4/3.
    # Rival: C1 2 (2024-03-01), C2 0 (2024-06-01) -> (2 + 0) / 2 = 1.
    row = health(con, "A1")
    assert row["top_rep_id"] == "P1"
    assert row["top_rep_share"] == pytest.approx(0.8)
    assert row["rep_hhi"] == pytest.approx(0.68)
    assert row["is_privately_held"] is False
    assert row["our_avg_attitude"] == pytest.approx(4 / 3)
    assert row["competitor_avg_attitude"] == pytest.approx(1.0)


def test_a3_is_strong_and_privately_held(con):
    # key: C8 (A) coach, home visit today -> 100 * (0.6 * 1 + 0.4 * 1) = 100;
    #      C9 (D) opposes, family dinner (step 4) today -> 100 * 0.4 * 0.8 = 32;
    #      (1.0 * 100 + 0.9 * 32) / 1.9 = 128.8 / 1.9 = 67.789474
    # general: both active contacts touched, both departments, levels high + middle:
    #      100 * (0.5 + 0.3 + 0.2 * 2/3) = 93.333333
    # org: strategic agreement signing (4, an executive visit) on 2024-03-01 -> 100
    # health = 33.894737 + 23.333333 + 25 = 82.228070 -> strong; all 6 activities of the last
    # 12 months by P3 -> share 1 >= 0.6, >= 5 activities -> privately held
    row = health(con, "A3")
    assert row["key_score"] == pytest.approx(128.8 / 1.9, abs=1e-6)
    assert row["general_score"] == pytest.approx(93.333333, abs=1e-6)
    assert row["org_score"] == pytest.approx(100.0)
    assert row["health_score"] == pytest.approx(0.5 * 128.8 / 1.9 + 0.25 * 280 / 3 + 25, abs=1e-6)
    assert row["health_band"] == "strong"
    assert row["top_rep_id"] == "P3"
    assert row["is_privately_held"] is True


def test_health_change_is_difference_to_earlier_months(con):
    months = rows(
        con,
        "select month_end_date, health_score, health_change_1m, health_change_3m "
        "from marts.fct_relationship_health where account_id = 'A2' order by month_end_date",
    )
    # A2's only activity is a group dinner with C7 on 2024-06-10. Before June its health is
    # 0.5 * 15 (C6 never assessed: 100 * 0.6 * 0.25 = 15) = 7.5; in June the general score
    # rises to 100 * (0.5 * 1/2 + 0.3 * 1/1 + 0.2 * 1/3) = 61.666667 -> health
    # 7.5 + 0.25 * 61.666667 = 22.916667: change +15.416667 vs. May and vs. March.
    assert months[0]["health_change_1m"] is None
    assert months[-1]["health_score"] == pytest.approx(22.916667, abs=1e-6)
    assert months[-1]["health_change_1m"] == pytest.approx(15.416667, abs=1e-6)
    assert months[-1]["health_change_3m"] == pytest.approx(15.416667, abs=1e-6)


# --- tiers ---------------------------------------------------------------------------------


def test_tiers_in_the_latest_quarter(con):
    found = {
        r["account_id"]: r
        for r in rows(
            con,
            "select * from marts.fct_account_tiers where quarter_end_date = '2024-06-30'",
        )
    }
    # A1: revenue 1000 (the 2023-05-01 deal is older than 12 months) = telecom best -> 100;
    #     potential 1000/1000 -> 100; demo 5/5 -> 100; win rate 2/3, fit 1/2 ->
    #     100 * (0.7 * 2/3 + 0.3 * 0.5) = 61.67; composite 35 + 30 + 15 + 12.33 = 92.33
    # A2: 300/1000 -> 30; 500/1000 -> 50; 2/5 -> 40; 1 won of 1 -> 70;
    #     composite 10.5 + 15 + 6 + 14 = 45.5
    # A3: 2000 = finance best -> 100; 800/800 -> 100; 4/5 -> 80; 1 of 2, fit 1 -> 65;
    #     composite 35 + 30 + 12 + 13 = 90
    # A4: 0; 200/800 -> 25; 0; 0 won of 1 -> 0; composite 7.5
    assert found["A1"]["composite_score"] == pytest.approx(92.333333, abs=1e-6)
    assert found["A2"]["composite_score"] == pytest.approx(45.5)
    assert found["A3"]["composite_score"] == pytest.approx(90.0)
    assert found["A4"]["composite_score"] == pytest.approx(7.5)
    # Ranks 1..4 of 4: share above 0 -> S; 0.25 -> B (not < 0.20, < 0.50); 0.5, 0.75 -> C
    assert {a: (r["rank_in_population"], r["tier"]) for a, r in found.items()} == {
        "A1": (1, "S"),
        "A3": (2, "B"),
        "A2": (3, "C"),
        "A4": (4, "C"),
    }
    # The same ranking held in Q1 2024 (A2 had no revenue yet: composite 28 < A3's 90).
    assert {r["tier_change"] for r in found.values()} == {"same"}


def test_first_quarter_is_new(con):
    first = rows(
        con,
        "select tier_change, previous_tier from marts.fct_account_tiers "
        "where quarter_end_date = '2022-06-30'",
    )
    assert len(first) == 4
    assert all(r["tier_change"] == "new" and r["previous_tier"] is None for r in first)


def test_dim_accounts_carries_current_tier_and_health(con):
    a1 = one_row(con, "select * from marts.dim_accounts where account_id = ?", ["A1"])
    assert a1["current_tier"] == "S"
    assert a1["region_name"] == "North"
    assert a1["health_score"] == pytest.approx(54.25)
    assert a1["health_band"] == "developing"


# --- power map, who moved, alerts -------------------------------------------------------------


def test_power_map_flags(con):
    found = {r["contact_id"]: r for r in rows(con, "select * from marts.fct_power_map")}
    # C1: last touched 2024-01-02, 180 days before as_of -> untouched for 90 days
    assert found["C1"]["days_since_last_touch"] == 180
    assert found["C1"]["is_untouched_90d"] is True
    assert found["C1"]["intimacy"] == pytest.approx(0.3)
    assert found["C1"]["contact_key_score"] == pytest.approx(57.0)
    assert found["C1"]["influence_weight"] == pytest.approx(1.0)
    assert found["C9"]["is_opposing"] is True and found["C9"]["is_coach"] is False
    assert found["C8"]["is_coach"] is True
    # C6 (A at A2) never touched, never assessed
    assert found["C6"]["is_untouched_90d"] is True and found["C6"]["current_attitude"] is None
    assert "C4" not in found  # no role, no assessment


def test_power_map_reporting_lines(con):
    """contacts.reports_to_contact_id in the fixture: C2 -> C1 (on the map), C3 -> C4 (present,
    no role or assessment), C6 (A2) -> C1 (A1's contact), C8 <-> C9 (a loop), C10 -> C10."""
    found = {r["contact_id"]: (r["reports_to_contact_id"], r["reports_to_status"],
                               r["manager_contact_id"], r["is_cycle_break"])
             for r in rows(con, "select * from marts.fct_power_map")}
    assert found == {
        "C1": (None, "none", None, False),
        "C2": ("C1", "ok", "C1", False),
        "C3": ("C4", "manager off map", None, False),
        "C6": ("C1", "missing manager", None, False),
        # the loop is broken at its smallest id: C8's line is not drawn, C9's is
        "C8": ("C9", "cycle", None, True),
        "C9": ("C8", "cycle", "C8", False),
        "C10": ("C10", "cycle", None, True),
    }


def test_deal_power_map_uses_the_deal_roles_and_the_contacts_state(con):
    found = {(r["opportunity_id"], r["contact_id"]): r
             for r in rows(con, "select * from marts.fct_opportunity_power_map")}
    assert set(found) == {("O1", "C1"), ("O1", "C2"), ("O1", "C4"), ("O1", "C5"),
                          ("O8", "C10"), ("O8", "C7")}
    c1 = found[("O1", "C1")]
    # as on the account map: attitude 2, intimacy 0.3, score 57, +1 since 2024-04-01
    assert (c1["decision_role"], c1["evaluation_group"]) == ("A", "final_decision")
    assert c1["influence_weight"] == pytest.approx(1.0)
    assert c1["contact_key_score"] == pytest.approx(57.0)
    assert c1["attitude_change"] == 1 and c1["is_untouched_90d"] is True
    assert (c1["account_id"], c1["opportunity_status"]) == ("A1", "won")
    assert c1["opportunity_amount"] == pytest.approx(1000)
    c2 = found[("O1", "C2")]
    assert c2["influence_weight"] == pytest.approx(0.9) and c2["is_coach"] is True
    # C4: no role on the account, evaluator (0.5) in this deal; never assessed -> attitude
    # counts as 0, support (0 + 1) / 4 = 0.25; technical seminar has no depth step ->
    # intimacy 0; score 100 * (0.6 * 0.25 + 0.4 * 0) = 15; touched 2024-05-15, 46 days ago
    c4 = found[("O1", "C4")]
    assert (c4["decision_role"], c4["evaluation_group"]) == ("E", "commercial")
    assert c4["influence_weight"] == pytest.approx(0.5)
    assert c4["current_attitude"] is None and c4["support_norm"] == pytest.approx(0.25)
    assert c4["intimacy"] == 0 and c4["contact_key_score"] == pytest.approx(15.0)
    assert c4["days_since_last_touch"] == 46 and c4["is_untouched_90d"] is False
    c5 = found[("O1", "C5")]
    assert c5["decision_role"] is None and c5["influence_weight"] is None
    # C5 left the company, never assessed, never touched: neutral support 0.25, intimacy 0,
    # score 15, untouched
    assert c5["is_active"] is False and c5["support_norm"] == pytest.approx(0.25)
    assert c5["contact_key_score"] == pytest.approx(15.0) and c5["is_untouched_90d"] is True
    # C7 belongs to A2 (North) though the deal is A4's (South)
    assert (found[("O8", "C7")]["account_id"], found[("O8", "C7")]["contact_account_id"]) == \
        ("A4", "A2")
    assert all(r["contact_account_id"] == r["account_id"]
               for key, r in found.items() if key != ("O8", "C7"))
    # C10: a supporter (S, 0.6) of the account but a decision maker (D, 0.9) in O8, in the
    # final-decision group; phone call on 2024-02-01, 150 days ago
    c10 = found[("O8", "C10")]
    assert (c10["decision_role"], c10["evaluation_group"]) == ("D", "final_decision")
    assert c10["influence_weight"] == pytest.approx(0.9)
    assert (c10["opportunity_status"], c10["opportunity_name"]) == ("open", "Rollout")
    assert c10["days_since_last_touch"] == 150 and c10["is_untouched_90d"] is True
    assert c10["contact_key_score"] == pytest.approx(15.0)
    assert c10["as_of_date"] == date(2024, 6, 30) and c10["compare_date"] == date(2024, 4, 1)
    account_map = one_row(con, "select decision_role, influence_weight from marts.fct_power_map "
                               "where contact_id = 'C10'", [])
    assert account_map == {"decision_role": "S", "influence_weight": pytest.approx(0.6)}


def test_a_deal_contact_of_another_region_is_shown_only_to_who_may_see_it(built, tmp_path):
    """The South director sees deal O8 (A4 is South) but not its North contact C7."""
    db_path = tmp_path / "copy.duckdb"  # the dashboard's reader on a copy: `con` holds the file
    shutil.copy(built[0], db_path)
    with Reader(db_path) as reader:
        south = Scope.regions(["R2"])
        everyone = Scope.all_access()
        seen_south = q.deal_power_map(reader, south, "A4", "O8")["contact_id"].to_list()
        seen_all = q.deal_power_map(reader, everyone, "A4", "O8")["contact_id"].to_list()
        deals_south = q.deals(reader, south, "A4")
        north = q.deal_power_map(reader, Scope.regions(["R1"]), "A4", "O8")
    assert seen_south == ["C10"]
    assert sorted(seen_all) == ["C10", "C7"]
    assert deals_south.select("opportunity_id", "deal_contacts").rows() == [("O8", 1)]
    assert north.is_empty()  # A4 itself is South: the North director does not get the deal


def test_who_moved_compares_with_90_days_ago(con):
    found = {r["contact_id"]: r for r in rows(con, "select * from marts.fct_power_map")}
    # compare_date = 2024-06-30 - 90 days = 2024-04-01. C1 was 1 (assessed 2024-01-15) then,
    # is 2 (2024-05-10) now -> +1. C3 was first assessed 2024-06-01 -> no earlier attitude.
    assert found["C1"]["compare_date"] == date(2024, 4, 1)
    assert (found["C1"]["attitude_at_compare_date"], found["C1"]["current_attitude"]) == (1, 2)
    assert found["C1"]["attitude_change"] == 1
    assert found["C3"]["attitude_at_compare_date"] is None
    assert found["C3"]["attitude_change"] is None
    assert found["C2"]["attitude_change"] == 0


def test_alerts(con):
    found = {
        (r["account_id"], r["alert_type"], r["contact_id"])
        for r in rows(con, "select * from marts.fct_account_alerts")
    }
    assert found == {
        ("A4", "no_approver", None),  # C10 is only a decision supporter
        ("A3", "approver_or_decider_opposes", "C9"),  # the CFO (D) opposes
        ("A1", "key_contact_untouched_90d", "C1"),  # 180 days
        ("A2", "key_contact_untouched_90d", "C6"),  # never
        ("A4", "key_contact_untouched_90d", "C10"),  # 150 days (2024-02-01)
        ("A3", "privately_held", None),
        # C1 supports us exclusively (attitude 2 since 2024-05-10) and backs Rival (stance 2);
        # C2, our coach, is neutral toward Rival (stance 0): no alert for C2
        ("A1", "competitor_stance_conflict", "C1"),
    }
    # A1 is tier S but C2 is a coach: no no_coach_on_s_a alert


def test_attitude_history_periods(con):
    history = rows(
        con,
        "select assessed_date, attitude, valid_from, valid_to from marts.fct_attitude_history "
        "where contact_id = 'C1' order by assessed_date",
    )
    assert history == [
        {"assessed_date": date(2024, 1, 15), "attitude": 1,
         "valid_from": date(2024, 1, 15), "valid_to": date(2024, 5, 9)},
        {"assessed_date": date(2024, 5, 10), "attitude": 2,
         "valid_from": date(2024, 5, 10), "valid_to": None},
    ]


def test_dims(con):
    reps = {r["rep_id"]: r for r in rows(con, "select * from marts.dim_reps")}
    assert reps["P4"]["is_active"] is False  # left 2024-03-31
    assert reps["P1"]["is_active"] is True and reps["P1"]["region_name"] == "North"
    c1 = one_row(con, "select * from marts.dim_contacts where contact_id = ?", ["C1"])
    assert c1["max_depth_step_365d"] == 3
    assert c1["last_touch_date"] == date(2024, 1, 2)
    assert c1["current_attitude"] == 2
    interaction = one_row(
        con, "select * from marts.fct_interactions where interaction_id = ?", ["I10"]
    )
    assert (interaction["layer"], interaction["org_element"]) == ("org", 4)
    assert interaction["is_executive_visit"] is True
    assert interaction["month_end_date"] == date(2024, 3, 31)


# --- the runner ------------------------------------------------------------------------------


def test_runner_names_the_failing_node(built, tmp_path, monkeypatch):
    """A broken input makes the runner report the failing model and dbt's message. Without a
    target folder given, dbt's temporary one is kept after a failure (its log says why) and
    removed after a success (a machine running builds all day must not fill its disk)."""
    db_path, _, _ = built
    copy = tmp_path / "copy.duckdb"
    copy.write_bytes(db_path.read_bytes())
    temp_root = tmp_path / "tmp"
    temp_root.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(temp_root))
    lines: list[str] = []
    result = run_dbt(["run", "--select", "int_dates"], copy, vars={"as_of_date": "2024-02-31"},
                     echo=lines.append)
    assert result.success is False
    assert [f.name for f in result.failures] == ["int_dates"]
    assert "2024-02-31" in result.failures[0].message
    [kept] = list(temp_root.iterdir())
    assert (kept / "logs" / "dbt.log").is_file()
    assert lines[-1] == f"  dbt's logs: {kept / 'logs' / 'dbt.log'}"

    shutil.rmtree(kept)
    result = run_dbt(["run", "--select", "int_dates"], copy, vars={"as_of_date": "2024-02-29"},
                     echo=None)
    assert result.success, result
    assert list(temp_root.iterdir()) == []


def test_docs_generate_works(built, tmp_path):
    db_path, _, _ = built
    copy = tmp_path / "copy.duckdb"
    copy.write_bytes(db_path.read_bytes())
    target = tmp_path / "docs-target"
    result = run_dbt(["docs", "generate"], copy, vars={"as_of_date": "2024-06-30"},
                     target_path=target, echo=None)
    assert result.success, result.error
    assert (target / "catalog.json").stat().st_size > 0
    assert (target / "index.html").exists()
    # dbt read its parse state from the build above (the same code, the build's settings as
    # environment variables, the same database name) instead of parsing the whole project
    log = (target / "logs" / "dbt.log").read_text(encoding="utf-8")
    assert "Partial parsing enabled" in log and "Starting full parse" not in log
    assert not (target / "build.duckdb").exists()  # the link to the file is gone


def test_the_parse_state_is_kept_per_kind_of_call(monkeypatch, tmp_path):
    monkeypatch.setenv("RAPPORT_DBT_PARSE_CACHE", str(tmp_path / "cache"))
    usual = parse_cache_file(["build"], {})
    assert usual is not None and usual.parent == tmp_path / "cache"
    # the build's own settings never reach --vars, so they never change the file
    assert parse_cache_file(["docs", "generate"], {}) == usual
    # other vars or another target would make dbt parse everything: their own file
    assert parse_cache_file(["build"], {"compare_days": 30}) != usual
    assert parse_cache_file(["build", "--target", "spark"], {}) != usual
    monkeypatch.setenv("RAPPORT_DBT_PARSE_CACHE", "off")
    assert parse_cache_file(["build"], {}) is None

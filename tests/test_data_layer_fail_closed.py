"""Fail closed, the data layer: it does not trust the data.

1. Contacts are scoped by their own account's region. Rows of a visible account that name a
   contact of an account in another region (inconsistent data the gate would quarantine)
   are planted into a copy of a built warehouse's marts; a director of the first region
   then sees none of that contact's values through any query function.
2. Quarantine details, sample rows and check results hide the values of the contract's
   `pii: true` columns from a scope without personal-data access (hand-written meta rows).
"""

from __future__ import annotations

import datetime as dt
import inspect
import json
import shutil
from pathlib import Path

import duckdb
import polars as pl
import pytest

from rapport.serving import Reader, Scope
from rapport.serving import queries as q
from rapport.serving.queries._base import OTHER_REGION_CONTACT
from rapport.serving.queries.data_quality import HIDDEN, pii_columns

# The planted contact's values: distinctive, so that any of them in a result is a leak.
PLANTED = {
    "full_name": "Ǫuillon Ʒarnowska",
    "initials": "Ǫ. Ʒ.",
    "title": "Planted Title Q7",
    "department": "Planted Department Q7",
    "email": "q7.planted@example.org",
    "private_notes": "Planted private note Q7",
    "birthday": dt.date(1961, 7, 17),
}
PLANTED_INTERACTION = "PLANTED-I1"


def _one(con: duckdb.DuckDBPyConnection, sql: str, params: list | None = None):
    row = con.execute(sql, params or []).fetchone()
    assert row is not None, sql
    return row


@pytest.fixture(scope="module")
def planted(built_warehouse: Path, tmp_path_factory: pytest.TempPathFactory) -> dict:
    """A copy of the built warehouse where account A (region `mine`) has an interaction, an
    alert, attitude assessments, a power-map row and a deal-contact row that all name
    contact X, a contact of an account in region `other`."""
    path = tmp_path_factory.mktemp("fail_closed") / "planted.duckdb"
    shutil.copy(built_warehouse, path)
    with duckdb.connect(str(path)) as con:
        mine, other = [r[0] for r in con.execute("""
            select region_id from marts.dim_accounts group by region_id
            order by count(*) desc, region_id limit 2""").fetchall()]
        # A: an account of `mine` with a power map, interactions and a deal with contacts
        (account_id,) = _one(con, """
            select accounts.account_id from marts.dim_accounts as accounts
            where accounts.region_id = ?
                and exists (select 1 from marts.fct_power_map as pm
                            where pm.account_id = accounts.account_id)
                and exists (select 1 from marts.fct_opportunity_power_map as deal
                            where deal.account_id = accounts.account_id)
                and exists (select 1 from marts.fct_interactions as i
                            where i.account_id = accounts.account_id)
            order by accounts.account_id limit 1""", [mine])
        (opportunity_id,) = _one(con, """
            select opportunity_id from marts.fct_opportunity_power_map where account_id = ?
            order by opportunity_id limit 1""", [account_id])
        # X: a contact of `other` on its account's power map, with interactions and
        # assessments
        contact_id, contact_account = _one(con, """
            select pm.contact_id, pm.account_id from marts.fct_power_map as pm
            inner join marts.dim_accounts as accounts using (account_id)
            where accounts.region_id = ?
                and exists (select 1 from marts.fct_interactions as i
                            where i.contact_id = pm.contact_id)
                and exists (select 1 from marts.fct_attitude_history as h
                            where h.contact_id = pm.contact_id)
            order by pm.contact_id limit 1""", [other])
        # The marts enforce their keys (dbt model contracts); the rows planted below break
        # them on purpose, as a damaged or hand-edited file could: the same tables without
        # their constraints.
        for table in ("fct_interactions", "fct_account_alerts", "fct_attitude_history",
                      "fct_power_map", "fct_opportunity_power_map"):
            con.execute(f"create or replace table marts.{table} as select * from marts.{table}")
        original_name = _one(con, "select full_name from marts.dim_contacts where contact_id = ?",
                             [contact_id])[0]
        # X's values made distinctive wherever the marts hold them
        for table in ("dim_contacts", "fct_power_map", "fct_opportunity_power_map"):
            con.execute(f"""update marts.{table} set full_name = ?, title = ?, department = ?
                            where contact_id = ?""",
                        [PLANTED["full_name"], PLANTED["title"], PLANTED["department"],
                         contact_id])
        con.execute("""update marts.dim_contacts set email = ?, private_notes = ?, birthday = ?
                       where contact_id = ?""",
                    [PLANTED["email"], PLANTED["private_notes"], PLANTED["birthday"],
                     contact_id])
        con.execute("update marts.fct_account_alerts set detail = replace(detail, ?, ?)",
                    [original_name, PLANTED["full_name"]])
        # The inconsistent rows: A's, naming X.
        con.execute("""
            insert into marts.fct_interactions
            select * replace (? as interaction_id, ? as account_id)
            from marts.fct_interactions where contact_id = ?
            order by occurred_at desc limit 1""", [PLANTED_INTERACTION, account_id, contact_id])
        con.execute("""
            insert into marts.fct_account_alerts by name
            select ? as account_id, 'approver_or_decider_opposes' as alert_type,
                ? as contact_id, null as tier, ? as detail""",
                    [account_id, contact_id, f"{PLANTED['full_name']} (A) opposes us (attitude -1)"])
        con.execute("""
            insert into marts.fct_attitude_history
            select * replace (? as account_id, 'PLANTED-AS-' || assessment_id as assessment_id,
                              attitude * -1 + 2 as attitude)
            from marts.fct_attitude_history where contact_id = ?""", [account_id, contact_id])
        con.execute("""
            insert into marts.fct_power_map
            select * replace (? as account_id) from marts.fct_power_map
            where contact_id = ? and account_id = ?""", [account_id, contact_id, contact_account])
        # A deal contact whose contact_account_id says A (wrong): dim_contacts says `other`.
        con.execute("""
            insert into marts.fct_opportunity_power_map
            select deal.* replace (? as contact_id, ? as contact_account_id, ? as full_name,
                                   ? as title, ? as department)
            from marts.fct_opportunity_power_map as deal
            where deal.opportunity_id = ?
            order by deal.contact_id limit 1""",
                    [contact_id, account_id, PLANTED["full_name"], PLANTED["title"],
                     PLANTED["department"], opportunity_id])
        (year, quarter), = con.execute("""
            select year, quarter from marts.fct_account_tiers
            order by year desc, quarter desc limit 1""").fetchall()
        (rep_id,) = _one(con, "select rep_id from marts.dim_reps where region_id = ? "
                              "order by rep_id limit 1", [mine])
    return {"path": path, "mine": mine, "other": other, "account_id": account_id,
            "opportunity_id": opportunity_id, "contact_id": contact_id, "year": year,
            "quarter": quarter, "rep_id": rep_id}


def _every_query(reader: Reader, scope: Scope, p: dict) -> dict[str, object]:
    """Every query function of rapport.serving.queries (checked below), called for
    account A, its deal, region `mine` and the latest quarter."""
    year, quarter, acc = p["year"], p["quarter"], p["account_id"]
    f = q.Filters(year=year, quarter=quarter)
    py, pq = q.previous_quarter(year, quarter)
    month_end = q.latest_month_end(reader, scope, dt.date.max)
    long_ago = dt.date(2000, 1, 1)
    build_id = (q.build_info(reader, scope) or {}).get("build_id")
    calls = {
        "account": lambda: q.account(reader, scope, acc),
        "account_activities": lambda: q.account_activities(reader, scope, acc, long_ago,
                                                           limit=100_000),
        "account_activity_summary": lambda: q.account_activity_summary(reader, scope, acc,
                                                                       long_ago),
        "account_contacts": lambda: q.account_contacts(reader, scope, acc),
        "account_health": lambda: q.account_health(reader, scope, f, month_end),
        "account_health_history": lambda: q.account_health_history(reader, scope, acc),
        "accounts_by_tier": lambda: q.accounts_by_tier(reader, scope, f),
        "alert_counts": lambda: q.alert_counts(reader, scope, f),
        "alerts": lambda: q.alerts(reader, scope, f, limit=100_000),
        "alerts_of_account": lambda: q.alerts(reader, scope, q.Filters(), account_id=acc),
        "alerts_of_type_page": lambda: q.alerts(
            reader, scope, f, alert_type="approver_or_decider_opposes", limit=5, offset=0),
        "attitude_moves": lambda: q.attitude_moves(reader, scope, acc, long_ago),
        "build_history": lambda: q.build_history(reader, scope),
        "build_attempts": lambda: q.build_attempts(reader, scope),
        "coverage": lambda: q.coverage(reader, scope),
        "dbt_tests": lambda: q.dbt_tests(reader, scope, build_id),
        "dbt_tests_recorded": lambda: q.dbt_tests_recorded(reader, scope),
        "layers": lambda: q.layers(reader, scope),
        "defaults_applied": lambda: q.defaults_applied(reader, scope),
        "incomplete_rows": lambda: q.incomplete_rows(reader, scope, "opportunities",
                                                     ["account_id", "amount"]),
        "incomplete_columns": lambda: q.incomplete_columns(q.coverage(reader, scope)),
        "missing_columns": lambda: q.missing_columns(q.coverage(reader, scope)),
        "tables_present": lambda: q.tables_present(q.coverage(reader, scope)),
        "build_info": lambda: q.build_info(reader, scope),
        "capture_accounts": lambda: q.capture_accounts(reader, scope, f),
        "capture_contacts": lambda: q.capture_contacts(reader, scope, acc),
        "captured_upto": lambda: q.captured_upto(reader, scope),
        "columns_of": lambda: q.columns_of(reader, scope, "marts.dim_contacts"),
        "company_benchmark": lambda: q.company_benchmark(reader, scope, year, quarter),
        "deal_power_map": lambda: q.deal_power_map(reader, scope, acc, p["opportunity_id"]),
        "deals": lambda: q.deals(reader, scope, acc),
        "dimension1_components": lambda: q.dimension1_components(reader, scope, p["mine"],
                                                                 year, quarter),
        "dq_results": lambda: q.dq_results(reader, scope, build_id),
        "freshness": lambda: q.freshness(reader, scope),
        "health_bands": lambda: q.health_bands(reader, scope, f, month_end),
        "health_trend": lambda: q.health_trend(reader, scope, f, month_end),
        "industries": lambda: q.industries(reader, scope),
        "interactions_loaded": lambda: q.interactions_loaded(reader, scope),
        "key_actions": lambda: q.key_actions(reader, scope, p["mine"], year, quarter),
        "kpis": lambda: q.kpis(reader, scope, f, year, quarter),
        "kpis_by_quarter": lambda: q.kpis_by_quarter(reader, scope, f, year, quarter),
        "latest_month_end": lambda: month_end,
        "pareto": lambda: q.pareto(reader, scope, f),
        "power_map": lambda: q.power_map(reader, scope, acc),
        "power_map_accounts": lambda: q.power_map_accounts(reader, scope, f),
        "quarantine_counts": lambda: q.quarantine_counts(reader, scope, build_id),
        "quarantine_samples": lambda: q.quarantine_samples(reader, scope, build_id, "contacts",
                                                           "missing_required"),
        "quarters": lambda: q.quarters(reader, scope),
        "region_comparison": lambda: q.region_comparison(reader, scope, f, year, quarter),
        "region_fte_by_role": lambda: q.region_fte_by_role(reader, scope, p["mine"], year,
                                                           quarter),
        "region_split": lambda: q.region_split(reader, scope, f, year, quarter),
        "regions": lambda: q.regions(reader, scope),
        "rep_performance": lambda: q.rep_performance(reader, scope, p["rep_id"], year,
                                                     quarter),
        "row_counts": lambda: q.row_counts(reader, scope, build_id),
        "scorecard": lambda: q.scorecard(reader, scope, p["mine"], year, quarter),
        "tier_counts": lambda: q.tier_counts(reader, scope, f),
        "tier_distribution": lambda: q.tier_distribution(reader, scope, f, "region"),
        "tier_migration": lambda: q.tier_migration(reader, scope, f, py, pq, year, quarter),
        "tier_windows": lambda: q.tier_windows(reader, scope, f),
    }
    return {name: call() for name, call in calls.items()}


def _cells(result: object) -> list[str]:
    if isinstance(result, pl.DataFrame):
        return [str(v) for col in result.columns for v in result[col].to_list()
                if v is not None]
    if isinstance(result, dict):
        return [str(v) for v in result.values() if v is not None]
    if isinstance(result, list):
        return [str(v) for v in result]
    return [str(result)]


def test_the_list_of_query_functions_is_complete(planted):
    functions = {name for name in q.__all__
                 if inspect.isfunction(getattr(q, name)) and name != "previous_quarter"}
    with Reader(planted["path"]) as reader:
        called = set(_every_query(reader, Scope.all_access(), planted))
    assert functions <= called, f"not called: {sorted(functions - called)}"


def test_a_director_sees_no_value_of_another_regions_contact_in_any_query(planted):
    x = planted["contact_id"]
    # inside any text (a detail quoting a name), and X's id as a whole value
    forbidden = {PLANTED["full_name"], PLANTED["initials"], PLANTED["title"],
                 PLANTED["department"], PLANTED["email"], PLANTED["private_notes"],
                 str(PLANTED["birthday"]), *PLANTED["full_name"].split()}
    with Reader(planted["path"]) as reader:
        for scope in (Scope.regions([planted["mine"]]),
                      Scope.regions([planted["mine"]], may_see_pii=True)):
            for name, result in _every_query(reader, scope, planted).items():
                cells = _cells(result)
                leaked = {v for v in forbidden for cell in cells if v in cell}
                assert not leaked, f"{name} ({scope.cache_key()}): {sorted(leaked)}"
                assert x not in cells, f"{name} ({scope.cache_key()}): {x}"


def test_rows_naming_another_regions_contact_are_kept_or_left_out_as_decided(planted):
    acc, x = planted["account_id"], planted["contact_id"]
    director = Scope.regions([planted["mine"]])
    long_ago = dt.date(2000, 1, 1)
    with Reader(planted["path"]) as reader:
        # Non-vacuous: a scope of every region sees the planted rows, X named in them.
        everyone = Scope.all_access()
        acts = q.account_activities(reader, everyone, acc, long_ago, limit=100_000)
        assert acts.filter(pl.col("interaction_id") == PLANTED_INTERACTION)[
            "contact_name"].to_list() == [PLANTED["full_name"]]
        assert x in q.power_map(reader, everyone, acc)["contact_id"].to_list()
        assert x in q.attitude_moves(reader, everyone, acc, long_ago)["contact_id"].to_list()
        assert x in q.deal_power_map(reader, everyone, acc,
                                     planted["opportunity_id"])["contact_id"].to_list()
        assert x in q.alerts(reader, everyone, q.Filters(), account_id=acc)[
            "contact_id"].to_list()

        # The director: the activity is the account's and stays, without its contact.
        acts = q.account_activities(reader, director, acc, long_ago, limit=100_000)
        row = acts.filter(pl.col("interaction_id") == PLANTED_INTERACTION).row(0, named=True)
        assert row["contact_name"] == OTHER_REGION_CONTACT
        assert row["decision_role"] is None and row["department"] is None
        assert acts.filter(pl.col("contact_name") == OTHER_REGION_CONTACT).height == 1
        # The alert is the account's and stays, without its contact.
        alerts = q.alerts(reader, director, q.Filters(), account_id=acc)
        planted_alert = alerts.filter(pl.col("contact_name") == OTHER_REGION_CONTACT)
        assert planted_alert.height == 1
        shown = planted_alert.row(0, named=True)
        assert shown["alert_type"] == "approver_or_decider_opposes"
        assert shown["account_id"] == acc and shown["detail"] == OTHER_REGION_CONTACT
        assert shown["contact_title"] is None and shown["decision_role"] is None
        assert shown["contact_id"] is None
        # Rows that are all about the contact are left out.
        assert x not in q.power_map(reader, director, acc)["contact_id"].to_list()
        assert x not in q.attitude_moves(reader, director, acc, long_ago)["contact_id"].to_list()
        deal_map = q.deal_power_map(reader, director, acc, planted["opportunity_id"])
        assert deal_map.height > 0 and x not in deal_map["contact_id"].to_list()
        # The counts of the account list agree with what the maps show.
        listed = q.power_map_accounts(reader, director, q.Filters()).filter(
            pl.col("account_id") == acc).row(0, named=True)
        assert listed["mapped_contacts"] == q.power_map(reader, director, acc).height
        assert listed["deals_with_contacts"] == q.deals(reader, director, acc).height
        deal = q.deals(reader, director, acc).filter(
            pl.col("opportunity_id") == planted["opportunity_id"])
        assert deal["deal_contacts"].to_list() == [deal_map.height]


# --- personal values in quarantine details, sample rows and check results -----------------

QUARANTINED = [
    # (table, row, raw values, reasons, detail)
    ("contacts", 1, {"contact_id": "C1", "full_name": "Ann Berg", "birthday": "31/12/1975"},
     "unparseable", "unparseable:birthday=31/12/1975"),
    ("contacts", 2, {"contact_id": "C2", "full_name": "  Bo Lind ", "email": "bo@x.io",
                     "birthday": "1975-13-01", "level": "boss"},
     "not_allowed,unparseable",
     "unparseable:birthday=1975-13-01; not_allowed:level=boss; unparseable:email=bo@x.io"),
    # a value crafted to look like the end of the reason: the raw values say where it ends
    ("contacts", 3, {"contact_id": "C3", "full_name": "Cy; missing_required:x Secret"},
     "impossible_value", "impossible_value:full_name=Cy; missing_required:x Secret"),
    # no raw values: hidden up to the next reason
    ("contacts", 4, None, "missing_required,unparseable",
     ("missing_required:account_id; unparseable:birthday=1.2.1980 (expected YYYY-MM-DD); "
      "orphan_fk:account_id=A9")),
    ("accounts", 5, {"account_id": "A5", "account_name": "Acme", "industry": "mining"},
     "not_allowed", "not_allowed:industry=mining"),
]
PERSONAL = ("31/12/1975", "1975-13-01", "bo@x.io", "Ann Berg", "Bo Lind", "Secret", "Cy",
            "1.2.1980")


@pytest.fixture()
def quarantine_warehouse(tmp_path: Path) -> Path:
    """A warehouse file holding only hand-written meta.dq_quarantine and meta.dq_results."""
    path = tmp_path / "quarantine.duckdb"
    with duckdb.connect(str(path)) as con:
        con.execute("create schema meta")
        con.execute("""create table meta.dq_quarantine (build_id varchar, table_name varchar,
            source_file varchar, row_number bigint, raw_values varchar, reasons varchar,
            detail varchar)""")
        for table, row, raw, reasons, detail in QUARANTINED:
            con.execute("insert into meta.dq_quarantine values ('b1', ?, ?, ?, ?, ?, ?)",
                        [table, f"{table}.csv", row, None if raw is None else json.dumps(raw),
                         reasons, detail])
        con.execute("""create table meta.dq_results (build_id varchar, suite varchar,
            expectation varchar, "column" varchar, success boolean, status varchar,
            observed_value varchar, unexpected_count bigint, severity varchar,
            checked_at timestamp, detail varchar)""")
        for column, observed in (
                ("birthday", "2 of 40 unexpected, e.g. ['1975-12-31', '1980-01-02']"),
                ("email", "bo@x.io"), ("full_name", "3 of 40 unexpected"),
                ("level", "1 of 40 unexpected, e.g. ['boss']")):
            con.execute("""insert into meta.dq_results values ('b1', 'raw_contacts', 'check',
                ?, false, 'fail', ?, 1, 'fail', now(), 'contacts')""", [column, observed])
    return path


def _samples(reader: Reader, scope: Scope, table: str) -> pl.DataFrame:
    reasons = {r for t, _, _, rs, _ in QUARANTINED if t == table for r in rs.split(",")}
    frames = [q.quarantine_samples(reader, scope, "b1", table, reason) for reason in reasons]
    return pl.concat(frames).unique("row_number").sort("row_number")


def test_quarantine_details_and_raw_values_hide_personal_values(quarantine_warehouse):
    assert pii_columns() == {"contacts": ("full_name", "birthday", "private_notes", "email")}
    masked = Scope(region_ids=None, may_see_pii=False)  # the data team
    with Reader(quarantine_warehouse) as reader:
        contacts = _samples(reader, masked, "contacts")
        assert contacts["detail"].to_list() == [
            f"unparseable:birthday={HIDDEN}",
            f"unparseable:birthday={HIDDEN}; not_allowed:level=boss; unparseable:email={HIDDEN}",
            f"impossible_value:full_name={HIDDEN}",
            (f"missing_required:account_id; unparseable:birthday={HIDDEN}; "
             "orphan_fk:account_id=A9"),
        ]
        raw = [None if v is None else json.loads(v) for v in contacts["raw_values"].to_list()]
        assert raw[0] == {"contact_id": "C1", "full_name": HIDDEN, "birthday": HIDDEN}
        assert raw[1] == {"contact_id": "C2", "full_name": HIDDEN, "email": HIDDEN,
                          "birthday": HIDDEN, "level": "boss"}
        assert raw[3] is None
        text = contacts.write_csv()
        assert not [v for v in PERSONAL if v in text]
        # a table without personal columns is shown as it is
        accounts = _samples(reader, masked, "accounts")
        assert accounts["detail"].to_list() == ["not_allowed:industry=mining"]
        assert json.loads(accounts["raw_values"][0])["account_name"] == "Acme"
        # check results: the examples of a personal column are hidden, the count kept
        results = q.dq_results(reader, masked, "b1")
        observed = dict(zip(results["column"].to_list(), results["observed_value"].to_list()))
        assert observed == {"birthday": f"2 of 40 unexpected, e.g. {HIDDEN}", "email": HIDDEN,
                            "full_name": "3 of 40 unexpected",
                            "level": "1 of 40 unexpected, e.g. ['boss']"}
        # Non-vacuous: with personal-data access everything is shown as written.
        everything = _samples(reader, Scope.all_access(), "contacts")
        assert everything["detail"].to_list() == [d for t, _, _, _, d in QUARANTINED
                                                  if t == "contacts"]
        assert "1975-12-31" in " ".join(q.dq_results(reader, Scope.all_access(), "b1")[
            "observed_value"].to_list())

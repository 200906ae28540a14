"""The dashboard's data-access layer (rapport.serving) on a real built warehouse, without
Streamlit: results equal the marts, the scope is applied in SQL, personal data is masked,
hostile values stay values, and a new publish is picked up by the next reader."""

from __future__ import annotations

import datetime as dt
import os
import shutil
import threading
import time
from pathlib import Path

import duckdb
import polars as pl
import pytest

from rapport.serving import (
    MissingRelation,
    Reader,
    Scope,
    WarehouseChanged,
    WarehouseError,
    WarehouseMissing,
)
from rapport.serving import queries as q

ALL = Scope.all_access()


def _marts(path: Path, sql: str, params: list | None = None) -> list[tuple]:
    with duckdb.connect(str(path), read_only=True) as con:
        return con.execute(sql, params or []).fetchall()


@pytest.fixture(scope="module")
def latest(built_warehouse: Path) -> tuple[int, int]:
    (year, quarter), = _marts(built_warehouse, """
        select year, quarter from marts.fct_region_performance
        order by year desc, quarter desc limit 1""")
    return year, quarter


@pytest.fixture(scope="module")
def region_ids(built_warehouse: Path) -> list[str]:
    return [r[0] for r in _marts(built_warehouse,
                                 "select distinct region_id from marts.dim_accounts order by 1")]


@pytest.fixture()
def reader(built_warehouse: Path):
    with Reader(built_warehouse) as r:
        yield r


def test_kpis_equal_the_region_performance_mart(built_warehouse, reader, latest):
    year, quarter = latest
    rows = _marts(built_warehouse, """
        select revenue, profit, fte, revenue_target, profit_target, cash_collected
        from marts.fct_region_performance where year = ? and quarter = ?""", [year, quarter])
    assert len(rows) >= 2, "the test warehouse should have several regions"
    revenue = sum(r[0] or 0 for r in rows)
    profit = sum(r[1] or 0 for r in rows)
    fte = sum(r[2] or 0 for r in rows)
    targeted = [r for r in rows if r[3] is not None]
    completion = sum(r[0] or 0 for r in targeted) / sum(r[3] for r in targeted)

    got = q.kpis(reader, ALL, q.Filters(year=year, quarter=quarter), year, quarter).row(
        0, named=True)
    assert got["revenue"] == pytest.approx(revenue)
    assert got["profit"] == pytest.approx(profit)
    assert got["revenue_per_head"] == pytest.approx(revenue / fte)
    assert got["profit_per_head"] == pytest.approx(profit / fte)
    assert got["revenue_target_completion"] == pytest.approx(completion)
    assert got["regions"] == len(rows)


def test_region_filter_restricts_kpis_to_that_region(built_warehouse, reader, latest,
                                                     region_ids):
    year, quarter = latest
    region = region_ids[0]
    (revenue, fte), = _marts(built_warehouse, """
        select revenue, fte from marts.fct_region_performance
        where year = ? and quarter = ? and region_id = ?""", [year, quarter, region])
    f = q.Filters(year=year, quarter=quarter, region_ids=(region,))
    got = q.kpis(reader, ALL, f, year, quarter).row(0, named=True)
    assert got["regions"] == 1
    assert got["revenue"] == pytest.approx(revenue)
    assert got["revenue_per_head"] == pytest.approx(revenue / fte)


def test_tier_counts_equal_the_tier_mart(built_warehouse, reader, latest):
    year, quarter = latest
    expected = dict(_marts(built_warehouse, """
        select tier, count(*) from marts.fct_account_tiers
        where year = ? and quarter = ? group by tier""", [year, quarter]))
    got = q.tier_counts(reader, ALL, q.Filters(year=year, quarter=quarter))
    assert dict(zip(got["tier"].to_list(), got["accounts"].to_list())) == expected


def test_scope_keeps_every_row_inside_its_regions(built_warehouse, latest, region_ids):
    year, quarter = latest
    mine, other = region_ids[0], region_ids[1]
    scope = Scope.regions([mine])
    f = q.Filters(year=year, quarter=quarter)
    other_account = _marts(built_warehouse, "select account_id from marts.dim_accounts "
                                            "where region_id = ? limit 1", [other])[0][0]
    region_of = dict(_marts(built_warehouse,
                            "select account_id, region_id from marts.dim_accounts"))
    with Reader(built_warehouse) as r:
        assert q.regions(r, scope)["region_id"].to_list() == [mine]
        for frame in (q.accounts_by_tier(r, scope, f), q.alerts(r, scope, f, limit=1000),
                      q.power_map_accounts(r, scope, f),
                      q.account_health(r, scope, f, q.latest_month_end(r, scope, dt.date.max))):
            assert frame.height > 0
            assert {region_of[a] for a in frame["account_id"].to_list()} == {mine}
        # Another region's account, asked for by id, returns nothing.
        assert q.account(r, scope, other_account).is_empty()
        assert q.power_map(r, scope, other_account).is_empty()
        assert q.account_contacts(r, scope, other_account).is_empty()
        assert q.account_activities(r, scope, other_account, dt.date(2000, 1, 1)).is_empty()
        # Even when the sidebar filter names the other region.
        sneaky = q.Filters(year=year, quarter=quarter, region_ids=(other,))
        assert q.accounts_by_tier(r, scope, sneaky).is_empty()
        assert q.kpis(r, scope, sneaky, year, quarter).is_empty()
        assert q.scorecard(r, scope, other, year, quarter).is_empty()
        # An empty region set sees nothing at all.
        nobody = Scope.regions([])
        assert q.regions(r, nobody).is_empty()
        assert q.accounts_by_tier(r, nobody, f).is_empty()


def test_contact_names_are_masked_without_pii_access(built_warehouse, region_ids):
    account_id, full_name = _marts(built_warehouse, """
        select account_id, full_name from marts.fct_power_map
        where full_name like '% %' limit 1""")[0]
    names = {r[0] for r in _marts(built_warehouse, "select full_name from marts.dim_contacts")}
    masked = Scope(region_ids=None, may_see_pii=False)
    with Reader(built_warehouse) as r:
        shown = q.power_map(r, masked, account_id)["contact_name"].to_list()
        contacts = q.account_contacts(r, masked, account_id)
        # "Ada Lambert" -> "A. L.": initials only.
        assert f"{full_name.split()[0][0]}. {full_name.split()[-1][0]}." in shown
        assert not names & set(shown)
        assert not names & set(contacts["contact_name"].to_list())
        assert contacts["birthday"].drop_nulls().str.contains(r"^\d+-\d+$").all()
        assert full_name in q.power_map(r, ALL, account_id)["contact_name"].to_list()


def test_hostile_values_are_bound_as_values(reader, latest):
    year, quarter = latest
    for hostile in ("' OR 1=1--", "read_csv('/etc/passwd')", "x" * 100_000, "é\u202e\x00"):
        f = q.Filters(year=year, quarter=quarter, region_ids=(hostile,), industries=(hostile,))
        assert q.accounts_by_tier(reader, ALL, f).is_empty()
        assert q.account(reader, ALL, hostile).is_empty()
        assert q.power_map(reader, Scope.regions([hostile]), hostile).is_empty()
    with pytest.raises(ValueError, match="cannot sort by"):
        q.account_health(reader, ALL, q.Filters(), dt.date.max, sort_by="health; drop table x")
    with pytest.raises(ValueError, match="cannot group tiers by"):
        q.tier_distribution(reader, ALL, q.Filters(), by="region_id) --")


def test_reader_cannot_write_or_read_other_files(reader):
    with pytest.raises(WarehouseError):
        reader.run("delete from marts.dim_accounts")
    with pytest.raises(WarehouseError):
        reader.run("select * from read_csv('/etc/passwd')")


def test_missing_file_and_missing_mart_are_explained(tmp_path, built_warehouse):
    with pytest.raises(WarehouseMissing) as missing:
        Reader(tmp_path / "nothing.duckdb")
    assert str(tmp_path) not in missing.value.user_message
    old = tmp_path / "old.duckdb"
    shutil.copy(built_warehouse, old)
    with duckdb.connect(str(old)) as con:
        con.execute("drop table marts.fct_rep_scorecard")
    with Reader(old) as r, pytest.raises(MissingRelation) as gone:
        q.scorecard(r, ALL, "R01", 2026, 1)
    assert "fct_rep_scorecard" in gone.value.user_message
    assert str(tmp_path) not in gone.value.user_message


def test_a_new_publish_is_read_by_the_next_reader(tmp_path, built_warehouse):
    served = tmp_path / "rapport.duckdb"
    shutil.copy(built_warehouse, served)
    new = tmp_path / "next.duckdb"
    shutil.copy(built_warehouse, new)
    with duckdb.connect(str(new)) as con:
        con.execute("delete from marts.dim_accounts where account_id in "
                    "(select account_id from marts.dim_accounts order by account_id limit 1)")
    count_sql = "select count(*) as n from marts.dim_accounts"
    calls: list[tuple] = []
    memo: dict[tuple, pl.DataFrame] = {}

    def cache(reader, identity_key, scope_key, sql, params):
        key = (identity_key, scope_key, sql, params)
        calls.append(key)
        if key not in memo:
            memo[key] = reader.run(sql, params)
        return memo[key]

    old_reader = Reader(served, cache=cache)
    before = old_reader.fetch(count_sql, {}, ALL.cache_key())["n"][0]
    os.replace(new, served)  # what the publish step does

    # The old reader still holds its connection: a reader of the new file waits for it
    # (DuckDB would otherwise hand out the old file's cached instance).
    result: dict[str, int] = {}

    def read_new() -> None:
        with Reader(served, cache=cache) as r:
            result["n"] = r.fetch(count_sql, {}, ALL.cache_key())["n"][0]

    thread = threading.Thread(target=read_new)
    thread.start()
    time.sleep(0.5)
    assert "n" not in result, "the new reader must wait for the old file's connection"
    old_reader.close()
    thread.join(timeout=30)
    assert result["n"] == before - 1
    assert calls[0][0] != calls[-1][0], "results are cached under the file identity"


def test_replacing_the_file_during_a_render_is_detected(tmp_path, built_warehouse):
    served = tmp_path / "rapport.duckdb"
    shutil.copy(built_warehouse, served)
    reader = Reader(served)  # identity noted, no connection yet
    shutil.copy(built_warehouse, tmp_path / "next.duckdb")
    os.replace(tmp_path / "next.duckdb", served)
    with pytest.raises(WarehouseChanged):
        reader.run("select 1")
    reader.close()


def test_filters_are_normalised_so_equal_choices_share_a_cache_entry():
    a = q.Filters(year=2026, quarter=1, region_ids=("R2", "R1", "R1"))
    b = q.Filters(year=2026, quarter=1, region_ids=("R1", "R2"))
    assert a == b and a.region_ids == ("R1", "R2")
    assert Scope.regions(["b", "a"]).cache_key() == "regions=a,b;pii=0"
    assert Scope.all_access().cache_key() == "regions=*;pii=1"


def test_account_activities_hold_every_interaction_of_that_account(reader, built_warehouse):
    account_id, n = _marts(built_warehouse, """
        select account_id, count(*) from marts.fct_interactions
        where occurred_date >= date '2000-01-01' group by 1 order by 2 desc limit 1""")[0]
    got = q.account_activities(reader, ALL, account_id, dt.date(2000, 1, 1), limit=100_000)
    assert got.height == n
    summary = q.account_activity_summary(reader, ALL, account_id, dt.date(2000, 1, 1))
    assert summary["activities"].sum() == n
    assert pl.Series(got["interaction_id"]).n_unique() == n

"""Lists of accounts to choose from (Power map, Record assessments) at enterprise size: at most
`account_list.limit` accounts (config/dashboard.yml, default 1,000), the account shown kept,
and a Find box that narrows the list in SQL when it is cut. A list of 50,000 accounts cost
seconds to fetch, send and draw (docs/benchmarks.md)."""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
import sys

import polars as pl
import pytest
from streamlit.testing.v1 import AppTest
from support.apptest import record_downloads

from rapport.paths import DASHBOARD_DIR
from rapport.serving import queries as q
from rapport.serving.reader import Reader
from rapport.serving.scope import Scope

sys.path.insert(0, str(DASHBOARD_DIR))
from ui import fmt

APP = str(DASHBOARD_DIR / "app.py")
TIMEOUT = 120


# -- the setting ----------------------------------------------------------------------------

def test_the_limit_comes_from_the_dashboard_config(monkeypatch, tmp_path):
    config = tmp_path / "dashboard.yml"
    monkeypatch.setenv(fmt.DASHBOARD_CONFIG_ENV, str(config))
    assert fmt.account_list_limit() == 1000  # no file
    config.write_text("account_list:\n  limit: 25\n", encoding="utf-8")
    assert fmt.account_list_limit() == 25
    for bad in ("0", "-3", "2.5", "'many'", "true", "1000001"):  # each falls back, logged
        config.write_text(f"account_list:\n  limit: {bad}\n", encoding="utf-8")
        fmt._account_list_limit_from.cache_clear()
        assert fmt.account_list_limit() == 1000, bad
    monkeypatch.delenv(fmt.DASHBOARD_CONFIG_ENV)
    assert fmt.account_list_limit() == 1000  # the project's file: its default


# -- the queries ----------------------------------------------------------------------------

@pytest.fixture(scope="module")
def reader(built_warehouse):
    with Reader(built_warehouse) as r:
        yield r


def test_a_cut_list_is_the_head_of_the_whole_list(reader):
    everyone, f = Scope.all_access(), q.Filters()
    whole = q.power_map_accounts(reader, everyone, f, mapped_only=True)
    assert whole.height > 5
    assert (whole["mapped_contacts"] + whole["deals_with_contacts"] > 0).all()
    assert whole["matching"].to_list() == [whole.height] * whole.height
    # every account in view is listed without mapped_only, the mapped ones in the same order
    listed = q.power_map_accounts(reader, everyone, f)
    assert listed.height >= whole.height
    assert listed.filter(pl.col("account_id").is_in(whole["account_id"].implode()))[
        "account_id"].to_list() == whole["account_id"].to_list()

    cut = q.power_map_accounts(reader, everyone, f, mapped_only=True, limit=3)
    assert cut["account_id"].to_list() == whole["account_id"].to_list()[:3]
    assert cut["matching"].to_list() == [whole.height] * 3  # how many there are in all
    # the account shown is kept, in its place after the first three
    shown = whole["account_id"][whole.height - 1]
    kept = q.power_map_accounts(reader, everyone, f, mapped_only=True, limit=3, keep=[shown])
    assert kept["account_id"].to_list() == [*whole["account_id"].to_list()[:3], shown]


def test_find_narrows_by_name_or_id_in_any_case(reader):
    everyone, f = Scope.all_access(), q.Filters()
    whole = q.power_map_accounts(reader, everyone, f, mapped_only=True)
    one = whole.row(whole.height // 2, named=True)
    word = one["account_name"].split()[0]
    by_name = q.power_map_accounts(reader, everyone, f, mapped_only=True, find=word.upper())
    expected = whole.filter(pl.col("account_name").str.to_lowercase()
                            .str.contains(word.lower(), literal=True)
                            | pl.col("account_id").str.to_lowercase()
                            .str.contains(word.lower(), literal=True))
    assert by_name["account_id"].to_list() == expected["account_id"].to_list()
    assert one["account_id"] in by_name["account_id"].to_list()
    assert by_name["matching"].to_list() == [expected.height] * expected.height
    by_id = q.power_map_accounts(reader, everyone, f, mapped_only=True,
                                 find=f"  {one['account_id'].lower()} ")
    assert one["account_id"] in by_id["account_id"].to_list()
    # a pattern's wildcards are text, not wildcards
    assert q.power_map_accounts(reader, everyone, f, mapped_only=True, find="%").is_empty()
    assert q.capture_accounts(reader, everyone, f, find="_").is_empty()


def test_the_capture_list_is_cut_the_same_way(reader):
    everyone, f = Scope.all_access(), q.Filters()
    whole = q.capture_accounts(reader, everyone, f)
    cut = q.capture_accounts(reader, everyone, f, limit=2, keep=[whole["account_id"][-1]])
    assert cut["account_id"].to_list() == [*whole["account_id"].to_list()[:2],
                                           whole["account_id"][-1]]
    assert cut["matching"].to_list() == [whole.height] * 3


# -- the pages ------------------------------------------------------------------------------

@pytest.fixture()
def two_per_list(monkeypatch, tmp_path, built_warehouse):
    config = tmp_path / "dashboard.yml"
    config.write_text("currency: {code: EUR, symbol: '€'}\naccount_list: {limit: 2}\n",
                      encoding="utf-8")
    monkeypatch.setenv(fmt.DASHBOARD_CONFIG_ENV, str(config))
    monkeypatch.setenv("RAPPORT_WAREHOUSE", str(built_warehouse))
    monkeypatch.delenv("RAPPORT_AS_USER", raising=False)
    with Reader(built_warehouse) as r:
        return q.power_map_accounts(r, Scope.all_access(), q.Filters(), mapped_only=True)


def _captions(at: AppTest) -> str:
    return " ".join(c.value for c in at.caption)


def test_the_power_map_list_is_cut_and_found(two_per_list):
    """With a limit of 2: two accounts in the list, a note saying how many there are and a
    Find box; finding an account by its id lists it and opens it; text that matches nothing
    says so and keeps the box."""
    at = AppTest.from_file(APP, default_timeout=TIMEOUT).run()
    at.switch_page("pages/power_map.py").run()
    assert not at.exception
    assert len(at.selectbox(key="pm_account").options) == 2
    note = re.search(r"The list holds the first 2 of ([\d,]+) accounts with a power map",
                     _captions(at))
    assert note and int(note.group(1).replace(",", "")) == two_per_list.height
    wanted = two_per_list["account_id"][-1]
    at.text_input(key="pm_find").input(wanted.lower()).run()
    assert not at.exception
    at.selectbox(key="pm_account").set_value(wanted).run()  # listed: it can be chosen
    assert not at.exception and at.selectbox(key="pm_account").value == wanted
    assert at.query_params.get("account") in (wanted, [wanted])

    at.text_input(key="pm_find").input("no such account zz").run()
    assert not at.exception
    assert any("“no such account zz”" in i.value for i in at.info)
    assert at.text_input(key="pm_find").value == "no such account zz"
    at.text_input(key="pm_find").input("").run()  # the first two again, and the one shown
    assert len(at.selectbox(key="pm_account").options) == 3
    assert at.selectbox(key="pm_account").value == wanted


def test_the_capture_list_is_cut_and_found(two_per_list, built_warehouse):
    at = AppTest.from_file(APP, default_timeout=TIMEOUT).run()
    at.switch_page("pages/capture.py").run()
    assert not at.exception
    assert len(at.selectbox(key="cap_account").options) == 2
    assert "The list holds the first 2 of " in _captions(at)
    with Reader(built_warehouse) as r:
        last = q.capture_accounts(r, Scope.all_access(), q.Filters())["account_id"][-1]
    at.text_input(key="cap_find").input(last).run()
    assert not at.exception
    assert at.selectbox(key="cap_account").value == last


def test_the_health_list_is_paged_in_sql_with_the_whole_lists_figures(reader):
    """A page of account_health is the same slice of the whole sorted list, and every row
    carries the whole list's figures (the page's tiles), worked out here from the whole."""
    everyone, f = Scope.all_access(), q.Filters()
    month_end = q.latest_month_end(reader, everyone, dt.date.max)
    whole = q.account_health(reader, everyone, f, month_end, sort_by="general",
                             descending=True)
    assert whole.height > 20
    page = q.account_health(reader, everyone, f, month_end, sort_by="general",
                            descending=True, limit=7, offset=7)
    assert page.drop(q.HEALTH_SUMMARY).equals(whole.drop(q.HEALTH_SUMMARY).slice(7, 7))
    figures = page.select(q.HEALTH_SUMMARY).unique()
    assert figures.height == 1
    assert figures.row(0, named=True) == pytest.approx({
        "matching": whole.height,
        "mean_health": whole["health_score"].mean(),
        "weak_accounts": (whole["health_band"] == "weak").sum(),
        "privately_held": whole["is_privately_held"].sum(),
    })
    # the last page holds what is left; past it, nothing
    rest = whole.height % 7 or 7
    last = q.account_health(reader, everyone, f, month_end, sort_by="general",
                            descending=True, limit=7, offset=whole.height - rest)
    assert last.height == rest
    assert q.account_health(reader, everyone, f, month_end, limit=7,
                            offset=whole.height).is_empty()


def test_the_health_table_offers_every_page_in_its_csv(two_per_list, monkeypatch):
    """The Accounts view: a pager under the table ("Rows 1-N of N accounts") and one CSV of
    every account of the list, not only the page shown."""
    made = record_downloads(monkeypatch)
    at = AppTest.from_file(APP, default_timeout=TIMEOUT).run()
    at.switch_page("pages/health.py").run()
    assert not at.exception
    shown = next(d for d in at.dataframe if "account_id" in d.value.columns)
    note = re.search(r"Rows 1–(\d+) of ([\d,]+) accounts", _captions(at))
    assert note and int(note.group(1)) == len(shown.value)
    total = int(note.group(2).replace(",", ""))
    assert len(shown.value) == min(total, 100)  # one page of at most 100 rows
    [data] = [d for n, d in made if n and n.startswith("account_health_")]
    rows = list(csv.reader(io.StringIO(data().decode("utf-8"))))
    assert len(rows) - 1 == total  # every account, under one header line
    assert "Account ID" in rows[0] and "Power map ›" not in {c for r in rows for c in r}

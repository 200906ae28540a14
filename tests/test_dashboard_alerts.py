"""The alert worklist and deep links under Streamlit's AppTest on a real built warehouse: the
Overview's alerts as a worklist (every alert in scope, count cards that filter, pages in SQL,
a CSV of every alert of the filter, a director's region only) and the Power map opened on an
account from the URL (checked against the viewer's scope; its own account, not Relationship
health's)."""

from __future__ import annotations

import csv
import io
import re
import sys
from pathlib import Path

import duckdb
import pytest
from streamlit.testing.v1 import AppTest
from support.apptest import record_downloads

from rapport.paths import DASHBOARD_DIR
from rapport.serving import Reader, Scope
from rapport.serving import queries as q
from rapport.serving.queries.overview import SEVERITIES

sys.path.insert(0, str(DASHBOARD_DIR))
from ui import fmt

APP = str(DASHBOARD_DIR / "app.py")
TIMEOUT = 120  # seconds per run: the test machine is shared and busy
PAGE_SIZE = 25  # the Overview's first page size
CARD = "alert_card_"


# -- the expected numbers, straight from the mart ---------------------------------------------

def _marts(path: Path, sql: str, params: list | None = None) -> list[tuple]:
    with duckdb.connect(str(path), read_only=True) as con:
        return con.execute(sql, params or []).fetchall()


def _expected(path: Path, region_id: str | None = None) -> dict[str, int]:
    """Rows of marts.fct_account_alerts per type on the accounts of a region (or all), by
    the Overview's one rule: an absence alert (no approver, no coach) counts only for an
    account with a contact loaded (the build has every layer: see _premise)."""
    rows = _marts(path, """
        select alerts.alert_type, count(*)
        from marts.fct_account_alerts as alerts
        inner join marts.dim_accounts as accounts using (account_id)
        where (? is null or accounts.region_id = ?)
            and (alerts.alert_type not in ('no_approver', 'no_coach_on_s_a')
                 or exists (select 1 from marts.dim_contacts as c
                            where c.account_id = alerts.account_id))
        group by 1""", [region_id, region_id])
    return dict(rows)


@pytest.fixture(scope="module")
def premise(built_warehouse: Path) -> dict:
    """What these tests rest on: the build has the layers the alerts need, more alerts than
    one page, several types, and two regions with alerts."""
    with Reader(built_warehouse) as reader:
        found = q.layers(reader, Scope.all_access())
    assert found.available("power_map") and found.available("activities")
    expected = _expected(built_warehouse)
    assert sum(expected.values()) > PAGE_SIZE and len(expected) >= 3, expected
    regions = [r[0] for r in _marts(built_warehouse, """
        select accounts.region_id from marts.fct_account_alerts as alerts
        inner join marts.dim_accounts as accounts using (account_id)
        group by 1 order by count(*) desc, 1""")]
    assert len(regions) >= 2
    return {"expected": expected, "regions": regions}


@pytest.fixture()
def downloads(monkeypatch) -> list:
    """(file name, callable) of every download button rendered: Streamlit keeps a callable
    per deferred download, called here as a click would."""
    return record_downloads(monkeypatch)


# -- reading the page -------------------------------------------------------------------------

def _overview() -> AppTest:
    at = AppTest.from_file(APP, default_timeout=TIMEOUT).run()
    _clean(at)
    assert [t.value for t in at.title] == ["Overview"]
    return at


def _clean(at: AppTest) -> None:
    assert not at.exception, [e.value for e in at.exception]
    assert not at.error, [e.value for e in at.error]


def _cards(at: AppTest) -> dict[str, int]:
    """The count cards: {"all": n, alert_type: n, ...}, read from the buttons' labels."""
    found = {}
    for button in at.button:
        if (button.key or "").startswith(CARD):
            number = re.search(r"\*\*([\d,]+)\*\*", button.label)
            assert number, button.label
            found[button.key.removeprefix(CARD)] = int(number.group(1).replace(",", ""))
    return found


def _table(at: AppTest):
    return next(d.value for d in at.dataframe if "severity" in d.value.columns)


def _rows_line(at: AppTest) -> tuple[int, int, int]:
    """(first, last, total) of the caption 'Rows 1–25 of 72 ...'."""
    for caption in at.caption:
        found = re.match(r"Rows (\d+)–(\d+) of ([\d,]+)", caption.value)
        if found:
            return tuple(int(g.replace(",", "")) for g in found.groups())
    raise AssertionError("no 'Rows a–b of n' caption")


def _csv(downloads: list, prefix: str) -> list[dict]:
    made = [make for name, make in downloads if name and name.startswith(prefix)]
    assert made, [name for name, _ in downloads]
    return list(csv.DictReader(io.StringIO(made[-1]().decode("utf-8"))))


# -- the worklist -----------------------------------------------------------------------------

def test_the_total_and_the_cards_are_the_marts_alerts_in_scope(warehouse_env, premise):
    expected = premise["expected"]
    at = _overview()
    cards = _cards(at)
    assert cards.pop("all") == sum(expected.values())
    assert cards == expected  # every type with alerts has a card with its count
    assert sum(cards.values()) == sum(expected.values())
    assert _rows_line(at) == (1, PAGE_SIZE, sum(expected.values()))
    assert len(_table(at)) == PAGE_SIZE
    # dated, and said to be the current state rather than the chosen quarter
    said = " ".join(c.value for c in at.caption)
    with Reader(warehouse_env) as reader:
        as_of = q.build_info(reader, Scope.all_access())["as_of_date"]
    assert f"As of {fmt.date(as_of)}" in said and "current state, not" in said


def test_a_card_lists_only_its_type_and_all_comes_back(warehouse_env, premise):
    expected = premise["expected"]
    at = _overview()
    kind = max(expected, key=expected.get)
    at.button(key=CARD + kind).click().run()
    _clean(at)
    assert at.button(key=CARD + kind).proto.type == "primary"
    table = _table(at)
    assert set(table["alert_type"]) == {fmt.alert_label(kind, short=True)}
    assert _rows_line(at) == (1, min(PAGE_SIZE, expected[kind]), expected[kind])
    at.button(key=CARD + "all").click().run()
    assert _rows_line(at)[2] == sum(expected.values())


def test_page_two_follows_page_one_in_severity_order(warehouse_env, premise):
    total = sum(premise["expected"].values())
    at = _overview()
    first = _table(at)
    at.number_input(key="alerts_page").set_value(2).run()
    _clean(at)
    second = _table(at)
    assert _rows_line(at) == (PAGE_SIZE + 1, min(2 * PAGE_SIZE, total), total)
    assert len(second) == min(PAGE_SIZE, total - PAGE_SIZE)
    key = ["account_id", "alert_type", "contact_id", "detail"]
    assert not set(map(tuple, first[key].astype(str).values)) & set(
        map(tuple, second[key].astype(str).values)), "pages overlap"
    rank = {s.title(): i for i, s in enumerate(SEVERITIES)}
    order = [rank[s] for s in list(first["severity"]) + list(second["severity"])]
    assert order == sorted(order), "the most severe first, across pages"


def test_the_csv_holds_every_alert_of_the_filter(warehouse_env, premise, downloads):
    expected = premise["expected"]
    at = _overview()
    rows = _csv(downloads, "alerts_all_")
    assert len(rows) == sum(expected.values()) > PAGE_SIZE
    kind = max(expected, key=expected.get)
    downloads.clear()
    at.button(key=CARD + kind).click().run()
    rows = _csv(downloads, f"alerts_{kind}_")
    assert len(rows) == expected[kind]
    assert {r["alert_type"] for r in rows} == {fmt.alert_label(kind)}
    assert all(r["account_id"] for r in rows)


def test_a_director_sees_only_their_regions_alerts(warehouse_env, premise, downloads,
                                                   monkeypatch, tmp_path):
    mine = premise["regions"][1]
    users = tmp_path / "users.yml"
    users.write_text(f"users:\n  dir@example.com: {{role: regional_director, "
                     f"regions: [{mine}]}}\n", encoding="utf-8")
    monkeypatch.setenv("RAPPORT_USERS", str(users))
    monkeypatch.setenv("RAPPORT_AS_USER", "dir@example.com")
    monkeypatch.setenv("RAPPORT_AUDIT_LOG", str(tmp_path / "audit.log"))
    expected = _expected(warehouse_env, mine)
    everyone = sum(premise["expected"].values())
    assert 0 < sum(expected.values()) < everyone
    at = _overview()
    cards = _cards(at)
    assert cards.pop("all") == sum(expected.values())
    assert cards == expected
    (name,), = _marts(warehouse_env, "select distinct region_name from marts.dim_accounts "
                                     "where region_id = ?", [mine])
    assert set(_table(at)["region_name"]) == {name}
    rows = _csv(downloads, "alerts_all_")
    assert len(rows) == sum(expected.values())
    region_of = dict(_marts(warehouse_env, "select account_id, region_id from marts.dim_accounts"))
    assert {region_of[r["account_id"]] for r in rows} == {mine}


# -- opening an account on the Power map --------------------------------------------------------

def _power_map(at: AppTest, account_id: str | None) -> AppTest:
    at.query_params.pop("account", None)  # as the menu does: no account in the URL
    if account_id is not None:
        at.query_params["account"] = account_id
    at.switch_page("pages/power_map.py").run()
    _clean(at)
    return at


def _mapped_accounts(path: Path, region_id: str | None = None) -> list[str]:
    return [r[0] for r in _marts(path, """
        select distinct pm.account_id from marts.fct_power_map as pm
        inner join marts.dim_accounts as a using (account_id)
        where ? is null or a.region_id = ? order by 1""", [region_id, region_id])]


def test_an_alert_row_opens_its_account_on_the_power_map(warehouse_env, premise):
    at = _overview()
    first = _table(at).iloc[0]
    # what a row's "Power map" button leaves for the next run (its callback's work)
    at.session_state["_alerts_opening"] = ("power_map", first["account_id"])
    at.run()
    _clean(at)
    assert [t.value for t in at.title] == ["Power map"]
    assert at.selectbox(key="pm_account").value == first["account_id"]
    assert at.query_params.get("account") == first["account_id"]


def test_the_power_map_opens_the_account_of_the_url(warehouse_env, premise):
    at = _overview()
    default = _power_map(at, None).selectbox(key="pm_account").value
    wanted = next(a for a in _mapped_accounts(warehouse_env) if a != default)
    at = _power_map(_overview(), wanted)
    assert at.selectbox(key="pm_account").value == wanted
    assert at.get("plotly_chart"), "the map of the account is drawn"


def test_an_unknown_or_out_of_scope_account_shows_not_found_and_no_data(
        warehouse_env, premise, monkeypatch, tmp_path):
    mine, other = premise["regions"][:2]
    users = tmp_path / "users.yml"
    users.write_text(f"users:\n  dir@example.com: {{role: regional_director, "
                     f"regions: [{mine}]}}\n", encoding="utf-8")
    monkeypatch.setenv("RAPPORT_USERS", str(users))
    monkeypatch.setenv("RAPPORT_AS_USER", "dir@example.com")
    monkeypatch.setenv("RAPPORT_AUDIT_LOG", str(tmp_path / "audit.log"))
    theirs = _mapped_accounts(warehouse_env, other)[0]
    for asked in (theirs, "NO-SUCH-ACCOUNT", "' or 1=1 --"):
        at = _power_map(_overview(), asked)
        said = " ".join(w.value for w in at.warning).replace("\\", "")
        assert "not found" in said, (asked, said)
        assert not at.get("plotly_chart") and not at.dataframe and not at.metric, asked
        assert not at.get("selectbox") or all(
            s.key != "pm_account" for s in at.selectbox), asked
    # Non-vacuous: the leadership (every region) opens the same account.
    monkeypatch.delenv("RAPPORT_AS_USER")
    at = _power_map(_overview(), theirs)
    assert at.selectbox(key="pm_account").value == theirs and not at.warning


def test_the_health_drill_down_does_not_change_the_power_maps_account(warehouse_env,
                                                                     premise):
    at = _overview()
    default = _power_map(at, None).selectbox(key="pm_account").value
    other = next(a for a in _mapped_accounts(warehouse_env) if a != default)
    # what Relationship health's drill-down writes when an account is chosen there
    at.session_state["focus_account"] = other
    at.switch_page("pages/overview.py").run()
    at = _power_map(at, None)
    assert at.selectbox(key="pm_account").value == default

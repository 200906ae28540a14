"""The Power map page's views under AppTest on the test warehouse: the org chart opens first
(one chart, its legend, the reporting lines of the generator's tree), names are initials for
a viewer without personal data, and each view runs only its own figure."""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
import pytest
from streamlit.testing.v1 import AppTest

from rapport.paths import DASHBOARD_DIR

APP = str(DASHBOARD_DIR / "app.py")
TIMEOUT = 120  # seconds per run: the test machine is shared and busy
LEGEND = {"-1 opposes", "0 neutral", "1 supports", "2 exclusive", "3 coach",
          "not assessed (dashed)", "role nobody holds (amber, dashed)", "★ coach"}


def _marts(path: Path, sql: str) -> list[tuple]:
    with duckdb.connect(str(path), read_only=True) as con:
        return con.execute(sql).fetchall()


@pytest.fixture()
def director(tmp_path: Path, monkeypatch, built_warehouse: Path) -> str:
    """A regional director without personal data (pii_roles: leadership only); returns the
    director's region."""
    (region,) = _marts(built_warehouse, """
        select region_id from marts.dim_accounts group by region_id
        order by count(*) desc, region_id limit 1""")[0]
    users = tmp_path / "users.yml"
    users.write_text(f"""
users:
  dir@example.com: {{role: regional_director, regions: [{region}]}}
pii_roles: [leadership]
""", encoding="utf-8")
    monkeypatch.setenv("RAPPORT_USERS", str(users))
    monkeypatch.setenv("RAPPORT_AUDIT_LOG", str(tmp_path / "audit.log"))
    monkeypatch.setenv("RAPPORT_WAREHOUSE", str(built_warehouse))
    monkeypatch.setenv("RAPPORT_AS_USER", "dir@example.com")
    return region


def _figures(at: AppTest) -> list[dict]:
    return [json.loads(c.proto.spec) for c in at.get("plotly_chart")]


def test_org_chart_opens_first_with_its_legend_and_initials_only(director, built_warehouse):
    at = AppTest.from_file(APP, default_timeout=TIMEOUT).run()
    at.switch_page("pages/power_map.py").run()
    assert not at.exception and not at.error, [e.value for e in at.exception]
    (figure,) = _figures(at)  # only the open view is drawn
    legend = {t.get("name") for t in figure["data"] if t.get("name")}
    assert legend >= LEGEND, legend
    account_id = at.selectbox(key="pm_account").value
    names = [r[0] for r in _marts(built_warehouse, f"""
        select full_name from marts.fct_power_map where account_id = '{account_id}'""")]
    lines = _marts(built_warehouse, f"""
        select count(*) from marts.fct_power_map
        where account_id = '{account_id}' and manager_contact_id is not null""")[0][0]
    text = json.dumps(figure, ensure_ascii=False)
    assert names and not [n for n in names if n in text]  # no full name in the chart
    boxes = next(t for t in figure["data"] if t.get("mode") == "text")["text"]
    assert all(b.startswith("<b>") for b in boxes)
    shown = [b.split("</b>")[0][3:] for b in boxes if "nobody holds it" not in b]
    assert len(shown) == len(names)
    assert all(all(part.endswith(".") for part in n.split()) for n in shown), shown[:3]
    # the generator's reporting tree: the lines are drawn (one segment of 5 points each)
    drawn = [t for t in figure["data"] if t.get("mode") == "lines"]
    assert lines > 0 and drawn and len(drawn[0]["x"]) >= 5
    table = at.dataframe[-1].value
    assert "reports_to" in table.columns and table["contact_name"].str.contains(
        r"^(?:\S\.\s?)+$").all()


def test_each_view_draws_only_its_own_figure(director):
    at = AppTest.from_file(APP, default_timeout=TIMEOUT).run()
    at.switch_page("pages/power_map.py").run()
    at.segmented_control(key="pm_view").set_value("Role x attitude").run()
    assert not at.exception and not at.error
    (figure,) = _figures(at)
    assert figure["layout"]["yaxis"]["ticktext"][0] == "not assessed"
    names = next(t for t in figure["data"] if t.get("mode") == "text")["text"]
    assert names and all("." in n for n in names)  # initials beside the markers
    at.segmented_control(key="pm_view").set_value("Fishbone").run()
    assert not at.exception and not at.error
    assert len(_figures(at)) <= 1

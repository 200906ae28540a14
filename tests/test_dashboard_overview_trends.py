"""The Overview's trends under AppTest on a real built warehouse: results
against target by quarter (one row per quarter up to the chosen one in the default table
view, one x per quarter in the chart view of "Show charts"), the same quarter a year
back beside the previous quarter (revenue / revenue_prior_year - 1 from the mart, or n/a),
and the split by region of the chosen quarter (the mart's rows; a director sees only their
region)."""

from __future__ import annotations

import json
import math
import sys
from pathlib import Path

import duckdb
import pytest
from streamlit.testing.v1 import AppTest

from rapport.paths import DASHBOARD_DIR
from rapport.serving.queries.overview import TREND_QUARTERS

sys.path.insert(0, str(DASHBOARD_DIR))
from ui import fmt

APP = str(DASHBOARD_DIR / "app.py")
TIMEOUT = 120


def _rows(path: Path, sql: str, params=()) -> list[tuple]:
    with duckdb.connect(str(path), read_only=True) as con:
        return con.execute(sql, list(params)).fetchall()


def _quarters(path: Path) -> list[tuple[int, int]]:
    return _rows(path, "select distinct year, quarter from marts.fct_region_performance "
                       "order by year, quarter")


def _open(quarter: tuple[int, int] | None = None, *, charts: bool = False) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=TIMEOUT).run()
    if quarter is not None:
        at.sidebar.selectbox(key="filter_quarter").set_value(tuple(quarter)).run()
    if charts:  # the chart view ("Show charts"); the default view has tables only
        at.toggle(key="overview_charts").set_value(True).run()
    assert not at.exception, [e.value for e in at.exception]
    assert not at.error, [e.value for e in at.error]
    return at


def _chosen(at: AppTest) -> tuple[int, int]:
    return tuple(at.sidebar.selectbox(key="filter_quarter").value)


def _region_table(at: AppTest):
    frames = [d.value for d in at.dataframe if "revenue_vs_year_ago_pct" in d.value.columns]
    assert len(frames) == 1, [list(d.value.columns) for d in at.dataframe]
    return frames[0]


def _trend_table(at: AppTest):
    frames = [d.value for d in at.dataframe if "quarter_label" in d.value.columns]
    assert len(frames) == 1, [list(d.value.columns) for d in at.dataframe]
    return frames[0]


def _trend_chart(at: AppTest) -> dict:
    for element in at.get("plotly_chart"):
        spec = json.loads(element.proto.spec)
        if "against target" in json.dumps(spec.get("layout", {}).get("title", "")):
            return spec
    raise AssertionError("no results-by-quarter chart")


def _year_ago_caption(at: AppTest, year: int, quarter: int) -> str:
    label = f"vs {fmt.quarter_label(year - 1, quarter)} (same quarter last year)"
    found = [c.value for c in at.caption if c.value.startswith(label)]
    assert len(found) == 1, [c.value for c in at.caption]
    return found[0]


def _expected_split(path: Path, year: int, quarter: int, regions=None) -> dict[str, dict]:
    rows = _rows(path, """
        select region_id, revenue, profit, revenue_per_head, revenue_target_completion,
            revenue_prior_year, yoy_window_complete
        from marts.fct_region_performance where year = ? and quarter = ?""", (year, quarter))
    names = dict(_rows(path, "select region_id, max(region_name) from marts.dim_reps "
                             "group by region_id"))
    return {names.get(r[0], r[0]): {
        "revenue": r[1], "profit": r[2], "per_head": r[3], "completion": r[4],
        "yoy": r[1] / r[5] - 1 if r[6] and r[5] else None,
    } for r in rows if regions is None or r[0] in regions}


def _pct_cell(value) -> float | None:
    """A percent cell as the table holds it: a number 0-100, or text ('12.3%', 'n/a')
    when the column has a gap (fmt.readable)."""
    if isinstance(value, str):
        return None if value == fmt.NA else float(value.rstrip("%"))
    return None if math.isnan(value) else float(value)  # NaN: a gap


def _money_cell(value) -> float:
    assert not isinstance(value, str), value
    return float(value)


def _check_split(table, expected: dict[str, dict]) -> None:
    by_name = {row["region_name"]: row for row in table.to_dict("records")}
    assert set(by_name) == set(expected)
    revenue, profit, per_head = "revenue", "profit", "revenue_per_head"
    for name, want in expected.items():
        row = by_name[name]
        assert _money_cell(row[revenue]) == pytest.approx(want["revenue"]), name
        assert _money_cell(row[profit]) == pytest.approx(want["profit"]), name
        assert _money_cell(row[per_head]) == pytest.approx(want["per_head"]), name
        for column, key in (("revenue_target_completion_pct", "completion"),
                            ("revenue_vs_year_ago_pct", "yoy")):
            shown = _pct_cell(row[column])
            if want[key] is None:
                assert shown is None, (name, column, row[column])
            else:
                assert shown == pytest.approx(100 * want[key], abs=0.051), (name, column)


def test_region_split_equals_the_marts_rows_of_the_chosen_quarter(warehouse_env):
    at = _open()
    year, quarter = _chosen(at)
    _check_split(_region_table(at), _expected_split(warehouse_env, year, quarter))


def test_the_chart_has_one_x_per_quarter_up_to_the_chosen_one(warehouse_env):
    quarters = _quarters(warehouse_env)
    assert len(quarters) >= 3
    for chosen in (quarters[-1], quarters[len(quarters) // 2]):
        at = _open(chosen, charts=True)
        spec = _trend_chart(at)
        up_to = [yq for yq in quarters if yq <= chosen][-TREND_QUARTERS:]
        labels = [fmt.quarter_label(*yq) for yq in up_to]
        bars = [t for t in spec["data"] if t["type"] == "bar"]
        targets = [t for t in spec["data"] if t["type"] == "scatter"]
        assert bars and targets, "bars for actuals, a line for the target"
        for trace in bars + targets:
            assert list(trace["x"]) == labels, trace.get("name")
        revenue = next(t for t in bars if t["name"] == "Revenue")
        totals = {(y, q): v for y, q, v in _rows(warehouse_env, """
            select year, quarter, sum(revenue) from marts.fct_region_performance
            group by 1, 2""")}
        assert revenue["y"] == pytest.approx([totals[yq] for yq in up_to])


def test_the_default_table_has_one_row_per_quarter_with_the_charts_numbers(warehouse_env):
    """The default view draws no chart: the quarter table holds what the chart shows (the
    actuals, the targets, actual / target as a bar), from the same query, per quarter."""
    quarters = _quarters(warehouse_env)
    totals = {(y, q): (rev, prof, rev_t, prof_t, rev_done, prof_done)
              for y, q, rev, prof, rev_t, prof_t, rev_done, prof_done in _rows(
                  warehouse_env, """
        select year, quarter, sum(revenue), sum(profit), sum(revenue_target),
            sum(profit_target),
            sum(case when revenue_target is not null then revenue end)
                / nullif(sum(revenue_target), 0),
            sum(case when profit_target is not null then profit end)
                / nullif(sum(profit_target), 0)
        from marts.fct_region_performance group by 1, 2""")}
    for chosen in (quarters[-1], quarters[len(quarters) // 2]):
        at = _open(chosen)
        assert not at.get("plotly_chart"), "the default view draws no plotly chart"
        table = _trend_table(at)
        up_to = [yq for yq in quarters if yq <= chosen][-TREND_QUARTERS:]
        assert list(table["quarter_label"]) == [fmt.quarter_label(*yq) for yq in up_to]
        for row, yq in zip(table.to_dict("records"), up_to, strict=True):
            rev, prof, rev_t, prof_t, rev_done, prof_done = totals[yq]
            assert _money_cell(row["revenue"]) == pytest.approx(rev), yq
            assert _money_cell(row["profit"]) == pytest.approx(prof), yq
            for column, want in (("revenue_target", rev_t), ("profit_target", prof_t)):
                shown = row[column]
                if want is None:
                    assert shown == fmt.NA, (yq, column, shown)
                elif isinstance(shown, str):  # the column has a gap: text (fmt.readable)
                    assert shown == fmt.money(want), (yq, column)
                else:
                    assert float(shown) == pytest.approx(want), (yq, column)
            for column, want in (("revenue_target_completion_pct", rev_done),
                                 ("profit_target_completion_pct", prof_done)):
                shown = _pct_cell(row[column])
                if want is None:
                    assert shown is None, (yq, column, row[column])
                else:
                    assert shown == pytest.approx(100 * want, abs=0.051), (yq, column)


def test_year_ago_comparison_is_the_marts_growth_or_says_n_a(warehouse_env):
    quarters = _quarters(warehouse_env)
    latest, first = quarters[-1], quarters[0]
    rows = _rows(warehouse_env, """
        select sum(revenue), sum(revenue_prior_year), bool_and(yoy_window_complete)
        from marts.fct_region_performance where year = ? and quarter = ?""", latest)
    revenue, prior, complete = rows[0]
    assert complete and prior, "the test warehouse has a whole year back for its latest quarter"
    at = _open()
    assert _chosen(at) == tuple(latest)
    caption = _year_ago_caption(at, *latest)
    assert f"revenue {100 * (revenue / prior - 1):+.1f}%" in caption, caption

    # the first quarter of data has nothing a year back
    assert _rows(warehouse_env, """
        select count(*) from marts.fct_region_performance
        where year = ? and quarter = ? and yoy_window_complete""", first)[0][0] == 0
    at = _open(first)
    caption = _year_ago_caption(at, *first)
    assert caption.endswith(f"{fmt.NA}: no data a year back."), caption
    table = _region_table(at)
    assert all(_pct_cell(v) is None for v in table["revenue_vs_year_ago_pct"]), table


def test_a_director_sees_only_their_region_in_the_split(warehouse_env, tmp_path, monkeypatch):
    region, name = _rows(warehouse_env, """
        select region_id, max(region_name) from marts.dim_reps
        where region_id in (select region_id from marts.fct_region_performance)
        group by region_id order by region_id limit 1""")[0]
    users = tmp_path / "users.yml"
    users.write_text(f"""
users:
  dir@example.com: {{role: regional_director, regions: [{region}]}}
""", encoding="utf-8")
    monkeypatch.setenv("RAPPORT_USERS", str(users))
    monkeypatch.setenv("RAPPORT_AUDIT_LOG", str(tmp_path / "audit" / "audit.log"))
    monkeypatch.setenv("RAPPORT_AS_USER", "dir@example.com")
    at = _open()
    year, quarter = _chosen(at)
    table = _region_table(at)
    assert list(table["region_name"]) == [name]
    _check_split(table, _expected_split(warehouse_env, year, quarter, regions={region}))
    own = {(y, q): v for y, q, v in _rows(warehouse_env, """
        select year, quarter, revenue from marts.fct_region_performance
        where region_id = ?""", (region,))}
    # the quarter table, and the chart of the chart view, are the director's region's too
    assert _money_cell(_trend_table(at)["revenue"].iloc[-1]) == pytest.approx(
        own[(year, quarter)])
    at.toggle(key="overview_charts").set_value(True).run()
    spec = _trend_chart(at)
    revenue = next(t for t in spec["data"] if t["type"] == "bar" and t["name"] == "Revenue")
    assert revenue["y"][-1] == pytest.approx(own[(year, quarter)])

"""The Scorecards page: a director can say from the page alone why
each rep ranks where he does.

- dimension 1 by component (value, 0-100 score, weight, points) as fct_rep_scorecard scores
  it: a hand-worked example (the North and South examples of docs/metrics-scorecard.md) on a
  tiny warehouse, and every rep of the built test warehouse recomputed from
  fct_rep_performance and the seed;
- the rep detail's "total = w1 x dimension 1 + w2 x dimension 2" with the mart's numbers;
- a rep below the ranking minimum reads "not ranked: n of 9 scored";
- the previous quarter's rank is the mart's rank of that quarter;
- the key-action heatmap's axis carries the actions' names, not their numbers;
- a director sees only their region's reps and, beside their region, the company;
- only the chosen view's queries run.
"""

from __future__ import annotations

import csv
import io
import json
import math
import re
import sys
from pathlib import Path

import duckdb
import polars as pl
import pytest
from streamlit.testing.v1 import AppTest
from support.apptest import record_downloads

from rapport.paths import DASHBOARD_DIR, PROJECT_ROOT
from rapport.serving import Reader, Scope
from rapport.serving import queries as q

sys.path.insert(0, str(DASHBOARD_DIR))
from ui import fmt

APP = str(DASHBOARD_DIR / "app.py")
TIMEOUT = 120
SEEDS = PROJECT_ROOT / "transforms" / "seeds"
NINE = 9


def _marts(path: Path, sql: str, params: list | None = None) -> pl.DataFrame:
    with duckdb.connect(str(path), read_only=True) as con:
        cur = con.execute(sql, params or [])
        rows = cur.fetchall()
        return pl.DataFrame(rows, schema=[d[0] for d in cur.description], orient="row",
                            infer_schema_length=None)


def _open(*, year: int | None = None, quarter: int | None = None, region: str | None = None,
          view: str | None = None) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=TIMEOUT).run()
    at.switch_page("pages/scorecards.py").run()
    if year is not None:
        at.sidebar.selectbox(key="filter_quarter").set_value((year, quarter)).run()
    if region is not None:
        at.selectbox(key="sc_region").set_value(region).run()
    if view is not None:
        at.segmented_control(key="sc_view").set_value(view).run()
    _assert_clean(at)
    return at


def _assert_clean(at: AppTest) -> None:
    assert not at.exception, [e.value for e in at.exception]
    assert not at.error, [e.value for e in at.error]


def _as_written(markdown: str) -> str:
    """Undo fmt.plain's escapes, so that a value is found as it was written."""
    return re.sub(r"\\(.)", r"\1", markdown).replace("\u2060", "")


def _said(at: AppTest) -> str:
    parts = [str(e.value) for kind in ("markdown", "caption", "info") for e in at.get(kind)]
    return _as_written("\n".join(parts))


def _frame(at: AppTest, column: str) -> pl.DataFrame:
    return next(pl.from_pandas(d.value) for d in at.dataframe if column in d.value.columns)


def _missing(value: object) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def _latest(path: Path) -> tuple[int, int]:
    row = _marts(path, "select year, quarter from marts.fct_rep_scorecard "
                       "order by year desc, quarter desc limit 1").row(0)
    return int(row[0]), int(row[1])


# --- dimension 1 by component: the hand-worked example ------------------------------------

MEASURES = ("revenue", "profit", "revenue_per_head", "profit_per_head", "revenue_yoy_growth",
            "profit_yoy_growth", "revenue_target_completion", "profit_target_completion",
            "cash_collected")


@pytest.fixture()
def tiny(tmp_path: Path) -> Path:
    """The docs' examples (Q2 2025): North (mature) Ada and Ben, South (new) Dee and Eli, with
    the seed's dimension-1 components."""
    path = tmp_path / "tiny.duckdb"
    reps = [  # rep, region, market type, measures
        ("P1", "North", "mature", {"profit_per_head": 42_000.0, "revenue_target_completion": 0.8,
                                   "profit_target_completion": 1.05}),
        ("P2", "North", "mature", {"profit_per_head": 48_000.0, "revenue_target_completion": 1.2,
                                   "profit_target_completion": 0.8}),
        ("P4", "South", "new", {"revenue_yoy_growth": 0.6, "revenue_per_head": 80_000.0}),
        ("P5", "South", "new", {"revenue_yoy_growth": None, "revenue_per_head": 40_000.0}),
    ]
    with duckdb.connect(str(path)) as con:
        con.execute("create schema marts")
        con.execute("create schema config")
        con.execute("create table config.scorecard_dimension1_components as "
                    "select * from read_csv(?, header = true)",
                    [str(SEEDS / "scorecard_dimension1_components.csv")])
        con.execute("create table marts.fct_rep_scorecard (rep_id varchar, region_id varchar, "
                    "year integer, quarter integer, market_type varchar)")
        con.execute(f"create table marts.fct_rep_performance (rep_id varchar, year integer, "
                    f"quarter integer, {', '.join(f'{m} double' for m in MEASURES)})")
        for rep, region, market, measures in reps:
            con.execute("insert into marts.fct_rep_scorecard values (?, ?, 2025, 2, ?)",
                        [rep, region, market])
            con.execute(f"insert into marts.fct_rep_performance values (?, 2025, 2, "
                        f"{', '.join('?' for _ in MEASURES)})",
                        [rep, *[measures.get(m) for m in MEASURES]])
    return path


def test_dimension1_components_work_out_the_docs_examples(tiny):
    with Reader(tiny) as reader:
        north = q.dimension1_components(reader, Scope.all_access(), "North", 2025, 2)
        south = q.dimension1_components(reader, Scope.regions(["South"]), "South", 2025, 2)
        hidden = q.dimension1_components(reader, Scope.regions(["South"]), "North", 2025, 2)
    assert hidden.is_empty()  # a director of South sees nothing of North

    def rows(df: pl.DataFrame, rep: str) -> dict[str, tuple]:
        return {r["component"]: (r["weight"], r["component_score"], r["weight_used"],
                                 r["points"], r["reps_below"], r["reps_with_value"])
                for r in df.filter(pl.col("rep_id") == rep).iter_rows(named=True)}

    # Ada: profit per head 42,000 < Ben's 48,000: percentile 0 of 2; revenue completion 80%
    # -> 80; profit completion 105% -> 100 (capped). Dimension 1 = 0 + 20 + 25 = 45.
    assert rows(north, "P1") == {
        "profit_per_head": (0.5, 0.0, 0.5, 0.0, 0, 2),
        "revenue_target_completion": (0.25, 80.0, 0.25, 20.0, 0, 2),
        "profit_target_completion": (0.25, 100.0, 0.25, 25.0, 1, 2),
    }
    # Ben: 100 x 0.5 + 100 x 0.25 + 80 x 0.25 = 95.
    assert sum(v[3] for v in rows(north, "P2").values()) == pytest.approx(95.0)
    # Dee: the only rep with a growth figure scores 50 on it; per head 80,000 > 40,000: 100.
    # 0.5 x 50 + 0.5 x 100 = 75.
    dee = rows(south, "P4")
    assert dee["revenue_yoy_growth"][1:4] == (50.0, 0.5, 25.0)
    assert dee["revenue_per_head"][1:4] == (100.0, 0.5, 50.0)
    # Eli: no growth figure (hired less than a year ago): not scored, per head weighs all.
    eli = rows(south, "P5")
    assert eli["revenue_yoy_growth"][1:4] == (None, None, None)
    assert eli["revenue_per_head"][1:4] == (0.0, 1.0, 0.0)


# --- dimension 1 and the total on the built warehouse -------------------------------------

def _expected_components(path: Path, region: str, year: int, quarter: int) -> pl.DataFrame:
    """Recomputed here from fct_rep_performance and the seed (the docs' rules), per rep and
    component: value, score, weight."""
    reps = _marts(path, """
        select card.rep_id, card.market_type, perf.* exclude (rep_id, market_type)
        from marts.fct_rep_scorecard as card
        left join marts.fct_rep_performance as perf
            on perf.rep_id = card.rep_id and perf.year = card.year
            and perf.quarter = card.quarter
        where card.region_id = ? and card.year = ? and card.quarter = ?""",
                  [region, year, quarter])
    seed = pl.read_csv(SEEDS / "scorecard_dimension1_components.csv")
    out = []
    for c in seed.filter(pl.col("market_type") == reps["market_type"][0]).iter_rows(named=True):
        values = dict(zip(reps["rep_id"], reps[c["component"]], strict=True))
        known = [v for v in values.values() if v is not None]
        for rep, v in values.items():
            if v is None:
                score = None
            elif c["scaling"] == "percentile_in_region":
                lower = sum(1 for o in known if o < v)
                equal = sum(1 for o in known if o == v) - 1
                score = 50.0 if len(known) == 1 else 100 * (lower + equal / 2) / (len(known) - 1)
            else:
                score = 100 * min(max(v, 0), c["cap"]) / c["cap"]
            out.append({"rep_id": rep, "component": c["component"], "value": v,
                        "score": score, "weight": c["weight"], "scaling": c["scaling"],
                        "reps_with_value": len(known)})
    return pl.DataFrame(out)


def _region_with_components(path: Path, year: int, quarter: int) -> str:
    return _marts(path, """
        select region_id from marts.fct_rep_scorecard
        where year = ? and quarter = ? and market_type in ('mature', 'new')
        group by region_id order by count(*) desc, region_id limit 1""",
                  [year, quarter]).item()


def test_rep_detail_shows_each_component_and_the_total_arithmetic_of_the_mart(warehouse_env):
    year, quarter = _latest(warehouse_env)
    region = _region_with_components(warehouse_env, year, quarter)
    card = _marts(warehouse_env, """
        select * from marts.fct_rep_scorecard where region_id = ? and year = ? and quarter = ?
        """, [region, year, quarter])
    expected = _expected_components(warehouse_env, region, year, quarter)
    assert card.height >= 2 and expected.height >= 2
    at = _open(region=region, view="Rep detail")
    for mart in card.iter_rows(named=True):
        at.selectbox(key="sc_rep").set_value(mart["rep_id"]).run()
        _assert_clean(at)
        shown = _frame(at, "component_label")
        mine = expected.filter(pl.col("rep_id") == mart["rep_id"])
        assert sorted(shown["component"].to_list()) == sorted(mine["component"].to_list())
        for e in mine.iter_rows(named=True):
            s = shown.filter(pl.col("component") == e["component"]).row(0, named=True)
            assert s["weight"] == pytest.approx(e["weight"])
            if e["score"] is None:
                assert _missing(s["component_score"]) and _missing(s["points"])
                continue
            assert s["component_score"] == pytest.approx(e["score"], abs=1e-4)
            v = e["value"]
            text = (f"{100 * v:+.1f}%" if e["component"].endswith("_growth")  # one style
                    else f"{100 * v:.1f}%" if e["component"].endswith("_completion")
                    else fmt.money(v))
            assert s["value"] == text, (e["component"], s["value"], text)
            if e["scaling"] == "percentile_in_region":
                assert (f"percentile {e['score']:.0f} of {e['reps_with_value']} reps in "
                        "the region") in s["how"]
        # the points add up to the mart's dimension 1
        if mart["dimension1_score"] is not None:
            assert shown["points"].sum() == pytest.approx(mart["dimension1_score"], abs=1e-4)
        # total = w1 x dimension 1 + w2 x dimension 2, with the mart's numbers
        said = _said(at)
        d1, d2, total = mart["dimension1_score"], mart["dimension2_score"], mart["total_score"]
        w1, w2 = mart["weight_dimension1"], mart["weight_dimension2"]
        if d1 is not None and d2 is not None:
            line = (f"**Total {fmt.score(total)}** = {w1:.2f} × {fmt.score(d1)} (dimension 1)"
                    f" + {w2:.2f} × {fmt.score(d2)} (dimension 2) = {fmt.score(w1 * d1)} + "
                    f"{fmt.score(w2 * d2)}")
            assert line in said, (line, said)
            assert w1 * d1 + w2 * d2 == pytest.approx(total, abs=1e-4)
        heading = (f"rank **{mart['rank_in_region']} of {card['ranked'].sum()}**"
                   if mart["ranked"] else
                   f"not ranked: {mart['actions_scored']} of {NINE} scored")
        assert heading.lower() in said.lower(), heading


def test_a_rep_below_the_minimum_reads_not_ranked(warehouse_env):
    unranked = _marts(warehouse_env, """
        select card.*, reps.rep_name from marts.fct_rep_scorecard as card
        inner join marts.dim_reps as reps using (rep_id)
        where not card.ranked and card.total_score is not null
        order by card.year desc, card.quarter desc, card.rep_id limit 1""")
    assert unranked.height == 1, "the test warehouse has a rep below the ranking minimum"
    u = unranked.row(0, named=True)
    words = f"not ranked: {u['actions_scored']} of {NINE} scored"
    at = _open(year=u["year"], quarter=u["quarter"], region=u["region_id"])
    assert f"{u['rep_name']}: {words}" in _said(at)
    ranking = _frame(at, "scored")
    row = ranking.filter(pl.col("rep_id") == u["rep_id"]).row(0, named=True)
    assert row["rank"] == "not ranked" and _missing(row["rank_in_region"])
    assert row["scored"] == f"{u['actions_scored']} of {NINE}"
    # the heatmap row says it too
    assert any(f"{u['rep_name']} (not ranked: {u['actions_scored']} of {NINE})" in s
               for s in _chart_strings(at))
    at.segmented_control(key="sc_view").set_value("Rep detail").run()
    at.selectbox(key="sc_rep").set_value(u["rep_id"]).run()
    _assert_clean(at)
    assert words in _said(at)


def test_previous_rank_is_the_marts_rank_of_the_previous_quarter(warehouse_env):
    year, quarter = _latest(warehouse_env)
    py, pq = q.previous_quarter(year, quarter)
    region = _region_with_components(warehouse_env, year, quarter)
    both = _marts(warehouse_env, """
        select now.rep_id, now.total_score - before.total_score as change,
            before.rank_in_region as previous_rank
        from marts.fct_rep_scorecard as now
        left join marts.fct_rep_scorecard as before
            on before.rep_id = now.rep_id and before.region_id = now.region_id
            and before.year = ? and before.quarter = ?
        where now.region_id = ? and now.year = ? and now.quarter = ?""",
                  [py, pq, region, year, quarter])
    assert both["previous_rank"].drop_nulls().len() >= 2
    at = _open(region=region)
    shown = _frame(at, "previous_rank_in_region")
    for e in both.iter_rows(named=True):
        s = shown.filter(pl.col("rep_id") == e["rep_id"]).row(0, named=True)
        if e["previous_rank"] is None:
            assert _missing(s["previous_rank_in_region"])
        else:
            assert s["previous_rank_in_region"] == e["previous_rank"]
            assert s["total_change"] == pytest.approx(e["change"], abs=1e-6)


def _chart_strings(at: AppTest) -> list[str]:
    def strings(spec: object) -> list[str]:
        if isinstance(spec, str):
            return [spec]
        if isinstance(spec, dict):
            return [s for v in spec.values() for s in strings(v)]
        if isinstance(spec, list):
            return [s for v in spec for s in strings(v)]
        return []
    return [s for c in at.get("plotly_chart") for s in strings(json.loads(c.proto.spec))]


def _heatmap(at: AppTest) -> dict:
    for c in at.get("plotly_chart"):
        spec = json.loads(c.proto.spec)
        if "Nine key actions" in json.dumps(spec["layout"].get("title")):
            return spec
    raise AssertionError("no key-action heatmap")


def test_heatmap_axis_carries_action_names_and_marks_cells_not_scored(warehouse_env):
    year, quarter = _latest(warehouse_env)
    region = _region_with_components(warehouse_env, year, quarter)
    cells = _marts(warehouse_env, """
        select action_no, action_name, count(*) filter (where score is null) as not_scored
        from marts.fct_key_actions where region_id = ? and year = ? and quarter = ?
        group by action_no, action_name order by action_no""", [region, year, quarter])
    at = _open(region=region)
    spec = _heatmap(at)
    xs = spec["data"][-1]["x"]
    actions = xs[:NINE]
    assert len(actions) == NINE and xs[NINE:] == ["Dim 2<br>(mean)"]
    for label, (no, name) in zip(actions, cells.select("action_no", "action_name").rows(),
                                 strict=True):
        words = label.replace("<br>", " ")
        assert words.startswith(f"{no} ") and re.search("[A-Za-z]{3}", words), label
        assert not words.strip().isdigit()
    # the full name on hover
    hover = json.dumps(spec["data"])
    for no, name in cells.select("action_no", "action_name").rows():
        assert f"{no}. {name}" in hover
    # cells not scored: a grey layer that says so, with the reason on hover
    grey = spec["data"][0]
    flat = [t for row in grey["text"] for t in row]
    assert flat.count("not<br>scored") >= cells["not_scored"].sum()
    assert "not scored: " in json.dumps(grey["hovertext"])


# --- a director -----------------------------------------------------------------------------

@pytest.fixture()
def director(tmp_path: Path, monkeypatch, warehouse_env: Path) -> str:
    """A regional director of the region with the most reps on the latest scorecard."""
    year, quarter = _latest(warehouse_env)
    region = _region_with_components(warehouse_env, year, quarter)
    users = tmp_path / "users.yml"
    users.write_text("users:\n  dir@example.com: {role: regional_director, regions: ["
                     f"{region}]}}\n", encoding="utf-8")
    monkeypatch.setenv("RAPPORT_USERS", str(users))
    monkeypatch.setenv("RAPPORT_AUDIT_LOG", str(tmp_path / "audit.log"))
    monkeypatch.setenv("RAPPORT_AS_USER", "dir@example.com")
    return region


def test_a_director_sees_their_reps_and_the_company_beside_their_region(warehouse_env,
                                                                        director):
    year, quarter = _latest(warehouse_env)
    others = _marts(warehouse_env, """
        select distinct reps.rep_id, reps.rep_name, reps.region_name
        from marts.dim_reps as reps where reps.region_id <> ?""", [director])
    own = set(_marts(warehouse_env, "select rep_id from marts.fct_rep_scorecard where "
                     "region_id = ? and year = ? and quarter = ?",
                     [director, year, quarter])["rep_id"])
    at = _open()
    ranking = _frame(at, "scored")
    assert set(ranking["rep_id"]) == own
    at.segmented_control(key="sc_view").set_value("Region against region").run()
    _assert_clean(at)
    regions = _frame(at, "mean_total_score")
    company = _marts(warehouse_env, """
        select count(*) as regions, sum(fte) as fte, sum(revenue) / sum(fte) as per_head
        from marts.fct_region_performance where year = ? and quarter = ?""",
                     [year, quarter]).row(0, named=True)
    mean_total = _marts(warehouse_env, "select avg(total_score) from marts.fct_rep_scorecard "
                        "where year = ? and quarter = ?", [year, quarter]).item()
    label = f"Company (all {company['regions']} regions)"
    assert regions["region_name"].to_list()[-1] == label
    assert regions["region_id"].to_list()[:-1] == [director]
    bench = regions.filter(pl.col("region_name") == label).row(0, named=True)
    assert bench["fte"] == pytest.approx(company["fte"])
    assert bench["revenue_per_head"] == pytest.approx(company["per_head"])
    assert bench["mean_total_score"] == pytest.approx(mean_total)
    assert _missing(bench["best_total_score"])  # no rep's own figure
    shown = _said(at) + regions.write_csv() + "\n".join(_chart_strings(at))
    for value in set(others["rep_id"]) | set(others["rep_name"]) | set(others["region_name"]):
        if value and len(value) >= 4:
            assert value not in shown, value


# --- only the chosen view's queries run -----------------------------------------------------

VIEW_QUERIES = {
    "Ranking": {"scorecard", "dimension1_components", "region_fte_by_role", "key_actions"},
    "Rep detail": {"scorecard", "dimension1_components", "key_actions", "rep_performance"},
    "Region against region": {"region_comparison", "company_benchmark"},
}


def test_only_the_chosen_view_runs_its_queries(warehouse_env, monkeypatch):
    called: list[str] = []
    for name in set().union(*VIEW_QUERIES.values()):
        original = getattr(q, name)

        def wrapper(*args, _name=name, _original=original, **kwargs):
            called.append(_name)
            return _original(*args, **kwargs)

        monkeypatch.setattr(q, name, wrapper)
    at = _open()
    for view, expected in VIEW_QUERIES.items():
        called.clear()
        at.segmented_control(key="sc_view").set_value(view).run()
        _assert_clean(at)
        assert set(called) == expected, (view, sorted(set(called)))


# --- the formatting layer on Scorecards, Overview and Power map ---------
# The same check as tests/test_dashboard_formatting.py makes for Tiers, Health and Data
# quality: no None, nan or labelled code in a visible cell or header, one percent style, and
# the currency in every money header.

FORMATTED_VIEWS = {
    "pages/scorecards.py": ("sc_view", ["Ranking", "Rep detail", "Region against region"]),
    "pages/overview.py": (None, [None]),
    "pages/power_map.py": (None, [None]),
}
MONEY = ("revenue", "profit", "revenue_per_head", "profit_per_head", "revenue_ttm")


def _visible_tables(at: AppTest):
    """(visible columns, headers, configs, rows) of each table as the browser gets it."""
    for frame in at.dataframe:
        config = json.loads(frame.proto.columns or "{}")
        df = frame.value
        visible = list(frame.proto.column_order) or list(df.columns)
        headers = [(config.get(c) or {}).get("label") or c for c in visible]
        yield visible, headers, config, (df[visible].to_dict("records") if len(df) else [])


def _cells(value) -> list:
    if hasattr(value, "tolist") and not isinstance(value, str):
        value = value.tolist()
    if isinstance(value, list):
        return [v for item in value for v in _cells(item)]
    return [value]


def _each_view(page: str):
    at = AppTest.from_file(APP, default_timeout=TIMEOUT).run()
    at.switch_page(page).run()
    _assert_clean(at)
    key, views = FORMATTED_VIEWS[page]
    for view in views:
        if key is not None:
            at.segmented_control(key=key).set_value(view).run()
            _assert_clean(at)
        yield at, f"{page} / {view}"


@pytest.mark.parametrize("page", list(FORMATTED_VIEWS))
def test_no_none_nan_or_code_in_a_visible_cell_or_header(warehouse_env, page, monkeypatch,
                                                         tmp_path):
    config_file = tmp_path / "dashboard.yml"
    config_file.write_text("currency:\n  code: CHF\n  symbol: 'Fr.'\n", encoding="utf-8")
    monkeypatch.setenv(fmt.DASHBOARD_CONFIG_ENV, str(config_file))
    codes = {code for labels in fmt.code_labels().values() for code, label in labels.items()
             if "_" in code and label != code}
    seen = 0
    for at, where in _each_view(page):
        for metric in at.metric:
            assert metric.value not in ("None", "nan"), (where, metric.label)
            if "%" in metric.value:
                assert re.fullmatch(r"-?[\d,]+\.\d%", metric.value), (where, metric.label,
                                                                     metric.value)
        for visible, headers, config, rows in _visible_tables(at):
            seen += 1
            for column, header in zip(visible, headers, strict=True):
                assert "_" not in header, f"{where}: header {header!r}"
                spec = (config.get(column) or {}).get("type_config") or {}
                assert spec.get("format") != "percent", f"{where}: {column} as 'percent'"
                if str(spec.get("format") or "").endswith("%%"):
                    assert spec["format"] == fmt.PERCENT_FORMAT, (where, column)
                if column in MONEY:
                    assert header.endswith("(Fr.)"), (where, header)
                if spec.get("type") == "progress":  # a score bar: never the theme's red
                    assert (config[column].get("color") or "gray") != "red", (where, column)
            booleans = {c for c in visible
                        if ((config.get(c) or {}).get("type_config") or {}).get("type")
                        == "checkbox"}
            for row in rows:
                for column, value in row.items():
                    if column in booleans:
                        continue
                    for cell in _cells(value):
                        assert cell is not None and not (
                            isinstance(cell, float) and math.isnan(cell)), (
                            f"{where}: empty cell in {column!r}")
                        if isinstance(cell, str):
                            assert cell not in ("None", "nan", "NaN", "null"), (where, column)
                            assert cell not in codes, f"{where}: code {cell!r} in {column!r}"
    assert seen >= len(FORMATTED_VIEWS[page][1]), page  # not vacuous


def test_the_rankings_key_columns_fit_1280_pixels(warehouse_env):
    """The ranking's visible columns add up to what a 1280-pixel screen has beside the
    sidebar: 820 px of content in Streamlit's wide layout, less the table's borders."""
    at = _open()
    visible, _headers, config, _rows = next(t for t in _visible_tables(at) if "Scored" in t[1])
    widths = [(config.get(c) or {}).get("width") for c in visible]
    assert all(isinstance(w, int) for w in widths), dict(zip(visible, widths, strict=True))
    assert sum(widths) <= 812, sum(widths)


# --- Relationship health: a Power map button per account, and ?account= ---------------------

def _health(at: AppTest, account_id: str | None = None) -> AppTest:
    at.query_params.pop("account", None)
    if account_id is not None:
        at.query_params["account"] = account_id
    at.switch_page("pages/health.py").run()
    _assert_clean(at)
    return at


def test_a_health_row_opens_its_account_on_the_power_map(warehouse_env, monkeypatch):
    from streamlit.proto.Dataframe_pb2 import Dataframe

    made = record_downloads(monkeypatch)
    at = _health(AppTest.from_file(APP, default_timeout=TIMEOUT).run())
    table = next(d for d in at.dataframe if "open_map" in d.value.columns)
    # the row's open action: a cell of its own ("Power map ›"), a click selects it
    assert set(table.value["open_map"]) == {"Power map ›"}
    assert "open_map" in table.proto.column_order
    assert list(table.proto.selection_mode) == [Dataframe.SelectionMode.SINGLE_CELL]
    # The CSV: the rows shown (every account of the list, in its order), data columns only
    # under readable headers: no action column, no snake_case name.
    text = next(make for name, make in made if name.startswith("account_health_"))()
    names, *lines = csv.reader(io.StringIO(text.decode("utf-8")))
    assert "Power map ›" not in text.decode("utf-8") and "open_map" not in names
    assert not [n for n in names if re.fullmatch(r"[a-z0-9]+(_[a-z0-9]+)+", n)], names
    assert "Account ID" in names and "Health" in names and len(lines) == len(table.value)
    assert [line[names.index("Account ID")] for line in lines] == list(
        table.value["account_id"])
    mapped = set(_marts(warehouse_env, "select distinct account_id from marts.fct_power_map "
                                       "where decision_role is not null")["account_id"])
    row = next(r for _, r in table.value.iterrows() if r["account_id"] in mapped)
    # what the row's button leaves for the next run (its callback's work)
    at.session_state["_health_opening"] = row["account_id"]
    at.run()
    _assert_clean(at)
    assert [t.value for t in at.title] == ["Power map"]
    assert at.selectbox(key="pm_account").value == row["account_id"]
    assert at.query_params.get("account") == row["account_id"]


def test_health_opens_the_drill_down_on_the_account_of_the_url(warehouse_env):
    at = _health(AppTest.from_file(APP, default_timeout=TIMEOUT).run())
    first = at.dataframe[0].value["account_id"].iloc[0]
    wanted = next(a for a in at.dataframe[0].value["account_id"] if a != first)
    at = _health(AppTest.from_file(APP, default_timeout=TIMEOUT).run(), wanted)
    assert at.session_state["health_view"] == "Account drill-down"
    assert at.selectbox(key="health_account").value == wanted


def test_health_says_not_found_for_an_account_outside_the_scope(warehouse_env, monkeypatch,
                                                                tmp_path):
    regions = _marts(warehouse_env, "select region_id, account_id from marts.dim_accounts "
                                    "order by region_id, account_id")
    mine = regions["region_id"][0]
    theirs = regions.filter(pl.col("region_id") != mine)["account_id"][0]
    users = tmp_path / "users.yml"
    users.write_text(f"users:\n  dir@example.com: {{role: regional_director, "
                     f"regions: [{mine}]}}\n", encoding="utf-8")
    monkeypatch.setenv("RAPPORT_USERS", str(users))
    monkeypatch.setenv("RAPPORT_AS_USER", "dir@example.com")
    monkeypatch.setenv("RAPPORT_AUDIT_LOG", str(tmp_path / "audit.log"))
    for asked in (theirs, "NO-SUCH-ACCOUNT"):
        at = _health(AppTest.from_file(APP, default_timeout=TIMEOUT).run(), asked)
        said = " ".join(w.value for w in at.warning).replace("\\", "")
        assert "not found" in said, (asked, said)
        assert not at.dataframe and not at.metric and not at.get("plotly_chart"), asked
    # Non-vacuous: the leadership (every region) opens it in the drill-down.
    monkeypatch.delenv("RAPPORT_AS_USER")
    at = _health(AppTest.from_file(APP, default_timeout=TIMEOUT).run(), theirs)
    assert at.selectbox(key="health_account").value == theirs and not at.warning

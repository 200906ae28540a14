"""The dashboard's formatting layer (dashboard/ui/fmt.py) and its use on the Tiers,
Relationship health and Data quality pages.

Unit tests of fmt (labels read from the seeds and the contract, one percent style, the
currency of config/dashboard.yml, 'n/a' for gaps), then AppTest on the real built warehouse
(`built_warehouse`): every view of the three pages shows no 'None', 'nan' or labelled
snake_case code in a visible cell or header, one percent style, the currency on money, no
'fail' severity beside a passing check, one row per dbt test, the tier filter named in the
Tiers caption, the sidebar filters hidden on Data quality, and only the open view's queries
run (counted by wrapping the real query functions: the data is the warehouse's)."""

from __future__ import annotations

import csv
import json
import math
import re
import shutil
import sys
from collections import Counter
from pathlib import Path

import polars as pl
import pytest
from streamlit.testing.v1 import AppTest

from rapport.paths import DASHBOARD_DIR, SEEDS_DIR
from rapport.pipeline.checks.dbt_tests import STATUS as DBT_STATUS
from rapport.serving import queries as q

sys.path.insert(0, str(DASHBOARD_DIR))
from ui import fmt

APP = str(DASHBOARD_DIR / "app.py")
TIMEOUT = 120

# page -> (the key of its views, the views)
VIEWS = {
    "pages/tiers.py": ("tiers_view", ["Distribution", "Pareto curve", "Migration",
                                      "Accounts and scores"]),
    "pages/health.py": ("health_view", ["Accounts", "Account drill-down"]),
    "pages/data_quality.py": ("dq_view", ["Check results", "Quarantine",
                                          "Coverage and incomplete rows",
                                          "Freshness and build history"]),
}
# column groups of the wide tables (segmented controls): each is a different set of columns
COLUMN_GROUPS = {
    "pages/tiers.py": ("tiers_columns", ["Scores", "Rank, region and industry"]),
    "pages/health.py": ("health_columns", ["Parts and trend", "Coverage", "Concentration",
                                           "Region and industry"]),
}


# -- fmt on its own -------------------------------------------------------------------------

def _seed(name: str) -> list[dict[str, str]]:
    with (SEEDS_DIR / f"{name}.csv").open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def test_labels_come_from_the_seeds_and_the_contract():
    labels = fmt.code_labels()
    # a seed with a label column is the source, row for row
    assert labels["activity_type"] == {r["activity_type"]: r["label"]
                                       for r in _seed("activity_taxonomy")}
    assert fmt.code_label("activity_type", "office_visit_regular") == "Regular office visit"
    roles = {r["decision_role"]: r["role_name"] for r in _seed("role_influence_weights")}
    for code, name in roles.items():
        assert fmt.ROLE_LABELS[code] == f"{code} {name[0].lower()}{name[1:]}"
    assert set(labels["health_band"]) == {r["band"] for r in _seed("health_bands")}
    assert set(labels["market_type"]) == {r["market_type"] for r in _seed("market_type_weights")}
    assert fmt.code_label("market_type", "saline_alkali") == "Saline-alkali"
    # the contract's allowed values: every industry and evaluation group has a label
    from rapport.contract import contract

    for table, column, kind in (("accounts", "industry", "industry"),
                                ("contacts", "evaluation_group", "evaluation_group")):
        allowed = contract().tables[table].columns[column].allowed
        assert set(labels[kind]) == set(allowed)
        assert all("_" not in label for label in labels[kind].values())
    assert fmt.code_label("industry", "public_sector") == "Public sector"
    assert fmt.code_label("status", "not_applicable") == "Not applicable"
    # unknown codes in words, missing ones n/a
    assert fmt.code_label("industry", "deep_sea_mining") == "Deep sea mining"
    assert fmt.code_label("industry", None) == fmt.NA


def test_readable_labels_codes_and_writes_gaps_as_na():
    df = pl.DataFrame({"industry": ["public_sector", None], "health_band": ["weak", "strong"],
                       "note": [None, "kept"], "change": [1.25, None],
                       "account_id": ["A_1", "A_2"]})
    shown = fmt.readable(df, keep=("account_id",), formats={"change": fmt.signed})
    assert shown.to_dict(as_series=False) == {
        "industry": ["Public sector", "n/a"], "health_band": ["Weak", "Strong"],
        "note": ["n/a", "kept"], "change": ["+1.2", "n/a"], "account_id": ["A_1", "A_2"]}
    assert fmt.readable(df)["change"].to_list() == ["1.25", "n/a"]  # a plain format
    # a number column without gaps stays a number (sortable)
    assert fmt.readable(df.drop_nulls("change"))["change"].dtype == pl.Float64


def test_one_percent_style():
    assert fmt.PCT_DIGITS == 1 and fmt.PERCENT_FORMAT == "%.1f%%"
    assert fmt.pct(0.1867) == "18.7%" and fmt.pct(0.14) == "14.0%" and fmt.pct(None) == "n/a"
    shares = fmt.as_percent(pl.DataFrame({"a": [1], "breadth": [0.4531]}), "breadth")
    assert shares.columns == ["a", "breadth_pct"] and shares["breadth_pct"][0] == \
        pytest.approx(45.31)
    assert fmt.header("breadth_pct") == "Breadth %"


def test_money_carries_the_configured_currency(monkeypatch, tmp_path):
    config = tmp_path / "dashboard.yml"
    config.write_text("currency:\n  code: chf\n  symbol: 'Fr.'\n", encoding="utf-8")
    monkeypatch.setenv(fmt.DASHBOARD_CONFIG_ENV, str(config))
    assert fmt.currency() == fmt.Currency(code="CHF", symbol="Fr.")
    assert fmt.money(1_234_567) == "Fr.1.23 M" and fmt.money(-2500) == "-Fr.2.50 k"
    assert fmt.money_header("Revenue 12m") == "Revenue 12m (Fr.)"
    config.write_text("currency:\n  code: USD\n", encoding="utf-8")  # no symbol: the code
    assert fmt.money(45_600) == "45.6 k USD"
    config.write_text("currency:\n  code: dollars\n", encoding="utf-8")  # not ISO 4217
    assert fmt.money(12) == f"{fmt.NEUTRAL_CURRENCY}12"
    monkeypatch.setenv(fmt.DASHBOARD_CONFIG_ENV, str(tmp_path / "absent.yml"))
    assert fmt.money(1000) == "¤1.00 k"
    monkeypatch.delenv(fmt.DASHBOARD_CONFIG_ENV)
    assert fmt.currency().code == "EUR" and fmt.money(1000) == "€1.00 k"  # the project's file


def test_headers_are_words():
    for name in ("revenue_ttm", "top_rep_share", "rep_hhi", "has_exec_visit_12m",
                 "department_coverage_pct", "rank_in_population", "_source_file"):
        assert "_" not in fmt.header(name), name
    assert fmt.header("revenue_ttm") == "Revenue 12m"


# -- The pages on the built warehouse --------------------------------------------------------

@pytest.fixture()
def warehouse_env(monkeypatch, built_warehouse: Path) -> Path:
    monkeypatch.setenv("RAPPORT_WAREHOUSE", str(built_warehouse))
    return built_warehouse


def _open(page: str) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=TIMEOUT).run()
    at.switch_page(page).run()
    _clean(at, page)
    return at


def _clean(at: AppTest, where: str) -> None:
    assert not at.exception, f"{where}: {[e.value for e in at.exception]}"
    assert not at.error, f"{where}: {[e.value for e in at.error]}"


def _show(at: AppTest, key: str, value: str, where: str) -> None:
    at.session_state[key] = value
    at.run()
    _clean(at, f"{where} {value}")


def _table(frame) -> tuple[str, dict, list[str], list[str], list]:
    """(its columns, column configs, visible columns, visible headers, visible rows) of a
    table as the browser gets it: the header is the configured label, else the name."""
    config = json.loads(frame.proto.columns or "{}")
    df = frame.value
    visible = list(frame.proto.column_order) or list(df.columns)
    headers = [(config.get(c) or {}).get("label") or c for c in visible]
    rows = df[visible].to_dict("records") if len(df) else []
    return ",".join(map(str, df.columns))[:80], config, visible, headers, rows


def _tables(at: AppTest) -> list[tuple[str, dict, list[str], list[str], list]]:
    return [_table(frame) for frame in at.dataframe]


def _every_view(page: str):
    """Open the page, then each of its views (and each column group of a wide table);
    yield (AppTest, what is shown) after every change."""
    at = _open(page)
    key, views = VIEWS[page]
    for view in views:
        _show(at, key, view, page)
        yield at, f"{page} / {view}"
        group_key, groups = COLUMN_GROUPS.get(page, (None, []))
        if group_key and group_key in at.session_state:
            for group in groups[1:]:
                _show(at, group_key, group, f"{page} {view}")
                yield at, f"{page} / {view} / {group}"
            _show(at, group_key, groups[0], page)


def _labelled_codes() -> set[str]:
    """Codes written with underscores that have a label of their own: a cell showing one of
    these shows the code instead of the label."""
    return {code for labels in fmt.code_labels().values() for code, label in labels.items()
            if "_" in code and label != code}


def _cell_texts(value) -> list:
    if hasattr(value, "tolist") and not isinstance(value, str):
        value = value.tolist()
    if isinstance(value, list):
        return [v for item in value for v in _cell_texts(item)]
    return [value]


# Tables of source rows as the file had them, for the data team to find and fix at the
# source (quarantined samples, kept rows with a blank): their values are not relabelled
# (a code there is the file's text), but a gap still never reads 'None'.
RAW_ROWS = ("blank", "raw_values")


@pytest.mark.parametrize("page", list(VIEWS))
def test_no_none_nan_or_code_in_a_visible_cell_or_header(warehouse_env, page):
    codes = _labelled_codes()
    seen_tables = 0
    for at, where in _every_view(page):
        for frame in at.dataframe:
            key, config, visible, headers, rows = _table(frame)
            raw = bool(set(RAW_ROWS) & set(frame.value.columns))
            seen_tables += 1
            for header in headers:
                assert "_" not in header, f"{where}: header {header!r} ({key})"
            booleans = {c for c in visible
                        if ((config.get(c) or {}).get("type_config") or {}).get("type")
                        == "checkbox"}
            for row in rows:
                for column, value in row.items():
                    if column in booleans:
                        continue  # an unknown flag is an empty box, never 'None'
                    for cell in _cell_texts(value):
                        assert cell is not None and not (
                            isinstance(cell, float) and math.isnan(cell)), (
                            f"{where}: empty cell in {column!r} ({key})")
                        if isinstance(cell, str):
                            assert cell not in ("None", "nan", "NaN", "null"), (where, column)
                            assert raw or cell not in codes, (
                                f"{where}: code {cell!r} in {column!r}")
    assert seen_tables >= len(VIEWS[page][1]) - 1, page  # not vacuous


@pytest.mark.parametrize("page", list(VIEWS))
def test_percentages_have_one_style_and_money_its_currency(warehouse_env, page, monkeypatch,
                                                           tmp_path):
    config_file = tmp_path / "dashboard.yml"
    config_file.write_text("currency:\n  code: CHF\n  symbol: 'Fr.'\n", encoding="utf-8")
    monkeypatch.setenv(fmt.DASHBOARD_CONFIG_ENV, str(config_file))
    money_seen = False
    for at, where in _every_view(page):
        for metric in at.metric:
            if "%" in metric.value:
                assert re.fullmatch(r"-?[\d,]+\.\d%", metric.value), (where, metric.label,
                                                                     metric.value)
        for key, config, visible, headers, _ in _tables(at):
            for column, header in zip(visible, headers, strict=True):
                spec = (config.get(column) or {}).get("type_config") or {}
                if str(spec.get("format") or "").endswith("%%"):  # a percentage
                    assert spec["format"] == fmt.PERCENT_FORMAT, (where, column)
                assert spec.get("format") != "percent", f"{where}: {column} as 'percent'"
                if column.startswith("revenue_ttm"):
                    assert header.endswith("(Fr.)"), (where, header)
                    money_seen = True
    if page == "pages/tiers.py":
        assert money_seen, "the Tiers tables show revenue"


def test_data_quality_shows_no_failing_severity_beside_a_passing_check(warehouse_env):
    at = _open("pages/data_quality.py")
    frame = next(d for d in at.dataframe if "expectation" in d.value.columns)
    _key, _config, visible, headers, rows = _table(frame)
    assert "Severity" not in headers and "severity" not in visible
    assert "If it fails" in headers
    status = visible[headers.index("Status")]
    if_broken = visible[headers.index("If it fails")]
    assert rows
    for row in rows:
        assert row[if_broken] in ("blocks publishing", "warning only")
        shown = [str(c) for v in row.values() for c in _cell_texts(v)]
        if list(_cell_texts(row[status])) == ["Pass"]:
            assert "fail" not in shown, row


def test_data_quality_has_one_row_per_dbt_test(warehouse_env, monkeypatch, tmp_path):
    """One row per dbt test, read from the warehouse file alone (meta.dbt_tests, recorded at
    build time): a copy of the file without the build's folder shows them all; a warehouse
    built before meta.dbt_tests says they were not recorded, and shows no error."""
    import shutil

    import duckdb

    from rapport.serving import Reader, Scope
    from rapport.serving.builds import builds_folder

    with Reader(warehouse_env) as reader:
        build_id = q.build_info(reader, Scope.all_access())["build_id"]
    run_results = builds_folder(warehouse_env) / f"{build_id}.dbt" / "run_results.json"
    assert run_results.exists(), "the build keeps its dbt artefacts"
    results = json.loads(run_results.read_text(encoding="utf-8"))["results"]
    # every test and unit test, and any other node (model, seed) that failed or was skipped
    # (not an exposure: dbt reports it as a no-op)
    nodes = [r for r in results if r["unique_id"].split(".")[0] in ("test", "unit_test")
             or r["status"] in ("error", "fail", "runtime error", "skipped", "warn")]
    assert len([r for r in nodes if r["unique_id"].startswith("test.")]) > 100
    alone = tmp_path / "copied" / "rapport.duckdb"  # no builds/ folder beside it
    alone.parent.mkdir()
    shutil.copy(warehouse_env, alone)
    monkeypatch.setenv("RAPPORT_WAREHOUSE", str(alone))
    at = _open("pages/data_quality.py")
    shown = next(d.value for d in at.dataframe if "expectation" in d.value.columns)
    dbt = shown[shown["suite"].str.startswith("dbt")]
    assert len(dbt) == len(nodes)
    assert "dbt_build" not in set(dbt["expectation"])  # not one row for the whole of dbt
    assert Counter(dbt["status_code"]) == Counter(
        DBT_STATUS.get(r["status"], "error") for r in nodes)
    if not any(r["status"] != "pass" for r in nodes):
        assert set(dbt["status_code"]) == {"pass"}  # a good build reads all pass
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Checks pass"] == fmt.count((shown["status_code"] == "pass").sum())

    # a warehouse built before meta.dbt_tests: dbt's one row, and a word why
    with duckdb.connect(str(alone)) as con:
        con.execute("drop table meta.dbt_tests")
    at = _open("pages/data_quality.py")
    said = " ".join(c.value for c in at.caption)
    assert "dbt tests one by one: not recorded by this build" in said, said
    shown = next(d.value for d in at.dataframe if "expectation" in d.value.columns)
    assert len(shown[shown["suite"].str.startswith("dbt")]) >= 1


def test_quarantine_samples_show_raw_values_as_columns_and_withheld(monkeypatch, tmp_path,
                                                                    built_warehouse):
    """A role without personal data: the raw values of a quarantined contact are columns,
    its personal values read 'withheld'; a table of the pii list without masking is
    withheld as a whole (never 'None')."""
    import shutil

    import duckdb

    path = tmp_path / "rapport.duckdb"
    shutil.copy(built_warehouse, path)
    with duckdb.connect(str(path)) as con:
        con.execute("""insert into meta.dq_quarantine (build_id, table_name, source_file,
                row_number, raw_values, reasons, detail)
            select build_id, 'contacts', 'contacts.csv', 7, ?, 'unparseable,not_allowed', ?
            from meta.build_info""", [
            json.dumps({"contact_id": "C7", "full_name": "Ann Berg", "birthday": "31/12/1975",
                        "level": "boss", "email": None}),
            "unparseable:birthday=31/12/1975; not_allowed:level=boss"])
    users = tmp_path / "users.yml"
    users.write_text("users:\n  data@example.com: {role: data_team}\n", encoding="utf-8")
    monkeypatch.setenv("RAPPORT_USERS", str(users))
    monkeypatch.setenv("RAPPORT_AS_USER", "data@example.com")
    monkeypatch.setenv("RAPPORT_WAREHOUSE", str(path))
    at = _open("pages/data_quality.py")
    # opened on the view that needs attention: the quarantine
    assert at.session_state["dq_view"] == "Quarantine"
    samples = next(d for d in at.dataframe if "raw_values" in d.value.columns)
    _key, _config, visible, headers, rows = _table(samples)
    assert "raw_values" not in visible  # the JSON stays in the CSV only
    row = dict(zip(headers, rows[0].values(), strict=True))
    assert row["Full name"] == "withheld" and row["Birthday"] == "withheld"
    assert row["Level"] == "boss" and row["Contact ID"] == "C7" and row["Email"] == "(empty)"
    assert row["Reasons"] == "Unparseable, Not allowed"
    assert "Ann Berg" not in json.dumps(rows) and "31/12/1975" not in json.dumps(rows)


def test_tiers_caption_names_the_tier_filter(warehouse_env):
    at = _open("pages/tiers.py")
    assert not any("tier filter" in c.value for c in at.caption)
    at.sidebar.multiselect(key="filter_tiers").set_value(["S"]).run()
    _clean(at, "tiers with S")
    said = " ".join(c.value for c in at.caption).replace("\\", "")
    assert "tier filter: S only" in said and "every bar reads 100%" in said
    at.sidebar.multiselect(key="filter_tiers").set_value(["A", "S"]).run()
    said = " ".join(c.value for c in at.caption).replace("\\", "")
    assert "tier filter: S, A only" in said


def test_sidebar_filters_are_hidden_on_data_quality_and_kept(warehouse_env):
    at = _open("pages/tiers.py")
    at.sidebar.multiselect(key="filter_tiers").set_value(["S", "A"]).run()
    at.switch_page("pages/data_quality.py").run()
    _clean(at, "data quality")
    assert not [w for w in at.sidebar.multiselect if w.key == "filter_tiers"]
    assert any("do not apply" in i.value or "apply to the other pages" in i.value
               for i in at.sidebar.info)
    at.switch_page("pages/tiers.py").run()
    assert at.sidebar.multiselect(key="filter_tiers").value == ["S", "A"]


# -- Only the open view's queries run --------------------------------------------------------

# view -> the query functions that only that view runs
VIEW_QUERIES = {
    "pages/tiers.py": {
        "Distribution": {"tier_distribution"},
        "Pareto curve": {"pareto"},
        "Migration": {"tier_migration"},
        "Accounts and scores": {"accounts_by_tier"},
    },
    "pages/health.py": {
        "Accounts": {"health_trend"},
        "Account drill-down": {"account_health_history", "power_map", "account_contacts",
                               "account_activities", "account_activity_summary"},
    },
    "pages/data_quality.py": {  # check results and counts are the build's summary (always)
        "Check results": set(),
        "Quarantine": {"row_counts"},
        "Coverage and incomplete rows": {"incomplete_rows", "defaults_applied"},
        "Freshness and build history": {"freshness", "build_history"},
    },
}


@pytest.fixture()
def calls(monkeypatch) -> list[str]:
    """The names of the query functions called, in order: each function of
    rapport.serving.queries wrapped so that it records its name and runs as it is."""
    made: list[str] = []
    for name in q.__all__:
        real = getattr(q, name)
        if not callable(real) or isinstance(real, type):
            continue

        def spy(*args, _real=real, _name=name, **kwargs):
            made.append(_name)
            return _real(*args, **kwargs)

        monkeypatch.setattr(q, name, spy)
    return made


@pytest.mark.parametrize("page", list(VIEW_QUERIES))
def test_only_the_open_views_queries_run(warehouse_env, calls, page):
    key, views = VIEWS[page]
    at = _open(page)
    for view in views:
        calls.clear()
        _show(at, key, view, page)
        ran = set(calls)
        own = VIEW_QUERIES[page][view]
        others = set().union(*(v for name, v in VIEW_QUERIES[page].items() if name != view))
        assert own <= ran, f"{page} {view}: {sorted(own - ran)} did not run"
        assert not (others - own) & ran, f"{page} {view}: ran {sorted((others - own) & ran)}"


def test_help_texts_quote_the_seeds_not_fixed_numbers(tmp_path, monkeypatch):
    """The weights, windows and cut-offs in the help texts are read from the seed files: with
    a copy of the seeds where the data team changed some, the texts say the new values."""
    from ui import helptext

    from rapport.paths import TRANSFORMS_DIR

    seeds = tmp_path / "seeds"
    shutil.copytree(TRANSFORMS_DIR / "seeds", seeds)
    settings = (seeds / "relationship_score_settings.csv").read_text(encoding="utf-8")
    settings = settings.replace("health_key_weight,0.5,", "health_key_weight,0.6,").replace(
        "health_org_weight,0.25,", "health_org_weight,0.15,").replace(
        "general_window_days,90,", "general_window_days,60,")
    (seeds / "relationship_score_settings.csv").write_text(settings, encoding="utf-8")
    roles = (seeds / "role_influence_weights.csv").read_text(encoding="utf-8")
    (seeds / "role_influence_weights.csv").write_text(
        roles.replace("A,Approver,1.0,", "A,Approver,0.8,"), encoding="utf-8")
    monkeypatch.setattr(helptext, "TRANSFORMS_DIR", tmp_path)
    helptext._seed.cache_clear()
    try:
        assert helptext._health_formula() == "0.6 x key + 0.25 x general + 0.15 x org"
        assert helptext._role_weights().startswith("A 0.8, D 0.9")
        assert helptext.setting("general_window_days") == "60"
    finally:
        helptext._seed.cache_clear()
    # and the shipped texts carry the shipped seeds' values
    assert helptext.HEALTH_FORMULA == "0.5 x key + 0.25 x general + 0.25 x org"
    assert "A 1.0, D 0.9, S 0.6, E 0.5, I 0.3" in helptext.HELP["key_score"]

"""Pages follow coverage: on a warehouse whose meta.layers says relationship
health, power maps and profit are unavailable (an export of accounts, deals and reps only),
every page renders and says what is missing instead of showing 0 or an alert storm.

The warehouse is the shared built one, copied, with meta.coverage and meta.layers written as
the build writes them, the contact and activity marts emptied, and profit set to 0 (what a
build without margins computes)."""

from __future__ import annotations

import math
import shutil
import sys
from pathlib import Path

import duckdb
import pytest
from streamlit.testing.v1 import AppTest

from rapport.pages import PAGES as REGISTRY
from rapport.paths import DASHBOARD_DIR
from rapport.serving import Reader, Scope
from rapport.serving import queries as q

sys.path.insert(0, str(DASHBOARD_DIR))
from ui import fmt

APP = str(DASHBOARD_DIR / "app.py")
TIMEOUT = 120
PAGES = [f"pages/{page.id}.py" for page in REGISTRY]

LAYERS = [  # layer, available, needs, reason
    ("revenue", True, "deals", None),
    ("profit", False, "margins or costs on deals",
     "opportunities.margin_pct and opportunities.cost are empty on every row"),
    ("relationship_health", False, "interactions and contacts",
     "contacts and interactions have no rows"),
    ("activities", False, "interactions", "interactions has no rows"),
    ("power_map", False, "contacts", "contacts has no rows"),
    ("deal_power_map", False, "deal contacts (opportunity_contacts) and contacts",
     "contacts has no rows"),
    ("key_actions", True, "account strategies, relationship plans", None),
]
# table, column, table present, table rows, column present, filled rows
COVERAGE = [
    ("accounts", "account_id", True, 120, True, 120),
    ("accounts", "owner_rep_id", True, 120, True, 100),
    ("opportunities", "opportunity_id", True, 400, True, 400),
    ("opportunities", "account_id", True, 400, True, 340),
    ("opportunities", "amount", True, 400, True, 310),
    ("opportunities", "created_date", True, 400, True, 380),
    ("opportunities", "margin_pct", True, 400, False, 0),
    ("reps", "rep_id", True, 20, True, 20),
    ("contacts", "contact_id", False, 0, False, 0),
    ("interactions", "interaction_id", False, 0, False, 0),
    ("opportunity_contacts", "opportunity_id", False, 0, False, 0),
]
EMPTIED = ("dim_contacts", "fct_interactions", "fct_relationship_health", "fct_power_map",
           "fct_attitude_history", "fct_opportunity_power_map")


def make_partial(source: Path, target: Path) -> Path:
    """A copy of a built warehouse that looks like a core-tables-only build."""
    shutil.copy(source, target)
    with duckdb.connect(str(target)) as con:
        con.execute("create schema if not exists meta")
        con.execute("create or replace table meta.layers (layer varchar, available boolean, "
                    "needs varchar, reason varchar)")
        con.executemany("insert into meta.layers values (?, ?, ?, ?)", LAYERS)
        con.execute("create or replace table meta.coverage (table_name varchar, column_name "
                    "varchar, table_present boolean, table_rows bigint, column_present "
                    "boolean, filled_rows bigint, filled_share double)")
        con.executemany("insert into meta.coverage values (?, ?, ?, ?, ?, ?, ?)",
                        [(*row, row[5] / row[3] if row[3] else None) for row in COVERAGE])
        con.execute("create or replace table meta.defaults_applied (table_name varchar, "
                    "column_name varchar, default_rule varchar, rows bigint)")
        con.execute("insert into meta.defaults_applied values "
                    "('accounts', 'owner_rep_id', 'UNASSIGNED', 20), "
                    "('reps', 'hire_date', 'first activity or deal', 0)")
        for table in EMPTIED:
            con.execute(f"delete from marts.{table}")
        # the alerts an export without contacts produces: "no approver" on every account
        con.execute("delete from marts.fct_account_alerts where alert_type <> 'no_approver'")
        for table in ("fct_region_performance", "fct_rep_performance"):
            cols = {r[0] for r in con.execute(
                "select column_name from information_schema.columns where table_schema = "
                "'marts' and table_name = ?", [table]).fetchall()}
            sets = ", ".join(f"{c} = 0" for c in sorted(cols)
                             if c in ("profit", "profit_per_head"))
            if sets:
                con.execute(f"update marts.{table} set {sets}")
    return target


@pytest.fixture()
def partial(monkeypatch, tmp_path, built_warehouse) -> Path:
    path = make_partial(built_warehouse, tmp_path / "rapport.duckdb")
    monkeypatch.setenv("RAPPORT_WAREHOUSE", str(path))
    return path


def _open(page: str) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=TIMEOUT).run()
    if page != "pages/overview.py":
        at.switch_page(page).run()
    return at


def _said(at: AppTest) -> str:
    """Every message and caption of the page, markdown escapes removed."""
    parts = [e.value for kind in ("info", "caption", "warning", "error", "markdown")
             for e in getattr(at, kind)]
    return " ".join(parts).replace("\\", "")


def test_layers_and_coverage_queries(partial):
    with Reader(partial) as reader:
        found = q.layers(reader, Scope.all_access())
        cov = q.coverage(reader, Scope.all_access())
    assert found.recorded
    assert not found.available("relationship_health") and not found.available("profit")
    assert not found.available("power_map") and found.available("key_actions")
    assert found.available("not_a_layer_of_this_build")  # unknown: not refused
    assert found.get("health").needs == "interactions and contacts"  # loose names
    assert q.tables_present(cov) == (["accounts", "opportunities", "reps"],
                                     ["contacts", "interactions", "opportunity_contacts"])
    incomplete = q.incomplete_columns(cov)
    assert incomplete.filter(incomplete["column_name"] == "amount")["blank_rows"].to_list() == [90]


def test_an_older_warehouse_has_every_layer(tmp_path, built_warehouse):
    """A warehouse built before coverage was recorded (no meta.layers, no meta.coverage):
    every layer counts as available, as the old pipeline refused a build without them."""
    older = tmp_path / "older.duckdb"
    shutil.copy(built_warehouse, older)
    with duckdb.connect(str(older)) as con:
        con.execute("drop table if exists meta.layers")
        con.execute("drop table if exists meta.coverage")
    with Reader(older) as reader:
        found = q.layers(reader, Scope.all_access())
    assert not found.recorded
    assert found.available("profit") and found.available("power_map")


def test_overview_states_coverage_and_shows_no_profit_zero(partial):
    at = _open("pages/overview.py")
    assert not at.exception, [e.value for e in at.exception]
    assert not at.error, [e.value for e in at.error]
    said = _said(at)
    assert "This build has: accounts, opportunities, reps · missing: contacts, interactions, " \
        "deal contacts" in said, said
    # tables by their labels (fmt.table_label); the table's own name in the line's help
    assert "opportunity_contacts" not in said, said
    line = next(c for c in at.caption if c.value.startswith("This build has"))
    assert "Deal contacts: opportunity\\_contacts.csv (missing)" in line.help, line.help
    assert "Relationship health needs interactions and contacts: see docs/import.md" in said
    assert "Profit needs margins or costs on deals: see docs/import.md" in said
    shown = {m.label: m.value for m in at.metric}
    for label in ("Profit", "Profit per head", "Profit target completion"):
        assert shown[label] == fmt.NOT_AVAILABLE, (label, shown[label])
    assert shown["Revenue"] not in (fmt.NA, fmt.NOT_AVAILABLE, "0")
    # no "No approver" alert for accounts without contacts: no alert storm
    assert fmt.alert_label("no_approver", short=True) not in shown
    assert not any("No approver identified" in str(d.value.to_csv()) for d in at.dataframe)


def test_relationship_pages_say_what_they_need(partial):
    for page, needs in (("pages/health.py", "needs interactions and contacts"),
                        ("pages/power_map.py", "needs contacts")):
        at = _open(page)
        assert not at.exception, (page, [e.value for e in at.exception])
        assert not at.error, page
        assert needs in _said(at) and "docs/import.md" in _said(at), (page, _said(at))


def test_every_page_renders_on_a_partial_build(partial):
    for page in PAGES:
        at = _open(page)
        assert not at.exception, (page, [e.value for e in at.exception])
        assert not at.error, (page, [e.value for e in at.error])


def test_scorecards_show_no_profit_zero(partial):
    at = _open("pages/scorecards.py")
    assert not at.exception, [e.value for e in at.exception]
    checked = 0
    for frame in at.dataframe:
        df = frame.value
        for col in [c for c in df.columns if c.startswith("profit")]:
            checked += 1
            # not available: empty, or the formatting layer's "n/a" text; never a number
            shown = [v for v in df[col].tolist()
                     if not (v is None or (isinstance(v, float) and math.isnan(v))
                             or str(v).startswith("n/a"))]
            assert not shown, (col, shown[:5])
    assert checked, "no profit column shown: the check above checked nothing"
    assert "needs margins or costs on deals: see docs/import.md" in _said(at)


def test_data_quality_counts_incomplete_columns(partial):
    at = _open("pages/data_quality.py")
    assert not at.exception, [e.value for e in at.exception]
    table = next(d.value for d in at.dataframe if "blank_rows" in d.value.columns)
    rows = dict(zip(zip(table["table_name"], table["column_name"]), table["blank_rows"]))
    assert rows[("opportunities", "amount")] == 90
    assert rows[("opportunities", "account_id")] == 60
    assert rows[("opportunities", "created_date")] == 20
    defaults = next(d.value for d in at.dataframe if "default_rule" in d.value.columns)
    assert defaults.to_dict("records") == [{"table_name": "accounts",
                                            "column_name": "owner_rep_id",
                                            "default_rule": "UNASSIGNED", "rows": 20}]
    layers = next(d.value for d in at.dataframe if "needs" in d.value.columns)
    assert not dict(zip(layers["layer"], layers["available"]))["Profit"]


@pytest.mark.slow
def test_pages_on_a_real_core_tables_only_build(monkeypatch, tmp_path, demo_raw):
    """A real `rapport build` of the core tables only (regions, reps, accounts,
    opportunities): it publishes, and every page renders and says what is missing, from the
    meta.layers and meta.coverage the build wrote."""
    from support.pipeline import run_cli

    raw = tmp_path / "raw"
    raw.mkdir()
    for table in ("regions", "reps", "accounts", "opportunities"):
        shutil.copy(demo_raw / f"{table}.csv", raw / f"{table}.csv")
    data_dir = tmp_path / "data"
    result = run_cli("build", "--raw", str(raw), data_dir=data_dir)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    monkeypatch.setenv("RAPPORT_WAREHOUSE", str(data_dir / "warehouse" / "rapport.duckdb"))
    expected = {
        "pages/overview.py": ("This build has: accounts, opportunities, regions, reps · "
                              "missing: contacts, interactions"),
        "pages/health.py": "Relationship health needs interactions and contacts: see "
                           "docs/import.md",
        "pages/power_map.py": "The power map needs contacts: see docs/import.md",
        "pages/scorecards.py": "needs account strategies",
        "pages/tiers.py": "",
        "pages/data_quality.py": "",
    }
    for page, told in expected.items():
        at = _open(page)
        assert not at.exception, (page, [e.value for e in at.exception])
        assert not at.error, (page, [e.value for e in at.error])
        assert told in _said(at), (page, _said(at))
    at = _open("pages/overview.py")
    assert fmt.alert_label("no_approver", short=True) not in {m.label for m in at.metric}
    at = _open("pages/data_quality.py")
    assert any(m.label == "Checks not applicable" for m in at.metric)

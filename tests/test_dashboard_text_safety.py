"""Fail closed: what the dashboard shows and exports: data values render as
plain text, CSV exports cannot carry spreadsheet formulas, and a
role without personal-data access sees quarantine details masked.

Unit tests with hand-written values, then every page under AppTest on a copy of the built
warehouse whose regions, accounts, reps, contacts and key actions carry markdown, HTML and
formulas in their names."""

from __future__ import annotations

import csv
import io
import json
import re
import shutil
import sys
from pathlib import Path

import duckdb
import polars as pl
import pytest
from streamlit.testing.v1 import AppTest
from support.apptest import record_downloads

from rapport.pages import PAGES as REGISTRY
from rapport.paths import DASHBOARD_DIR
from rapport.serving.queries.data_quality import HIDDEN

sys.path.insert(0, str(DASHBOARD_DIR))
from ui import fmt
from ui.charts import bars, dots, key_action_heatmap, matrix, power_map_figure
from ui.widgets import csv_bytes, neutralise_formulas, safe_file_name

APP = str(DASHBOARD_DIR / "app.py")
TIMEOUT = 120  # seconds per run: the test machine is shared and busy
PAGES = [f"pages/{page.id}.py" for page in REGISTRY]

REGION = "![x](http://127.0.0.1:9/x.png) **bold** <b>tag</b>"
ACCOUNT = '=HYPERLINK("http://x")'
REP = "[rep](http://127.0.0.1:9/r) <img src=x> :red[red] $x^2$"
CONTACT = "+Mal <b>Ory</b> ![c](http://127.0.0.1:9/c.png)"
ACTION = "<b>tag</b> _em_ ![a](http://127.0.0.1:9/a.png)"


# --- plain text: hand-written values -------------------------------------------------------

def test_plain_escapes_markdown_and_html():
    assert fmt.plain("Acme") == "Acme"
    assert fmt.plain(None) == ""
    assert fmt.plain("a*b_c") == r"a\*b\_c"
    shown = fmt.plain(REGION)
    for raw in ("![", "](", "**", "<b>", "</b>"):
        assert raw not in shown, raw
    assert shown.startswith(r"\!\[x\]\(http\:")
    # every ASCII punctuation character escaped, so nothing is markdown or HTML any more
    text = "# h\n- item\n> quote | a | `code` ~~s~~ $x$ :red[r] <i>&amp; 1. \\"
    escaped = fmt.plain(text)
    assert "\n" not in escaped
    unescaped = escaped.replace("\\", "")
    assert unescaped.replace("\u2060", "") == text.replace("\n", " ").replace("\\", "")
    assert all(escaped[i - 1] == "\\" for i, c in enumerate(escaped)
               if c in "#->|`~$[]<&.:" and i > 0)
    # bare URLs and e-mail addresses are not made into links
    assert "://" not in fmt.plain("see http://x.io") and "www." not in fmt.plain("www.x.io")
    assert "@x" not in fmt.plain("a@x.io").replace("\\", "")


def test_chart_text_escapes_plotly_html():
    assert fmt.chart_text("<b>tag</b> & <a href='x'>") == (
        "&lt;b&gt;tag&lt;/b&gt; &amp; &lt;a href='x'&gt;")
    assert fmt.chart_text(None) == "" and fmt.chart_text(3) == "3"


def _strings(spec: object) -> list[str]:
    if isinstance(spec, str):
        return [spec]
    if isinstance(spec, dict):
        return [s for v in spec.values() for s in _strings(v)]
    if isinstance(spec, list | tuple):
        return [s for v in spec for s in _strings(v)]
    return []


def _figure_text(fig) -> str:
    return "\n".join(_strings(json.loads(fig.to_json())))


def test_charts_draw_data_values_as_text():
    df = pl.DataFrame({"grp": [REGION, "B"], "tier": ["S", "A"], "n": [1, 2]})
    for fig in (bars(df, "grp", "n", color="tier", title=f"By {REGION}", text=True),
                bars(df, "grp", "n", x_order=[REGION, "B"]),
                bars(df, "tier", "n", color="grp", horizontal=True),
                dots(df, "n", "n", color="grp", hover=["grp"]),
                matrix([[1]], [REGION], [REP])):
        text = _figure_text(fig)
        assert "<b>tag" not in text and "<img" not in text, text
        assert "&lt;b&gt;tag" in text
    cells = pl.DataFrame({"rep_name": [REP], "action_no": [1], "score": [None],
                          "numerator": [None], "denominator": [None],
                          "not_scored_reason": ["<b>tag</b>"]},
                         schema_overrides={"score": pl.Float64, "numerator": pl.Float64,
                                           "denominator": pl.Float64})
    text = _figure_text(key_action_heatmap(cells, {1: ACTION}))
    assert "<img" not in text and "<b>tag" not in text
    pm = pl.DataFrame({
        "contact_name": [CONTACT], "title": ["<b>tag</b>"], "decision_role": ["A"],
        "current_attitude": [1], "influence_weight": [1.0], "intimacy": [0.5],
        "last_touch_date": [None], "days_since_last_touch": [None]},
        schema_overrides={"days_since_last_touch": pl.Int64, "last_touch_date": pl.Date})
    text = _figure_text(power_map_figure(pm, "intimacy"))
    assert "<b>Ory" not in text and "<b>tag" not in text and "&lt;b&gt;Ory" in text


# --- CSV exports: hand-written values -------------------------------------------------------

def _rows(data: bytes) -> list[list[str]]:
    return list(csv.reader(io.StringIO(data.decode("utf-8"), newline="")))


def test_csv_cells_that_a_spreadsheet_would_run_are_neutralised():
    df = pl.DataFrame({
        "account_name": [ACCOUNT, "+1 (555) 0100", "-2+3", "@SUM(A1)", "\tx", "\rx",
                         "Acme, Inc. \"best\"", "A. B.", None, "x=1"],
        "initials": ["=. B.", "+. C.", "A. B.", "-. D.", "@. E.", "A. B.", "A. B.", "A. B.",
                     "A. B.", "A. B."],
        "change": [-1, 2, -3, 4, -5, 6, -7, 8, -9, 10],
        "share": [-0.5, 0.25, -1e-3, 0.0, 1.0, -2.0, 3.0, -4.0, 5.0, 6.0],
        "trend": [[-1.0, 2.0]] * 10,
        "flag": [True, False] * 5,
    }).with_columns(pl.col("initials").cast(pl.Categorical).alias("category"))
    rows = _rows(csv_bytes(df))
    assert rows[0] == ["account_name", "initials", "change", "share", "trend", "flag",
                       "category"]
    names = [r[0] for r in rows[1:]]
    assert names == ["'" + ACCOUNT, "'+1 (555) 0100", "'-2+3", "'@SUM(A1)", "'\tx", "'\rx",
                     "Acme, Inc. \"best\"", "A. B.", "", "x=1"]
    assert [r[1] for r in rows[1:6]] == ["'=. B.", "'+. C.", "A. B.", "'-. D.", "'@. E."]
    assert [r[6] for r in rows[1:6]] == ["'=. B.", "'+. C.", "A. B.", "'-. D.", "'@. E."]
    # numbers stay numbers, negative ones too
    assert [r[2] for r in rows[1:]] == [str(v) for v in df["change"].to_list()]
    assert [float(r[3]) for r in rows[1:]] == df["share"].to_list()
    # a list column (sparkline) is text: "-1.0 2.0" would be a formula
    assert rows[1][4] == "'-1.0 2.0"
    assert rows[1][5] == "true"
    # proper quoting: the quoted field with a comma and quotes reads back as one cell
    assert b'"Acme, Inc. ""best"""' in csv_bytes(df)
    # no cell starts with a formula character unless it is a number
    for row in rows[1:]:
        for cell in row:
            if cell[:1] in ("=", "+", "-", "@", "\t", "\r"):
                float(cell)


def test_neutralise_formulas_keeps_types_and_column_names():
    df = pl.DataFrame({"n": [-1], "=x": ["=1"]})
    out = neutralise_formulas(df)
    assert out.columns == ["n", "'=x"] and out["n"].dtype == pl.Int64
    assert out["'=x"].to_list() == ["'=1"]
    assert safe_file_name('ACC1/../"x"\n.csv') == "ACC1_.._x_.csv"
    assert safe_file_name("...") == "export"


# --- every page with hostile names ----------------------------------------------------------

@pytest.fixture(scope="module")
def hostile_warehouse(built_warehouse: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The built warehouse with markdown, HTML and formulas in every name the pages show."""
    path = tmp_path_factory.mktemp("hostile") / "hostile.duckdb"
    shutil.copy(built_warehouse, path)
    with duckdb.connect(str(path)) as con:
        for table in ("dim_accounts", "dim_reps"):
            con.execute(f"update marts.{table} set region_name = ? || ' ' || region_id",
                        [REGION])
        con.execute("update marts.dim_accounts set account_name = ? || ' ' || account_id",
                    [ACCOUNT])
        con.execute("update marts.dim_reps set rep_name = ? || ' ' || rep_id", [REP])
        for table in ("dim_contacts", "fct_power_map", "fct_opportunity_power_map"):
            con.execute(f"update marts.{table} set full_name = ? || ' ' || contact_id",
                        [CONTACT])
        con.execute("update marts.fct_key_actions set action_name = ? || ' ' || action_name",
                    [ACTION])
        con.execute("update marts.fct_opportunity_power_map set opportunity_name = ?",
                    [ACCOUNT])
        con.execute("update meta.build_info set checks_summary = ? || checks_summary",
                    [REGION])
        con.execute("""insert into meta.dq_quarantine (build_id, table_name, source_file,
                row_number, raw_values, reasons, detail)
            select build_id, 'contacts', 'contacts.csv', 2, ?, 'unparseable', ?
            from meta.build_info""",
                    [json.dumps({"contact_id": "C1", "full_name": "Ann Berg",
                                 "birthday": "31/12/1975"}),
                     "unparseable:birthday=31/12/1975"])
    return path


@pytest.fixture()
def downloads(monkeypatch) -> list:
    """The CSV of every download button rendered (Streamlit keeps a callable per button)."""
    return record_downloads(monkeypatch)


# What the hostile names would render as, were they markdown or HTML: an image, a link,
# bold or emphasis, a tag, a coloured text, LaTeX. Escaped, each is preceded by a backslash.
UNESCAPED = re.compile(r"(?<!\\)(!\[|\]\(|\*\*bold|_em_|<b>|<img|:red\[|\$x)")


def _markdown_texts(at: AppTest) -> list[str]:
    """Every text of the page that Streamlit renders as markdown."""
    texts = [str(e.value) for kind in ("title", "header", "subheader", "markdown", "caption",
                                        "info", "warning", "error", "success")
             for e in at.get(kind)]
    texts += [m.label for m in at.metric] + [m.proto.help for m in at.metric]
    texts += [t.label for t in at.tabs] + [e.label for e in at.expander]
    for kind in ("selectbox", "multiselect", "radio", "date_input", "toggle"):
        texts += [w.label for w in at.get(kind)] + [w.help or "" for w in at.get(kind)]
    return texts


def _chart_texts(at: AppTest) -> list[str]:
    return [s for c in at.get("plotly_chart") for s in _strings(json.loads(c.proto.spec))]


def test_every_page_shows_hostile_names_as_plain_text(monkeypatch, tmp_path,
                                                      hostile_warehouse, downloads):
    monkeypatch.setenv("RAPPORT_WAREHOUSE", str(hostile_warehouse))
    monkeypatch.setenv("RAPPORT_AUDIT_LOG", str(tmp_path / "audit.log"))
    monkeypatch.delenv("RAPPORT_AS_USER", raising=False)  # local demo: every page, every value
    with duckdb.connect(str(hostile_warehouse), read_only=True) as con:
        (region,) = con.execute("""select region_id from marts.dim_accounts group by 1
                                   order by count(*) desc, 1 limit 1""").fetchone()
    at = AppTest.from_file(APP, default_timeout=TIMEOUT).run()
    # a region chosen in the sidebar: its name is then written in the pages' captions
    at.sidebar.multiselect(key="filter_regions").set_value([region]).run()
    seen_region = seen_chart = False
    exported = b""
    for page in PAGES:
        downloads.clear()
        at.switch_page(page).run()
        assert not at.exception, f"{page}: {[e.value for e in at.exception]}"
        texts = _markdown_texts(at)
        for text in texts:
            assert not UNESCAPED.search(text), f"{page}: {text!r}"
        seen_region |= any(r"\!\[x\]" in t for t in texts)
        charts = _chart_texts(at)
        for text in charts:
            assert "<b>tag" not in text and "<img" not in text and "<b>Ory" not in text, (
                f"{page}: {text!r}")
        seen_chart |= any("&lt;b&gt;tag" in t or "&lt;img" in t for t in charts)
        # Every CSV of the page: the formula neutralised, no cell starts one.
        assert downloads, page
        for file_name, make in downloads:
            data = make()
            for row in _rows(data)[1:]:
                for cell in row:
                    assert not cell.startswith("=HYPERLINK"), (page, file_name)
                    if cell[:1] in ("=", "+", "-", "@", "\t", "\r"):
                        float(cell)  # only numbers may start so
            exported += data
    assert seen_region, "the region's name was shown (escaped) in some caption"
    assert seen_chart, "some chart drew a hostile name (escaped)"
    # Non-vacuous: the account names and contact names were exported, neutralised.
    assert b"'=HYPERLINK" in exported and b"'+Mal" in exported


def test_a_role_without_personal_data_sees_quarantine_details_masked(
        monkeypatch, tmp_path, hostile_warehouse, downloads):
    users = tmp_path / "users.yml"
    users.write_text("users:\n  data@example.com: {role: data_team}\n", encoding="utf-8")
    monkeypatch.setenv("RAPPORT_USERS", str(users))
    monkeypatch.setenv("RAPPORT_AS_USER", "data@example.com")
    monkeypatch.setenv("RAPPORT_WAREHOUSE", str(hostile_warehouse))
    monkeypatch.setenv("RAPPORT_AUDIT_LOG", str(tmp_path / "audit.log"))
    at = AppTest.from_file(APP, default_timeout=TIMEOUT).run()
    at.switch_page("pages/data_quality.py").run()
    assert not at.exception and not at.error
    samples = next(d.value for d in at.dataframe if "detail" in d.value.columns
                   and "raw_values" in d.value.columns)
    assert samples["detail"].tolist() == [f"unparseable:birthday={HIDDEN}"]
    assert "31/12/1975" not in samples.to_csv() and "Ann Berg" not in samples.to_csv()
    exported = b"".join(make() for _, make in downloads).decode("utf-8")
    assert "31/12/1975" not in exported and "Ann Berg" not in exported

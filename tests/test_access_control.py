"""Access control on a real built warehouse: every role x page under AppTest (what is
visible, what is refused), unknown users denied, two regional directors never see each
other's region (every query function and every rendered page), hostile values stay values
and leak nothing, personal data stays masked for roles without access (pages and CSV
exports), and logins, denials and exports land in the append-only audit log."""

from __future__ import annotations

import datetime as dt
import json
import re
import sys
from pathlib import Path

import duckdb
import polars as pl
import pytest
from streamlit.testing.v1 import AppTest
from streamlit.util import calc_hash
from support.apptest import record_downloads

from rapport.paths import DASHBOARD_DIR
from rapport.serving import Reader, Scope, WarehouseError, auth
from rapport.serving import queries as q

sys.path.insert(0, str(DASHBOARD_DIR))
from ui.widgets import export_csv

APP = str(DASHBOARD_DIR / "app.py")
TIMEOUT = 120  # seconds per run: the test machine is shared and busy
TITLES = {
    "overview": "Overview", "tiers": "Tiers", "health": "Relationship health",
    "power_map": "Power map", "scorecards": "Scorecards", "data_quality": "Data quality",
    "capture": "Record assessments",
}
HOSTILE = ("' OR 1=1--", "read_csv('/etc/passwd')", "x" * 100_000, "é\u202e日本\x00",
           "R01' OR '1'='1", "%", "*")
LEAK_MARKERS = ("select ", " from ", "marts.", "/tmp", "/etc", ".duckdb", "Traceback",
                "Binder Error", "Parser Error", "Catalog Error")


def _marts(path: Path, sql: str, params: list | None = None) -> list[tuple]:
    with duckdb.connect(str(path), read_only=True) as con:
        return con.execute(sql, params or []).fetchall()


@pytest.fixture(scope="module")
def two_regions(built_warehouse: Path) -> tuple[str, str]:
    """The two regions with the most accounts (the directors' regions in these tests)."""
    rows = _marts(built_warehouse, """
        select region_id from marts.dim_accounts group by region_id
        order by count(*) desc, region_id limit 2""")
    assert len(rows) == 2, "the test warehouse should have several regions"
    return rows[0][0], rows[1][0]


@pytest.fixture(scope="module")
def region_ids_of(built_warehouse: Path, two_regions):
    """region_id -> every id and name that belongs to that region (accounts, reps, contacts);
    worked out before any Reader opens the file."""
    def owned(region_id: str) -> set[str]:
        values: set[str] = {region_id}
        for sql in (
            "select account_id, account_name from marts.dim_accounts where region_id = ?",
            "select rep_id, rep_name from marts.dim_reps where region_id = ?",
            """select contacts.contact_id, contacts.contact_id from marts.dim_contacts as contacts
               inner join marts.dim_accounts as accounts using (account_id)
               where accounts.region_id = ?""",
            "select region_name, region_name from marts.dim_accounts where region_id = ?",
        ):
            for a, b in _marts(built_warehouse, sql, [region_id]):
                values.update(v for v in (a, b) if v)
        return values
    table = {r: owned(r) for r in two_regions}
    return table.__getitem__


@pytest.fixture(scope="module")
def ids_of(built_warehouse: Path, two_regions) -> dict[str, dict[str, str]]:
    return {r: _ids_in(built_warehouse, r) for r in two_regions}


@pytest.fixture(scope="module")
def latest(built_warehouse: Path) -> tuple[int, int]:
    (year, quarter), = _marts(built_warehouse, """
        select year, quarter from marts.fct_account_tiers
        order by year desc, quarter desc limit 1""")
    return year, quarter


@pytest.fixture()
def reader(built_warehouse: Path):
    with Reader(built_warehouse) as r:
        yield r


@pytest.fixture()
def users(tmp_path: Path, monkeypatch, built_warehouse: Path, two_regions) -> Path:
    """A users file with one person per role (two directors), an audit log in tmp_path, and
    the dashboard pointed at the test warehouse."""
    a, b = two_regions
    path = tmp_path / "users.yml"
    path.write_text(f"""
users:
  boss@example.com: {{role: leadership}}
  dir.a@example.com: {{role: regional_director, regions: [{a}]}}
  dir.b@example.com: {{role: regional_director, regions: [{b}]}}
  data@example.com: {{role: data_team}}
""", encoding="utf-8")
    monkeypatch.setenv("RAPPORT_USERS", str(path))
    monkeypatch.setenv("RAPPORT_AUDIT_LOG", str(tmp_path / "audit" / "audit.log"))
    monkeypatch.setenv("RAPPORT_WAREHOUSE", str(built_warehouse))
    monkeypatch.delenv("RAPPORT_AS_USER", raising=False)
    return path


def _audit_lines() -> list[dict]:
    path = auth.audit_log_path()
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def _open(page: str) -> AppTest:
    """Open a page the way a browser's direct URL does (by the page's url_path)."""
    at = AppTest.from_file(APP, default_timeout=TIMEOUT).run()
    if page != "overview":
        at._page_hash = calc_hash(page)  # what Streamlit uses for /<url_path>
        at.run()
    return at


def _shown_text(at: AppTest) -> str:
    parts = [str(e.value) for kind in ("title", "error", "warning", "info", "caption",
                                        "markdown") for e in at.get(kind)]
    parts += [f"{m.label} {m.value}" for m in at.metric]
    parts += [d.value.to_csv(index=False) for d in at.dataframe]
    return _as_written("\n".join(parts))


def _as_written(markdown: str) -> str:
    """Data values reach markdown escaped (fmt.plain: `Nord\\-Ost`, a word joiner after
    `http:`); undo that so that a value is found in whichever form it was written."""
    return re.sub(r"\\(.)", r"\1", markdown).replace("\u2060", "")


# --- roles x pages ------------------------------------------------------------------------

ROLE_PAGES = {
    "boss@example.com": set(auth.PAGES) - {"capture"},  # leadership reads only
    "dir.a@example.com": set(auth.PAGES) - {"data_quality"},
    "data@example.com": set(auth.PAGES),
}


@pytest.mark.parametrize("email", list(ROLE_PAGES))
@pytest.mark.parametrize("page", auth.PAGES)
def test_every_role_sees_its_pages_and_is_refused_the_others(users, monkeypatch, email, page):
    monkeypatch.setenv("RAPPORT_AS_USER", email)
    at = _open(page)
    assert not at.exception, [e.value for e in at.exception]
    titles = [t.value for t in at.title]
    if page in ROLE_PAGES[email]:
        assert not at.error, [e.value for e in at.error]
        assert TITLES[page] in titles
        assert at.dataframe, f"{email} {page}: no table"
    else:
        assert [e.value for e in at.error] and "does not give access" in at.error[0].value
        assert not at.dataframe and not at.metric and not at.get("plotly_chart")
        assert any(r["event"] == "denied" and r["who"] == email and r["what"] == f"page {page}"
                   for r in _audit_lines())
    # The menu lists exactly the role's pages: they are the page files registered with
    # st.navigation; a refused page is only a hidden refusal (a function, no file).
    registered = at._registered_pages.values()
    menu = {Path(i["script_path"]).stem for i in registered if i.get("script_path")}
    assert menu == ROLE_PAGES[email]
    hidden = {i["url_pathname"] for i in registered if not i.get("script_path")}
    # the root ("") is the hidden home page that switches to the first page the role may
    # open (dashboard/app.py); every other hidden page is a refusal
    assert "" in hidden
    hidden.discard("")
    assert hidden == set(auth.PAGES) - ROLE_PAGES[email]
    sidebar = _as_written(" ".join(c.value for c in at.sidebar.caption))
    assert "local mode" in sidebar and email in sidebar


def test_unknown_user_is_denied_and_logged(users, monkeypatch):
    monkeypatch.setenv("RAPPORT_AS_USER", "stranger@example.com")
    for page in ("overview", "data_quality"):
        at = _open(page)
        assert not at.exception
        assert at.error and "Access denied" in at.error[0].value
        assert not at.dataframe and not at.metric
        assert str(users) not in at.error[0].value  # no file path shown
    assert any(r["event"] == "denied" and r["who"] == "stranger@example.com"
               for r in _audit_lines())
    assert not any(r["event"] == "login" for r in _audit_lines())


def test_a_broken_users_file_lets_nobody_in_and_shows_no_path(users, monkeypatch):
    users.write_text("users: [not, a, mapping", encoding="utf-8")
    monkeypatch.setenv("RAPPORT_AS_USER", "boss@example.com")
    at = _open("overview")
    assert at.error and "nobody is let in" in at.error[0].value
    assert str(users) not in at.error[0].value and not at.dataframe


def test_local_mode_without_a_user_is_the_labelled_demo_with_full_access(users):
    at = _open("data_quality")
    assert not at.exception and not at.error
    assert "Data quality" in [t.value for t in at.title]
    sidebar = _as_written(" ".join(c.value for c in at.sidebar.caption))
    assert "local mode" in sidebar and "all access" in sidebar
    assert [r["who"] for r in _audit_lines() if r["event"] == "login"] == [auth.LOCAL_DEMO_EMAIL]


def test_login_is_logged_once_per_session(users, monkeypatch):
    monkeypatch.setenv("RAPPORT_AS_USER", "Boss@Example.com")
    at = _open("overview")
    at.run()
    logins = [r for r in _audit_lines() if r["event"] == "login"]
    assert [(r["who"], r["role"]) for r in logins] == [("boss@example.com", "leadership")]


# --- two regional directors ---------------------------------------------------------------

def _every_query(reader: Reader, scope: Scope, f: q.Filters, latest: tuple[int, int],
                 ids: dict[str, str]) -> dict[str, object]:
    """Every query function of rapport.serving.queries, called with this scope."""
    year, quarter = latest
    py, pq = q.previous_quarter(year, quarter)
    month_end = q.latest_month_end(reader, Scope.all_access(), dt.date(year + 1, 1, 1))
    long_ago = dt.date(2000, 1, 1)
    build_id = (q.build_info(reader, scope) or {}).get("build_id")
    acc, region, rep = ids["account_id"], ids["region_id"], ids["rep_id"]
    calls = {
        "build_history": lambda: q.build_history(reader, scope),
        "dq_results": lambda: q.dq_results(reader, scope, build_id),
        "quarantine_counts": lambda: q.quarantine_counts(reader, scope, build_id),
        "quarantine_samples": lambda: q.quarantine_samples(
            reader, scope, build_id, "contacts", "missing_required",
            pii_tables=("contacts",)),
        "row_counts": lambda: q.row_counts(reader, scope, build_id),
        "freshness": lambda: q.freshness(reader, scope),
        "account_health": lambda: q.account_health(reader, scope, f, month_end),
        "health_trend": lambda: q.health_trend(reader, scope, f, month_end),
        "account": lambda: q.account(reader, scope, acc),
        "account_health_history": lambda: q.account_health_history(reader, scope, acc),
        "account_contacts": lambda: q.account_contacts(reader, scope, acc),
        "account_activities": lambda: q.account_activities(reader, scope, acc, long_ago),
        "account_activity_summary": lambda: q.account_activity_summary(
            reader, scope, acc, long_ago),
        "quarters": lambda: q.quarters(reader, scope),
        "regions": lambda: q.regions(reader, scope),
        "industries": lambda: pl.DataFrame({"industry": q.industries(reader, scope)}),
        "kpis": lambda: q.kpis(reader, scope, f, year, quarter),
        "health_bands": lambda: q.health_bands(reader, scope, f, month_end),
        "tier_counts": lambda: q.tier_counts(reader, scope, f),
        "alerts": lambda: q.alerts(reader, scope, f, limit=10_000),
        "alerts_of_account": lambda: q.alerts(reader, scope, f, account_id=acc),
        "alert_counts": lambda: q.alert_counts(reader, scope, f),
        "power_map_accounts": lambda: q.power_map_accounts(reader, scope, f),
        "power_map": lambda: q.power_map(reader, scope, acc),
        "deals": lambda: q.deals(reader, scope, acc),
        "deal_power_map": lambda: q.deal_power_map(reader, scope, acc, ids["opportunity_id"]),
        "attitude_moves": lambda: q.attitude_moves(reader, scope, acc, long_ago),
        "scorecard": lambda: q.scorecard(reader, scope, region, year, quarter),
        "key_actions": lambda: q.key_actions(reader, scope, region, year, quarter),
        "key_actions_of_rep": lambda: q.key_actions(reader, scope, region, year, quarter,
                                                    rep_id=rep),
        "rep_performance": lambda: q.rep_performance(reader, scope, rep, year, quarter),
        "region_comparison": lambda: q.region_comparison(reader, scope, f, year, quarter),
        "pareto": lambda: q.pareto(reader, scope, f),
        "tier_migration": lambda: q.tier_migration(reader, scope, f, py, pq, year, quarter),
        "accounts_by_tier": lambda: q.accounts_by_tier(reader, scope, f),
    }
    for by in q.TIER_GROUPINGS:
        calls[f"tier_distribution_{by}"] = (
            lambda by=by: q.tier_distribution(reader, scope, f, by))
    for sort in q.HEALTH_SORTS:
        calls[f"account_health_{sort}"] = (
            lambda sort=sort: q.account_health(reader, scope, f, month_end, sort_by=sort))
    return {name: call() for name, call in calls.items()}


def _cells(result: object) -> set[str]:
    if isinstance(result, pl.DataFrame):
        return {str(v) for col in result.columns for v in result[col].to_list()
                if v is not None and not isinstance(v, (list, dict))}
    if isinstance(result, dict):
        return {str(v) for v in result.values() if v is not None}
    return {str(result)}


def _ids_in(built_warehouse: Path, region_id: str) -> dict[str, str]:
    """An account (with contacts and interactions when there are some) and a rep of a region."""
    (account_id,), = _marts(built_warehouse, """
        select accounts.account_id from marts.dim_accounts as accounts
        left join marts.dim_contacts as contacts using (account_id)
        where accounts.region_id = ?
        group by accounts.account_id order by count(contacts.contact_id) desc,
            accounts.account_id limit 1""", [region_id])
    (rep_id,), = _marts(built_warehouse, """
        select rep_id from marts.dim_reps where region_id = ? order by rep_id limit 1""",
        [region_id])
    (opportunity_id,), = _marts(built_warehouse, """
        select opportunity_id from marts.fct_opportunity_power_map where account_id = ?
        order by opportunity_id limit 1""", [account_id])
    return {"account_id": account_id, "region_id": region_id, "rep_id": rep_id,
            "opportunity_id": opportunity_id}


def test_two_directors_never_see_the_other_region_in_any_query(
        built_warehouse, ids_of, two_regions, region_ids_of, latest, reader):
    a, b = two_regions
    scopes = {a: Scope.regions([a]), b: Scope.regions([b])}
    owned = {a: region_ids_of(a), b: region_ids_of(b)}
    year, quarter = latest
    for mine, other in ((a, b), (b, a)):
        # Same filters for both (no region chosen, then the other's region chosen), and ids
        # of both regions asked for directly: only the own region's rows ever come back.
        for f in (q.Filters(year=year, quarter=quarter),
                  q.Filters(year=year, quarter=quarter, region_ids=(other,)),
                  q.Filters(year=year, quarter=quarter, region_ids=(mine, other))):
            for whose in (mine, other):
                results = _every_query(reader, scopes[mine], f, latest, ids_of[whose])
                for name, result in results.items():
                    leaked = _cells(result) & (owned[other] - owned[mine])
                    assert not leaked, (f"{name} with scope {mine}, filters {f}, ids of "
                                        f"{whose}: {sorted(leaked)[:5]}")
        # Non-vacuous: the own region's rows do come back.
        own = _every_query(reader, scopes[mine], q.Filters(year=year, quarter=quarter),
                           latest, ids_of[mine])
        for name in ("account", "account_contacts", "accounts_by_tier", "scorecard",
                     "regions", "account_health", "deals", "deal_power_map"):
            assert isinstance(own[name], pl.DataFrame) and own[name].height > 0, name
        assert set(own["regions"]["region_id"]) == {mine}


def test_two_directors_never_see_the_other_region_in_rendered_pages(
        users, monkeypatch, two_regions, region_ids_of):
    a, b = two_regions
    only_b = region_ids_of(b) - region_ids_of(a)
    only_b_names = {v for v in only_b if len(v) >= 4}  # ids and names, not short codes
    for page in ROLE_PAGES["dir.a@example.com"]:
        # Director B first, same filters, same process: B's results are in the cache when A
        # renders, and must not be served to A.
        monkeypatch.setenv("RAPPORT_AS_USER", "dir.b@example.com")
        other = _open(page)
        assert not other.exception and other.dataframe, page
        monkeypatch.setenv("RAPPORT_AS_USER", "dir.a@example.com")
        at = _open(page)
        assert not at.exception and not at.error, page
        shown = _shown_text(at)
        assert at.dataframe, page
        for d in at.dataframe:
            cells = {str(v) for v in d.value.to_numpy().ravel().tolist()}
            assert not cells & only_b, f"{page}: {sorted(cells & only_b)[:5]}"
        assert not [v for v in only_b_names if v in shown][:1], page
        assert len(at.sidebar.multiselect(key="filter_regions").options) == 1, page


# --- hostile values -----------------------------------------------------------------------

def test_hostile_values_return_nothing_extra_and_leak_nothing(ids_of, two_regions,
                                                              region_ids_of, latest, reader):
    a, b = two_regions
    scope = Scope.regions([a])
    year, quarter = latest
    allowed = region_ids_of(a) | {v for r in _every_query(
        reader, Scope.all_access(), q.Filters(year=year, quarter=quarter), latest,
        ids_of[a]).values() for v in _cells(r)}
    only_b = region_ids_of(b) - region_ids_of(a)
    for hostile in HOSTILE:
        filters = q.Filters(year=year, quarter=quarter, region_ids=(hostile,),
                            industries=(hostile,), tiers=(hostile,))
        ids = {"account_id": hostile, "region_id": hostile, "rep_id": hostile,
               "opportunity_id": hostile}
        for s in (scope, Scope.regions([hostile]), Scope.regions([a, hostile])):
            try:
                results = _every_query(reader, s, filters, latest, ids)
            except WarehouseError as exc:
                text = exc.user_message
                assert not any(m.lower() in text.lower() for m in LEAK_MARKERS), text
                continue
            for name, result in results.items():
                cells = _cells(result)
                assert not cells & only_b, f"{name} {hostile[:20]!r}"
                if isinstance(result, pl.DataFrame) and name in (
                        "account", "account_contacts", "power_map", "account_activities",
                        "scorecard", "rep_performance", "accounts_by_tier", "alerts",
                        "deals", "deal_power_map"):
                    assert result.is_empty(), f"{name} {hostile[:20]!r}: {result.height} rows"
                # /etc/passwd never read: no line of it appears.
                assert not any("root:" in c for c in cells), name
        assert not (_cells(q.account(reader, scope, hostile)) - allowed)
    # A sort or grouping name outside the allow-lists is refused, not put into SQL.
    month_end = q.latest_month_end(reader, scope, dt.date(year + 1, 1, 1))
    for bad in HOSTILE[:2]:
        with pytest.raises((ValueError, KeyError)):
            q.tier_distribution(reader, scope, q.Filters(year=year, quarter=quarter), bad)
        with pytest.raises((ValueError, KeyError)):
            q.account_health(reader, scope, q.Filters(year=year, quarter=quarter), month_end,
                             sort_by=bad)


# --- personal data ------------------------------------------------------------------------

@pytest.fixture(scope="module")
def personal_values(built_warehouse: Path) -> set[str]:
    """Every contact's full name, e-mail, private notes and birthday (as text) in the marts
    (the columns that exist there); none may reach a viewer without PII access."""
    cols = {r[0] for r in _marts(built_warehouse, """
        select column_name from information_schema.columns
        where table_schema = 'marts' and table_name = 'dim_contacts'""")}
    wanted = [c for c in ("full_name", "email", "private_notes", "birthday") if c in cols]
    assert "full_name" in wanted
    values: set[str] = set()
    for row in _marts(built_warehouse, f"select {', '.join(wanted)} from marts.dim_contacts"):
        values.update(str(v) for v in row if v is not None and len(str(v)) >= 4)
    # Reps are colleagues, shown by name; the generator's name pool can give a rep the name
    # of some contact, which is then not evidence of a leak.
    return values - {r[0] for r in _marts(built_warehouse, "select rep_name from marts.dim_reps")}


def test_personal_data_is_masked_in_every_query_and_export(ids_of, two_regions, latest,
                                                           personal_values, users, reader):
    a, _ = two_regions
    year, quarter = latest
    f = q.Filters(year=year, quarter=quarter)
    ids = ids_of[a]
    for scope in (Scope(region_ids=None, may_see_pii=False), Scope.regions([a])):
        results = _every_query(reader, scope, f, latest, ids)
        for name, result in results.items():
            # Inside any text too (alert details quote contacts' names).
            text = "\n".join(_cells(result))
            leaked = [v for v in personal_values if v in text]
            assert not leaked, f"{name}: {sorted(leaked)[:3]}"
            if isinstance(result, pl.DataFrame) and not result.is_empty():
                csv = export_csv(result, name, "data@example.com", scope.cache_key()).decode()
                assert not [v for v in personal_values if f",{v}," in f",{csv},"][:1], name
        contacts = results["account_contacts"]
        assert contacts.height > 0
        # Initials ("A. B.") and ten-year bands ("40-49") instead of names and birthdays.
        assert contacts["contact_name"].str.contains(r"^(\S\.\s?)+$").all()
        bands = contacts["birthday"].drop_nulls()
        assert bands.str.contains(r"^\d+-\d+$").all()
    # Non-vacuous: with PII access the names are there.
    full = q.account_contacts(reader, Scope.all_access(), ids["account_id"])
    assert set(full["contact_name"].to_list()) & personal_values
    exports = [r for r in _audit_lines() if r["event"] == "export"]
    assert exports and all(r["who"] == "data@example.com" for r in exports)
    assert {"rows", "columns", "scope", "at", "what"} <= set(exports[0])


def test_pages_show_initials_to_a_role_without_pii(users, monkeypatch, personal_values):
    monkeypatch.setenv("RAPPORT_AS_USER", "data@example.com")
    for page in ("health", "power_map", "overview"):
        at = _open(page)
        assert not at.exception and not at.error, page
        shown = _shown_text(at)
        assert not [v for v in personal_values if v in shown][:1], page


# --- the users file and the audit log -----------------------------------------------------

def test_users_file_errors_name_the_entry(tmp_path):
    for text, expected in (
        ("users:\n  a@x.io: {role: king}\n", "users.a@x.io: needs `role:`"),
        ("users:\n  a@x.io: {role: regional_director}\n", "users.a@x.io.regions"),
        ("users:\n  a@x.io: {role: leadership, regions: [R01]}\n", "only a regional_director"),
        ("role_pages:\n  leadership: [secrets]\n", "unknown ['secrets']"),
        ("pii_roles: [everyone]\n", "unknown ['everyone']"),
    ):
        path = tmp_path / "users.yml"
        path.write_text(text, encoding="utf-8")
        with pytest.raises(auth.AccessConfigError, match=expected.replace("[", r"\[")
                           .replace("]", r"\]").replace("`", ".")):
            auth.load_config(path)
    with pytest.raises(auth.AccessConfigError, match="users.example.yml"):
        auth.load_config(tmp_path / "missing.yml")


def test_roles_give_pages_pii_and_scope(tmp_path):
    path = tmp_path / "users.yml"
    path.write_text("""
pii_roles: [leadership, regional_director]
role_pages:
  data_team: [data_quality]
users:
  Boss@Example.com: {role: leadership}
  d@x.io: {role: regional_director, regions: [R01, R03]}
  data@x.io: {role: data_team}
""", encoding="utf-8")
    config = auth.load_config(path)
    boss = config.viewer("boss@example.com")
    assert boss.scope.region_ids is None and boss.scope.may_see_pii
    director = config.viewer("D@X.IO")
    assert director.scope.region_ids == frozenset({"R01", "R03"})
    assert director.scope.may_see_pii and "data_quality" not in director.pages
    data = config.viewer("data@x.io")
    assert data.pages == ("data_quality",) and not data.scope.may_see_pii
    assert config.viewer("nobody@x.io") is None and config.viewer("") is None
    # Defaults without role_pages / pii_roles: PII for leadership only.
    path.write_text("users:\n  d@x.io: {role: regional_director, regions: [R01]}\n",
                    encoding="utf-8")
    assert not auth.load_config(path).viewer("d@x.io").scope.may_see_pii


def test_audit_log_is_appended_to_never_rewritten(tmp_path, monkeypatch):
    log = tmp_path / "audit" / "audit.log"
    monkeypatch.setenv("RAPPORT_AUDIT_LOG", str(log))
    auth.audit("login", "a@x.io", "local mode")
    first = log.read_bytes()
    auth.audit("denied", "b@x.io", "page data_quality")
    auth.audit("export", "a@x.io", "tiers.csv", rows=3)
    assert log.read_bytes().startswith(first)
    lines = [json.loads(x) for x in log.read_text().splitlines()]
    assert [(r["event"], r["who"]) for r in lines] == [
        ("login", "a@x.io"), ("denied", "b@x.io"), ("export", "a@x.io")]
    assert lines[2]["rows"] == 3 and lines[0]["at"].endswith("+00:00")
    with pytest.raises(ValueError):
        auth.audit("delete", "a@x.io")


def test_query_errors_tell_viewers_nothing_about_sql_or_paths(built_warehouse, reader):
    for sql in ("select * from marts.no_such_table", "select from where ' OR 1=1--",
                "select * from read_csv('/etc/passwd')"):
        with pytest.raises(WarehouseError) as caught:
            reader.run(sql, {})
        text = caught.value.user_message
        assert str(built_warehouse) not in text and "/etc" not in text, text
        assert not any(m.lower() in text.lower() for m in LEAK_MARKERS if m != "marts."), text


def _oidc_app(user: dict) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=TIMEOUT)
    at.secrets["auth"] = {"redirect_uri": "http://localhost:8501/oauth2callback",
                          "cookie_secret": "a-test-cookie-secret-of-32-chars!",
                          "client_id": "x", "client_secret": "y",
                          "server_metadata_url": "https://idp.example.com/.well-known/x"}
    at.user = user
    return at.run()


def test_with_oidc_configured_the_identity_is_the_login_not_local_mode(users, monkeypatch):
    # RAPPORT_AS_USER is ignored once OIDC is configured: the login decides.
    monkeypatch.setenv("RAPPORT_AS_USER", "boss@example.com")
    monkeypatch.delenv("RAPPORT_LOCAL_MODE")  # local mode beside a login is refused
    at = _oidc_app({"is_logged_in": False})
    assert not at.exception and not at.dataframe and not at.metric
    assert [b.label for b in at.button] == ["Log in"]

    at = _oidc_app({"is_logged_in": True, "email": "dir.a@example.com"})
    assert not at.exception and not at.error and at.dataframe
    sidebar = _as_written(" ".join(c.value for c in at.sidebar.caption))
    assert "Signed in as dir.a@example.com" in sidebar and "local mode" not in sidebar
    assert len(at.sidebar.multiselect(key="filter_regions").options) == 1

    at = _oidc_app({"is_logged_in": True, "email": "stranger@example.com"})
    assert at.error and "Access denied" in at.error[0].value and not at.dataframe
    events = [(r["event"], r["who"], r["what"]) for r in _audit_lines()]
    assert ("login", "dir.a@example.com", "oidc") in events
    assert ("denied", "stranger@example.com", "unknown user") in events


def test_csv_exports_of_pages_are_masked_scoped_and_logged(users, monkeypatch, two_regions,
                                                           region_ids_of, personal_values):
    """Click every download button (run the callable Streamlit keeps for the click): the CSV
    holds no personal data and no other region's ids, and each click is one audit line."""
    clicks = record_downloads(monkeypatch)
    a, b = two_regions
    only_b = region_ids_of(b) - region_ids_of(a)
    monkeypatch.setenv("RAPPORT_AS_USER", "dir.a@example.com")
    for page in ("overview", "health", "power_map", "tiers", "scorecards"):
        clicks.clear()
        at = _open(page)
        assert not at.exception and not at.error, page
        assert len(clicks) >= len(at.get("download_button")) >= 1, page
        before = len([r for r in _audit_lines() if r["event"] == "export"])
        for file_name, make in clicks:
            csv = make().decode("utf-8")
            assert not [v for v in personal_values if v in csv][:1], (page, file_name)
            cells = {c for line in csv.splitlines()[1:] for c in line.split(",")}
            assert not cells & only_b, (page, file_name, sorted(cells & only_b)[:3])
        exports = [r for r in _audit_lines() if r["event"] == "export"][before:]
        assert len(exports) == len(clicks), page
        assert {r["who"] for r in exports} == {"dir.a@example.com"}
        assert {r["scope"] for r in exports} == {f"regions={a};pii=0"}

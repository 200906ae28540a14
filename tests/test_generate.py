"""The synthetic data generator: deterministic, clean against the contract, business-like.

The contract checks are written here from rapport/contract.yml with DuckDB (not with the
pipeline's own gate), so that the generator and the gate are checked independently.
"""

from __future__ import annotations

import csv
import hashlib
from pathlib import Path

import duckdb
import polars as pl
import pytest
import yaml

from rapport.contract import SQL_TYPES
from rapport.generator.command import generate, rep_habits, run_generate
from rapport.generator.tables import NOT_GENERATED

ROOT = Path(__file__).resolve().parents[1]
CONTRACT = yaml.safe_load((ROOT / "rapport" / "contract.yml").read_text(encoding="utf-8"))
# the tables the generator writes: every contract table but the optional ones it leaves out
TABLES: dict = {t: s for t, s in CONTRACT["tables"].items() if t not in NOT_GENERATED}
AS_OF = "2026-06-30"
SMALL = 20_000  # interactions


def _taxonomy() -> list[str]:
    with (ROOT / "transforms" / "seeds" / "activity_taxonomy.csv").open(encoding="utf-8") as f:
        return [row["activity_type"] for row in csv.DictReader(f)]


def _digests(folder: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.iterdir())}


@pytest.fixture(scope="module")
def small_csv(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, int]]:
    out = tmp_path_factory.mktemp("small_csv")
    return out, generate(SMALL, seed=11, out_dir=out, fmt="csv")


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("demo")
    generate("demo", seed=42, out_dir=out, fmt="parquet")
    return out


def _load(con: duckdb.DuckDBPyConnection, folder: Path, fmt: str) -> None:
    """raw_<t>: every file as text; <t>: typed with the contract's types."""
    for table, spec in TABLES.items():
        path = folder / f"{table}.{fmt}"
        if fmt == "csv":
            con.execute(f"create table raw_{table} as select * from read_csv("
                        f"'{path}', all_varchar = true, header = true)")
        else:
            con.execute(f"create table raw_{table} as select "
                        + ", ".join(f'cast("{c}" as varchar) as "{c}"' for c in spec["columns"])
                        + f" from read_parquet('{path}')")
        casts = ", ".join(
            f'cast(nullif(trim("{c}"), \'\') as {SQL_TYPES[s["type"]]}) as "{c}"'
            for c, s in spec["columns"].items())
        con.execute(f"create table {table} as select {casts} from raw_{table}")


def _contract_violations(folder: Path, fmt: str) -> list[str]:
    """Every way the files break the contract, as readable lines (empty = clean)."""
    problems: list[str] = []
    con = duckdb.connect()
    for table, spec in TABLES.items():
        path = folder / f"{table}.{fmt}"
        if fmt == "csv":
            header = path.read_text(encoding="utf-8").split("\n", 1)[0].split(",")
        else:
            header = pl.read_parquet_schema(path).keys()
        if list(header) != list(spec["columns"]):
            problems.append(f"{table}: columns {list(header)} != {list(spec['columns'])}")
    if problems:
        return problems
    _load(con, folder, fmt)  # a value that does not parse fails the cast here
    taxonomy = _taxonomy()
    for table, spec in TABLES.items():
        def count(where: str, table: str = table) -> int:
            return con.execute(f"select count(*) from {table} where {where}").fetchone()[0]

        for col, c in spec["columns"].items():
            q = f'"{col}"'
            if c.get("required") and count(f"{q} is null"):
                problems.append(f"{table}.{col}: {count(f'{q} is null')} missing required")
            allowed = c.get("allowed") or (taxonomy if c.get("allowed_from") else None)
            if allowed:
                norm = {"lower": f"lower(trim({q}))", "upper": f"upper(trim({q}))"}.get(
                    c.get("case"), f"trim({q})")
                values = ", ".join(f"'{v}'" for v in allowed)
                bad = count(f"{q} is not null and {norm} not in ({values})")
                if bad:
                    problems.append(f"{table}.{col}: {bad} values not allowed")
            if "min" in c and count(f"{q} < {c['min']}"):
                problems.append(f"{table}.{col}: values below {c['min']}")
            if "max" in c and count(f"{q} > {c['max']}"):
                problems.append(f"{table}.{col}: values above {c['max']}")
            if c.get("references"):
                parent, pcol = c["references"].split(".")
                orphans = count(f'{q} is not null and {q} not in '
                                f'(select "{pcol}" from {parent})')
                if orphans:
                    problems.append(f"{table}.{col}: {orphans} orphans of {parent}.{pcol}")
        key = ", ".join(f'"{k}"' for k in spec["primary_key"])
        dupes = con.execute(f"select count(*) - count(distinct ({key})) from {table}").fetchone()
        if dupes[0]:
            problems.append(f"{table}: {dupes[0]} duplicate primary keys")
        for check in spec.get("checks", []):
            rule = check["rule"].replace("as_of_date", f"date '{AS_OF}'")
            bad = count(f"not ({rule})")
            if bad:
                problems.append(f"{table}: {bad} rows break {check['name']}")
    # rules of the brief beyond the contract's own checks
    extra_rules = (
        ("interactions", f"occurred_at >= date '{AS_OF}' + 1"),
        ("plan_items", f"done_date > date '{AS_OF}'"),
        ("payments", ("paid_date < (select o.close_date from opportunities as o "
                      "where o.opportunity_id = payments.opportunity_id)")),
        ("payments", ("opportunity_id in (select opportunity_id from opportunities "
                      "where status <> 'won')")),
        ("feedback_items", "routed_date < recorded_date"),
        ("reps", ("manager_rep_id is not null and manager_rep_id not in "
                  "(select rep_id from reps)")),
        ("accounts", "ar_rep_id in (select rep_id from reps where leave_date is not null)"),
    )
    for table, where in extra_rules:
        bad = con.execute(f"select count(*) from {table} where {where}").fetchone()[0]
        if bad:
            problems.append(f"{table}: {bad} rows where {where}")
    # every activity is done by a rep employed on that day
    bad = con.execute("""
        select count(*) from interactions as i join reps as r using (rep_id)
        where cast(i.occurred_at as date) < r.hire_date
           or cast(i.occurred_at as date) > coalesce(r.leave_date, date '9999-12-31')
    """).fetchone()[0]
    if bad:
        problems.append(f"interactions: {bad} activities by a rep not employed that day")
    return problems


# --- arguments ----------------------------------------------------------------------------

@pytest.mark.parametrize("kwargs, message", [
    ({"scale": "huge", "seed": 1, "fmt": "csv"}, "not demo, bench or a number"),
    ({"scale": "100", "seed": 1, "fmt": "csv"}, "too small"),
    ({"scale": "demo", "seed": -1, "fmt": "csv"}, "non-negative"),
    ({"scale": "demo", "seed": 1, "fmt": "xlsx"}, "format"),
])
def test_bad_arguments_exit_2_with_a_message(kwargs, message, tmp_path, capsys):
    assert run_generate(out=tmp_path / "out", **kwargs) == 2
    assert message in capsys.readouterr().err
    assert not (tmp_path / "out").exists()


def test_run_generate_writes_to_the_raw_folder_by_default(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("RAPPORT_DATA_DIR", str(tmp_path))
    assert run_generate(scale="5_000", seed=3, out=None, fmt="csv") == 0
    assert "5,000 interactions" in capsys.readouterr().out
    assert sorted(p.name for p in (tmp_path / "raw").iterdir()) == sorted(
        f"{t}.csv" for t in TABLES)


def test_integer_scale_follows_demo_ratios(small_csv):
    _, rows = small_csv
    # 20,000 interactions = a tenth of demo: 300 / 10 = 30 accounts, about 10 contacts each;
    # 60 / 10 = 6 reps is below the floor of 16 (every role and habit present)
    assert rows["accounts"] == 30
    assert 270 <= rows["contacts"] <= 360
    assert rows["reps"] == 16
    assert rows["regions"] == 3


# --- determinism --------------------------------------------------------------------------

def test_same_seed_gives_byte_identical_csv(small_csv, tmp_path):
    first, _ = small_csv
    generate(SMALL, seed=11, out_dir=tmp_path, fmt="csv")
    assert _digests(tmp_path) == _digests(first)


def test_same_seed_gives_byte_identical_parquet(tmp_path):
    generate(SMALL, seed=11, out_dir=tmp_path / "a", fmt="parquet")
    generate(SMALL, seed=11, out_dir=tmp_path / "b", fmt="parquet")
    assert _digests(tmp_path / "a") == _digests(tmp_path / "b")
    assert len(_digests(tmp_path / "a")) == len(TABLES)


def test_different_seed_gives_different_data(small_csv, tmp_path):
    first, _ = small_csv
    generate(SMALL, seed=12, out_dir=tmp_path, fmt="csv")
    a, b = _digests(first), _digests(tmp_path)
    same = {name for name in a if a[name] == b[name]}
    # three regions can happen to get the same countries or market types; nothing else may
    assert same <= {"regions.csv", "region_market_types.csv"}, same


def test_switching_format_leaves_one_file_per_table(tmp_path):
    generate(5_000, seed=1, out_dir=tmp_path, fmt="csv")
    # a file of a table the generator leaves out (an earlier import's) would mix with the
    # generated rows: it is removed too
    (tmp_path / "account_owners.csv").write_text("account_id\n", encoding="utf-8")
    generate(5_000, seed=1, out_dir=tmp_path, fmt="parquet")
    files = sorted(p.name for p in tmp_path.iterdir())
    assert files == sorted(f"{t}.parquet" for t in TABLES)


def test_the_tables_left_out_are_optional():
    """The demo data have no account_owners: the build reads an absent optional file as an
    empty table (and infers the AR of the period)."""
    assert NOT_GENERATED == {"account_owners"}
    assert all(CONTRACT["tables"][t]["core"] is False for t in NOT_GENERATED)


# --- the contract ---------------------------------------------------------------------------

def test_small_csv_satisfies_the_contract(small_csv):
    folder, rows = small_csv
    assert set(rows) == set(TABLES)
    assert rows["interactions"] == SMALL
    assert all(n > 0 for n in rows.values()), rows
    assert _contract_violations(folder, "csv") == []


def test_the_contract_check_catches_damage(small_csv, tmp_path):
    """The checker above is itself checked: damaged copies of clean files are reported."""
    folder, _ = small_csv
    for path in folder.iterdir():
        (tmp_path / path.name).write_bytes(path.read_bytes())
    inter = pl.read_csv(tmp_path / "interactions.csv", infer_schema=False)
    inter = inter.with_columns(
        pl.when(pl.int_range(pl.len()) == 0).then(pl.lit("ACC_NOPE"))
        .otherwise(pl.col("account_id")).alias("account_id"),
        pl.when(pl.int_range(pl.len()) == 1).then(pl.lit("teleportation"))
        .otherwise(pl.col("activity_type")).alias("activity_type"),
        pl.when(pl.int_range(pl.len()) == 2).then(pl.lit("2020-01-01 00:00:00"))
        .otherwise(pl.col("logged_at")).alias("logged_at"))
    inter = pl.concat([inter, inter.slice(5, 1)])  # a repeated interaction_id
    inter.write_csv(tmp_path / "interactions.csv")
    problems = _contract_violations(tmp_path, "csv")
    assert "interactions.account_id: 1 orphans of accounts.account_id" in problems
    assert "interactions.activity_type: 1 values not allowed" in problems
    assert "interactions: 1 rows break logged_before_occurred" in problems
    assert "interactions: 1 duplicate primary keys" in problems


def test_demo_parquet_satisfies_the_contract(demo):
    assert _contract_violations(demo, "parquet") == []


def test_csv_formats_values_as_the_contract_says(small_csv):
    folder, _ = small_csv
    with (folder / "interactions.csv").open(encoding="utf-8") as f:
        row = next(csv.DictReader(f))
    assert len(row["occurred_at"]) == len("2024-07-01 08:08:00")
    assert row["occurred_at"][10] == " " and row["occurred_at"][4] == "-"
    with (folder / "contacts.csv").open(encoding="utf-8") as f:
        values = {r["is_active"] for r in csv.DictReader(f)}
    assert values == {"true", "false", ""}


# --- the business on demo data ----------------------------------------------------------------

@pytest.fixture(scope="module")
def demo_con(demo: Path) -> duckdb.DuckDBPyConnection:
    con = duckdb.connect()
    _load(con, demo, "parquet")
    habits = rep_habits("demo", 42)
    con.execute("create table habits (rep_id varchar, habit varchar)")
    con.executemany("insert into habits values (?, ?)", list(habits.items()))
    return con


def _one(con: duckdb.DuckDBPyConnection, sql: str):
    return con.execute(sql).fetchone()


def test_demo_sizes(demo_con):
    counts = {t: _one(demo_con, f"select count(*) from {t}")[0] for t in TABLES}
    assert counts["interactions"] == 200_000
    assert counts["accounts"] == 300
    assert 2_700 <= counts["contacts"] <= 3_300
    assert counts["reps"] == 60
    assert 6 <= counts["regions"] <= 8
    first, last = _one(demo_con, "select min(occurred_at), max(occurred_at) from interactions")
    assert str(first)[:7] == "2024-07" and str(last)[:10] == AS_OF


def test_top_fifth_of_accounts_brings_most_won_revenue(demo_con):
    share = _one(demo_con, """
        with revenue as (
            select a.account_id, coalesce(sum(o.amount), 0) as won
            from accounts as a
            left join opportunities as o on o.account_id = a.account_id and o.status = 'won'
            group by a.account_id
        ), ranked as (
            select won, row_number() over (order by won desc) as rn, count(*) over () as n
            from revenue
        )
        select sum(won) filter (where rn <= n * 0.2) / sum(won) from ranked
    """)[0]
    assert 0.65 <= share <= 0.9, share


def test_decision_roles_look_like_power_maps(demo_con):
    no_a, multi_a, d_big = _one(demo_con, """
        with per as (
            select a.account_id, a.spend_potential,
                   count(*) filter (where c.decision_role = 'A') as n_a,
                   count(*) filter (where c.decision_role = 'D') as n_d,
                   count(*) as n
            from accounts as a join contacts as c using (account_id)
            group by a.account_id, a.spend_potential
        )
        select avg(case when n_a = 0 then 1.0 else 0 end),
               avg(case when n_a > 1 then 1.0 else 0 end),
               avg(n_d) filter (where n >= 10)
        from per
    """)
    assert 0.05 <= no_a <= 0.3  # some accounts have no approver identified
    assert multi_a == 0  # never two approvers
    assert 1.0 <= d_big <= 2.0  # one or two decision makers on bigger accounts
    roles = dict(demo_con.execute(
        "select decision_role, count(*) from contacts group by 1").fetchall())
    assert set(roles) == {"A", "D", "S", "E", "I", None}
    assert roles[None] > roles["A"]  # most contacts hold no decision role


def test_elite_reps_hold_their_accounts_alone(demo_con):
    share = dict(demo_con.execute(f"""
        with recent as (
            select account_id, rep_id, count(*) as n from interactions
            where occurred_at > date '{AS_OF}' - interval 365 day
            group by account_id, rep_id
        ), top as (
            select account_id, max(n) * 1.0 / sum(n) as top_share from recent group by 1
        )
        select h.habit, avg(t.top_share)
        from top as t join accounts as a using (account_id) join habits as h
            on h.rep_id = a.ar_rep_id
        group by h.habit
    """).fetchall())
    assert share["elite_private"] > share["diligent"] + 0.2, share
    assert share["elite_private"] > 0.8


def test_neglectful_reps_do_plan_items_late_or_never(demo_con):
    rate = dict(demo_con.execute(f"""
        select h.habit, avg(case when i.done_date <= i.due_date then 1.0 else 0 end)
        from plan_items as i join habits as h on h.rep_id = i.owner_rep_id
        where i.due_date <= date '{AS_OF}'
        group by h.habit
    """).fetchall())
    assert rate["neglectful"] < rate["diligent"] - 0.3, rate
    assert rate["diligent"] > 0.7


def test_neglectful_reps_log_less_and_later(demo_con):
    per = {h: (n, late, blank) for h, n, late, blank in demo_con.execute("""
        select h.habit, count(*) / count(distinct i.rep_id),
               avg(case when logged_at is null
                        or logged_at > occurred_at + interval 2 day then 1.0 else 0 end),
               avg(case when outcome is null then 1.0 else 0 end)
        from interactions as i join habits as h using (rep_id) join reps as r using (rep_id)
        where r.role = 'AR'
        group by h.habit
    """).fetchall()}
    assert per["neglectful"][0] < per["diligent"][0]
    assert per["neglectful"][1] > per["diligent"][1] + 0.1
    assert per["neglectful"][2] > per["diligent"][2] + 0.2


def test_diligent_reps_keep_broad_contact(demo_con):
    breadth = dict(demo_con.execute(f"""
        with touched as (
            select account_id, count(distinct contact_id) as n from interactions
            where occurred_at > date '{AS_OF}' - interval 90 day group by 1
        ), active as (
            select account_id, count(*) as n from contacts
            where coalesce(is_active, true) group by 1
        )
        select h.habit, avg(coalesce(t.n, 0) * 1.0 / a.n)
        from active as a left join touched as t using (account_id)
        join accounts as acc using (account_id) join habits as h on h.rep_id = acc.ar_rep_id
        group by 1
    """).fetchall())
    assert breadth["diligent"] > 0.9
    assert breadth["neglectful"] < breadth["diligent"] - 0.15, breadth


def test_deep_ladder_is_rarer_than_office_visits(demo_con):
    counts = dict(demo_con.execute(
        "select activity_type, count(*) from interactions group by 1").fetchall())
    office = counts["office_visit_project"] + counts["office_visit_regular"]
    assert counts["home_visit"] < counts["external_dinner_family"] < counts["private_activity"]
    assert counts["home_visit"] + counts["external_dinner_family"] < 0.15 * office


def test_org_events_are_rare_and_on_top_accounts(demo_con):
    org_share, top_share = _one(demo_con, """
        with org as (
            select account_id, count(*) as n from interactions
            where activity_type in ('executive_summit', 'executive_dialogue',
                'strategy_benchmarking', 'process_integration', 'joint_innovation_centre',
                'joint_brand_event', 'joint_csr', 'strategic_agreement_signing',
                'exclusive_partnership', 'culture_exchange')
            group by 1
        ), ranked as (
            select account_id, ntile(5) over (order by spend_potential desc nulls last) as q
            from accounts
        )
        select (select sum(n) from org) / (select count(*) from interactions),
               sum(n) filter (where q = 1) / sum(n)
        from org join ranked using (account_id)
    """)
    assert org_share < 0.05
    assert top_share > 0.6


def test_every_market_type_every_year_and_some_change(demo_con):
    per_year = demo_con.execute(
        "select year, count(distinct market_type) from region_market_types group by 1"
    ).fetchall()
    assert per_year and all(n == 3 for _, n in per_year)
    changed = _one(demo_con, """
        select count(distinct region_id) from region_market_types as a
        join region_market_types as b using (region_id)
        where b.year = a.year + 1 and a.market_type <> b.market_type
    """)[0]
    assert changed >= 1


def test_attitude_follows_the_activity_received(demo_con):
    rising, untouched = _one(demo_con, f"""
        with latest as (
            select contact_id, arg_max(attitude, assessed_date) as attitude
            from contact_assessments group by 1
        ), received as (
            select c.contact_id, count(i.interaction_id) filter (
                where i.activity_type in ('private_activity', 'external_dinner_family',
                    'home_visit', 'office_visit_regular', 'executive_visit')
                  and i.occurred_at > date '{AS_OF}' - interval 365 day) as deep
            from contacts as c left join interactions as i using (contact_id)
            where c.decision_role is not null
            group by 1
        ), banded as (
            select l.attitude, ntile(4) over (order by r.deep) as band
            from latest as l join received as r using (contact_id)
        )
        select avg(attitude) filter (where band = 4), avg(attitude) filter (where band = 1)
        from banded
    """)
    assert rising > untouched + 0.5
    opponents = _one(demo_con, """
        select count(distinct contact_id) from contact_assessments where attitude = -1""")[0]
    assert opponents > 0


def test_quarter_end_push_and_summer_dip(demo_con):
    quarter_end = _one(demo_con, """
        select avg(case when month(close_date) in (3, 6, 9, 12) and day(close_date) >= 19
                   then 1.0 else 0 end)
        from opportunities where status = 'won'
    """)[0]
    # uniform closing would put about 12 of 365 days x 4 = 13% there
    assert quarter_end > 0.3
    august, spring = _one(demo_con, """
        select count(*) filter (where month(occurred_at) = 8) / 31,
               count(*) filter (where month(occurred_at) in (4, 5)) / 61
        from interactions
    """)
    # per calendar day, summer holidays: seasonal factor 0.65 vs about 1 in April-May
    assert august < 0.8 * spring


def test_reps_join_and_leave_and_their_accounts_move(demo_con):
    leavers, joiners = _one(demo_con, """
        select count(*) filter (where leave_date is not null),
               count(*) filter (where hire_date > date '2024-07-01')
        from reps
    """)
    assert leavers >= 3 and joiners >= 3
    # a leaver's accounts went to an AR who is still employed: no current AR has left
    assert _one(demo_con, """
        select count(*) from accounts join reps on rep_id = ar_rep_id
        where leave_date is not null""")[0] == 0
    moved = _one(demo_con, """
        select count(distinct o.account_id) from opportunities as o
        join accounts as a using (account_id)
        where o.ar_rep_id <> a.ar_rep_id""")[0]
    assert moved > 0


def test_complaints_payments_feedback_and_missing_fields(demo_con):
    in_sla, confirmed = _one(demo_con, """
        select avg(case when closed_at <= opened_at + to_days(cast(coalesce(sla_days,
                case severity when 'high' then 3 when 'low' then 14 else 7 end) as integer))
                   then 1.0 else 0 end),
               avg(case when is_customer_confirmed then 1.0 else 0 end)
        from complaints
    """)
    assert 0.4 < in_sla < 0.95 and 0.4 < confirmed < 0.95
    paid = _one(demo_con, """
        select avg(case when opportunity_id in (select opportunity_id from payments)
                   then 1.0 else 0 end)
        from opportunities where status = 'won' and close_date < date '2026-03-31'
    """)[0]
    assert paid > 0.75
    routed = _one(demo_con, "select avg(case when routed_to is null then 0.0 else 1 end) "
                            "from feedback_items")[0]
    assert 0.3 < routed < 0.9
    for table, col in (("interactions", "outcome"), ("contacts", "birthday"),
                       ("opportunities", "margin_pct"), ("contacts", "department")):
        missing = _one(demo_con, f"select avg(case when {col} is null then 1.0 else 0 end) "
                                 f"from {table}")[0]
        assert 0.01 < missing < 0.5, (table, col, missing)
    cost_only = _one(demo_con, "select count(*) from opportunities "
                               "where margin_pct is null and cost is not null")[0]
    assert cost_only > 0

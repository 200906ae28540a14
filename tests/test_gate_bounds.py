"""The gate reads values exactly or quarantines them: bounds, strict numbers and dates, NUL
bytes, time zones.

One small raw folder holds good rows and, after them, one planted row per case; the gate runs
once on it (module fixture). Every planted row must be in meta.dq_quarantine with exactly the
expected detail, and not in validated; the good rows and the values that are fine (`-0`,
`2.0` in an integer column, an offset) must be clean with the exact value stored.
"""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

import duckdb
import pytest

from rapport.pipeline.ingest import load_raw
from rapport.pipeline.quarantine import run_gate

AS_OF = date(2025, 6, 30)  # latest accepted date: 2035-06-30 (as-of + 10 years)
NUL = "\x00"

HEADERS = {
    "regions": "region_id,region_name,country",
    "reps": "rep_id,rep_name,region_id,role,fte,hire_date",
    "accounts": "account_id,account_name,industry,region_id,ar_rep_id,created_date",
    "contacts": "contact_id,account_id,full_name,birthday",
    "contact_assessments": "assessment_id,contact_id,assessed_date,attitude",
    "interactions": ("interaction_id,occurred_at,logged_at,rep_id,account_id,contact_id,"
                     "activity_type,outcome"),
    "opportunities": "opportunity_id,account_id,ar_rep_id,created_date,close_date,status,amount",
    "targets": "scope,scope_id,year,quarter,revenue_target,profit_target",
}
GOOD = {
    "regions": [["R1", "North", "DE"]],
    "reps": [["P1", "Ann", "R1", "AR", "1.0", "2015-01-01"]],
    "accounts": [["A1", "Acme", "telecom", "R1", "P1", "2020-01-01"]],
    "contacts": [["C1", "A1", "Xi Yu", "1970-03-01"]],
    "contact_assessments": [["S1", "C1", "2025-01-01", "2"]],
    "interactions": [["I1", "2025-01-05 10:00:00", "", "P1", "A1", "C1", "home_visit", "ok"]],
    "opportunities": [["O1", "A1", "P1", "2025-01-01", "2025-02-01", "won", "100"]],
    "targets": [["rep", "P1", "2025", "1", "1000", "100"]],
}

# (case id, table, column, raw value, the exact detail in meta.dq_quarantine)
BAD = [
    # 5: non-finite and huge numbers (amount: min 0 in the contract, max from the bound)
    ("amount-inf", "opportunities", "amount", "inf", "unparseable:amount=inf (not a finite number)"),
    ("amount-minus-inf", "opportunities", "amount", "-inf",
     "unparseable:amount=-inf (not a finite number)"),
    ("amount-Infinity", "opportunities", "amount", "Infinity",
     "unparseable:amount=Infinity (not a finite number)"),
    ("amount-NaN", "opportunities", "amount", "NaN", "unparseable:amount=NaN (not a finite number)"),
    ("amount-1e400", "opportunities", "amount", "1e400",
     "out_of_range:amount=1e400 (above 1e+12, the contract bound)"),
    ("amount-1e308", "opportunities", "amount", "1e308",
     "out_of_range:amount=1e308 (above 1e+12, the contract bound)"),
    ("amount-over-bound", "opportunities", "amount", "1000000000000.01",
     "out_of_range:amount=1000000000000.01 (above 1e+12, the contract bound)"),
    ("amount-minus-1e400", "opportunities", "amount", "-1e400", "out_of_range:amount=-1e400"),
    ("profit-below-bound", "targets", "profit_target", "-2e12",
     "out_of_range:profit_target=-2e12 (below -1e+12, the contract bound)"),
    # 9: no silent reading of other notations
    ("amount-hex", "opportunities", "amount", "0x10",
     "unparseable:amount=0x10 (hexadecimal, octal or binary)"),
    ("amount-underscore", "opportunities", "amount", "1_000",
     "unparseable:amount=1_000 (digit separator)"),
    ("amount-comma", "opportunities", "amount", "1.5.0", "unparseable:amount=1.5.0"),
    ("attitude-fraction", "contact_assessments", "attitude", "2.5",
     "unparseable:attitude=2.5 (not an integer)"),
    ("attitude-exponent", "contact_assessments", "attitude", "1e0",
     "unparseable:attitude=1e0 (not an integer)"),
    ("attitude-hex", "contact_assessments", "attitude", "0x2",
     "unparseable:attitude=0x2 (hexadecimal, octal or binary)"),
    ("attitude-underscore", "contact_assessments", "attitude", "1_0",
     "unparseable:attitude=1_0 (digit separator)"),
    ("attitude-nan", "contact_assessments", "attitude", "nan",
     "unparseable:attitude=nan (not a finite number)"),
    ("attitude-huge", "contact_assessments", "attitude", "99999999999999999999",
     "unparseable:attitude=99999999999999999999 (beyond the 64-bit integer range)"),
    ("year-fraction", "targets", "year", "2025.5", "unparseable:year=2025.5 (not an integer)"),
    # 6: dates before the floor, special words, negative years, too far after the as-of date
    ("occurred-year-1", "interactions", "occurred_at", "0001-01-01 10:00:00",
     "out_of_range:occurred_at=0001-01-01 10:00:00 (before 1990-01-01)"),
    ("occurred-1900", "interactions", "occurred_at", "1900-01-01",
     "out_of_range:occurred_at=1900-01-01 (before 1990-01-01)"),
    ("occurred-day-before-floor", "interactions", "occurred_at", "1989-12-31 23:59:59",
     "out_of_range:occurred_at=1989-12-31 23:59:59 (before 1990-01-01)"),
    ("occurred-epoch", "interactions", "occurred_at", "epoch",
     "unparseable:occurred_at=epoch (special date word)"),
    ("occurred-infinity", "interactions", "occurred_at", "infinity",
     "unparseable:occurred_at=infinity (special date word)"),
    ("occurred-minus-infinity", "interactions", "occurred_at", "-infinity",
     "unparseable:occurred_at=-infinity (special date word)"),
    ("occurred-negative-year", "interactions", "occurred_at", "-0001-06-01",
     "unparseable:occurred_at=-0001-06-01 (negative or BC year)"),
    ("occurred-bc", "interactions", "occurred_at", "2024-01-01 (BC)",
     "unparseable:occurred_at=2024-01-01 (BC) (negative or BC year)"),
    ("occurred-five-digit-year", "interactions", "occurred_at", "12345-01-01",
     ("unparseable:occurred_at=12345-01-01 "
     "(not YYYY-MM-DD or YYYY-MM-DD HH:MM:SS with an optional offset)")),
    ("occurred-zone-name", "interactions", "occurred_at", "2025-03-01 10:00:00 Europe/Paris",
     ("unparseable:occurred_at=2025-03-01 10:00:00 Europe/Paris "
     "(not YYYY-MM-DD or YYYY-MM-DD HH:MM:SS with an optional offset)")),
    # occurred_at has its own, tighter as-of rule: one reason, as before
    ("occurred-2099", "interactions", "occurred_at", "2099-06-30 10:00:00",
     "impossible_value:interaction_in_future"),
    ("logged-2099", "interactions", "logged_at", "2099-06-30 10:00:00",
     "out_of_range:logged_at=2099-06-30 10:00:00 (after 2035-06-30, the as-of date + 10 years)"),
    ("created-1900", "opportunities", "created_date", "1900-01-01",
     "out_of_range:created_date=1900-01-01 (before 1990-01-01)"),
    ("created-epoch", "opportunities", "created_date", "epoch",
     "unparseable:created_date=epoch (special date word)"),
    ("close-far-future", "opportunities", "close_date", "2035-07-01",
     "out_of_range:close_date=2035-07-01 (after 2035-06-30, the as-of date + 10 years)"),
    ("close-9999", "opportunities", "close_date", "9999-12-31",
     "out_of_range:close_date=9999-12-31 (after 2035-06-30, the as-of date + 10 years)"),
    ("birthday-1899", "contacts", "birthday", "1899-12-31",
     "out_of_range:birthday=1899-12-31 (before 1900-01-01)"),
    ("hire-1949", "reps", "hire_date", "1949-12-31",
     "out_of_range:hire_date=1949-12-31 (before 1950-01-01)"),
    ("assessed-0001", "contact_assessments", "assessed_date", "0001-01-01",
     "out_of_range:assessed_date=0001-01-01 (before 1990-01-01)"),
    # 9: NUL bytes, in keys (a new key) and in free text
    ("nul-in-key", "interactions", "interaction_id", f"I9{NUL}",
     "unparseable:interaction_id=I9\\0 (NUL byte)"),
    ("nul-in-reference", "interactions", "account_id", f"A1{NUL}",
     "unparseable:account_id=A1\\0 (NUL byte)"),
    ("nul-in-text", "interactions", "outcome", f"o{NUL}k", "unparseable:outcome=o\\0k (NUL byte)"),
    ("nul-in-region-key", "regions", "region_id", f"R1{NUL}",
     "unparseable:region_id=R1\\0 (NUL byte)"),
    ("nul-in-enum", "opportunities", "status", f"won{NUL}", "unparseable:status=won\\0 (NUL byte)"),
    ("nul-in-number", "opportunities", "amount", f"5{NUL}", "unparseable:amount=5\\0 (NUL byte)"),
]

# (case id, table, column, raw value, the value validated must hold)
FINE = [
    ("amount-minus-zero", "opportunities", "amount", "-0", 0.0),
    ("amount-at-bound", "opportunities", "amount", "1e12", 1e12),
    ("amount-plain", "opportunities", "amount", " 250.5 ", 250.5),
    ("attitude-whole-float", "contact_assessments", "attitude", "2.0", 2),
    ("attitude-minus-zero", "contact_assessments", "attitude", "-0", 0),
    ("attitude-plus", "contact_assessments", "attitude", "+3", 3),
    ("occurred-floor", "interactions", "occurred_at", "1990-01-01 00:00:00",
     datetime(1990, 1, 1)),
    ("occurred-offset", "interactions", "occurred_at", "2025-03-01T10:00:00+02:00",
     datetime(2025, 3, 1, 8, 0)),
    ("occurred-offset-compact", "interactions", "occurred_at", "2025-03-01 10:00:00-0530",
     datetime(2025, 3, 1, 15, 30)),
    ("occurred-zulu", "interactions", "occurred_at", "2025-03-01T10:00:00Z",
     datetime(2025, 3, 1, 10, 0)),
    ("occurred-utc", "interactions", "occurred_at", "2025-03-01 10:00:00 UTC",
     datetime(2025, 3, 1, 10, 0)),
    ("occurred-fraction", "interactions", "occurred_at", "2025-03-01 10:00:00.250",
     datetime(2025, 3, 1, 10, 0, 0, 250000)),
    ("occurred-date-only", "interactions", "occurred_at", "2025-03-01", datetime(2025, 3, 1)),
    ("created-offset-day", "opportunities", "created_date", "2025-01-10T01:00:00+02:00",
     date(2025, 1, 9)),
    ("close-latest-day", "opportunities", "close_date", "2035-06-30", date(2035, 6, 30)),
    ("birthday-1950", "contacts", "birthday", "1950-05-05", date(1950, 5, 5)),
]

KEYS = {  # the primary key column(s) a planted row gets a unique value in
    "regions": "region_id", "reps": "rep_id", "accounts": "account_id",
    "contacts": "contact_id", "contact_assessments": "assessment_id",
    "interactions": "interaction_id", "opportunities": "opportunity_id", "targets": "scope_id",
}


def _csv_line(values: list[str]) -> str:
    # planted values hold no comma, quote or newline: written as they are (NUL bytes too)
    return ",".join(values)


@pytest.fixture(scope="module")
def gated(tmp_path_factory: pytest.TempPathFactory):
    """{case id: (table, row number)}, and the connection after the gate."""
    folder = tmp_path_factory.mktemp("bounds")
    rows = {t: [list(r) for r in GOOD[t]] for t in HEADERS}
    where: dict[str, tuple[str, int]] = {}
    for n, (case, table, column, value, _) in enumerate(BAD + FINE):
        header = HEADERS[table].split(",")
        row = list(GOOD[table][0])
        row[header.index(KEYS[table])] = f"{KEYS[table][:1].upper()}{n + 100}"
        if table == "targets":
            row[header.index("scope_id")] = "P1"
            row[header.index("quarter")] = str(n % 4 + 1)
            row[header.index("year")] = str(2030 + n // 4)
        row[header.index(column)] = value
        rows[table].append(row)
        where[case] = (table, len(rows[table]))
    for table, header in HEADERS.items():
        text = "\n".join([header] + [_csv_line(r) for r in rows[table]]) + "\n"
        (folder / f"{table}.csv").write_bytes(text.encode("utf-8"))
    con = duckdb.connect()
    load_raw(con, folder)
    result = run_gate(con, "bounds-build", as_of_date=AS_OF)
    yield where, con, result
    con.close()


def _quarantined(con, table: str, row: int):
    return con.execute(
        "select reasons, detail from meta.dq_quarantine where table_name = ? and row_number = ?",
        [table, row]).fetchall()


def _clean(con, table: str, row: int) -> int:
    return con.execute(f'select count(*) from validated."{table}" where _row_number = ?',
                       [row]).fetchone()[0]


@pytest.mark.parametrize(("case", "table", "column", "value", "detail"), BAD,
                         ids=[c[0] for c in BAD])
def test_bad_value_is_quarantined_with_its_reason(gated, case, table, column, value, detail):
    where, con, _ = gated
    _, row = where[case]
    found = _quarantined(con, table, row)
    assert [d for _, d in found] == [detail]
    codes = sorted({part.split(":", 1)[0] for part in detail.split("; ")})
    assert found[0][0] == ",".join(codes)
    assert _clean(con, table, row) == 0


@pytest.mark.parametrize(("case", "table", "column", "value", "expected"), FINE,
                         ids=[c[0] for c in FINE])
def test_exact_value_is_clean_and_stored_exactly(gated, case, table, column, value, expected):
    where, con, _ = gated
    _, row = where[case]
    assert _quarantined(con, table, row) == []
    stored = con.execute(f'select "{column}", cast("{column}" as varchar) '
                         f'from validated."{table}" where _row_number = ?', [row]).fetchall()
    assert stored and stored[0][0] == expected
    assert not stored[0][1].startswith("-")  # -0 is stored as 0, not -0.0


def test_nothing_is_lost_and_only_the_planted_rows_are_quarantined(gated):
    where, con, result = gated
    planted = {where[c[0]] for c in BAD}
    recorded = set(con.execute(
        "select table_name, row_number from meta.dq_quarantine").fetchall())
    assert recorded == planted
    for table, counts in result.counts.items():
        assert counts.raw == counts.clean + counts.quarantined, table
    assert result.counts["interactions"].clean == 1 + sum(
        1 for c in FINE if c[1] == "interactions")


def test_values_are_kept_raw_in_the_quarantine(gated):
    where, con, _ = gated
    table, row = where["nul-in-key"]
    raw = con.execute("select raw_values from meta.dq_quarantine where table_name = ? and "
                      "row_number = ?", [table, row]).fetchone()[0]
    assert '"I9\\u0000"' in raw  # the NUL byte is kept (JSON-escaped), not dropped
    table, row = where["amount-NaN"]
    raw = con.execute("select raw_values from meta.dq_quarantine where table_name = ? and "
                      "row_number = ?", [table, row]).fetchone()[0]
    assert '"amount":"NaN"' in raw.replace(" ", "")


def write_tiny_with(folder: Path, extra_interaction: str) -> None:
    tiny = Path(__file__).parent / "fixtures" / "tiny"
    for path in tiny.glob("*.csv"):
        text = path.read_text(encoding="utf-8")
        if path.stem == "interactions" and extra_interaction:
            text = text.rstrip("\n") + "\n" + extra_interaction + "\n"
        (folder / path.name).write_text(text, encoding="utf-8")


def test_a_year_one_interaction_is_quarantined_and_the_month_range_stays(tmp_path):
    """One interaction in year 1 made the monthly tables 1,000 times larger. The
    months run from the first clean interaction to the as-of date (int_calendar_months): it
    must be the same with and without the planted row."""
    def month_span(con) -> tuple[date, int]:
        first = con.execute("select min(cast(occurred_at as date)) "
                            "from validated.interactions").fetchone()[0]
        return first, con.execute("select datediff('month', ?, ?) + 1",
                                  [first, as_of]).fetchone()[0]

    base, planted = tmp_path / "base", tmp_path / "planted"
    base.mkdir()
    planted.mkdir()
    write_tiny_with(base, "")
    write_tiny_with(planted, "I99,0001-01-01 10:00:00,,P1,A1,C1,home_visit,held,")
    spans = []
    for folder in (base, planted):
        con = duckdb.connect()
        load_raw(con, folder)
        as_of = run_gate(con, "year-one").as_of_date
        spans.append(month_span(con))
        if folder == planted:
            raw_rows = con.execute("select count(*) from raw.interactions").fetchone()[0]
            assert con.execute(
                "select row_number, reasons, detail from meta.dq_quarantine").fetchall() == [
                (raw_rows, "out_of_range",
                 "out_of_range:occurred_at=0001-01-01 10:00:00 (before 1990-01-01)")]
            assert con.execute("select count(*) from validated.interactions "
                               "where interaction_id = 'I99'").fetchone()[0] == 0
        con.close()
    assert spans[0] == spans[1]
    assert spans[1][1] < 60  # tiny fixture: a few years of months, not 24,306


@pytest.mark.parametrize("zone", ["UTC", "America/New_York", "Asia/Tokyo"])
def test_csv_offsets_do_not_depend_on_the_session_time_zone(tmp_path, zone):
    write_tiny_with(tmp_path, "I99,2025-03-01T10:00:00+02:00,,P1,A1,C1,home_visit,held,")
    con = duckdb.connect()
    con.execute(f"set TimeZone = '{zone}'")
    load_raw(con, tmp_path)
    run_gate(con, "tz", as_of_date=AS_OF)
    assert con.execute("select occurred_at from validated.interactions "
                       "where interaction_id = 'I99'").fetchone()[0] == datetime(2025, 3, 1, 8)


@pytest.mark.parametrize("zone", ["UTC", "America/New_York", "Asia/Tokyo"])
def test_parquet_timestamptz_is_read_as_an_instant_whatever_the_time_zone(tmp_path, zone):
    """A Parquet TIMESTAMPTZ shifted with the server's TimeZone."""
    write_tiny_with(tmp_path, "")
    csv_file = tmp_path / "interactions.csv"
    writer = duckdb.connect()
    writer.execute("set TimeZone = 'Europe/Berlin'")
    writer.execute(
        f"copy (select * replace (case when interaction_id = 'I01' "
        f"then timestamptz '2022-05-01 10:00:00+02:00' "
        f"else cast(occurred_at as timestamptz) end as occurred_at) "
        f"from read_csv('{csv_file}', all_varchar = true)) "
        f"to '{tmp_path / 'interactions.parquet'}'")
    writer.close()
    csv_file.unlink()
    con = duckdb.connect()
    con.execute(f"set TimeZone = '{zone}'")
    load_raw(con, tmp_path)
    assert con.execute("select occurred_at from raw.interactions "
                       "where interaction_id = 'I01'").fetchone()[0] == "2022-05-01 08:00:00"
    run_gate(con, "tz", as_of_date=AS_OF)
    assert con.execute("select occurred_at from validated.interactions "
                       "where interaction_id = 'I01'").fetchone()[0] == datetime(2022, 5, 1, 8)


@pytest.mark.slow
def test_a_build_with_nan_inf_and_year_one_rows_publishes_without_them(tmp_path):
    """End to end (findings 5 and 6): a NaN amount used to refuse the whole build with a
    message naming neither file nor row, `inf` ran dbt to 4 failures, and a year-1 interaction
    made the monthly tables 1,000 times larger. Now the rows are quarantined and the build
    publishes (the quarantine-rate limit is lifted: 4 bad rows are a lot of the tiny fixture)."""
    from support.pipeline import run_cli

    raw = tmp_path / "raw"
    raw.mkdir()
    write_tiny_with(raw, "I90,0001-01-01 10:00:00,,P1,A1,C1,home_visit,held,")
    with (raw / "opportunities.csv").open("a", encoding="utf-8") as handle:
        for n, amount in enumerate(("NaN", "inf", "1e308")):
            handle.write(f"O9{n},A4,Deal,P3,,,2024-01-01,2024-04-01,closed,won,{amount},,,x\n")
    thresholds = Path(__file__).parents[1] / "expectations" / "thresholds.yml"
    lifted = tmp_path / "thresholds.yml"
    lifted.write_text(thresholds.read_text(encoding="utf-8").replace(
        "fail_above: 0.05", "fail_above: 1.0"), encoding="utf-8")
    result = run_cli("build", "--raw", str(raw), data_dir=tmp_path / "data",
                     RAPPORT_THRESHOLDS=str(lifted))
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    served = tmp_path / "data" / "warehouse" / "rapport.duckdb"
    with duckdb.connect(str(served), read_only=True) as con:
        assert con.execute("select table_name, row_number, detail from meta.dq_quarantine "
                           "order by 1 desc, 2").fetchall() == [
            ("opportunities", 9, "unparseable:amount=NaN (not a finite number)"),
            ("opportunities", 10, "unparseable:amount=inf (not a finite number)"),
            ("opportunities", 11, "out_of_range:amount=1e308 (above 1e+12, the contract bound)"),
            ("interactions", 17,
             "out_of_range:occurred_at=0001-01-01 10:00:00 (before 1990-01-01)"),
        ]
        # the months of the tiny fixture's interactions: 2022-05 to the as-of month 2024-06
        assert con.execute("select count(*), min(month_start_date) "
                           "from intermediate.int_calendar_months").fetchone() == (
            26, date(2022, 5, 1))

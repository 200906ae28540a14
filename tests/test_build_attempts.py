"""rapport.serving.builds: the build attempts read from the records and the kept files of
refused builds (what the Data quality page and the "nothing is served yet" message show).
Fast: hand-made records and a small kept file, no build."""

from __future__ import annotations

import json
from pathlib import Path

import duckdb

from rapport.serving import Reader, WarehouseMissing
from rapport.serving.builds import attempts, nothing_served_message, strip_paths

PASSED = "20261201T100000000Z-aaaa"
REFUSED = "20261202T100000000Z-bbbb"
BROKEN = "20261203T100000000Z-cccc"


def _record(folder: Path, build_id: str, status: str, summary: str = "") -> None:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"{build_id}.json").write_text(json.dumps({
        "build_id": build_id, "status": status, "started_at": "2026-12-01 10:00:00",
        "finished_at": "2026-12-01 10:01:00", "as_of_date": "2026-06-30", "summary": summary,
    }))


def _kept(folder: Path, build_id: str) -> None:
    with duckdb.connect(str(folder / f"{build_id}.duckdb")) as con:
        con.execute("create schema meta")
        con.execute("""create table meta.dq_results (build_id varchar, suite varchar,
            expectation varchar, "column" varchar, success boolean, status varchar,
            observed_value varchar, unexpected_count bigint, severity varchar,
            checked_at timestamp, detail varchar)""")
        con.execute(f"""insert into meta.dq_results values
            ('{build_id}', 'raw_contacts', 'not_null', 'full_name', false, 'fail',
             '3 of 10 unexpected, e.g. [''Jane Doe'']', 3, 'fail', now(), null),
            ('{build_id}', 'quarantine', 'quarantine_rate_fail', 'opportunities', false,
             'fail', '0.2', null, 'fail', now(), null),
            ('{build_id}', 'raw_reps', 'unique', 'rep_id', true, 'pass', null, 0, 'fail',
             now(), null)""")
        con.execute("""create table meta.dq_quarantine (build_id varchar, table_name varchar,
            source_file varchar, row_number bigint, raw_values varchar, reasons varchar,
            detail varchar)""")
        rows = ([("opportunities", "missing_required", "missing_required:account_id=")] * 5
                + [("opportunities", "missing_required,unparseable",
                    ("missing_required:account_id=; unparseable:created_date=31/12/24 "
                     "(hint: %d/%m/%y)"))] * 2
                + [("contacts", "not_allowed", "not_allowed:decision_role=Jane Doe")])
        con.executemany("insert into meta.dq_quarantine values (?, ?, 'x.csv', 1, '{}', ?, ?)",
                        [(build_id, t, r, d) for t, r, d in rows])
        con.execute("""create table meta.dq_row_counts (build_id varchar, table_name varchar,
            raw_rows bigint, clean_rows bigint, quarantined_rows bigint)""")
        con.execute(f"""insert into meta.dq_row_counts values
            ('{build_id}', 'opportunities', 35, 28, 7), ('{build_id}', 'contacts', 10, 9, 1),
            ('{build_id}', 'reps', 4, 4, 0)""")


def test_attempts_newest_first_with_the_refused_builds_details(tmp_path):
    folder = tmp_path / "warehouse" / "builds"
    _record(folder, PASSED, "passed")
    _record(folder, REFUSED, "checks_failed", "input checks failed, dbt not run")
    _kept(folder, REFUSED)
    _record(folder, BROKEN, "structural_error",
            "/srv/rapport/data/raw/opportunities.csv: line 3 has 6 fields")
    (folder / "not-a-build.json").write_text("{}")  # ignored: not a build id
    found = attempts(folder)
    assert [a.build_id for a in found] == [BROKEN, REFUSED, PASSED]
    broken, refused, passed = found
    assert broken.refused and broken.summary == "opportunities.csv: line 3 has 6 fields"
    assert passed.published and not passed.failed_checks
    assert refused.kept_file == f"builds/{REFUSED}.duckdb"
    # failed checks only, and without the examples GX quotes (they may be personal data)
    assert [c.text() for c in refused.failed_checks] == [
        "FAIL quarantine / quarantine_rate_fail [opportunities]; observed 0.2",
        "FAIL raw_contacts / not_null [full_name]; observed 3 of 10 unexpected; 3 unexpected",
    ]
    tables = refused.top_reasons()
    assert [(c.table_name, [r.text() for r in rs]) for c, rs in tables] == [
        ("opportunities", ["missing_required (account_id) 7", "unparseable (created_date) 2"]),
        ("contacts", ["not_allowed (decision_role) 1"]),
    ]
    text = "\n".join(refused.report_lines())
    assert "opportunities: 7 of 35 rows quarantined (20.0%)" in text
    assert "Jane Doe" not in text and "31/12/24" not in text


def test_nothing_served_message_names_the_latest_refused_build_without_paths(tmp_path):
    folder = tmp_path / "warehouse" / "builds"
    served = tmp_path / "warehouse" / "rapport.duckdb"
    assert nothing_served_message(served) is None  # no record: the plain message
    _record(folder, REFUSED, "checks_failed", f"checks failed in {tmp_path}/x/y.duckdb")
    _kept(folder, REFUSED)
    try:
        Reader(served)
    except WarehouseMissing as exc:
        full, pointer = exc.user_message, exc.pointer_message
    text = full.replace("\\", "")
    assert "Nothing is served yet" in text and REFUSED in text
    assert ":red[**refused: blocking checks failed**]" in text
    assert "missing_required (account_id) 7" in text
    assert str(tmp_path) not in full and "Jane Doe" not in full
    assert "Data quality" in pointer and REFUSED not in pointer


def test_strip_paths_keeps_file_names():
    assert strip_paths("cannot read /a/b/c.csv: bad; see /x/y.log") == \
        "cannot read c.csv: bad; see y.log"
    assert strip_paths("3/4 of rows, 2026-12-01") == "3/4 of rows, 2026-12-01"

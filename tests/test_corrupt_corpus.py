"""A corrupted corpus (about 4.5% bad rows of every kind) builds, and loses no row.

tests/support/corrupt.py damages the generated files and returns the reason each damaged
row must be quarantined for. The build must publish (quarantine rates stay under the 5% fail
threshold; they are above the 0.5% warning threshold, so the checks warn), every damaged row
must be in meta.dq_quarantine with its reason and detail, no other row may be, the rows with
case/whitespace variants must be clean and normalised, and raw = clean + quarantined for
every table.
"""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest
from support.corrupt import KINDS, corrupt
from support.pipeline import build_id_from, run_cli

from rapport.contract import contract

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("pipeline-corrupt")]


@pytest.fixture(scope="module")
def corrupt_build(tmp_path_factory: pytest.TempPathFactory, demo_raw: Path):
    base = tmp_path_factory.mktemp("corrupt")
    corpus = corrupt(demo_raw, base / "raw")
    result = run_cli("build", "--raw", str(base / "raw"), data_dir=base / "data")
    served = base / "data" / "warehouse" / "rapport.duckdb"
    return {"corpus": corpus, "result": result, "served": served}


def test_the_corrupt_corpus_covers_every_kind_at_about_five_percent(corrupt_build):
    corpus = corrupt_build["corpus"]
    assert set(corpus.by_reason()) == set(KINDS)
    bad = len(corpus.damages)
    total = sum(corpus.rows.values())
    assert 0.035 < bad / total < 0.05, (bad, total)
    interactions = [d for d in corpus.damages if d.table == "interactions"]
    # floor(30,000 * 0.045) = 1,350 damaged interactions, taking the 7 kinds in turn (dates
    # out of the contract's bounds are out_of_range): 192 are appended copies (duplicate_key)
    assert len(interactions) == 1_350
    assert corpus.rows["interactions"] == 30_000 + 192
    assert {d.reason for d in interactions} == set(KINDS)


def test_the_corrupt_corpus_builds_and_publishes(corrupt_build):
    result = corrupt_build["result"]
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-4000:]
    assert "quarantine_rate_warn [interactions]" in result.stdout     # 4.5% > 0.5%: a warning
    with duckdb.connect(str(corrupt_build["served"]), read_only=True) as con:
        served_id = con.execute("select build_id from meta.build_info").fetchone()[0]
    assert served_id == build_id_from(result.stdout)


def test_every_bad_row_is_quarantined_with_its_reason_and_no_other_row_is(corrupt_build):
    corpus = corrupt_build["corpus"]
    with duckdb.connect(str(corrupt_build["served"]), read_only=True) as con:
        rows = con.execute("select table_name, row_number, reasons, detail, source_file "
                           "from meta.dq_quarantine").fetchall()
    quarantined = {(t, n): (reasons.split(","), detail, source)
                   for t, n, reasons, detail, source in rows}
    assert len(quarantined) == len(rows)                       # one row per bad raw row
    expected = {(d.table, d.row_number): d for d in corpus.damages}
    assert set(quarantined) == set(expected)
    wrong = [(key, d.reason, d.detail, quarantined[key][:2]) for key, d in expected.items()
             if d.reason not in quarantined[key][0] or d.detail not in quarantined[key][1]]
    assert wrong == []
    assert all(source == f"{t}.csv" for (t, _), (_, _, source) in quarantined.items())


def test_case_and_whitespace_variants_are_normalised_not_quarantined(corrupt_build):
    corpus = corrupt_build["corpus"]
    assert len(corpus.normalised) > 100
    with duckdb.connect(str(corrupt_build["served"]), read_only=True) as con:
        for n in corpus.normalised:
            value = con.execute(
                f'select "{n.column}" from validated."{n.table}" where _row_number = ?',
                [n.row_number]).fetchone()
            assert value == (n.expected,), (n, value)


def test_raw_equals_clean_plus_quarantined_for_every_table(corrupt_build):
    corpus = corrupt_build["corpus"]
    with duckdb.connect(str(corrupt_build["served"]), read_only=True) as con:
        build_id = con.execute("select build_id from meta.build_info").fetchone()[0]
        for table in contract().tables:
            raw = con.execute(f'select count(*) from raw."{table}"').fetchone()[0]
            clean = con.execute(f'select count(*) from validated."{table}"').fetchone()[0]
            bad = con.execute("select count(*) from meta.dq_quarantine where table_name = ? "
                              "and build_id = ?", [table, build_id]).fetchone()[0]
            assert raw == corpus.rows.get(table, 0), table
            assert raw == clean + bad, table
            damaged = sum(1 for d in corpus.damages if d.table == table)
            assert bad == damaged, table
        recorded = con.execute("select count(*) from meta.dq_row_counts where build_id = ? "
                               "and raw_rows <> clean_rows + quarantined_rows",
                               [build_id]).fetchone()[0]
        assert recorded == 0

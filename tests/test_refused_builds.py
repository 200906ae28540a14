"""Refused builds are visible: a real `rapport build` refused by the quarantine
limit prints the top quarantine reasons per table and the kept file, and the dashboard shows
the refused build in red with its failed check and reasons, whether or not a build was
published before.

The input: the shared generated data with one interaction in ten given an activity type
outside the taxonomy (3,000 not_allowed rows of 30,000: 10%, above the 5% limit). The build
stops after the input checks (no dbt), so each refused build costs seconds."""

from __future__ import annotations

import csv
import shutil
import sys
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest
from support.pipeline import build_id_from, copy_data_dir, run_cli, warehouse_state

from rapport.paths import DASHBOARD_DIR
from rapport.serving import Reader, WarehouseMissing

sys.path.insert(0, str(DASHBOARD_DIR))

APP = str(DASHBOARD_DIR / "app.py")
TIMEOUT = 120
pytestmark = [pytest.mark.slow]

REASONS = "interactions: 3,000 of 30,000 rows quarantined (10.0%): not_allowed (activity_type) 3,000"


@pytest.fixture(scope="module")
def broken_raw(tmp_path_factory: pytest.TempPathFactory, demo_raw: Path) -> Path:
    dst = tmp_path_factory.mktemp("refused") / "raw"
    shutil.copytree(demo_raw, dst, ignore=shutil.ignore_patterns(".*"))
    path = dst / "interactions.csv"
    with path.open(newline="", encoding="utf-8") as handle:
        rows = list(csv.reader(handle))
    column = rows[0].index("activity_type")
    for i, row in enumerate(rows[1:]):
        if i % 10 == 0:
            row[column] = "karaoke_marathon"
    with path.open("w", newline="", encoding="utf-8") as handle:
        csv.writer(handle, lineterminator="\n").writerows(rows)
    return dst


def _refused(raw: Path, data_dir: Path):
    result = run_cli("build", "--raw", str(raw), data_dir=data_dir)
    assert result.returncode == 1, result.stdout[-3000:] + result.stderr[-3000:]
    return build_id_from(result.stdout), result.stderr


def _data_quality(monkeypatch, data_dir: Path) -> AppTest:
    monkeypatch.delenv("RAPPORT_DATA_DIR", raising=False)
    monkeypatch.setenv("RAPPORT_WAREHOUSE", str(data_dir / "warehouse" / "rapport.duckdb"))
    at = AppTest.from_file(APP, default_timeout=TIMEOUT).run()
    at.switch_page("pages/data_quality.py").run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def _plain(text: str) -> str:
    return text.replace("\\", "")


def test_refused_first_build_is_reported_and_shown_with_nothing_served(
        monkeypatch, tmp_path, broken_raw):
    data_dir = tmp_path / "data"
    build_id, err = _refused(broken_raw, data_dir)
    kept = data_dir / "warehouse" / "builds" / f"{build_id}.duckdb"
    # the console: what is served (nothing), the reasons per table, the kept file
    assert "nothing is served yet" in err and "still served" not in err
    assert "quarantine_rate_fail [interactions]" in err
    assert REASONS in err, err
    assert "quarantine limit exceeded by interactions" in err
    assert f"kept build file: {kept}" in err and kept.exists()

    # the Data quality page says why nothing is served, in red (today through the reader's
    # message, which app.py shows on every page; with the app.py patch of docs/dashboard.md
    # through ui.widgets.nothing_served: both are accepted here)
    at = _data_quality(monkeypatch, data_dir)
    said = _plain(" ".join(w.value for w in [*at.warning, *at.error]))
    assert "Nothing is served yet" in said
    assert build_id in said and ":red[" in said and "refused: blocking checks failed" in said
    assert "FAIL quarantine / quarantine_rate_fail [interactions]; observed 0.1" in said
    assert REASONS in said
    assert f"builds/{build_id}.duckdb" in said
    assert str(tmp_path) not in said  # no server path for viewers

    # what app.py can show instead (the patch in docs/dashboard.md, "Refused builds"): a
    # one-line pointer on the other pages, the full list on the Data quality page
    with pytest.raises(WarehouseMissing) as missing:
        Reader(data_dir / "warehouse" / "rapport.duckdb")
    pointer = _plain(missing.value.pointer_message)
    assert ":red[**refused: blocking checks failed**]" in pointer and "Data quality" in pointer
    page = AppTest.from_function(_nothing_served_page, default_timeout=TIMEOUT).run()
    assert not page.exception, [e.value for e in page.exception]
    red = [_plain(e.value) for e in page.error]
    assert any("Nothing is served yet" in e for e in red)
    shown = next(e for e in red if f"Build {build_id}" in e)
    assert ":red[refused: blocking checks failed]" in shown
    assert "FAIL quarantine / quarantine_rate_fail [interactions]; observed 0.1" in shown
    assert REASONS in shown
    history = page.dataframe[0].value
    assert list(history["build_id"]) == [build_id]
    assert history["outcome"][0].startswith("🔴")


def _nothing_served_page() -> None:
    """The Data quality page's content when nothing is served (run by AppTest)."""
    import os
    import sys

    from rapport.paths import DASHBOARD_DIR
    from rapport.serving import Reader, WarehouseMissing

    sys.path.insert(0, str(DASHBOARD_DIR))
    from ui.widgets import nothing_served

    try:
        Reader(os.environ["RAPPORT_WAREHOUSE"])
    except WarehouseMissing as exc:
        nothing_served(exc)


def test_refused_build_after_a_good_one_is_shown_in_red_and_in_the_history(
        monkeypatch, tmp_path, built_warehouse, broken_raw):
    data_dir = copy_data_dir(built_warehouse.parent.parent, tmp_path / "data")
    served = warehouse_state(data_dir / "warehouse" / "rapport.duckdb")["build_id"]
    build_id, err = _refused(broken_raw, data_dir)
    assert f"NOT published: the served warehouse is still build {served}" in err
    assert "nothing is served yet" not in err
    assert REASONS in err

    at = _data_quality(monkeypatch, data_dir)
    errors = [_plain(e.value) for e in at.error]
    assert any("The latest build was not published" in e and served in e for e in errors)
    red = next(e for e in errors if f"Build {build_id}" in e)
    assert ":red[refused: blocking checks failed]" in red
    assert "FAIL quarantine / quarantine_rate_fail [interactions]; observed 0.1" in red
    assert REASONS in red
    # the build history table (an incomplete-rows table of interactions has `outcome` too)
    history = next(d.value for d in at.dataframe
                   if {"outcome", "build_id", "started_at"} <= set(d.value.columns))
    outcome = dict(zip(history["build_id"], history["outcome"], strict=True))
    assert outcome[build_id].startswith("🔴") and outcome[served].startswith("🟢")
    assert next(iter(history["build_id"])) == build_id  # newest first

"""Recording an assessment in a real browser (`rapport serve --local` on the built warehouse,
Debian's chromium): the Record assessments page, the first account and contact it offers,
attitude "3 coach", Save; the page then lists the version as pending for the next build, the
capture store holds exactly that version, attributed, and the audit log has its line. (The
build that follows, and the power map it shows, are tested under AppTest in
tests/test_capture_build.py, on the tiny fixture.)

Run: .venv/bin/pytest -m browser tests/test_browser_capture.py
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from support.browser import EXCEPTION, IDLE, VIEWPORT, chromium, dashboard_server, screenshot

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]

TITLE = "Record assessments"


@pytest.fixture(scope="module")
def served(built_warehouse: Path, tmp_path_factory: pytest.TempPathFactory):
    root = tmp_path_factory.mktemp("browser_capture")
    store, audit = root / "capture.sqlite", root / "audit.log"
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("RAPPORT_CAPTURE_DB", str(store))
        mp.setenv("RAPPORT_AUDIT_LOG", str(audit))
        with dashboard_server(built_warehouse) as base, chromium() as browser:
            yield {"base": base, "browser": browser, "store": store, "audit": audit}


def test_an_assessment_recorded_in_the_browser_is_pending_stored_and_audited(served):
    from rapport import capture

    context = served["browser"].new_context(viewport=VIEWPORT)
    page = context.new_page()
    try:
        page.goto(f"{served['base']}/capture")
        page.get_by_role("heading", name=TITLE, exact=True).first.wait_for(timeout=60_000)
        page.wait_for_selector(IDLE, timeout=60_000)
        page.get_by_text("Nothing pending for this account").wait_for(timeout=30_000)

        page.get_by_role("combobox", name="Attitude toward us").click()
        page.get_by_role("option", name="3 coach").click()
        tables = page.locator('[data-testid="stDataFrame"]').count()
        page.get_by_role("button", name="Save the assessment").click()
        page.get_by_text("Nothing pending for this account").wait_for(state="detached",
                                                                     timeout=30_000)
        page.wait_for_selector(IDLE, timeout=60_000)
        assert page.locator(EXCEPTION).count() == 0
        assert page.locator('[data-testid="stAlertContentSuccess"]').count() == 1
        # the version's history and the pending list: two tables more
        assert page.locator('[data-testid="stDataFrame"]').count() == tables + 2
        screenshot(page, "capture-recorded", full=True)
    finally:
        context.close()

    recorded = capture.versions(path=served["store"])
    assert len(recorded) == 1
    assert recorded[0]["attitude"] == 3 and recorded[0]["written_by"] == "local-demo"
    lines = [json.loads(line) for line in served["audit"].read_text().splitlines()]
    writes = [line for line in lines if line["event"] == "capture"]
    assert len(writes) == 1 and recorded[0]["contact_id"] in json.dumps(writes[0])

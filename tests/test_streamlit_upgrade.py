"""The one Streamlit workaround of the dashboard, and the test that fails on the upgrade that
makes it wrong or unneeded.

The dashboard keeps its pages in dashboard/pages/ and routes them with st.navigation from
dashboard/app.py. Streamlit still has its older multipage mode for a main script with a
`pages/` folder beside it: on the first script run of a process it runs the page file of
the URL directly, without app.py (so without login, access control or the page context).
There is no public switch for this; calling st.navigation ends the mode, but only after that
first run. dashboard/ui/context.py (`current()`) therefore ends the mode itself: when a page
runs without the router's context it sets `PagesManager.uses_pages_directory = False` and
reruns, this time through app.py. These tests pin each fact the workaround relies on, so a
Streamlit upgrade that changes one of them fails here, by name, instead of in a browser.
"""

from __future__ import annotations

import inspect
import subprocess
from pathlib import Path

from streamlit.runtime import pages_manager
from streamlit.runtime.scriptrunner import script_runner

ROOT = Path(__file__).resolve().parents[1]


def test_streamlit_still_has_the_flag_the_workaround_sets():
    assert hasattr(pages_manager.PagesManager, "uses_pages_directory"), (
        "Streamlit removed PagesManager.uses_pages_directory: the legacy pages/ mode may be "
        "gone; check whether dashboard/ui/context.py current() still needs its rerun, and "
        "remove the workaround if not")


def test_the_script_runner_still_runs_the_legacy_mode_on_that_flag():
    source = inspect.getsource(script_runner)
    assert "if PagesManager.uses_pages_directory:" in source and "_mpa_v1(" in source, (
        "Streamlit's script runner no longer branches on uses_pages_directory: the legacy "
        "pages/ mode changed; re-check dashboard/ui/context.py current()")


def test_the_flag_is_set_from_a_pages_folder_beside_the_main_script():
    source = inspect.getsource(pages_manager.PagesManager.__init__)
    assert '/ "pages"' in source, "Streamlit decides the legacy mode differently now"
    assert (ROOT / "dashboard" / "pages").is_dir() and (ROOT / "dashboard" / "app.py").is_file()


def test_the_workaround_lives_in_one_place():
    found = subprocess.run(
        ["git", "grep", "-l", "uses_pages_directory", "--", "rapport", "dashboard"],
        cwd=ROOT, capture_output=True, text=True, check=False).stdout.split()
    assert found == ["dashboard/ui/context.py"], found

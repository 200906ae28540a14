"""`rapport serve` and the dashboard's import path."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

from rapport.paths import DASHBOARD_DIR, PROJECT_ROOT
from rapport.serving.serve import run_serve, streamlit_command


def test_streamlit_runs_headless_on_localhost_without_usage_statistics():
    cmd = streamlit_command(8501, "127.0.0.1")
    # `python -c "<import the page libraries>; streamlit's command line" run app.py ...`
    assert cmd[1] == "-c" and "streamlit.web.cli import main" in cmd[2]
    assert cmd[3:5] == ["run", str(DASHBOARD_DIR / "app.py")]
    pairs = dict(zip(cmd[5::2], cmd[6::2]))
    assert pairs["--server.address"] == "127.0.0.1"
    assert pairs["--server.port"] == "8501"
    assert pairs["--server.headless"] == "true"
    assert pairs["--browser.gatherUsageStats"] == "false"


def test_bad_port_or_address_is_refused_before_starting(capsys):
    assert run_serve(port=0) == 2
    assert "--port 0" in capsys.readouterr().err
    assert run_serve(port=8501, address="everywhere") == 2
    assert "127.0.0.1" in capsys.readouterr().err


def test_config_binds_to_localhost_and_hides_error_details():
    config = (PROJECT_ROOT / ".streamlit" / "config.toml").read_text()
    assert 'address = "127.0.0.1"' in config
    assert "gatherUsageStats = false" in config
    assert 'showErrorDetails = "none"' in config


def test_rendering_every_page_imports_neither_great_expectations_nor_dbt(built_warehouse: Path):
    script = textwrap.dedent(f"""
        import os, sys
        os.environ["RAPPORT_WAREHOUSE"] = {str(built_warehouse)!r}
        from streamlit.testing.v1 import AppTest
        at = AppTest.from_file({str(DASHBOARD_DIR / "app.py")!r}, default_timeout=120).run()
        for page in ("tiers", "health", "power_map", "scorecards", "data_quality"):
            at.switch_page(f"pages/{{page}}.py").run()
            assert not at.exception, (page, [e.value for e in at.exception])
        loaded = sorted(m for m in sys.modules
                        if m.split(".")[0] in ("great_expectations", "dbt"))
        print("LOADED", loaded)
    """)
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                            check=False,
                            cwd=PROJECT_ROOT, timeout=600)
    assert result.returncode == 0, result.stderr[-3000:]
    assert "LOADED []" in result.stdout, result.stdout[-2000:]

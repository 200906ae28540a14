"""Every Python folder of the project passes ruff with the project's rules (pyproject.toml),
so style is checked wherever the suite runs (CI included), not only by `make lint`."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from rapport.paths import PROJECT_ROOT

RUFF = Path(sys.executable).with_name("ruff")
FOLDERS = ["rapport", "dashboard", "expectations", "tests"]


def test_python_folders_lint_clean():
    for folder in FOLDERS:
        assert any((PROJECT_ROOT / folder).rglob("*.py")), f"{folder}: no Python file found"
    result = subprocess.run([str(RUFF), "check", *FOLDERS], cwd=PROJECT_ROOT,
                            capture_output=True, text=True, timeout=300, check=False)
    assert result.returncode == 0, f"ruff found problems:\n{result.stdout}\n{result.stderr}"


def test_ruff_reports_a_violation(tmp_path):
    """The check is live: a file with an unused import is reported."""
    bad = tmp_path / "bad.py"
    bad.write_text("import os\n")
    result = subprocess.run([str(RUFF), "check", "--no-cache", str(bad)], cwd=PROJECT_ROOT,
                            capture_output=True, text=True, timeout=300, check=False)
    assert result.returncode == 1 and "F401" in result.stdout, result.stdout

"""The dbt models follow the house SQL style (transforms/.sqlfluff): lowercase keywords,
identifiers, functions and types, 4-space indentation, explicit `as` for every alias.

sqlfluff runs with the dbt templater, so it compiles the project (no database is touched,
but dbt needs the profile's RAPPORT_DBT_DB_PATH to be set).
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from rapport.paths import TRANSFORMS_DIR

pytestmark = pytest.mark.xdist_group("sql-lint")

SQLFLUFF = Path(sys.executable).with_name("sqlfluff")

# Every model and every singular data test of the project (macros are Jinja more than SQL).
LINTED = sorted([*TRANSFORMS_DIR.glob("models/**/*.sql"), *TRANSFORMS_DIR.glob("tests/*.sql")])


def sqlfluff(args: list[str], tmp_path: Path, stdin: str | None = None):
    env = {
        **os.environ,
        "RAPPORT_DBT_DB_PATH": str(tmp_path / "lint.duckdb"),
        "DBT_TARGET_PATH": str(tmp_path / "target"),
        "DBT_LOG_PATH": str(tmp_path / "logs"),
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "False",
    }
    return subprocess.run(
        [str(SQLFLUFF), *args],
        cwd=TRANSFORMS_DIR,
        env=env,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,  # the tests read sqlfluff's exit code
    )


def test_models_lint_clean(tmp_path):
    assert len(LINTED) > 30, "expected the staging, intermediate and relationship models"
    result = sqlfluff(["lint", *[str(p.relative_to(TRANSFORMS_DIR)) for p in LINTED]], tmp_path)
    assert result.returncode == 0, f"sqlfluff found style violations:\n{result.stdout}\n{result.stderr}"


def test_config_rejects_uppercase_keywords_and_implicit_aliases(tmp_path):
    """The config's rules are live: a query breaking them is reported (raw templater, no dbt)."""
    bad = "SELECT accounts.account_id aid\nFROM accounts acc\n"
    result = sqlfluff(
        ["lint", "--templater", "raw", "--stdin-filename", "bad.sql", "-"], tmp_path, stdin=bad
    )
    assert result.returncode == 1
    for rule in ("CP01", "AL01", "AL02"):
        assert rule in result.stdout, f"{rule} not reported:\n{result.stdout}"

"""Where things live. Every path the pipeline and the dashboard use is derived here.

Two roots:

CODE_ROOT     the dbt project (transforms/), the check suites (expectations/), the app
              (dashboard/) and the default settings (config/dashboard.yml, .streamlit/
              config.toml). In a checkout: the checkout. Installed from the wheel: the copy
              inside the package (rapport/_bundle/, put there by setup.py).
PROJECT_ROOT  the deployment's own files: data/ (raw files, warehouses, captures, audit log),
              config/users.yml, .streamlit/secrets.toml. In a checkout: the checkout.
              Installed: $RAPPORT_HOME, or the folder the command runs in.
"""

from __future__ import annotations

import os
from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent
_CHECKOUT = PACKAGE_DIR.parent
IN_CHECKOUT = (_CHECKOUT / "transforms" / "dbt_project.yml").is_file()
CODE_ROOT = _CHECKOUT if IN_CHECKOUT else PACKAGE_DIR / "_bundle"
PROJECT_ROOT = _CHECKOUT if IN_CHECKOUT else Path(
    os.environ.get("RAPPORT_HOME") or Path.cwd()).resolve()
TRANSFORMS_DIR = CODE_ROOT / "transforms"
SEEDS_DIR = TRANSFORMS_DIR / "seeds"
EXPECTATIONS_DIR = CODE_ROOT / "expectations"
DASHBOARD_DIR = CODE_ROOT / "dashboard"
CONTRACT_FILE = PACKAGE_DIR / "contract.yml"


def settings_file(*parts: str) -> Path:
    """A settings file of the deployment (PROJECT_ROOT/<parts>) when it has one, else the
    default shipped with the code (CODE_ROOT/<parts>)."""
    own = PROJECT_ROOT.joinpath(*parts)
    return own if own.exists() else CODE_ROOT.joinpath(*parts)


def data_dir() -> Path:
    """Root of raw inputs and built warehouses; RAPPORT_DATA_DIR overrides it."""
    return Path(os.environ.get("RAPPORT_DATA_DIR", PROJECT_ROOT / "data"))


def raw_dir() -> Path:
    return data_dir() / "raw"


def warehouse_dir() -> Path:
    return data_dir() / "warehouse"


def served_warehouse() -> Path:
    """The file the dashboard reads; only the publish step replaces it."""
    return Path(os.environ.get("RAPPORT_WAREHOUSE", warehouse_dir() / "rapport.duckdb"))


# DuckDB's memory for a build (its connections and dbt's): its default is 80% of RAM, which
# let one bench-scale build reach 9 GB. Above the limit DuckDB spills to temporary files.
MEMORY_LIMIT_ENV = "RAPPORT_DUCKDB_MEMORY_LIMIT"
DEFAULT_MEMORY_LIMIT = "2GB"


def duckdb_memory_limit() -> str:
    """The memory_limit of the build's DuckDB connections (transforms/profiles.yml reads the
    same variable for dbt's)."""
    return os.environ.get(MEMORY_LIMIT_ENV) or DEFAULT_MEMORY_LIMIT

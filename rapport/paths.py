"""Where things live in a checkout. Every path the pipeline uses is derived here."""

from __future__ import annotations

import os
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[1]
TRANSFORMS_DIR = PROJECT_ROOT / "transforms"
SEEDS_DIR = TRANSFORMS_DIR / "seeds"
EXPECTATIONS_DIR = PROJECT_ROOT / "expectations"
DASHBOARD_DIR = PROJECT_ROOT / "dashboard"
CONTRACT_FILE = Path(__file__).resolve().parent / "contract.yml"


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

"""The marts' not-null rules are dbt model contracts the engine enforces when it writes the
table (transforms/dbt_project.yml, +contract; docs/architecture.md, "Where each rule is
checked"), not data tests; their keys are unique / unique_combination data tests, because a
PRIMARY KEY constraint makes DuckDB keep an index of every key in memory for the whole build
(at bench scale, 10M interaction ids: the build ran out of its 2 GB). These tests show that a
null in a contracted not-null column fails the model (DuckDB's message names the column) and a
duplicate key fails the key's test, either way the build, and that every mart declares its
contract and its key test.

The failing run rebuilds two marts with dbt on a copy of the shared built warehouse whose
validated inputs were spoiled: no full build.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import duckdb
import pytest
import yaml

from rapport.paths import TRANSFORMS_DIR
from rapport.pipeline import dbt_runner

MARTS = TRANSFORMS_DIR / "models" / "marts"


def _mart_models() -> list[dict]:
    models = []
    for path in sorted(MARTS.rglob("_*__models.yml")):
        models += yaml.safe_load(path.read_text())["models"]
    return models


def test_every_mart_declares_its_contract():
    """Every mart column has a data_type; every mart has a key test (unique on a column, or
    unique_combination); no key is a primary_key/unique constraint (an index held in memory);
    and no not_null data test is left where a constraint does the job."""
    models = _mart_models()
    assert len(models) == len(list(MARTS.rglob("*.sql"))), "a mart without its YAML entry"
    for model in models:
        name = model["name"]
        untyped = [c["name"] for c in model["columns"] if not c.get("data_type")]
        assert not untyped, f"{name}: columns without data_type: {untyped}"
        indexed = [c for c in model.get("constraints", []) if c["type"] in ("primary_key",
                                                                            "unique")]
        indexed += [c["name"] for c in model["columns"] if any(
            k["type"] in ("primary_key", "unique") for k in c.get("constraints", []))]
        assert not indexed, f"{name}: key constraints (an index in memory): {indexed}"
        keys = [c["name"] for c in model["columns"]  # `unique`, or `unique: {config: ...}`
                if any(t == "unique" or (isinstance(t, dict) and "unique" in t)
                       for t in c.get("data_tests", []))]
        combos = [t for t in model.get("data_tests", [])
                  if isinstance(t, dict) and "unique_combination" in t]
        assert keys or combos, f"{name}: no key test"
        assert "contract_constraints_hold" in model.get("data_tests", []), (
            f"{name}: the constraints are not checked on engines that do not enforce them")
        for column in model["columns"]:
            left = [t for t in column.get("data_tests", []) if t == "not_null"]
            assert not left, f"{name}.{column['name']}: {left} test beside the contract"


def test_null_or_duplicate_key_fails_the_model(built_warehouse: Path, tmp_path: Path):
    db = tmp_path / "spoiled.duckdb"
    shutil.copyfile(built_warehouse, db)
    with duckdb.connect(str(db)) as con:
        rep_id = con.execute("select min(rep_id) from validated.reps").fetchone()[0]
        # the gate declares rep_name NOT NULL on the clean table: the first guard refuses it
        with pytest.raises(duckdb.ConstraintException, match="NOT NULL constraint failed"):
            con.execute("update validated.reps set rep_name = null where rep_id = ?", [rep_id])
        # past that guard (dropped here), the mart's enforced contract is the second one
        con.execute("alter table validated.reps alter column rep_name drop not null")
        con.execute("update validated.reps set rep_name = null where rep_id = ?", [rep_id])
        account_id = con.execute("select min(account_id) from validated.accounts").fetchone()[0]
        con.execute("insert into validated.accounts "
                    "select * from validated.accounts where account_id = ?", [account_id])
        as_of = con.execute("select max(as_of_date) from meta.build_info").fetchone()[0]

    result = dbt_runner.run_dbt(
        ["build", "--select", "dim_reps", "dim_accounts", "--exclude-resource-type",
         "unit_test"], db,
        vars={"as_of_date": str(as_of)}, target_path=tmp_path / "dbt", echo=None)

    assert not result.success
    failed = {node.name: node.message for node in result.failures}
    assert "NOT NULL constraint failed" in failed["dim_reps"], failed["dim_reps"]
    assert "dim_reps" in failed["dim_reps"] and "rep_name" in failed["dim_reps"]
    # the duplicated account: dim_accounts is written, its key test fails
    assert "dim_accounts" not in failed
    key_tests = [n for n in failed if n.startswith("unique_dim_accounts_account_id")]
    assert key_tests, failed
    assert "1 " in failed[key_tests[0]] or "Got 1 result" in failed[key_tests[0]], failed
    # the served table is the one from before: a failing model never replaces it
    with duckdb.connect(str(db), read_only=True) as con:
        nulls = con.execute("select count(*) from marts.dim_reps where rep_name is null")
        assert nulls.fetchone()[0] == 0


@pytest.fixture(autouse=True)
def _quiet_dbt(monkeypatch):
    monkeypatch.setenv("DBT_SEND_ANONYMOUS_USAGE_STATS", "False")

"""The dbt project follows the contract (rapport/contract.yml): every contract table has its
source, its staging model and that model's documentation with every contract column, its key
tested as a key and each reference tested as a relationship. The two YAML files were written
from the contract once and are edited by hand; this test is what keeps them in step. A key
checked on a mart (TESTED_ON) is a unique test there, and its not-null rule may be a not_null
constraint of the mart's enforced contract (transforms/dbt_project.yml), which the engine
checks when it writes the table."""

from __future__ import annotations

import yaml

from rapport.contract import contract
from rapport.paths import TRANSFORMS_DIR

STAGING = TRANSFORMS_DIR / "models" / "staging"
# Tables whose keys and references are tested once, on a mart over the same rows, instead of
# on the staging view (its description says why: 10M rows at enterprise size).
TESTED_ON = {"interactions": "fct_interactions"}


def _load(name: str) -> dict:
    return yaml.safe_load((STAGING / name).read_text(encoding="utf-8"))


def _tests(column: dict) -> list:
    return column.get("data_tests") or column.get("tests") or []


def _not_null_constraint(column: dict) -> bool:
    return any(c.get("type") == "not_null" for c in column.get("constraints") or [])


def _mart_columns(model: str) -> dict:
    for path in (TRANSFORMS_DIR / "models" / "marts").rglob("*.yml"):
        for entry in (yaml.safe_load(path.read_text(encoding="utf-8")) or {}).get("models", []):
            if entry["name"] == model:
                return {c["name"]: c for c in entry.get("columns", [])}
    raise AssertionError(f"{model} is not documented under models/marts")


def test_every_contract_table_is_a_source_and_a_documented_staging_model():
    spec = contract()
    (validated,) = [s for s in _load("_sources.yml")["sources"] if s["name"] == "validated"]
    sources = {t["name"] for t in validated["tables"]}
    models = {m["name"]: m for m in _load("_staging__models.yml")["models"]}
    problems = []
    for table in spec.tables.values():
        model = f"stg_{table.name}"
        if table.name not in sources:
            problems.append(f"{table.name}: no source in _sources.yml")
        if not (STAGING / f"{model}.sql").exists():
            problems.append(f"{table.name}: no {model}.sql")
        if model not in models:
            problems.append(f"{table.name}: {model} not documented in _staging__models.yml")
            continue
        documented = {c["name"]: c for c in models[model].get("columns", [])}
        missing = [c for c in table.columns if c not in documented]
        if missing:
            problems.append(f"{model}: contract columns not documented: {missing}")
        if table.name in TESTED_ON:
            model = TESTED_ON[table.name]
            documented = _mart_columns(model)
        key = table.primary_key
        if len(key) == 1 and key[0] in documented:
            # unique: a data test; not null: the key is required, so the gate declares it
            # NOT NULL on validated.<table> (tests/test_quarantine_gate.py), or a not_null
            # data test, or the not_null constraint of a mart's enforced contract (the engine
            # refuses a null at insert)
            # a test by its name: `unique`, or `unique: {config: ...}`
            tests = {t if isinstance(t, str) else next(iter(t))
                     for t in _tests(documented[key[0]])}
            if "unique" not in tests or not (key[0] in table.required_columns
                                             or "not_null" in tests
                                             or _not_null_constraint(documented[key[0]])):
                problems.append(f"{model}.{key[0]}: the key is not tested unique and not null"
                                f" (a not_null test or constraint)")
        elif len(key) > 1:
            combos = [t["unique_combination"]["arguments"]["columns"]
                      for t in models[model].get("data_tests", [])
                      if isinstance(t, dict) and "unique_combination" in t]
            if list(key) not in combos:
                problems.append(f"{model}: no unique_combination test on {list(key)}")
        for column in table.columns.values():
            if column.references and column.name in documented:
                kinds = {next(iter(t)) for t in _tests(documented[column.name])
                         if isinstance(t, dict)}
                if "relationships" not in kinds:
                    problems.append(f"{model}.{column.name}: references "
                                    f"{'.'.join(column.references)} but has no relationships test")
    extra_sources = sources - set(spec.tables)
    if extra_sources:
        problems.append(f"sources that are not contract tables: {sorted(extra_sources)}")
    assert not problems, "\n".join(problems)

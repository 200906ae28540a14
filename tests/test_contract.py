"""The contract file is consistent, and its document is generated from it."""

import re

from rapport.contract import contract
from rapport.contract_docs import DOC_PATH, render


def test_contract_document_is_up_to_date():
    assert DOC_PATH.read_text(encoding="utf-8") == render(contract()), (
        "docs/data-contract.md is stale: run `rapport contract-docs`")


def test_every_reference_points_at_a_contract_column():
    spec = contract()
    for table in spec.tables.values():
        for col in table.columns.values():
            if col.references:
                parent, parent_col = col.references
                assert parent_col in spec.tables[parent].columns, (table.name, col.name)
        for key in table.primary_key:
            assert key in table.columns, (table.name, key)


def test_the_domain_needs_are_in_the_contract():
    spec = contract()
    assert spec.tables["contacts"].columns["decision_role"].allowed == ("A", "D", "S", "E", "I")
    assert spec.tables["region_market_types"].columns["market_type"].allowed == (
        "saline_alkali", "new", "mature")
    assert {c.name for c in spec.tables["contacts"].columns.values() if c.pii} == {
        "full_name", "birthday", "private_notes", "email"}
    assert "home_visit" in spec.tables["interactions"].columns["activity_type"].allowed


def test_the_contract_bounds_are_declared_in_the_contract_file():
    from datetime import date

    bounds = contract().bounds
    assert bounds.number_abs_max == 1e12
    assert bounds.earliest_date == date(1990, 1, 1)
    assert bounds.latest_years_after_as_of == 10
    assert all(t.bounds == bounds for t in contract().tables.values())
    birthday = contract().tables["contacts"].columns["birthday"]
    assert birthday.earliest == date(1900, 1, 1)


def _load(tmp_path, tables_yaml: str, bounds_yaml: str = ""):
    import textwrap

    from rapport.contract import load_contract
    from rapport.paths import SEEDS_DIR

    path = tmp_path / "contract.yml"
    path.write_text("version: 1\n" + textwrap.dedent(bounds_yaml) + "tables:\n"
                    + textwrap.indent(textwrap.dedent(tables_yaml), "  "), encoding="utf-8")
    return load_contract(path, SEEDS_DIR)


PARENTS = """
accounts:
  primary_key: [account_id]
  columns:
    account_id: {type: string, required: true}
contacts:
  primary_key: [contact_id]
  columns:
    contact_id: {type: string, required: true}
    account_id: {type: string, references: accounts.account_id}
"""


def test_a_contract_with_a_mistake_is_refused(tmp_path):
    import pytest

    cases = {
        # an unquoted comma in a {flow: mapping} splits the description into a new key
        "unknown key": PARENTS + """
visits:
  primary_key: [visit_id]
  columns:
    visit_id: {type: string, description: One, two.}
""",
        "min / max are for numbers": PARENTS + """
visits:
  primary_key: [visit_id]
  columns:
    visit_id: {type: string}
    day: {type: date, min: 2000}
""",
        "earliest is for dates": PARENTS + """
visits:
  primary_key: [visit_id]
  columns:
    visit_id: {type: string, earliest: 2000-01-01}
""",
        "belongs_to needs references": PARENTS + """
visits:
  primary_key: [visit_id]
  columns:
    visit_id: {type: string}
    account_id: {type: string}
    contact_id: {type: string, belongs_to: account_id}
""",
        "visits has no column account_id": PARENTS + """
visits:
  primary_key: [visit_id]
  columns:
    visit_id: {type: string}
    contact_id: {type: string, references: contacts.contact_id, belongs_to: account_id}
""",
        "contacts has no column region_id": PARENTS + """
visits:
  primary_key: [visit_id]
  columns:
    visit_id: {type: string}
    region_id: {type: string}
    contact_id: {type: string, references: contacts.contact_id, belongs_to: region_id}
""",
    }
    for expected, tables in cases.items():
        with pytest.raises(ValueError, match=expected):
            _load(tmp_path, tables)
    with pytest.raises(ValueError, match="unknown bounds key"):
        _load(tmp_path, PARENTS, "bounds: {earliest: 1990-01-01}\n")
    with pytest.raises(ValueError, match="must be a date"):
        _load(tmp_path, PARENTS, "bounds: {earliest_date: soon}\n")
    ok = _load(tmp_path, PARENTS + """
visits:
  primary_key: [visit_id]
  columns:
    visit_id: {type: string}
    account_id: {type: string, references: accounts.account_id}
    contact_id: {type: string, references: contacts.contact_id, belongs_to: account_id}
""", "bounds: {number_abs_max: 1000, earliest_date: 2001-02-03}\n")
    assert ok.tables["visits"].columns["contact_id"].belongs_to == "account_id"
    assert ok.bounds.number_abs_max == 1000
    assert ok.tables["visits"].bounds.earliest_date.isoformat() == "2001-02-03"
    assert ok.bounds.latest_years_after_as_of == 10  # the default when not set


def test_core_tables_layers_and_partial_requirements_are_in_the_contract():
    spec = contract()
    assert spec.core_tables == ["regions", "reps", "accounts", "opportunities"]
    assert all(t.required_table == t.core for t in spec.tables.values())  # the earlier name
    # every optional table feeds at least one layer, and every layer is fed
    assert all(t.feeds for t in spec.tables.values() if not t.core)
    assert spec.layers["relationship_health"].tables == ("contacts", "interactions")
    assert spec.layers["relationship_health"].needs == "interactions and contacts"
    assert spec.layers["profit"].columns_any == (("opportunities", "margin_pct"),
                                                 ("opportunities", "cost"))
    deals = spec.tables["opportunities"].columns
    assert deals["amount"].required_when == ("status", ("won",))
    assert deals["account_id"].required_when == ("status", ("won",))
    assert not deals["created_date"].required and deals["created_date"].required_when is None
    assert "amount" in spec.tables["opportunities"].needed_columns
    assert {(t.name, c.name): c.default for t in spec.tables.values()
            for c in t.columns.values() if c.default} == {
        ("reps", "region_id"): "UNASSIGNED", ("reps", "hire_date"): "first activity or deal",
        ("accounts", "region_id"): "UNASSIGNED", ("accounts", "ar_rep_id"): "UNASSIGNED"}


def test_a_layer_or_required_when_mistake_is_refused(tmp_path):
    import pytest

    deals = """
deals:
  primary_key: [deal_id]
  feeds: [{feeds}]
  columns:
    deal_id: {{type: string, required: true}}
    status: {{type: string, allowed: [open, won]}}
    amount: {{type: decimal, {amount}}}
"""
    layers = "layers:\n  revenue: {needs: deals}\n"
    cases = {
        "feeds unknown layer(s) ['profit']": (deals.format(feeds="profit", amount=""), layers),
        "required_when is for a column that is not required": (
            deals.format(feeds="revenue", amount="required: true, required_when: {status: [won]}"),
            layers),
        "['closed'] are not allowed values of status": (
            deals.format(feeds="revenue", amount="required_when: {status: [closed]}"), layers),
        "deals has no column stage": (
            deals.format(feeds="revenue", amount="required_when: {stage: [won]}"), layers),
        "layer cash is fed by no table": (
            deals.format(feeds="revenue", amount=""), layers + "  cash: {needs: payments}\n"),
    }
    for message, (tables, layers_yaml) in cases.items():
        with pytest.raises(ValueError, match=re.escape(message)):
            _load(tmp_path, tables, layers_yaml)

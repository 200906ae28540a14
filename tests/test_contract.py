"""The contract file is consistent, and its document is generated from it."""

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

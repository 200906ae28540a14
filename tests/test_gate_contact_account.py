"""A row that names an account and a contact must name a contact of that account:
contract key `belongs_to`.

R01's account A1 and R02's account A2 each have one contact. Interactions, complaints,
feedback and survey answers on A1 that name A2's contact are quarantined with the reason
naming both accounts; deal contacts (opportunity_contacts) may be another account's people
(partners, consultants) and stay clean.
"""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from rapport.contract import contract
from rapport.pipeline.ingest import load_raw
from rapport.pipeline.quarantine import run_gate

FILES = {
    "regions": """
region_id,region_name
R01,North
R02,South
""",
    "reps": """
rep_id,rep_name,region_id,role,fte,hire_date
P1,Ann,R01,AR,1,2020-01-01
P2,Bob,R02,AR,1,2020-01-01
""",
    "accounts": """
account_id,account_name,industry,region_id,ar_rep_id
A1,North Co,telecom,R01,P1
A2,South Co,telecom,R02,P2
""",
    "contacts": """
contact_id,account_id,full_name
C1,A1,Ann North
C2,A2,Bo South
""",
    "interactions": """
interaction_id,occurred_at,rep_id,account_id,contact_id,activity_type
I1,2025-01-05 10:00:00,P1,A1,C1,home_visit
I2,2025-01-06 10:00:00,P1,A1,C2,home_visit
I3,2025-01-07 10:00:00,P1,A1,,executive_summit
I4,2025-01-08 10:00:00,P1,A1,C99,home_visit
I5,2025-01-09 10:00:00,P2,A2,C2,home_visit
I6,2025-01-10 10:00:00,P1,A9,C1,home_visit
""",
    "opportunities": """
opportunity_id,account_id,ar_rep_id,created_date,status,amount
O1,A1,P1,2025-01-01,open,100
""",
    "opportunity_contacts": """
opportunity_id,contact_id,decision_role
O1,C1,D
O1,C2,I
""",
    "complaints": """
complaint_id,account_id,contact_id,owner_rep_id,opened_at
K1,A1,C1,P1,2025-01-05 10:00:00
K2,A1,C2,P1,2025-01-05 10:00:00
""",
    "feedback_items": """
feedback_id,account_id,contact_id,recorded_by_rep_id,recorded_date
F1,A2,C2,P2,2025-01-05
F2,A2,C1,P2,2025-01-05
""",
    "satisfaction_surveys": """
survey_id,account_id,contact_id,survey_date,score
V1,A1,C2,2025-01-05,7
V2,A1,C1,2025-01-05,8
""",
}


@pytest.fixture(scope="module")
def gated(tmp_path_factory: pytest.TempPathFactory):
    folder: Path = tmp_path_factory.mktemp("belongs")
    for name, text in FILES.items():
        (folder / f"{name}.csv").write_text(text.lstrip(), encoding="utf-8")
    con = duckdb.connect()
    load_raw(con, folder)
    result = run_gate(con, "belongs-build")
    yield con, result
    con.close()


def quarantined(con, table: str) -> dict[int, tuple[str, str]]:
    return {n: (r, d) for n, r, d in con.execute(
        "select row_number, reasons, detail from meta.dq_quarantine where table_name = ? "
        "order by row_number", [table]).fetchall()}


def clean_ids(con, table: str, key: str) -> list[str]:
    return [r[0] for r in con.execute(
        f'select "{key}" from validated."{table}" order by _row_number').fetchall()]


def test_an_interaction_naming_a_contact_of_another_account_is_quarantined(gated):
    con, _ = gated
    assert quarantined(con, "interactions") == {
        2: ("impossible_value",
            ("impossible_value:contact_id=C2 (contacts.account_id is A2, the row's account_id "
            "is A1)")),
        4: ("orphan_fk", "orphan_fk:contact_id=C99"),        # unknown contact: orphan only
        # an unknown account: an orphan, and C1 is not its contact either
        6: ("impossible_value,orphan_fk",
            ("orphan_fk:account_id=A9; impossible_value:contact_id=C1 (contacts.account_id is A1, "
            "the row's account_id is A9)")),
    }
    # I3 has no contact (company-level event), I5 is A2's own contact
    assert clean_ids(con, "interactions", "interaction_id") == ["I1", "I3", "I5"]


@pytest.mark.parametrize(("table", "key", "row", "detail", "clean"), [
    ("complaints", "complaint_id", 2,
     "impossible_value:contact_id=C2 (contacts.account_id is A2, the row's account_id is A1)",
     ["K1"]),
    ("feedback_items", "feedback_id", 2,
     "impossible_value:contact_id=C1 (contacts.account_id is A1, the row's account_id is A2)",
     ["F1"]),
    ("satisfaction_surveys", "survey_id", 1,
     "impossible_value:contact_id=C2 (contacts.account_id is A2, the row's account_id is A1)",
     ["V2"]),
])
def test_complaints_feedback_and_surveys_follow_the_same_rule(gated, table, key, row, detail,
                                                               clean):
    con, _ = gated
    assert quarantined(con, table) == {row: ("impossible_value", detail)}
    assert clean_ids(con, table, key) == clean


def test_deal_contacts_of_another_account_are_kept(gated):
    """opportunity_contacts has no account column: a partner's contact on a deal is legitimate
    (the dashboard shows it only to who may see the contact's own account's region)."""
    con, result = gated
    assert quarantined(con, "opportunity_contacts") == {}
    assert result.counts["opportunity_contacts"].clean == 2


def test_every_row_is_kept_somewhere(gated):
    _, result = gated
    for table, counts in result.counts.items():
        assert counts.raw == counts.clean + counts.quarantined, table


def test_the_contract_says_which_columns_must_belong_to_the_row_account():
    spec = contract()
    checked = {(t.name, c.name, c.belongs_to) for t in spec.tables.values()
               for c in t.columns.values() if c.belongs_to}
    assert checked == {
        ("interactions", "contact_id", "account_id"),
        ("complaints", "contact_id", "account_id"),
        ("feedback_items", "contact_id", "account_id"),
        ("satisfaction_surveys", "contact_id", "account_id"),
    }

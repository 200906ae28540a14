"""Value transforms of the importer: declared date formats, CRM id forms, numbers, names."""

from __future__ import annotations

import pytest

from rapport.pipeline.importer.joins import TableIndex, look_up
from rapport.pipeline.importer.mapping import JoinSpec
from rapport.pipeline.importer.values import (
    fuzzy_key,
    guid,
    parse_date_text,
    salesforce18,
    scale_number,
    text_key,
)


@pytest.mark.parametrize(
    ("text", "formats", "kind", "expected"),
    [
        ("2025-03-15", ("iso",), "date", "2025-03-15"),
        ("2025-03-15T23:30:00.000Z", ("iso",), "date", "2025-03-15"),
        ("2025-03-15T23:30:00+02:00", ("iso",), "timestamp", "2025-03-15 21:30:00"),  # to UTC
        ("2025-03-15 10:22", ("iso",), "timestamp", "2025-03-15 10:22:00"),
        ("2025-03-15", ("iso",), "timestamp", "2025-03-15 00:00:00"),
        ("03/04/2025", ("day_first",), "date", "2025-04-03"),
        ("03.04.2025 14:30", ("day_first",), "timestamp", "2025-04-03 14:30:00"),
        ("03/04/2025", ("month_first",), "date", "2025-03-04"),
        ("3/4/2025 9:05 PM", ("month_first",), "timestamp", "2025-03-04 21:05:00"),
        ("12/31/2025 12:00 AM", ("month_first",), "timestamp", "2025-12-31 00:00:00"),
        ("44931", ("excel",), "date", "2023-01-05"),  # 1899-12-30 + 44931 days
        ("45000.75", ("excel",), "timestamp", "2023-03-15 18:00:00"),  # .75 of a day
        ("1740826800000", ("epoch_ms",), "timestamp", "2025-03-01 11:00:00"),
        ("1740826800", ("epoch_s",), "timestamp", "2025-03-01 11:00:00"),
        ("15.03.2025", ("%d.%m.%Y",), "date", "2025-03-15"),
        ("44931", ("iso", "excel"), "date", "2023-01-05"),  # the first format that parses
    ],
)
def test_dates_parse_in_their_declared_format(text, formats, kind, expected):
    assert parse_date_text(text, formats, kind) == expected


@pytest.mark.parametrize(
    ("text", "formats"),
    [
        ("2025-02-30", ("iso",)),  # no such day
        ("15/03/2021", ("iso",)),  # not ISO: never guessed
        ("2025-03-15", ("day_first",)),
        ("13/25/2025", ("month_first",)),  # month 25
        ("13:00 PM", ("month_first",)),
        ("3/4/25", ("day_first",)),  # two-digit years would need a guessed century
        ("12", ("excel",)),  # before 1900-03-01 (Excel's 1900 leap-year bug)
        ("n/a", ("epoch_ms",)),
        ("yesterday", ("iso", "day_first", "excel")),
    ],
)
def test_dates_that_do_not_parse_in_the_declared_format_are_refused(text, formats):
    assert parse_date_text(text, formats, "date") is None


def test_salesforce_ids_become_the_case_safe_18_character_form():
    # Salesforce's documented example: 001A0000006Vm9r -> suffix IAC
    # (chunk 001A0: upper case at position 3 -> 8 -> I; 00000 -> 0 -> A; 6Vm9r: position 1
    # -> 2 -> C).
    assert salesforce18("001A0000006Vm9r") == "001A0000006Vm9rIAC"
    assert salesforce18("001A0000006Vm9rIAC") == "001A0000006Vm9rIAC"
    # An 18-character id lower-cased by a spreadsheet gets its case back from the suffix.
    assert salesforce18("001a0000006vm9riac") == "001A0000006Vm9rIAC"
    # Anything else is left as it is (the build's gate judges it).
    assert salesforce18("not-an-id") == "not-an-id"
    assert salesforce18("001A0000006Vm9") == "001A0000006Vm9"


def test_guids_lose_braces_and_case():
    assert guid("{A1B2C3D4-0000-4000-8000-00000000000F}") == "a1b2c3d4-0000-4000-8000-00000000000f"
    assert guid("a1b2c3d4-0000-4000-8000-00000000000f") == "a1b2c3d4-0000-4000-8000-00000000000f"
    assert guid("North") == "North"


@pytest.mark.parametrize(
    ("text", "separator", "scale", "expected"),
    [
        ("1.250.000,00", ",", None, "1250000"),
        ("0,5", ",", None, "0.5"),
        ("1,250,000.75", ".", None, "1250000.75"),
        ("25", ".", "0.01", "0.25"),
        ("12,5", ",", "0.01", "0.125"),
        ("n/a", ",", None, None),  # not a number: the raw text goes to the gate
    ],
)
def test_numbers_with_declared_separators_and_scale(text, separator, scale, expected):
    assert scale_number(text, separator, scale) == expected


def test_label_and_fuzzy_keys():
    assert text_key("  Closed   WON ") == "closed won"
    assert fuzzy_key("Jürgen  WEIß") == fuzzy_key("jurgen weiss") == "jurgen weiss"
    assert text_key("Jürgen") != text_key("Jurgen")  # accents only matter to fuzzy matching


def _reps(*names: str) -> dict[str, TableIndex]:
    rows = [{"rep_id": f"R{i}", "rep_name": n} for i, n in enumerate(names, start=1)]
    return {"reps": TableIndex("reps", rows, ("rep_id",))}


def _join(fuzzy: bool, threshold: float = 0.9) -> tuple[JoinSpec, ...]:
    return (JoinSpec(table="reps", by=("rep_id", "rep_name"), returns="rep_id", fuzzy=fuzzy,
                     threshold=threshold),)


def test_exact_join_finds_ids_and_names_and_never_bends_spelling():
    indexes = _reps("Kim Nguyen", "Jürgen Weiß")
    assert look_up("R2", _join(False), indexes).value == "R2"
    assert look_up("Kim Nguyen", _join(False), indexes).value == "R1"
    miss = look_up("kim nguyen", _join(False), indexes)
    assert not hasattr(miss, "value") and "closest: 'Kim Nguyen'" in miss.detail


def test_fuzzy_join_normalises_then_uses_a_conservative_similarity():
    indexes = _reps("Kim Nguyen", "Jürgen Weiß", "Priya Raman", "Ann Lee")
    found = look_up("JURGEN  weiss", _join(True), indexes)
    assert (found.value, found.kind, found.score) == ("R2", "normalised", 1.0)
    found = look_up("Priya Ramann", _join(True), indexes)
    # 'priya ramann' vs 'priya raman': 2 x 11 / (12 + 11) = 0.957 >= 0.9
    assert (found.value, found.kind, found.score) == ("R3", "similar", 0.957)
    # 'kim ngyuen': 2 x 9 matching / 20 = 0.9 -> matched at 0.9, refused at 0.95
    assert look_up("Kim Ngyuen", _join(True, 0.9), indexes).value == "R1"
    assert not hasattr(look_up("Kim Ngyuen", _join(True, 0.95), indexes), "value")
    # Names under 8 characters are never matched by similarity, only by normalisation:
    # 'ann le' vs 'ann lee' would score 2 x 6 / 13 = 0.92.
    assert not hasattr(look_up("Ann Le", _join(True), indexes), "value")
    # Ids are never matched fuzzily.
    assert not hasattr(look_up("r1", _join(True), indexes), "value")


def test_fuzzy_join_never_chooses_between_two_candidates():
    indexes = _reps("Anna Schmidt", "Anna Schmitt")
    miss = look_up("Anna Schmit", _join(True, 0.9), indexes)
    assert miss.ambiguous and "several reps rows" in miss.detail
    indexes = _reps("Kim Nguyen", "KIM NGUYEN")
    assert look_up("kim nguyen", _join(True), indexes).ambiguous

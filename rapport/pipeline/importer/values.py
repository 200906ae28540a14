"""Value transforms of the importer: dates, CRM id formats, number scaling, text keys.

Every function here is pure: text in, text (or None for "cannot") out. None never means
"blank": blank is the empty string.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal, InvalidOperation

DATE_FORMATS = ("iso", "day_first", "month_first", "excel", "epoch_ms", "epoch_s")
ID_FORMATS = ("salesforce18", "guid", "none")

_ISO = re.compile(
    r"^(\d{4})-(\d{1,2})-(\d{1,2})"
    r"(?:[T ](\d{1,2}):(\d{2})(?::(\d{2})(?:[.,](\d+))?)?)?"
    r"\s*(Z|[+-]\d{2}:?\d{2})?$",
    re.IGNORECASE,
)
_DMY = re.compile(
    r"^(\d{1,2})[./-](\d{1,2})[./-](\d{4})"
    r"(?:[ T,]+(\d{1,2}):(\d{2})(?::(\d{2}))?\s*([AaPp][Mm])?)?$"
)
_NUMBER = re.compile(r"^-?\d+(?:\.\d+)?$")
_EXCEL_EPOCH = datetime(1899, 12, 30)  # Excel's 1900 date system, serials from 1900-03-01
_EXCEL_MIN, _EXCEL_MAX = 61, 2958465  # 1900-03-01 .. 9999-12-31


def text_key(value: str) -> str:
    """How value maps and where filters compare labels: spaces collapsed, case folded."""
    return " ".join(value.split()).casefold()


def fuzzy_key(value: str) -> str:
    """The fuzzy-match normalisation: spaces collapsed, case folded, diacritics removed."""
    decomposed = unicodedata.normalize("NFKD", value)
    stripped = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return " ".join(stripped.split()).casefold()


def _tz_offset(text: str) -> timezone:
    if text.upper() == "Z":
        return UTC
    sign = -1 if text[0] == "-" else 1
    digits = text[1:].replace(":", "")
    return timezone(sign * timedelta(hours=int(digits[:2]), minutes=int(digits[2:])))


def _to_utc_naive(moment: datetime) -> datetime:
    if moment.tzinfo is None:
        return moment
    return moment.astimezone(UTC).replace(tzinfo=None)


def _parse_iso(text: str) -> datetime | None:
    m = _ISO.match(text)
    if not m:
        return None
    year, month, day, hour, minute, second, fraction, zone = m.groups()
    micro = int((fraction or "0")[:6].ljust(6, "0"))
    moment = datetime(
        int(year),
        int(month),
        int(day),
        int(hour or 0),
        int(minute or 0),
        int(second or 0),
        micro,
        tzinfo=_tz_offset(zone) if zone else None,
    )
    return _to_utc_naive(moment)


def _parse_dmy(text: str, day_first: bool) -> datetime | None:
    m = _DMY.match(text)
    if not m:
        return None
    first, second, year, hour, minute, sec, ampm = m.groups()
    day, month = (first, second) if day_first else (second, first)
    h = int(hour or 0)
    if ampm:
        if not 1 <= h <= 12:
            raise ValueError("hour out of range for AM/PM")
        h = h % 12 + (12 if ampm.lower() == "pm" else 0)
    return datetime(int(year), int(month), int(day), h, int(minute or 0), int(sec or 0))


def _parse_number_date(text: str, fmt: str) -> datetime | None:
    if not _NUMBER.match(text):
        return None
    number = float(text)
    if fmt == "excel":
        if not _EXCEL_MIN <= number <= _EXCEL_MAX:
            return None
        return _EXCEL_EPOCH + timedelta(days=number)
    seconds = number / 1000 if fmt == "epoch_ms" else number
    return datetime.fromtimestamp(seconds, tz=UTC).replace(tzinfo=None)


def parse_moment(text: str, fmt: str) -> datetime | None:
    """A date/time in one declared format, as naive UTC; None if it does not parse.

    fmt: iso | day_first | month_first | excel | epoch_ms | epoch_s | a strptime pattern.
    Times with a zone (Z, +02:00) are converted to UTC; times without one are kept as is.
    """
    try:
        if fmt == "iso":
            return _parse_iso(text)
        if fmt in ("day_first", "month_first"):
            return _parse_dmy(text, day_first=fmt == "day_first")
        if fmt in ("excel", "epoch_ms", "epoch_s"):
            return _parse_number_date(text, fmt)
        return _to_utc_naive(datetime.strptime(text, fmt))
    except (ValueError, OverflowError, OSError):
        return None


def format_moment(moment: datetime, contract_type: str) -> str:
    """The contract's spelling: YYYY-MM-DD for dates, YYYY-MM-DD HH:MM:SS for timestamps."""
    if contract_type == "date":
        return moment.date().isoformat()
    return moment.replace(microsecond=0).isoformat(sep=" ")


# Formats tried on a value that did not parse, to suggest one in the report (most common
# spreadsheet and CRM spellings first; day-first before month-first, as most exports are).
SUGGESTED_DATE_FORMATS = (
    "%d-%m-%y", "%d/%m/%y", "%d.%m.%y", "%m/%d/%y",
    "%d-%m-%Y", "%d/%m/%Y", "%d.%m.%Y", "%m/%d/%Y", "%Y/%m/%d", "%Y%m%d",
    "%d %b %Y", "%d-%b-%Y", "%d-%b-%y", "%b %d, %Y", "%d %B %Y", "%B %d, %Y",
    "%d/%m/%Y %H:%M", "%m/%d/%Y %H:%M", "%d/%m/%y %H:%M", "%m/%d/%y %I:%M %p",
    "iso",
)


def suggest_date_formats(text: str, limit: int = 2) -> list[str]:
    """Formats in which `text` reads as a date (a hint for the mapping's date_format)."""
    found = [fmt for fmt in SUGGESTED_DATE_FORMATS if parse_moment(text.strip(), fmt)]
    return found[:limit]


def parse_date_text(text: str, formats: tuple[str, ...], contract_type: str) -> str | None:
    """The first declared format that parses wins; None when none does."""
    for fmt in formats:
        moment = parse_moment(text, fmt)
        if moment is not None:
            return format_moment(moment, contract_type)
    return None


# ---------- CRM id formats

_SF_SUFFIX = "ABCDEFGHIJKLMNOPQRSTUVWXYZ012345"
_SF_ID = re.compile(r"^[A-Za-z0-9]{15}(?:[A-Za-z0-5]{3})?$")
_GUID = re.compile(
    r"^\{?([0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12})\}?$"
)


def _sf_suffix(id15: str) -> str:
    suffix = ""
    for start in range(0, 15, 5):
        chunk = id15[start : start + 5]
        bits = sum(1 << i for i, ch in enumerate(chunk) if "A" <= ch <= "Z")
        suffix += _SF_SUFFIX[bits]
    return suffix


def salesforce18(value: str) -> str:
    """Salesforce's case-safe 18-character id for a 15- or 18-character id.

    A 15-character id (reports) gets its checksum suffix. An 18-character id (Data Loader,
    the API) keeps its suffix, and the case of its first 15 characters is restored from it,
    so an id lower-cased by a spreadsheet still matches. Anything else is returned unchanged.
    """
    if not _SF_ID.match(value):
        return value
    if len(value) == 15:
        return value + _sf_suffix(value)
    suffix = value[15:].upper()
    chars = list(value[:15])
    for block, letter in enumerate(suffix):
        bits = _SF_SUFFIX.index(letter)
        for i in range(5):
            pos = block * 5 + i
            if chars[pos].isalpha():
                chars[pos] = chars[pos].upper() if bits >> i & 1 else chars[pos].lower()
    return "".join(chars) + suffix


def guid(value: str) -> str:
    """A Dynamics / Dataverse GUID without braces, lower case; anything else unchanged."""
    m = _GUID.match(value)
    return m.group(1).lower() if m else value


def normalise_id(value: str, fmt: str | None) -> str:
    if not value or fmt in (None, "none"):
        return value
    if fmt == "salesforce18":
        return salesforce18(value)
    if fmt == "guid":
        return guid(value)
    raise ValueError(f"unknown id format {fmt!r}")


# ---------- numbers


def scale_number(text: str, decimal_separator: str, scale: str | None) -> str | None:
    """A number with the declared decimal separator, times scale, in contract spelling.

    Thousands separators (the other of . and ,), spaces and apostrophes are removed.
    None when the text is not a number (the caller passes the raw text to the gate).
    """
    other = "," if decimal_separator == "." else "."
    cleaned = text.replace(" ", "").replace("\u00a0", "").replace("'", "").replace(other, "")
    cleaned = cleaned.replace(decimal_separator, ".")
    try:
        number = Decimal(cleaned)
    except InvalidOperation:
        return None
    if not number.is_finite():
        return None
    if scale is not None:
        number *= Decimal(scale)
    text_out = format(number.normalize(), "f")
    return "0" if text_out in ("-0", "") else text_out

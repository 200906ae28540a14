"""Number and date formatting for labels and metrics (tables use column_config), and the
two ways a data value is written into text the browser renders: `plain` for Streamlit's
markdown, `chart_text` for Plotly."""

from __future__ import annotations

import datetime as dt
import html
import math
import re
from typing import Any

NA = "n/a"
# A metric whose inputs the build did not get (meta.layers): shown instead of a number, with
# the reason beside it; never 0.
NOT_AVAILABLE = "not available"

# Every ASCII punctuation character: CommonMark lets each be backslash-escaped, and an
# escaped one is always the character itself (no emphasis, link, image, heading, list,
# table, HTML tag, entity, LaTeX `$`, or Streamlit directive such as `:red[...]`).
_MARKDOWN_PUNCTUATION = re.compile(r"([!-/:-@\[-`{-~])")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]+")
# GitHub-flavoured markdown turns bare URLs and e-mail addresses in the text into links
# (after escapes are resolved): an invisible word joiner (U+2060) breaks them up.
_AUTOLINK = re.compile(r"(?i)(:)(//)|(w)(ww\.)|(@)()")


def plain(value: Any) -> str:
    """A data value (a region, account, rep or contact name, any text from the warehouse)
    to put into Streamlit text that renders markdown: st.markdown, st.caption, st.info /
    warning / error / success, st.metric labels and help, widget labels. Shows as the text
    itself: markdown and HTML are escaped, line breaks and control characters become
    spaces, and bare URLs and e-mail addresses are not turned into links:
    `![x](http://host/x.png)` -> `\\!\\[x\\]\\(http\\:\\/\\/host\\/x\\.png\\)` (and a
    word joiner after `http:`)."""
    text = _CONTROL.sub(" ", "" if value is None else str(value))
    text = _AUTOLINK.sub(lambda m: "\u2060".join(g for g in m.groups() if g is not None),
                         text)
    return _MARKDOWN_PUNCTUATION.sub(r"\\\1", text)


def chart_text(value: Any) -> str:
    """A data value to put into Plotly text (titles, axis and category labels, legend,
    hover, text on marks): Plotly renders a few HTML tags there (<b>, <br>, <a href>), so
    `&`, `<` and `>` are written as entities, which Plotly shows as the characters."""
    text = "" if value is None else str(value)
    return html.escape(text, quote=False)


def _missing(value: Any) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def money(value: float | None) -> str:
    """1234567 -> '1.23 M'; 45600 -> '45.6 k'."""
    if _missing(value):
        return NA
    size = abs(value)
    for threshold, suffix in ((1e9, " bn"), (1e6, " M"), (1e3, " k")):
        if size >= threshold:
            scaled = value / threshold
            digits = 0 if abs(scaled) >= 100 else 1 if abs(scaled) >= 10 else 2
            return f"{scaled:,.{digits}f}{suffix}"
    return f"{value:,.0f}"


def pct(value: float | None, digits: int = 0) -> str:
    """0.853 -> '85%'."""
    if _missing(value):
        return NA
    return f"{100 * value:.{digits}f}%"


def score(value: float | None) -> str:
    """A 0-100 score: 72.46 -> '72.5'."""
    if _missing(value):
        return NA
    return f"{value:.1f}"


def count(value: float | None) -> str:
    if _missing(value):
        return NA
    return f"{int(value):,}"


def delta_ratio(now: float | None, before: float | None) -> str | None:
    """Relative change for st.metric's delta: '+12.0%' (None when not computable)."""
    if _missing(now) or _missing(before) or not before:
        return None
    return f"{100 * (now - before) / abs(before):+.1f}%"


def delta_points(now: float | None, before: float | None) -> str | None:
    """Change of a ratio in percentage points: '+3.2 pp'."""
    if _missing(now) or _missing(before):
        return None
    return f"{100 * (now - before):+.1f} pp"


def date(value: dt.date | dt.datetime | None) -> str:
    if value is None:
        return NA
    if isinstance(value, dt.datetime):
        return value.strftime("%Y-%m-%d %H:%M")
    return value.isoformat()


def quarter_label(year: int, quarter: int) -> str:
    return f"{year} Q{quarter}"


ALERT_LABELS = {
    "approver_or_decider_opposes": "Approver or decision maker opposes",
    "no_coach_on_s_a": "No coach on an S/A account",
    "competitor_stance_conflict": "Supporter also backs a competitor",
    "key_contact_untouched_90d": "Key contact untouched 90 days",
    "privately_held": "Privately held (one rep)",
    "no_approver": "No approver identified",
}
ALERT_SHORT_LABELS = {  # for metric tiles, which truncate long labels
    "approver_or_decider_opposes": "A or D opposes",
    "no_coach_on_s_a": "No coach (S/A)",
    "competitor_stance_conflict": "Backs a competitor",
    "key_contact_untouched_90d": "Untouched 90 days",
    "privately_held": "Privately held",
    "no_approver": "No approver",
}
ROLE_LABELS = {
    "A": "A approver", "D": "D decision maker", "S": "S supporter", "E": "E evaluator",
    "I": "I influencer",
}
ATTITUDE_LABELS = {
    -1: "-1 opposes", 0: "0 neutral", 1: "1 supports", 2: "2 exclusive", 3: "3 coach",
}


def alert_label(code: str | None, *, short: bool = False) -> str:
    labels = ALERT_SHORT_LABELS if short else ALERT_LABELS
    return labels.get(code or "", label(code))


def label(code: str | None) -> str:
    """'key_contact_untouched_90d' -> 'Key contact untouched 90d'."""
    if not code:
        return NA
    text = str(code).replace("_", " ")
    return text[:1].upper() + text[1:]

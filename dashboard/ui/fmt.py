"""The dashboard's one formatting layer (docs/dashboard.md, "Formatting"): numbers, money,
percentages, dates, labels for every code and human column headers, and the two ways a data
value is written into text the browser renders: `plain` for Streamlit's markdown,
`chart_text` for Plotly.

- Percentages: one style everywhere, one decimal (`pct`, `PERCENT_FORMAT` for tables over
  `as_percent` columns).
- Money: the reporting currency of config/dashboard.yml (`currency()`), symbol before the
  value (`money`); tables put it in the header (`money_header`) and keep numbers sortable.
- Codes: labels read from the seeds (transforms/seeds) and the contract, never copied here
  when a seed has them (`code_label`, `readable` for a whole frame).
- Not available: "n/a" (`NA`), never None, nan or 0; the reason goes into the help text.

Pure functions (no Streamlit): tests and other pages use them as they are; the Streamlit
column configs built on them are in ui.widgets."""

from __future__ import annotations

import csv
import datetime as dt
import html
import logging
import math
import os
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from functools import cache, lru_cache
from pathlib import Path
from typing import Any

import polars as pl
import yaml

from rapport.paths import SEEDS_DIR, settings_file

log = logging.getLogger("rapport.dashboard")

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


# -- Money: the reporting currency (config/dashboard.yml) ------------------------------------

DASHBOARD_CONFIG_ENV = "RAPPORT_DASHBOARD_CONFIG"
NEUTRAL_CURRENCY = "¤"  # the generic currency sign: amounts of a currency nobody configured
_CODE = re.compile(r"^[A-Z]{3}$")


@dataclass(frozen=True)
class Currency:
    code: str = ""  # ISO 4217, e.g. EUR
    symbol: str = NEUTRAL_CURRENCY

    @property
    def sign(self) -> str:
        """What money values carry: the symbol, else the code, else ¤."""
        return self.symbol or self.code or NEUTRAL_CURRENCY

    def describe(self) -> str:
        """'EUR (€)' for help texts; 'not configured (¤)' without a setting."""
        if not self.code:
            return f"not configured ({self.sign}, see config/dashboard.yml)"
        return f"{self.code} ({self.symbol})" if self.symbol else self.code


def dashboard_config_file() -> Path:
    return Path(os.environ.get(DASHBOARD_CONFIG_ENV) or settings_file("config", "dashboard.yml"))


@lru_cache(maxsize=4)
def _currency_from(path: str, mtime_ns: int) -> Currency:
    del mtime_ns  # part of the cache key only: an edited file is read again
    try:
        raw = yaml.safe_load(Path(path).read_text(encoding="utf-8")) or {}
        spec = raw.get("currency") or {}
        code = str(spec.get("code") or "").strip().upper()
        symbol = str(spec.get("symbol") or "").strip()
    except (OSError, ValueError, AttributeError, yaml.YAMLError) as exc:
        log.warning("dashboard config %s: %s; money shown with %s", path, exc, NEUTRAL_CURRENCY)
        return Currency()
    if code and not _CODE.match(code):
        log.warning("dashboard config %s: currency code %r is not ISO 4217; ignored", path, code)
        code = ""
    if len(symbol) > 4 or _CONTROL.search(symbol):
        log.warning("dashboard config %s: currency symbol %r too long; ignored", path, symbol)
        symbol = ""
    if not code and not symbol:
        return Currency()
    return Currency(code=code, symbol=symbol)


def currency() -> Currency:
    """The reporting currency of config/dashboard.yml (RAPPORT_DASHBOARD_CONFIG), read again
    when the file changes; ¤ without a file or setting."""
    path = dashboard_config_file()
    try:
        mtime = path.stat().st_mtime_ns
    except OSError:
        return Currency()
    return _currency_from(str(path), mtime)


# How many accounts a list to choose from (Power map, Record assessments) shows at most:
# past it the page offers a Find box. config/dashboard.yml `account_list: {limit: N}`.
ACCOUNT_LIST_LIMIT = 1000


@lru_cache(maxsize=4)
def _account_list_limit_from(path: str, mtime_ns: int) -> int:
    del mtime_ns  # part of the cache key only: an edited file is read again
    try:
        raw = yaml.safe_load(Path(path).read_text(encoding="utf-8")) or {}
        value = (raw.get("account_list") or {}).get("limit", ACCOUNT_LIST_LIMIT)
    except (OSError, ValueError, AttributeError, yaml.YAMLError) as exc:
        log.warning("dashboard config %s: %s; account lists show %d", path, exc,
                    ACCOUNT_LIST_LIMIT)
        return ACCOUNT_LIST_LIMIT
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 100_000:
        log.warning("dashboard config %s: account_list.limit %r is not a whole number from 1 "
                    "to 100,000; account lists show %d", path, value, ACCOUNT_LIST_LIMIT)
        return ACCOUNT_LIST_LIMIT
    return value


def account_list_limit() -> int:
    """account_list.limit of config/dashboard.yml (RAPPORT_DASHBOARD_CONFIG), read again when
    the file changes; 1,000 without a file or setting."""
    path = dashboard_config_file()
    try:
        mtime = path.stat().st_mtime_ns
    except OSError:
        return ACCOUNT_LIST_LIMIT
    return _account_list_limit_from(str(path), mtime)


def money(value: float | None) -> str:
    """1234567 -> '€1.23 M'; 45600 -> '€45.6 k'; -2500 -> '-€2.50 k' (the configured
    currency's symbol, else its code after the value: '1.23 M EUR'). Plain text: escape it
    with `plain` before putting it into markdown (a `$` starts LaTeX there)."""
    if _missing(value):
        return NA
    cur = currency()
    size = abs(value)
    number = f"{size:,.0f}"
    for threshold, suffix in ((1e9, " bn"), (1e6, " M"), (1e3, " k")):
        if size >= threshold:
            scaled = size / threshold
            digits = 0 if scaled >= 100 else 1 if scaled >= 10 else 2
            number = f"{scaled:,.{digits}f}{suffix}"
            break
    sign = "-" if value < 0 else ""
    if cur.symbol:
        return f"{sign}{cur.symbol}{number}"
    return f"{sign}{number} {cur.code or NEUTRAL_CURRENCY}"


def money_header(label: str) -> str:
    """A money column's header with the currency: 'Revenue 12m (€)'. Tables keep amounts as
    numbers (sortable, compact) and say the currency here."""
    return f"{label} ({currency().sign})"


# -- Percentages: one style, one decimal -------------------------------------------------

PCT_DIGITS = 1
# st.column_config.NumberColumn format of a column made by as_percent (values 0-100)
PERCENT_FORMAT = f"%.{PCT_DIGITS}f%%"
PERCENT_SUFFIX = "_pct"


def pct(value: float | None, digits: int = PCT_DIGITS) -> str:
    """A share 0..1 as a percentage, one decimal: 0.853 -> '85.3%'."""
    if _missing(value):
        return NA
    return f"{100 * value:.{digits}f}%"


def pct_points(value: float | None) -> str:
    """A percentage already on 0..100: 85.25 -> '85.3%'."""
    if _missing(value):
        return NA
    return f"{value:.{PCT_DIGITS}f}%"


def as_percent(df: pl.DataFrame, *columns: str) -> pl.DataFrame:
    """Share columns (0..1) as percentages for a table: `breadth` 0.4531 becomes
    `breadth_pct` 45.31, shown with PERCENT_FORMAT ('45.3%'), still a sortable number; the
    CSV keeps the new name, so nobody reads 45.31 as a share. Absent columns are skipped."""
    present = [c for c in columns if c in df.columns]
    if not present:
        return df
    return df.with_columns((pl.col(c) * 100).alias(f"{c}{PERCENT_SUFFIX}") for c in present) \
        .select([f"{c}{PERCENT_SUFFIX}" if c in present else c for c in df.columns])


def signed(value: float | None, digits: int = 1) -> str:
    """A change of a score: +3.2, -0.5, n/a."""
    if _missing(value):
        return NA
    return f"{value:+.{digits}f}"


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


# -- Labels for codes: from the seeds and the contract ----------------------------------
# A code is shown by its label wherever a page shows it (table cells, legends, axis and
# widget options). Where a seed has a label column it is the source (activity types, role
# names); where the seed or the contract lists the codes without labels (industries,
# evaluation groups, market types, bands, check statuses...) the label is the code in
# words ('public_sector' -> 'Public sector'), with the few exceptions in _WORDS.

@cache
def _seed_rows(name: str) -> tuple[dict[str, str], ...]:
    """The rows of transforms/seeds/<name>.csv (the dbt seed; the build loads the same file
    into the warehouse's config schema); none when the file cannot be read."""
    try:
        with (SEEDS_DIR / f"{name}.csv").open(encoding="utf-8", newline="") as handle:
            return tuple(csv.DictReader(handle))
    except OSError as exc:
        log.warning("seed %s not readable (%s): codes shown in words", name, exc)
        return ()


def _seed_labels(name: str, code: str, text: str | None = None) -> dict[str, str]:
    """code -> label (the `text` column, else the code in words) for one seed."""
    return {r[code]: (r[text] if text and r.get(text) else words(r[code]))
            for r in _seed_rows(name) if r.get(code)}


@cache
def _contract_values(table: str, column: str) -> tuple[str, ...]:
    try:
        from rapport.contract import contract

        return tuple(contract().tables[table].columns[column].allowed or ())
    except Exception as exc:  # noqa: BLE001 - a display label must not break a page
        log.warning("contract %s.%s: %s", table, column, exc)
        return ()


# Codes whose words need more than spaces and a capital (no seed or contract has a label).
_WORDS = {"saline_alkali": "Saline-alkali", "org": "Organisational", "hhi": "HHI",
          "ttm": "12m", "fte": "FTE", "yoy": "year on year", "pct": "%", "id": "ID",
          "dbt": "dbt", "qa": "QA", "sr": "SR", "fr": "FR", "ar": "AR", "kpi": "KPI",
          "pii": "personal data"}


def words(code: Any) -> str:
    """A code in words: 'public_sector' -> 'Public sector', 'office_visit_regular' ->
    'Office visit regular', 'saline_alkali' -> 'Saline-alkali'."""
    if code is None or code == "":
        return NA
    text = str(code)
    if text in _WORDS:
        return _WORDS[text]
    if "_" not in text and not text.islower():
        return text  # already a name: 'S', 'Capital Region'
    parts = [_WORDS.get(part, part) for part in text.split("_") if part]
    text = " ".join(parts)
    return text[:1].upper() + text[1:]


def _statuses() -> dict[str, str]:
    from rapport.check_results import STATUSES

    return {s: words(s) for s in STATUSES}


TIER_CHANGE_LABELS = {"up": "▲ up", "down": "▼ down", "same": "= same", "new": "new"}

@lru_cache(maxsize=1)
def code_labels() -> dict[str, dict[str, str]]:
    """kind -> {code: label} for every kind of code the pages show."""
    taxonomy = _seed_rows("activity_taxonomy")
    return {
        "activity_type": _seed_labels("activity_taxonomy", "activity_type", "label"),
        "layer": {r["layer"]: words(r["layer"]) for r in taxonomy if r.get("layer")},
        "decision_role": dict(ROLE_LABELS),
        "health_band": _seed_labels("health_bands", "band"),
        "market_type": _seed_labels("market_type_weights", "market_type"),
        "action_group": {r["action_group"]: words(r["action_group"])
                         for r in _seed_rows("key_actions") if r.get("action_group")},
        "industry": {c: words(c) for c in _contract_values("accounts", "industry")},
        "evaluation_group": {c: words(c)
                             for c in _contract_values("contacts", "evaluation_group")},
        "level": {c: words(c) for c in _contract_values("contacts", "level")},
        "status": _statuses(),
        "tier_change": dict(TIER_CHANGE_LABELS),
        "alert_type": dict(ALERT_LABELS),
        "reason": {r: words(r) for r in ("missing_required", "unparseable", "not_allowed",
                                         "out_of_range", "impossible_value", "orphan_fk",
                                         "duplicate_key")},
    }


# column name -> the kind of code it holds (readable() labels these columns)
COLUMN_KINDS = {
    "activity_type": "activity_type", "planned_activity_type": "activity_type",
    "layer": "layer", "decision_role": "decision_role", "health_band": "health_band",
    "band": "health_band", "market_type": "market_type", "action_group": "action_group",
    "industry": "industry", "evaluation_group": "evaluation_group", "level": "level",
    "status": "status", "tier_change": "tier_change", "movement": "tier_change",
    "alert_type": "alert_type", "reason": "reason",
}


def code_label(kind: str, code: Any) -> str:
    """The label of one code: code_label('industry', 'public_sector') -> 'Public sector';
    an unknown code in words, a missing one 'n/a'."""
    if code is None or code == "":
        return NA
    return code_labels().get(kind, {}).get(str(code)) or words(code)


def labeller(kind: str) -> Callable[[Any], str]:
    """A format_func for widgets: st.multiselect(..., format_func=fmt.labeller('industry'))."""
    return lambda code: code_label(kind, code)


def readable(df: pl.DataFrame, kinds: Mapping[str, str] | None = None, *,
             na: str = NA, keep: Iterable[str] = (),
             formats: Mapping[str, Callable[[Any], str]] | None = None) -> pl.DataFrame:
    """A frame as a table shows it, in one call:
    - the code columns (COLUMN_KINDS, plus `kinds`: column -> kind) as their labels;
    - a gap in a text column as 'n/a' (Streamlit draws a null as 'None');
    - a number, date or time column with a gap as text, each value through its formatter
      (`formats`, else a plain one for its type) and the gap as 'n/a': say in the column's
      help why a value can be n/a. A column without a gap stays a number (sortable); ui.widgets
      draws a column that became text right-aligned, with its label and help.
    `keep` names columns to leave as they are (ids, codes a page filters on)."""
    kept = set(keep)
    wanted = {**{c: k for c, k in COLUMN_KINDS.items() if c in df.columns},
              **dict(kinds or {})}
    exprs = []
    for name, dtype in df.schema.items():
        if name in kept or dtype not in (pl.String, pl.Categorical):
            continue
        column = pl.col(name).cast(pl.String)
        if name in wanted:
            values = df[name].cast(pl.String).drop_nulls().unique().to_list()
            column = column.replace_strict(
                {v: code_label(wanted[name], v) for v in values}, default=None,
                return_dtype=pl.String)
        exprs.append(column.fill_null(na).alias(name))
    out = df.with_columns(exprs) if exprs else df
    gaps = {name: (formats or {}).get(name) or _plain_format(dtype)
            for name, dtype in out.schema.items()
            if name not in kept and _plain_format(dtype) and out[name].null_count()}
    return na_text(out, gaps, na=na) if gaps else out


def _plain_format(dtype: pl.DataType) -> Callable[[Any], str] | None:
    if dtype.is_integer():
        return count
    if dtype.is_float():
        return lambda v: f"{v:,.2f}"
    if dtype == pl.Date or isinstance(dtype, pl.Datetime):
        return date
    return None


def as_tags(df: pl.DataFrame, *columns: str) -> pl.DataFrame:
    """Text columns as one-tag lists, for a coloured tag per value
    (ui.widgets.tag_column: a band, a check status, a build outcome in its colour, drawn by
    the table itself, whatever fonts the browser has). The CSV writes the tag as text."""
    return df.with_columns(pl.concat_list(pl.col(c)).alias(c) for c in columns
                           if c in df.columns)


def na_text(df: pl.DataFrame, formats: Mapping[str, Callable[[Any], str]], *,
            na: str = NA) -> pl.DataFrame:
    """Number columns that have gaps as text: each value through its formatter (e.g.
    fmt.signed), a gap as 'n/a'. A column without a gap stays a number (sortable); say in
    its help why a value can be n/a. (fmt.readable does this for every column.)"""
    return df.with_columns(
        pl.Series(name, [na if _missing(v) else f(v) for v in df[name].to_list()],
                  dtype=pl.String)
        for name, f in formats.items() if name in df.columns and df[name].null_count())


# -- Column headers -----------------------------------------------------------------------
# A table's header is its column_config label when the page gives one; else header(name).

HEADERS = {
    "account_name": "Account", "account_id": "Account ID", "region_name": "Region",
    "region_id": "Region ID", "rep_name": "Rep", "rep_id": "Rep ID", "contact_name": "Contact",
    "contact_id": "Contact ID", "industry": "Industry", "tier": "Tier",
    "health_band": "Band", "health_score": "Health", "key_score": "Key",
    "general_score": "General", "org_score": "Org", "market_type": "Market type",
    "activity_type": "Activity", "decision_role": "Role", "evaluation_group":
    "Evaluation group", "table_name": "Table", "column_name": "Column", "build_id": "Build",
    "started_at": "Started", "finished_at": "Finished", "as_of_date": "Data as of",
    "checks_summary": "Checks", "status": "Status", "revenue_ttm": "Revenue 12m",
    "rank_in_population": "Rank", "previous_tier": "Previous tier", "tier_change": "Change",
    "occurred_date": "Date", "last_touch_date": "Last touch", "reasons": "Reasons",
    "detail": "Detail", "source_file": "File", "row_number": "Row", "rows": "Rows",
    "raw_rows": "Raw rows", "clean_rows": "Clean rows", "quarantined_rows":
    "Quarantined rows", "duration_s": "Duration (s)", "git_commit": "Commit",
    "rapport_version": "Version", "built_at": "Built", "outcome": "Outcome",
}


def header(name: str) -> str:
    """A column name as a header: 'revenue_ttm' -> 'Revenue 12m', 'breadth_pct' ->
    'Breadth %', 'top_rep_share' -> 'Top rep share'."""
    if name in HEADERS:
        return HEADERS[name]
    if name.endswith(PERCENT_SUFFIX) and name[: -len(PERCENT_SUFFIX)] in HEADERS:
        return f"{HEADERS[name[: -len(PERCENT_SUFFIX)]]} %"
    return words(name)


# The input tables (data/raw/<table>.csv, rapport/contract.yml) as a reader names them; the
# table's own name stays in the help beside the label.
TABLE_LABELS = {
    "accounts": "Accounts", "account_owners": "Account owner history",
    "account_strategies": "Account strategies", "competitor_stances": "Competitor stances",
    "complaints": "Complaints", "contact_assessments": "Contact assessments",
    "contacts": "Contacts", "feedback_items": "Customer feedback",
    "interactions": "Interactions", "opportunities": "Opportunities",
    "opportunity_contacts": "Deal contacts", "payments": "Payments",
    "plan_items": "Relationship plan items", "region_market_types": "Region market types",
    "regions": "Regions", "relationship_plans": "Relationship plans", "reps": "Reps",
    "satisfaction_surveys": "Satisfaction surveys", "targets": "Targets",
}


def table_label(name: str | None) -> str:
    """An input table as a reader names it: 'opportunity_contacts' -> 'Deal contacts'; a
    table this app does not know in words ('new_table' -> 'New table')."""
    if not name:
        return NA
    return TABLE_LABELS.get(str(name), words(name))


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
# 'A approver', 'D decision maker'...: the code and the role name of the seed
# role_influence_weights (the code stays first: the power map draws it on the dots)
ROLE_LABELS = {code: f"{code} {name[:1].lower()}{name[1:]}"
               for code, name in _seed_labels("role_influence_weights", "decision_role",
                                              "role_name").items()}
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

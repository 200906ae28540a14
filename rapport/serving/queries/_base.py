"""Shared pieces of the queries: filters, bound parameters, scope and masking SQL."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import polars as pl

from rapport.serving.reader import Reader
from rapport.serving.scope import Scope

TIERS = ("S", "A", "B", "C")
HEALTH_BANDS = ("strong", "developing", "weak")
DECISION_ROLES = ("A", "D", "S", "E", "I")
EVALUATION_GROUPS = ("commercial", "technical", "selection_decision", "final_decision")
ALERT_TYPES = (  # in the order the Overview lists them: the most urgent first
    "approver_or_decider_opposes",
    "no_coach_on_s_a",
    "competitor_stance_conflict",
    "key_contact_untouched_90d",
    "privately_held",
    "no_approver",
)


@dataclass(frozen=True)
class Filters:
    """The sidebar's choices: a quarter and optional region / industry / tier subsets.

    An empty tuple means "no restriction" (the scope still applies).
    """

    year: int | None = None
    quarter: int | None = None
    region_ids: tuple[str, ...] = ()
    industries: tuple[str, ...] = ()
    tiers: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        for name in ("region_ids", "industries", "tiers"):
            value = getattr(self, name)
            object.__setattr__(self, name, tuple(sorted({str(v) for v in value})))


@dataclass
class Sql:
    """One statement under construction: bound values are collected in order."""

    params: dict[str, Any] = field(default_factory=dict)

    def bind(self, value: Any) -> str:
        name = f"p{len(self.params) + 1}"
        self.params[name] = value
        return f"${name}"

    def one_of(self, column: str, values: Sequence[Any]) -> str:
        """`column in ($p1, ...)`; an empty sequence restricts nothing (a filter)."""
        if not values:
            return "true"
        return f"{column} in ({', '.join(self.bind(v) for v in values)})"

    def scope(self, scope: Scope, column: str) -> str:
        """The scope's regions; an empty region set matches nothing (a security boundary)."""
        if scope.region_ids is None:
            return "true"
        if not scope.region_ids:
            return "false"
        return f"{column} in ({', '.join(self.bind(v) for v in sorted(scope.region_ids))})"


def fetch(reader: Reader, scope: Scope, sql: str, q: Sql) -> pl.DataFrame:
    return reader.fetch(sql, q.params, scope.cache_key())


def name_sql(scope: Scope, column: str) -> str:
    """A contact's name, or its initials when the scope may not see personal data."""
    if scope.may_see_pii:
        return column
    return rf"regexp_replace(trim({column}), '(\S)\S*', '\1.', 'g')"


# What a row shows instead of a contact the scope may not see: a contact of another region
# named on a row of a visible account (inconsistent data: an interaction, alert or deal of
# an account in one region that names a contact of an account in another).
OTHER_REGION_CONTACT = "(contact of another region)"


def text_literal(value: str) -> str:
    """A constant of this package as a SQL string literal (never a caller's value)."""
    return "'" + value.replace("'", "''") + "'"


def contact_region(q: Sql, scope: Scope, contact_id: str,
                   alias: str = "contact_scope") -> tuple[str, str]:
    """(joins, visible) for a row that names a contact (`contact_id`, a column expression).

    The scope is applied to the region of the contact's own account (marts.dim_contacts ->
    marts.dim_accounts), not to the row's account: a row of a visible account may name a
    contact of another region. `joins` are left joins to add to the FROM clause; `visible`
    is a SQL boolean, false when the contact's own account is outside the scope or unknown
    (fail closed). A scope of every region sees every contact: no joins, `true`."""
    if scope.sees_all_regions:
        return "", "true"
    joins = f"""
    left join marts.dim_contacts as {alias}_contacts
        on {alias}_contacts.contact_id = {contact_id}
    left join marts.dim_accounts as {alias}_accounts
        on {alias}_accounts.account_id = {alias}_contacts.account_id"""
    return joins, f"coalesce({q.scope(scope, f'{alias}_accounts.region_id')}, false)"


def contacts_in_scope(q: Sql, scope: Scope, contact_id: str,
                      alias: str = "contact_scope") -> str:
    """Inner joins that keep only rows whose contact (`contact_id`) belongs to an account of
    the scope's regions (the contact's own account, see contact_region); nothing for a
    scope of every region."""
    if scope.sees_all_regions:
        return ""
    return f"""
    inner join marts.dim_contacts as {alias}_contacts
        on {alias}_contacts.contact_id = {contact_id}
    inner join marts.dim_accounts as {alias}_accounts
        on {alias}_accounts.account_id = {alias}_contacts.account_id
            and {q.scope(scope, f'{alias}_accounts.region_id')}"""


def detail_sql(scope: Scope, detail: str, full_name: str) -> str:
    """A text about a contact that may quote the contact's name (alert details): the name
    replaced by its initials when the scope may not see personal data; null when the
    contact's name is unknown then (the text could hold a name that cannot be masked)."""
    if scope.may_see_pii:
        return detail
    return (f"case when {full_name} is null or {full_name} = '' then null "
            f"else replace({detail}, {full_name}, {name_sql(scope, full_name)}) end")


def age_band_sql(scope: Scope, column: str) -> str:
    """A birthday, or a ten-year age band ("40-49") when the scope may not see it."""
    if scope.may_see_pii:
        return f"cast({column} as varchar)"
    decade = f"cast(floor(date_diff('year', {column}, current_date) / 10) * 10 as integer)"
    return (f"case when {column} is null then null "
            f"else cast({decade} as varchar) || '-' || cast({decade} + 9 as varchar) end")


def previous_quarter(year: int, quarter: int) -> tuple[int, int]:
    return (year, quarter - 1) if quarter > 1 else (year - 1, 4)


def accounts_in_view(q: Sql, scope: Scope, f: Filters, *, apply_tier: bool = True) -> str:
    """CTE `accounts_in_view`: accounts the scope and the filters select, with the tier row
    of the selected quarter (tier, revenue and scores; null when the account has no tier)."""
    if f.year is not None and f.quarter is not None:
        tier_join = (
            "left join marts.fct_account_tiers as tiers "
            f"on tiers.account_id = accounts.account_id "
            f"and tiers.year = {q.bind(f.year)} and tiers.quarter = {q.bind(f.quarter)}"
        )
    else:
        tier_join = ("left join marts.fct_account_tiers as tiers on false")
    tier_filter = q.one_of("tiers.tier", f.tiers) if apply_tier else "true"
    return f"""
    accounts_in_view as (
        select
            accounts.account_id,
            accounts.account_name,
            accounts.region_id,
            accounts.region_name,
            accounts.industry,
            accounts.ar_rep_id,
            tiers.tier,
            tiers.previous_tier,
            tiers.tier_change,
            tiers.revenue_ttm,
            tiers.revenue_score,
            tiers.potential_score,
            tiers.demonstration_score,
            tiers.winnability_score,
            tiers.composite_score,
            tiers.rank_in_population
        from marts.dim_accounts as accounts
        {tier_join}
        where {q.scope(scope, 'accounts.region_id')}
            and {q.one_of('accounts.region_id', f.region_ids)}
            and {q.one_of('accounts.industry', f.industries)}
            and {tier_filter}
    )"""

ALERT_ORDER = " ".join(f"when '{a}' then {i}" for i, a in enumerate(ALERT_TYPES, 1))
TIER_ORDER = "case {col} when 'S' then 1 when 'A' then 2 when 'B' then 3 when 'C' then 4 else 5 end"

def account_list(q: Sql, rows: str, order: str, *, find: str = "",
                 limit: int | None = None, keep: Sequence[str] = (), offset: int = 0) -> str:
    """A SELECT over the CTE `rows` (an account_id and an account_name per row) for a list
    to choose an account from, or a page of a table: the rows whose name or id contains
    `find` (any case), in `order`; with `limit`, only `limit` of them from row `offset` + 1
    and the `keep` ids among them (the account shown). Each row has `matching`: how many
    rows match `find` in all, so a page can say "the first 1,000 of 50,000" and offer to
    narrow it."""
    needle = find.strip().lower()
    found = (f"(contains(lower(account_name), {q.bind(needle)}) "
             f"or contains(lower(account_id), {q.bind(needle)}))") if needle else "true"
    cut = "true"
    if limit is not None:
        kept = q.one_of("account_id", list(keep)) if keep else "false"
        first = q.bind(int(offset))
        cut = f"(position > {first} and position <= {first} + {q.bind(int(limit))} or {kept})"
    return f"""
    select * exclude (position)
    from (
        select
            {rows}.*,
            row_number() over (order by {order}) as position,
            count(*) over () as matching
        from {rows}
        where {found}
    ) as numbered
    where {cut}
    order by position"""


def one_account(q: Sql, scope: Scope, account_id: str) -> str:
    """CTE `the_account`: the account if the scope may see it, else no row."""
    return f"""
    the_account as (
        select account_id, account_name, region_id, region_name, industry, current_tier,
            ar_rep_id
        from marts.dim_accounts
        where account_id = {q.bind(account_id)} and {q.scope(scope, 'region_id')}
    )"""

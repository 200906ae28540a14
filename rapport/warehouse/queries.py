"""Every query the dashboard runs. Pages hold no SQL; this module holds all of it.

Rules kept here:
- each function takes a Reader, a Scope and plain parameters, and returns a polars DataFrame;
- values enter SQL only as bound parameters (`$name`); names (sort column, grouping) only from
  the allow-lists below, never from the caller's text;
- the scope is applied in SQL in every query that returns rows about regions, reps,
  accounts or contacts; personal data is masked in SQL when the scope may not see it;
- pages read marts shaped for them: fct_interactions is only read for one account at a time.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import polars as pl

from rapport.warehouse.reader import Reader
from rapport.warehouse.scope import Scope

TIERS = ("S", "A", "B", "C")
HEALTH_BANDS = ("strong", "developing", "weak")
DECISION_ROLES = ("A", "D", "S", "E", "I")
EVALUATION_GROUPS = ("commercial", "technical", "selection_decision", "final_decision")
ALERT_TYPES = (  # in the order the Overview lists them: the most urgent first
    "approver_or_decider_opposes",
    "no_coach_on_s_a",
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
class _Sql:
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


def _fetch(reader: Reader, scope: Scope, sql: str, q: _Sql) -> pl.DataFrame:
    return reader.fetch(sql, q.params, scope.cache_key())


def _name(scope: Scope, column: str) -> str:
    """A contact's name, or its initials when the scope may not see personal data."""
    if scope.may_see_pii:
        return column
    return rf"regexp_replace(trim({column}), '(\S)\S*', '\1.', 'g')"


def _age_band(scope: Scope, column: str) -> str:
    """A birthday, or a ten-year age band ("40-49") when the scope may not see it."""
    if scope.may_see_pii:
        return f"cast({column} as varchar)"
    decade = f"cast(floor(date_diff('year', {column}, current_date) / 10) * 10 as integer)"
    return (f"case when {column} is null then null "
            f"else cast({decade} as varchar) || '-' || cast({decade} + 9 as varchar) end")


def previous_quarter(year: int, quarter: int) -> tuple[int, int]:
    return (year, quarter - 1) if quarter > 1 else (year - 1, 4)


def _accounts_in_view(q: _Sql, scope: Scope, f: Filters, *, apply_tier: bool = True) -> str:
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


# ---------------------------------------------------------------------------------------
# Sidebar options and build information
# ---------------------------------------------------------------------------------------

def relations(reader: Reader, scope: Scope) -> set[str]:
    """Tables present in the warehouse, as 'schema.table'."""
    sql = """
    select table_schema || '.' || table_name as relation
    from information_schema.tables
    where table_schema in ('marts', 'meta', 'config')
    """
    df = _fetch(reader, scope, sql, _Sql())
    return set(df["relation"].to_list()) if df.height else set()


def columns_of(reader: Reader, scope: Scope, relation: str) -> list[str]:
    """Column names of a table (empty if it is absent)."""
    schema, _, table = relation.partition(".")
    q = _Sql()
    sql = f"""
    select column_name
    from information_schema.columns
    where table_schema = {q.bind(schema)} and table_name = {q.bind(table)}
    order by ordinal_position
    """
    return _fetch(reader, scope, sql, q)["column_name"].to_list()


def quarters(reader: Reader, scope: Scope) -> pl.DataFrame:
    """Quarters with tiers or rep results, newest first: year, quarter, quarter_end_date."""
    q = _Sql()
    sql = f"""
    select distinct year, quarter, quarter_end_date
    from marts.fct_account_tiers
    where {q.scope(scope, 'region_id')}
    union
    select distinct year, quarter, quarter_end_date
    from marts.fct_rep_performance
    where {q.scope(scope, 'region_id')}
    order by quarter_end_date desc
    """
    return _fetch(reader, scope, sql, q)


def regions(reader: Reader, scope: Scope) -> pl.DataFrame:
    """Regions visible to the scope: region_id, region_name."""
    q = _Sql()
    sql = f"""
    select region_id, max(region_name) as region_name
    from (
        select region_id, region_name from marts.dim_reps
        where {q.scope(scope, 'region_id')}
        union all
        select region_id, region_name from marts.dim_accounts
        where {q.scope(scope, 'region_id')}
    ) as found
    group by region_id
    order by region_name, region_id
    """
    return _fetch(reader, scope, sql, q)


def industries(reader: Reader, scope: Scope) -> list[str]:
    q = _Sql()
    sql = f"""
    select distinct industry
    from marts.dim_accounts
    where industry is not null and {q.scope(scope, 'region_id')}
    order by industry
    """
    return _fetch(reader, scope, sql, q)["industry"].to_list()


def build_info(reader: Reader, scope: Scope) -> dict[str, Any]:
    """The served build's row of meta.build_info as a dict (empty if there is none)."""
    cols = columns_of(reader, scope, "meta.build_info")
    if not cols:
        return {}
    order = next((c for c in ("built_at", "finished_at", "published_at", "started_at")
                  if c in cols), None)
    sql = "select * from meta.build_info" + (f" order by {order} desc" if order else "")
    df = _fetch(reader, scope, sql + " limit 1", _Sql())
    return df.row(0, named=True) if df.height else {}


def interactions_loaded(reader: Reader, scope: Scope) -> bool:
    """Whether the warehouse holds any interaction the scope may see (reads one row)."""
    q = _Sql()
    sql = f"""
    select count(*) as found
    from (
        select 1
        from marts.fct_interactions as interactions
        inner join marts.dim_accounts as accounts
            on accounts.account_id = interactions.account_id
        where {q.scope(scope, 'accounts.region_id')}
        limit 1
    ) as probe
    """
    return bool(_fetch(reader, scope, sql, q)["found"][0])


# ---------------------------------------------------------------------------------------
# Overview
# ---------------------------------------------------------------------------------------

def kpis(reader: Reader, scope: Scope, f: Filters, year: int, quarter: int) -> pl.DataFrame:
    """Company results of one quarter over the selected regions (fct_region_performance).

    One row (or none when the quarter has no results): revenue, profit, fte, per-head
    revenue and profit (sum / sum of FTE), targets, target completion (revenue of regions
    with a target / their target), cash collected, regions.
    """
    q = _Sql()
    sql = f"""
    with performance as (
        select *
        from marts.fct_region_performance
        where year = {q.bind(year)} and quarter = {q.bind(quarter)}
            and {q.scope(scope, 'region_id')}
            and {q.one_of('region_id', f.region_ids)}
    ),

    final as (
        select
            sum(revenue) as revenue,
            sum(profit) as profit,
            sum(fte) as fte,
            sum(revenue) / nullif(sum(fte), 0) as revenue_per_head,
            sum(profit) / nullif(sum(fte), 0) as profit_per_head,
            sum(revenue_target) as revenue_target,
            sum(profit_target) as profit_target,
            sum(case when revenue_target is not null then revenue end)
                / nullif(sum(revenue_target), 0) as revenue_target_completion,
            sum(case when profit_target is not null then profit end)
                / nullif(sum(profit_target), 0) as profit_target_completion,
            sum(cash_collected) as cash_collected,
            count(*) as regions
        from performance
        having count(*) > 0
    )

    select * from final
    """
    return _fetch(reader, scope, sql, q)


def latest_month_end(reader: Reader, scope: Scope, on_or_before: dt.date) -> dt.date | None:
    """The latest relationship-health snapshot on or before a date."""
    q = _Sql()
    sql = f"""
    select max(month_end_date) as month_end_date
    from marts.fct_relationship_health
    where month_end_date <= {q.bind(on_or_before)} and {q.scope(scope, 'region_id')}
    """
    df = _fetch(reader, scope, sql, q)
    return df["month_end_date"][0] if df.height else None


def health_bands(reader: Reader, scope: Scope, f: Filters, month_end: dt.date) -> pl.DataFrame:
    """Accounts per health band at a month-end: health_band, accounts, share."""
    q = _Sql()
    accounts = _accounts_in_view(q, scope, f)
    sql = f"""
    with {accounts},

    health as (
        select health.health_band
        from marts.fct_relationship_health as health
        inner join accounts_in_view on accounts_in_view.account_id = health.account_id
        where health.month_end_date = {q.bind(month_end)}
    ),

    final as (
        select
            health_band,
            count(*) as accounts,
            count(*) / sum(count(*)) over () as share
        from health
        group by health_band
    )

    select * from final
    order by case health_band when 'strong' then 1 when 'developing' then 2 else 3 end
    """
    return _fetch(reader, scope, sql, q)


def tier_counts(reader: Reader, scope: Scope, f: Filters) -> pl.DataFrame:
    """Accounts and trailing-12-month revenue per tier in the selected quarter."""
    q = _Sql()
    accounts = _accounts_in_view(q, scope, f)
    sql = f"""
    with {accounts},

    final as (
        select
            tier,
            count(*) as accounts,
            sum(revenue_ttm) as revenue_ttm,
            sum(revenue_ttm) / nullif(sum(sum(revenue_ttm)) over (), 0) as revenue_share
        from accounts_in_view
        where tier is not null
        group by tier
    )

    select * from final
    order by case tier when 'S' then 1 when 'A' then 2 when 'B' then 3 else 4 end
    """
    return _fetch(reader, scope, sql, q)


_ALERT_ORDER = " ".join(f"when '{a}' then {i}" for i, a in enumerate(ALERT_TYPES, 1))
_TIER_ORDER = "case {col} when 'S' then 1 when 'A' then 2 when 'B' then 3 when 'C' then 4 else 5 end"


def alerts(reader: Reader, scope: Scope, f: Filters, *, account_id: str | None = None,
           limit: int = 50) -> pl.DataFrame:
    """Alerts on the accounts in view (or on one account), the most urgent first."""
    q = _Sql()
    accounts = _accounts_in_view(q, scope, f)
    one = f"alerts.account_id = {q.bind(account_id)}" if account_id is not None else "true"
    sql = f"""
    with {accounts},

    final as (
        select
            alerts.alert_type,
            alerts.tier,
            accounts_in_view.account_name,
            accounts_in_view.region_name,
            accounts_in_view.industry,
            {_name(scope, 'contacts.full_name')} as contact_name,
            contacts.title as contact_title,
            contacts.decision_role,
            alerts.detail,
            alerts.account_id,
            alerts.contact_id
        from marts.fct_account_alerts as alerts
        inner join accounts_in_view on accounts_in_view.account_id = alerts.account_id
        left join marts.dim_contacts as contacts on contacts.contact_id = alerts.contact_id
        where {one}
    )

    select * from final
    order by
        case alert_type {_ALERT_ORDER} else 99 end,
        {_TIER_ORDER.format(col='tier')},
        account_name,
        contact_name
    limit {q.bind(int(limit))}
    """
    return _fetch(reader, scope, sql, q)


def alert_counts(reader: Reader, scope: Scope, f: Filters) -> pl.DataFrame:
    """Alerts per type on the accounts in view: alert_type, alerts, accounts."""
    q = _Sql()
    accounts = _accounts_in_view(q, scope, f)
    sql = f"""
    with {accounts}

    select
        alerts.alert_type,
        count(*) as alerts,
        count(distinct alerts.account_id) as accounts
    from marts.fct_account_alerts as alerts
    inner join accounts_in_view on accounts_in_view.account_id = alerts.account_id
    group by alerts.alert_type
    order by case alerts.alert_type {_ALERT_ORDER} else 99 end
    """
    return _fetch(reader, scope, sql, q)


# ---------------------------------------------------------------------------------------
# Tiers
# ---------------------------------------------------------------------------------------

TIER_GROUPINGS = {"region": "region_name", "industry": "industry"}


def tier_distribution(reader: Reader, scope: Scope, f: Filters, by: str) -> pl.DataFrame:
    """Accounts and revenue per tier within each region or industry (`by` from
    TIER_GROUPINGS): grp, tier, accounts, revenue_ttm, revenue_share (of the group)."""
    if by not in TIER_GROUPINGS:
        raise ValueError(f"cannot group tiers by {by!r}; choose one of {sorted(TIER_GROUPINGS)}")
    column = TIER_GROUPINGS[by]
    q = _Sql()
    accounts = _accounts_in_view(q, scope, f)
    sql = f"""
    with {accounts},

    final as (
        select
            {column} as grp,
            tier,
            count(*) as accounts,
            sum(revenue_ttm) as revenue_ttm,
            sum(revenue_ttm)
                / nullif(sum(sum(revenue_ttm)) over (partition by {column}), 0) as revenue_share
        from accounts_in_view
        where tier is not null
        group by {column}, tier
    )

    select * from final
    order by grp, {_TIER_ORDER.format(col='tier')}
    """
    return _fetch(reader, scope, sql, q)


def pareto(reader: Reader, scope: Scope, f: Filters) -> pl.DataFrame:
    """Accounts by trailing-12-month revenue, largest first, with cumulative shares."""
    q = _Sql()
    accounts = _accounts_in_view(q, scope, f)
    sql = f"""
    with {accounts},

    ranked as (
        select
            account_id,
            account_name,
            tier,
            coalesce(revenue_ttm, 0) as revenue_ttm,
            row_number() over (order by coalesce(revenue_ttm, 0) desc, account_id) as revenue_rank,
            count(*) over () as accounts,
            sum(coalesce(revenue_ttm, 0)) over () as total_revenue,
            sum(coalesce(revenue_ttm, 0)) over (
                order by coalesce(revenue_ttm, 0) desc, account_id
                rows between unbounded preceding and current row
            ) as cumulative_revenue
        from accounts_in_view
        where tier is not null
    ),

    final as (
        select
            revenue_rank,
            account_id,
            account_name,
            tier,
            revenue_ttm,
            cast(revenue_rank as double) / accounts as account_share,
            cumulative_revenue / nullif(total_revenue, 0) as cumulative_revenue_share
        from ranked
    )

    select * from final
    order by revenue_rank
    """
    return _fetch(reader, scope, sql, q)


def tier_migration(reader: Reader, scope: Scope, f: Filters, from_year: int, from_quarter: int,
                   to_year: int, to_quarter: int) -> pl.DataFrame:
    """One row per account in view with a tier in both quarters: from_tier, to_tier and
    movement (up / down / same). The tier filter is not applied (it would hide the movers)."""
    q = _Sql()
    accounts = _accounts_in_view(q, scope, Filters(
        year=to_year, quarter=to_quarter, region_ids=f.region_ids, industries=f.industries,
    ), apply_tier=False)
    sql = f"""
    with {accounts},

    before as (
        select account_id, tier
        from marts.fct_account_tiers
        where year = {q.bind(from_year)} and quarter = {q.bind(from_quarter)}
    ),

    final as (
        select
            accounts_in_view.account_id,
            accounts_in_view.account_name,
            accounts_in_view.region_name,
            accounts_in_view.industry,
            before.tier as from_tier,
            accounts_in_view.tier as to_tier,
            case
                when {_TIER_ORDER.format(col='accounts_in_view.tier')}
                    < {_TIER_ORDER.format(col='before.tier')} then 'up'
                when {_TIER_ORDER.format(col='accounts_in_view.tier')}
                    > {_TIER_ORDER.format(col='before.tier')} then 'down'
                else 'same'
            end as movement,
            accounts_in_view.revenue_ttm
        from accounts_in_view
        inner join before on before.account_id = accounts_in_view.account_id
        where accounts_in_view.tier is not null
    )

    select * from final
    order by
        case movement when 'up' then 1 when 'down' then 2 else 3 end,
        {_TIER_ORDER.format(col='to_tier')},
        account_name
    """
    return _fetch(reader, scope, sql, q)


def accounts_by_tier(reader: Reader, scope: Scope, f: Filters) -> pl.DataFrame:
    """Accounts in view with their tier and the four element scores of the quarter."""
    q = _Sql()
    accounts = _accounts_in_view(q, scope, f)
    sql = f"""
    with {accounts}

    select
        tier,
        rank_in_population,
        account_name,
        region_name,
        industry,
        revenue_ttm,
        revenue_score,
        potential_score,
        demonstration_score,
        winnability_score,
        composite_score,
        previous_tier,
        tier_change,
        account_id
    from accounts_in_view
    where tier is not null
    order by {_TIER_ORDER.format(col='tier')}, rank_in_population, account_name
    """
    return _fetch(reader, scope, sql, q)


# ---------------------------------------------------------------------------------------
# Relationship health
# ---------------------------------------------------------------------------------------

HEALTH_SORTS = {
    "health": "health_score",
    "key": "key_score",
    "general": "general_score",
    "org": "org_score",
    "change_1m": "health_change_1m",
    "change_3m": "health_change_3m",
    "concentration": "top_rep_share",
    "account": "account_name",
}


def month_ends(reader: Reader, scope: Scope) -> list[dt.date]:
    """Month-ends with relationship-health snapshots, newest first."""
    q = _Sql()
    sql = f"""
    select distinct month_end_date
    from marts.fct_relationship_health
    where {q.scope(scope, 'region_id')}
    order by month_end_date desc
    """
    return _fetch(reader, scope, sql, q)["month_end_date"].to_list()


def account_health(reader: Reader, scope: Scope, f: Filters, month_end: dt.date, *,
                   sort_by: str = "health", descending: bool = False,
                   bands: Sequence[str] = (), trend_months: int = 12) -> pl.DataFrame:
    """One row per account in view at a month-end: the three parts, health, band, changes,
    the last `trend_months` health values (health_trend) and the concentration measures."""
    if sort_by not in HEALTH_SORTS:
        raise ValueError(f"cannot sort by {sort_by!r}; choose one of {sorted(HEALTH_SORTS)}")
    bad = set(bands) - set(HEALTH_BANDS)
    if bad:
        raise ValueError(f"unknown health band(s) {sorted(bad)}; choose from {HEALTH_BANDS}")
    order = f"{HEALTH_SORTS[sort_by]} {'desc' if descending else 'asc'} nulls last"
    trend_start = month_end - dt.timedelta(days=31 * trend_months)
    q = _Sql()
    accounts = _accounts_in_view(q, scope, f)
    sql = f"""
    with {accounts},

    history as (
        select
            health.account_id,
            list(round(health.health_score, 1) order by health.month_end_date) as health_trend
        from marts.fct_relationship_health as health
        inner join accounts_in_view on accounts_in_view.account_id = health.account_id
        where health.month_end_date > {q.bind(trend_start)}
            and health.month_end_date <= {q.bind(month_end)}
        group by health.account_id
    ),

    final as (
        select
            accounts_in_view.account_name,
            accounts_in_view.region_name,
            accounts_in_view.industry,
            accounts_in_view.tier,
            health.health_score,
            health.health_band,
            health.key_score,
            health.general_score,
            health.org_score,
            health.health_change_1m,
            health.health_change_3m,
            history.health_trend,
            health.breadth,
            health.department_coverage,
            health.level_coverage,
            health.org_level,
            health.has_exec_visit_12m,
            health.top_rep_share,
            health.rep_hhi,
            health.is_privately_held,
            health.account_id
        from marts.fct_relationship_health as health
        inner join accounts_in_view on accounts_in_view.account_id = health.account_id
        left join history on history.account_id = health.account_id
        where health.month_end_date = {q.bind(month_end)}
            and {q.one_of('health.health_band', list(bands))}
    )

    select * from final
    order by {order}, account_name
    """
    return _fetch(reader, scope, sql, q)


def health_trend(reader: Reader, scope: Scope, f: Filters, month_end: dt.date,
                 months: int = 24) -> pl.DataFrame:
    """Mean key / general / org / health over the accounts in view per month-end, and the
    number of accounts per band, for the `months` months up to month_end."""
    start = month_end - dt.timedelta(days=31 * months)
    q = _Sql()
    accounts = _accounts_in_view(q, scope, f)
    sql = f"""
    with {accounts}

    select
        health.month_end_date,
        avg(health.key_score) as key_score,
        avg(health.general_score) as general_score,
        avg(health.org_score) as org_score,
        avg(health.health_score) as health_score,
        count(*) filter (where health.health_band = 'strong') as strong,
        count(*) filter (where health.health_band = 'developing') as developing,
        count(*) filter (where health.health_band = 'weak') as weak,
        count(*) as accounts
    from marts.fct_relationship_health as health
    inner join accounts_in_view on accounts_in_view.account_id = health.account_id
    where health.month_end_date > {q.bind(start)} and health.month_end_date <= {q.bind(month_end)}
    group by health.month_end_date
    order by health.month_end_date
    """
    return _fetch(reader, scope, sql, q)


def _one_account(q: _Sql, scope: Scope, account_id: str) -> str:
    """CTE `the_account`: the account if the scope may see it, else no row."""
    return f"""
    the_account as (
        select account_id, account_name, region_id, region_name, industry, current_tier,
            ar_rep_id
        from marts.dim_accounts
        where account_id = {q.bind(account_id)} and {q.scope(scope, 'region_id')}
    )"""


def account(reader: Reader, scope: Scope, account_id: str) -> pl.DataFrame:
    """The account's dimension row (0 rows if out of scope or unknown)."""
    q = _Sql()
    sql = f"""
    with {_one_account(q, scope, account_id)}

    select
        the_account.*,
        reps.rep_name as ar_rep_name
    from the_account
    left join marts.dim_reps as reps on reps.rep_id = the_account.ar_rep_id
    """
    return _fetch(reader, scope, sql, q)


def account_health_history(reader: Reader, scope: Scope, account_id: str) -> pl.DataFrame:
    """Every month-end of one account: parts, health, band, coverage and concentration."""
    q = _Sql()
    sql = f"""
    with {_one_account(q, scope, account_id)}

    select health.*
    from marts.fct_relationship_health as health
    inner join the_account on the_account.account_id = health.account_id
    order by health.month_end_date
    """
    return _fetch(reader, scope, sql, q)


def account_contacts(reader: Reader, scope: Scope, account_id: str) -> pl.DataFrame:
    """The contacts of one account with their touch and depth evidence (general part)."""
    q = _Sql()
    sql = f"""
    with {_one_account(q, scope, account_id)}

    select
        {_name(scope, 'contacts.full_name')} as contact_name,
        contacts.title,
        contacts.department,
        contacts.level,
        contacts.decision_role,
        contacts.evaluation_group,
        contacts.is_rising_star,
        contacts.is_active,
        contacts.current_attitude,
        contacts.intimacy,
        contacts.max_depth_step_365d,
        contacts.last_touch_date,
        contacts.days_since_last_touch,
        contacts.days_since_last_touch <= 90 as touched_90d,
        {_age_band(scope, 'contacts.birthday')} as birthday,
        contacts.contact_id
    from marts.dim_contacts as contacts
    inner join the_account on the_account.account_id = contacts.account_id
    order by
        case when contacts.decision_role is null then 1 else 0 end,
        contacts.decision_role,
        contacts.days_since_last_touch nulls last
    """
    return _fetch(reader, scope, sql, q)


def account_activities(reader: Reader, scope: Scope, account_id: str, since: dt.date, *,
                       layer: str | None = None, limit: int = 500) -> pl.DataFrame:
    """One account's interactions since a date (newest first), optionally of one layer.

    Reads fct_interactions filtered by account: never a scan of all interactions."""
    if layer is not None and layer not in ("key", "general", "org"):
        raise ValueError(f"unknown layer {layer!r}; choose key, general or org")
    q = _Sql()
    sql = f"""
    with {_one_account(q, scope, account_id)}

    select
        interactions.occurred_date,
        interactions.activity_type,
        interactions.layer,
        interactions.depth_step,
        interactions.org_element,
        interactions.is_executive_visit,
        {_name(scope, 'contacts.full_name')} as contact_name,
        contacts.decision_role,
        contacts.department,
        reps.rep_name,
        interactions.outcome,
        interactions.interaction_id
    from marts.fct_interactions as interactions
    inner join the_account on the_account.account_id = interactions.account_id
    left join marts.dim_contacts as contacts on contacts.contact_id = interactions.contact_id
    left join marts.dim_reps as reps on reps.rep_id = interactions.rep_id
    where interactions.account_id = {q.bind(account_id)}
        and interactions.occurred_date >= {q.bind(since)}
        and {q.one_of('interactions.layer', [layer] if layer else [])}
    order by interactions.occurred_at desc, interactions.interaction_id
    limit {q.bind(int(limit))}
    """
    return _fetch(reader, scope, sql, q)


def account_activity_summary(reader: Reader, scope: Scope, account_id: str,
                             since: dt.date) -> pl.DataFrame:
    """One account's interactions since a date per layer and activity type."""
    q = _Sql()
    sql = f"""
    with {_one_account(q, scope, account_id)}

    select
        interactions.layer,
        interactions.activity_type,
        count(*) as activities,
        count(distinct interactions.contact_id) as contacts,
        max(interactions.occurred_date) as last_date
    from marts.fct_interactions as interactions
    inner join the_account on the_account.account_id = interactions.account_id
    where interactions.account_id = {q.bind(account_id)}
        and interactions.occurred_date >= {q.bind(since)}
    group by interactions.layer, interactions.activity_type
    order by interactions.layer, activities desc
    """
    return _fetch(reader, scope, sql, q)


# ---------------------------------------------------------------------------------------
# Power map
# ---------------------------------------------------------------------------------------

def power_map_accounts(reader: Reader, scope: Scope, f: Filters) -> pl.DataFrame:
    """Accounts in view with the number of contacts on their power map, S first."""
    q = _Sql()
    accounts = _accounts_in_view(q, scope, f)
    sql = f"""
    with {accounts},

    mapped as (
        select account_id, count(*) as mapped_contacts
        from marts.fct_power_map
        group by account_id
    )

    select
        accounts_in_view.account_id,
        accounts_in_view.account_name,
        accounts_in_view.tier,
        accounts_in_view.region_name,
        coalesce(mapped.mapped_contacts, 0) as mapped_contacts
    from accounts_in_view
    left join mapped on mapped.account_id = accounts_in_view.account_id
    order by
        {_TIER_ORDER.format(col='accounts_in_view.tier')},
        accounts_in_view.rank_in_population nulls last,
        accounts_in_view.account_name
    """
    return _fetch(reader, scope, sql, q)


def power_map(reader: Reader, scope: Scope, account_id: str) -> pl.DataFrame:
    """The power map of one account: one row per contact with a role or an assessment."""
    q = _Sql()
    sql = f"""
    with {_one_account(q, scope, account_id)}

    select
        {_name(scope, 'power_map.full_name')} as contact_name,
        power_map.title,
        power_map.department,
        power_map.level,
        power_map.decision_role,
        power_map.evaluation_group,
        power_map.influence_weight,
        power_map.current_attitude,
        power_map.attitude_assessed_date,
        power_map.support_norm,
        power_map.intimacy,
        power_map.contact_key_score,
        power_map.last_touch_date,
        power_map.days_since_last_touch,
        power_map.is_untouched_90d,
        power_map.is_opposing,
        power_map.is_coach,
        power_map.compare_date,
        power_map.attitude_at_compare_date,
        power_map.attitude_change,
        power_map.contact_id
    from marts.fct_power_map as power_map
    inner join the_account on the_account.account_id = power_map.account_id
    order by
        power_map.influence_weight desc nulls last,
        power_map.current_attitude desc nulls last,
        contact_name
    """
    return _fetch(reader, scope, sql, q)


def attitude_moves(reader: Reader, scope: Scope, account_id: str,
                   since: dt.date) -> pl.DataFrame:
    """Contacts of one account whose attitude now differs from their attitude on `since`
    (fct_attitude_history; an assessment is in force from valid_from to valid_to, both
    included; valid_to is null for the current one).
    attitude_before is null for contacts first assessed after `since`."""
    q = _Sql()
    sql = f"""
    with {_one_account(q, scope, account_id)},

    history as (
        select attitudes.*
        from marts.fct_attitude_history as attitudes
        inner join the_account on the_account.account_id = attitudes.account_id
    ),

    at_date as (
        select contact_id, attitude as attitude_before, assessed_date as assessed_before
        from history
        where valid_from <= {q.bind(since)}
            and (valid_to is null or valid_to >= {q.bind(since)})
    ),

    current_attitudes as (
        select contact_id, attitude as attitude_now, assessed_date as assessed_now
        from history
        where valid_to is null
    ),

    final as (
        select
            {_name(scope, 'contacts.full_name')} as contact_name,
            contacts.title,
            contacts.decision_role,
            at_date.attitude_before,
            current_attitudes.attitude_now,
            current_attitudes.attitude_now - at_date.attitude_before as attitude_change,
            at_date.assessed_before,
            current_attitudes.assessed_now,
            current_attitudes.contact_id
        from current_attitudes
        left join at_date on at_date.contact_id = current_attitudes.contact_id
        inner join marts.dim_contacts as contacts
            on contacts.contact_id = current_attitudes.contact_id
        where at_date.attitude_before is distinct from current_attitudes.attitude_now
    )

    select * from final
    order by abs(coalesce(attitude_change, 0)) desc, attitude_change, contact_name
    """
    return _fetch(reader, scope, sql, q)


# ---------------------------------------------------------------------------------------
# Scorecards
# ---------------------------------------------------------------------------------------

def scorecard(reader: Reader, scope: Scope, region_id: str, year: int,
              quarter: int) -> pl.DataFrame:
    """The reps of one region in one quarter: dimension 1 measures, dimension 1 and 2
    scores, the market type's weights, total and rank (best first)."""
    q = _Sql()
    sql = f"""
    with scorecards as (
        select *
        from marts.fct_rep_scorecard
        where region_id = {q.bind(region_id)} and year = {q.bind(year)}
            and quarter = {q.bind(quarter)} and {q.scope(scope, 'region_id')}
    ),

    final as (
        select
            scorecards.rank_in_region,
            reps.rep_name,
            scorecards.total_score,
            scorecards.dimension1_score,
            scorecards.dimension2_score,
            scorecards.weight_dimension1,
            scorecards.weight_dimension2,
            scorecards.market_type,
            scorecards.actions_scored,
            performance.revenue,
            performance.profit,
            performance.fte,
            performance.revenue_per_head,
            performance.profit_per_head,
            performance.revenue_yoy_growth,
            performance.profit_yoy_growth,
            performance.revenue_target_completion,
            performance.profit_target_completion,
            scorecards.rep_id
        from scorecards
        inner join marts.dim_reps as reps on reps.rep_id = scorecards.rep_id
        left join marts.fct_rep_performance as performance
            on performance.rep_id = scorecards.rep_id
            and performance.year = scorecards.year
            and performance.quarter = scorecards.quarter
    )

    select * from final
    order by rank_in_region nulls last, rep_name
    """
    return _fetch(reader, scope, sql, q)


def key_actions(reader: Reader, scope: Scope, region_id: str, year: int, quarter: int, *,
                rep_id: str | None = None) -> pl.DataFrame:
    """The nine key-action cells of a region's reps (or one rep) in one quarter:
    numerator, denominator, score (0..1, null when not scored) and not_scored_reason."""
    q = _Sql()
    one = f"actions.rep_id = {q.bind(rep_id)}" if rep_id is not None else "true"
    sql = f"""
    select
        reps.rep_name,
        actions.action_no,
        actions.action_group,
        actions.action_name,
        actions.numerator,
        actions.denominator,
        actions.score,
        actions.not_scored_reason,
        actions.rep_id
    from marts.fct_key_actions as actions
    inner join marts.dim_reps as reps on reps.rep_id = actions.rep_id
    where actions.region_id = {q.bind(region_id)} and actions.year = {q.bind(year)}
        and actions.quarter = {q.bind(quarter)} and {q.scope(scope, 'actions.region_id')}
        and {one}
    order by reps.rep_name, actions.action_no
    """
    return _fetch(reader, scope, sql, q)


def rep_performance(reader: Reader, scope: Scope, rep_id: str, year: int,
                    quarter: int) -> pl.DataFrame:
    """Dimension 1 of one rep in one quarter (fct_rep_performance), 0 or 1 row."""
    q = _Sql()
    sql = f"""
    select performance.*
    from marts.fct_rep_performance as performance
    where performance.rep_id = {q.bind(rep_id)} and performance.year = {q.bind(year)}
        and performance.quarter = {q.bind(quarter)} and {q.scope(scope, 'performance.region_id')}
    """
    return _fetch(reader, scope, sql, q)


def region_comparison(reader: Reader, scope: Scope, f: Filters, year: int,
                      quarter: int) -> pl.DataFrame:
    """Regions side by side in one quarter: results, per-head, completion, and the mean
    and best scorecard total of their reps."""
    q = _Sql()
    sql = f"""
    with names as (
        select region_id, max(region_name) as region_name
        from marts.dim_reps
        group by region_id
    ),

    scores as (
        select
            region_id,
            avg(total_score) as mean_total_score,
            max(total_score) as best_total_score,
            count(*) as reps_scored
        from marts.fct_rep_scorecard
        where year = {q.bind(year)} and quarter = {q.bind(quarter)}
        group by region_id
    ),

    final as (
        select
            names.region_name,
            performance.market_type,
            performance.revenue,
            performance.profit,
            performance.fte,
            performance.revenue_per_head,
            performance.profit_per_head,
            performance.revenue_yoy_growth,
            performance.revenue_target_completion,
            performance.profit_target_completion,
            scores.mean_total_score,
            scores.best_total_score,
            scores.reps_scored,
            performance.region_id
        from marts.fct_region_performance as performance
        left join names on names.region_id = performance.region_id
        left join scores on scores.region_id = performance.region_id
        where performance.year = {q.bind(year)} and performance.quarter = {q.bind(quarter)}
            and {q.scope(scope, 'performance.region_id')}
            and {q.one_of('performance.region_id', f.region_ids)}
    )

    select * from final
    order by revenue_per_head desc nulls last, region_name
    """
    return _fetch(reader, scope, sql, q)


# ---------------------------------------------------------------------------------------
# Data quality (meta schema, written by the pipeline)
# ---------------------------------------------------------------------------------------

def _order_by_first(cols: Sequence[str], candidates: Sequence[str], desc: bool = True) -> str:
    found = [c for c in candidates if c in cols]
    if not found:
        return ""
    return " order by " + ", ".join(f'"{c}" {"desc" if desc else "asc"}' for c in found[:1])


def build_history(reader: Reader, scope: Scope, limit: int = 50) -> pl.DataFrame:
    """Builds, newest first (meta.build_history)."""
    cols = columns_of(reader, scope, "meta.build_history")
    if not cols:
        return pl.DataFrame()
    q = _Sql()
    order = _order_by_first(cols, ("started_at", "built_at", "finished_at", "build_id"))
    sql = f"select * from meta.build_history{order} limit {q.bind(int(limit))}"
    return _fetch(reader, scope, sql, q)


def dq_results(reader: Reader, scope: Scope, build_id: str | None) -> pl.DataFrame:
    """Check results of one build (meta.dq_results), failures first."""
    cols = columns_of(reader, scope, "meta.dq_results")
    if not cols:
        return pl.DataFrame()
    q = _Sql()
    where = f"where build_id = {q.bind(build_id)}" if build_id and "build_id" in cols else ""
    status_order = (
        "case status when 'error' then 1 when 'fail' then 2 when 'warn' then 3 else 4 end, "
        if "status" in cols else ("success, " if "success" in cols else "")
    )
    keys = ", ".join(f'"{c}"' for c in ("suite", "expectation", "column") if c in cols)
    sql = f"select * from meta.dq_results {where} order by {status_order}{keys or 1}"
    return _fetch(reader, scope, sql, q)


def quarantine_counts(reader: Reader, scope: Scope, build_id: str | None) -> pl.DataFrame:
    """Quarantined rows of one build per table and reason code (a row with two reasons
    counts under both): table_name, reason, rows."""
    cols = columns_of(reader, scope, "meta.dq_quarantine")
    if not cols:
        return pl.DataFrame()
    q = _Sql()
    where = f"where build_id = {q.bind(build_id)}" if build_id and "build_id" in cols else ""
    sql = f"""
    with quarantined as (
        select table_name, reasons
        from meta.dq_quarantine
        {where}
    ),

    reasons as (
        select table_name, trim(reason.reason) as reason
        from quarantined, unnest(string_split(quarantined.reasons, ',')) as reason(reason)
    )

    select table_name, reason, count(*) as rows
    from reasons
    where reason <> ''
    group by table_name, reason
    order by rows desc, table_name, reason
    """
    return _fetch(reader, scope, sql, q)


def quarantine_samples(reader: Reader, scope: Scope, build_id: str | None, table_name: str,
                       reason: str, pii_tables: Sequence[str] = (),
                       limit: int = 20) -> pl.DataFrame:
    """Sample quarantined rows of one table and reason.

    Raw rows cannot be attributed to a region before they are validated, so only a scope
    that sees every region gets them; raw values of tables holding personal data
    (pii_tables) are withheld from a scope that may not see personal data."""
    cols = columns_of(reader, scope, "meta.dq_quarantine")
    if not cols or not scope.sees_all_regions:
        return pl.DataFrame()
    q = _Sql()
    where_build = f"build_id = {q.bind(build_id)}" if build_id and "build_id" in cols else "true"
    hide_raw = not scope.may_see_pii and table_name in set(pii_tables)
    raw = "cast(null as varchar)" if hide_raw else "raw_values"
    sql = f"""
    select
        table_name,
        source_file,
        row_number,
        reasons,
        detail,
        {raw} as raw_values
    from meta.dq_quarantine
    where {where_build}
        and table_name = {q.bind(table_name)}
        and list_contains(list_transform(string_split(reasons, ','), lambda x: trim(x)),
                          {q.bind(reason)})
    order by source_file, row_number
    limit {q.bind(int(limit))}
    """
    return _fetch(reader, scope, sql, q)


def row_counts(reader: Reader, scope: Scope, build_id: str | None) -> pl.DataFrame:
    """Raw, clean and quarantined rows per table of one build (meta.dq_row_counts)."""
    cols = columns_of(reader, scope, "meta.dq_row_counts")
    if not cols:
        return pl.DataFrame()
    q = _Sql()
    where = f"where build_id = {q.bind(build_id)}" if build_id and "build_id" in cols else ""
    sql = f"select * from meta.dq_row_counts {where} order by table_name"
    return _fetch(reader, scope, sql, q)


def freshness(reader: Reader, scope: Scope) -> pl.DataFrame:
    """The latest date each dated mart reaches (one cheap aggregate per mart)."""
    q = _Sql()
    sql = f"""
    select 'fct_relationship_health' as mart, 'month_end_date' as column_name,
        max(month_end_date) as latest_date
    from marts.fct_relationship_health where {q.scope(scope, 'region_id')}
    union all
    select 'fct_account_tiers', 'quarter_end_date', max(quarter_end_date)
    from marts.fct_account_tiers where {q.scope(scope, 'region_id')}
    union all
    select 'fct_rep_performance', 'quarter_end_date', max(quarter_end_date)
    from marts.fct_rep_performance where {q.scope(scope, 'region_id')}
    union all
    select 'dim_contacts', 'last_touch_date', max(contacts.last_touch_date)
    from marts.dim_contacts as contacts
    inner join marts.dim_accounts as accounts on accounts.account_id = contacts.account_id
    where {q.scope(scope, 'accounts.region_id')}
    union all
    select 'fct_attitude_history', 'assessed_date', max(history.assessed_date)
    from marts.fct_attitude_history as history
    inner join marts.dim_accounts as accounts on accounts.account_id = history.account_id
    where {q.scope(scope, 'accounts.region_id')}
    """
    return _fetch(reader, scope, sql, q)

"""Queries of the Overview page: results, health bands, tiers, alerts."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace

import polars as pl

from rapport.serving.queries._base import (
    ALERT_ORDER,
    ALERT_TYPES,
    OTHER_REGION_CONTACT,
    TIER_ORDER,
    Filters,
    Sql,
    accounts_in_view,
    contact_region,
    detail_sql,
    fetch,
    name_sql,
    text_literal,
)
from rapport.serving.queries.coverage import layers, without_profit
from rapport.serving.reader import Reader
from rapport.serving.scope import Scope

# The same quarter a year back, like for like: only regions whose prior-year quarter is whole
# (yoy_window_complete) and has a row (revenue_prior_year not null) count, now and then.
YEAR_AGO = ("case when yoy_window_complete and revenue_prior_year is not null "
            "then {col}_prior_year end")
YEAR_AGO_BASE = ("case when yoy_window_complete and revenue_prior_year is not null "
                 "then {col} end")
# Quarters of the Overview's trend chart: the chosen one and the seven before it (two years)
TREND_QUARTERS = 8


def _performance_in_view(q: Sql, scope: Scope, f: Filters, year: int, quarter: int, *,
                         up_to: bool = False) -> str:
    """CTE `performance`: fct_region_performance rows of the regions in view for the quarter
    (up_to: every quarter up to and including it)."""
    when = (f"(year < {q.bind(year)} or (year = {q.bind(year)} and quarter <= {q.bind(quarter)}))"
            if up_to else f"year = {q.bind(year)} and quarter = {q.bind(quarter)}")
    return f"""performance as (
        select *
        from marts.fct_region_performance
        where {when}
            and {q.scope(scope, 'region_id')}
            and {q.one_of('region_id', f.region_ids)}
    )"""


def kpis(reader: Reader, scope: Scope, f: Filters, year: int, quarter: int) -> pl.DataFrame:
    """Company results of one quarter over the selected regions (fct_region_performance).

    One row (or none when the quarter has no results): revenue, profit, fte, per-head
    revenue and profit (sum / sum of FTE), targets, target completion (revenue of regions
    with a target / their target), cash collected, regions, and the same quarter a year
    back: revenue_prior_year (regions with a whole prior-year quarter, YEAR_AGO) and
    revenue_year_ago_base (the same regions' revenue now: growth = base / prior - 1; both
    null when no region has a year back), the same for profit.
    """
    q = Sql()
    sql = f"""
    with {_performance_in_view(q, scope, f, year, quarter)},

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
            count(*) as regions,
            sum({YEAR_AGO_BASE.format(col='revenue')}) as revenue_year_ago_base,
            sum({YEAR_AGO.format(col='revenue')}) as revenue_prior_year,
            sum({YEAR_AGO_BASE.format(col='profit')}) as profit_year_ago_base,
            sum({YEAR_AGO.format(col='profit')}) as profit_prior_year
        from performance
        having count(*) > 0
    )

    select * from final
    """
    return without_profit(reader, scope, fetch(reader, scope, sql, q))


def kpis_by_quarter(reader: Reader, scope: Scope, f: Filters, year: int, quarter: int,
                    quarters: int = TREND_QUARTERS) -> pl.DataFrame:
    """Results per quarter over the selected regions, the last `quarters` quarters with
    results up to (and including) year/quarter, oldest first: year, quarter, revenue,
    profit, revenue_target, profit_target (sums; a target is null when no region in view has
    one), revenue_target_completion, profit_target_completion (as in kpis)."""
    q = Sql()
    sql = f"""
    with {_performance_in_view(q, scope, f, year, quarter, up_to=True)},

    per_quarter as (
        select
            year,
            quarter,
            sum(revenue) as revenue,
            sum(profit) as profit,
            sum(revenue_target) as revenue_target,
            sum(profit_target) as profit_target,
            sum(case when revenue_target is not null then revenue end)
                / nullif(sum(revenue_target), 0) as revenue_target_completion,
            sum(case when profit_target is not null then profit end)
                / nullif(sum(profit_target), 0) as profit_target_completion
        from performance
        group by year, quarter
    ),

    final as (
        select * from per_quarter
        order by year desc, quarter desc
        limit {q.bind(max(int(quarters), 1))}
    )

    select * from final
    order by year, quarter
    """
    return without_profit(reader, scope, fetch(reader, scope, sql, q))


def region_split(reader: Reader, scope: Scope, f: Filters, year: int,
                 quarter: int) -> pl.DataFrame:
    """One quarter's results per region in view (fct_region_performance), by region name:
    region_id, region_name, revenue, revenue_vs_year_ago (revenue / revenue_prior_year - 1;
    null without a whole quarter a year back), profit, revenue_per_head, profit_per_head,
    revenue_target_completion, profit_target_completion."""
    q = Sql()
    sql = f"""
    with {_performance_in_view(q, scope, f, year, quarter)},

    names as (
        select region_id, max(region_name) as region_name
        from marts.dim_reps
        where {q.scope(scope, 'region_id')}
        group by region_id
    ),

    final as (
        select
            performance.region_id,
            coalesce(names.region_name, performance.region_id) as region_name,
            performance.revenue,
            {YEAR_AGO_BASE.format(col='performance.revenue')}
                / nullif({YEAR_AGO.format(col='revenue')}, 0) - 1 as revenue_vs_year_ago,
            performance.profit,
            performance.revenue_per_head,
            performance.profit_per_head,
            performance.revenue_target_completion,
            performance.profit_target_completion
        from performance
        left join names on names.region_id = performance.region_id
    )

    select * from final
    order by region_name, region_id
    """
    return without_profit(reader, scope, fetch(reader, scope, sql, q))


def latest_month_end(reader: Reader, scope: Scope, on_or_before: dt.date) -> dt.date | None:
    """The latest relationship-health snapshot on or before a date."""
    q = Sql()
    sql = f"""
    select max(month_end_date) as month_end_date
    from marts.fct_relationship_health
    where month_end_date <= {q.bind(on_or_before)} and {q.scope(scope, 'region_id')}
    """
    df = fetch(reader, scope, sql, q)
    return df["month_end_date"][0] if df.height else None


def health_bands(reader: Reader, scope: Scope, f: Filters, month_end: dt.date) -> pl.DataFrame:
    """Accounts per health band at a month-end: health_band, accounts, share."""
    q = Sql()
    accounts = accounts_in_view(q, scope, f)
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
    return fetch(reader, scope, sql, q)


def tier_counts(reader: Reader, scope: Scope, f: Filters) -> pl.DataFrame:
    """Accounts and trailing-12-month revenue per tier in the selected quarter."""
    q = Sql()
    accounts = accounts_in_view(q, scope, f)
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
    return fetch(reader, scope, sql, q)


# Alerts about something nobody holds (no approver, no coach) need the account's contacts
# and their decision roles; "untouched 90 days" needs logged activities. Without those
# inputs they would fire for every account (85 "No approver" alerts on an export without
# contacts), so they are left out: absence alerts when the power-map layer is
# unavailable or the account has no contact loaded, untouched alerts when the activities
# layer (interactions) is unavailable.
ABSENCE_ALERTS = ("no_approver", "no_coach_on_s_a")
ACTIVITY_ALERTS = ("key_contact_untouched_90d",)


def _alert_filter(reader: Reader, scope: Scope, q: Sql) -> str:
    found = layers(reader, scope)
    absence = ", ".join(text_literal(a) for a in ABSENCE_ALERTS)
    activity = ", ".join(text_literal(a) for a in ACTIVITY_ALERTS)
    return f"""(
        alerts.alert_type not in ({absence})
        or ({q.bind(found.available('power_map'))}
            and exists (select 1 from marts.dim_contacts as loaded
                        where loaded.account_id = alerts.account_id))
    ) and (
        alerts.alert_type not in ({activity})
        or {q.bind(found.available('activities'))}
    )"""


# Severity of each alert type (the Overview's worklist is ordered by severity, then tier):
# high = a deal can be lost now (an approver or decision maker opposes; an S/A account with
# nobody coaching us), medium = a relationship is slipping (a supporter also backs a
# competitor; a role holder untouched for 90 days), low = a structural gap to plan for (one
# rep holds the account; no approver identified). Types the dashboard does not know are low.
SEVERITIES = ("high", "medium", "low")
ALERT_SEVERITY = {
    "approver_or_decider_opposes": "high",
    "no_coach_on_s_a": "high",
    "competitor_stance_conflict": "medium",
    "key_contact_untouched_90d": "medium",
    "privately_held": "low",
    "no_approver": "low",
}
assert set(ALERT_SEVERITY) == set(ALERT_TYPES), "every alert type needs a severity"


def _severity_sql(column: str) -> str:
    whens = " ".join(f"when {text_literal(t)} then {text_literal(s)}"
                     for t, s in ALERT_SEVERITY.items())
    return f"case {column} {whens} else {text_literal(SEVERITIES[-1])} end"


def _severity_rank_sql(column: str) -> str:
    whens = " ".join(f"when {text_literal(t)} then {SEVERITIES.index(s) + 1}"
                     for t, s in ALERT_SEVERITY.items())
    return f"case {column} {whens} else {len(SEVERITIES)} end"


def _alerts_in_view(q: Sql, scope: Scope, f: Filters) -> str:
    """CTE `accounts_in_view` for alerts. Alerts are the current state (the build's as-of
    date), so the quarter does not apply; the tier filter applies to the alert's tier (the
    account's current tier), in _alert_where."""
    return accounts_in_view(q, scope, replace(f, year=None, quarter=None, tiers=()))


def _alert_where(reader: Reader, scope: Scope, q: Sql, f: Filters,
                 alert_type: str | None) -> str:
    kind = f"alerts.alert_type = {q.bind(alert_type)}" if alert_type is not None else "true"
    return f"""{q.one_of('alerts.tier', f.tiers)}
        and {kind}
        and {_alert_filter(reader, scope, q)}"""


def alerts(reader: Reader, scope: Scope, f: Filters, *, account_id: str | None = None,
           alert_type: str | None = None, limit: int | None = 50,
           offset: int = 0) -> pl.DataFrame:
    """Alerts on the accounts in view (or on one account, or of one type): a page of
    `limit` rows from `offset` (limit None: all of them), the most urgent first: severity
    (ALERT_SEVERITY), then the tier S, A, B, C, none, then the type's urgency (ALERT_TYPES),
    account and contact (ties broken by the ids, so pages never overlap).

    Alerts describe the build's as-of date, whatever the quarter of `f`; the tier filter of
    `f` applies to the alert's tier (the account's current tier).

    An alert of a visible account about a contact of an account outside the scope
    (inconsistent data) is kept, as the account's alert, without the contact: contact_name
    and detail read "(contact of another region)", contact_title, decision_role and
    contact_id are null."""
    q = Sql()
    accounts = _alerts_in_view(q, scope, f)
    one = f"alerts.account_id = {q.bind(account_id)}" if account_id is not None else "true"
    joins, visible = contact_region(q, scope, "alerts.contact_id")
    other = text_literal(OTHER_REGION_CONTACT)
    page = ""
    if limit is not None:
        page = f"limit {q.bind(max(int(limit), 0))} offset {q.bind(max(int(offset), 0))}"
    sql = f"""
    with {accounts},

    final as (
        select
            {_severity_sql('alerts.alert_type')} as severity,
            alerts.alert_type,
            alerts.tier,
            accounts_in_view.account_name,
            accounts_in_view.region_name,
            accounts_in_view.industry,
            case
                when alerts.contact_id is null then null
                when {visible} then {name_sql(scope, 'contacts.full_name')}
                else {other}
            end as contact_name,
            case when {visible} then contacts.title end as contact_title,
            case when {visible} then contacts.decision_role end as decision_role,
            case
                when alerts.contact_id is null then alerts.detail
                when {visible} then {detail_sql(scope, 'alerts.detail', 'contacts.full_name')}
                else {other}
            end as detail,
            alerts.account_id,
            case when {visible} then alerts.contact_id end as contact_id,
            {_severity_rank_sql('alerts.alert_type')} as severity_rank,
            case alerts.alert_type {ALERT_ORDER} else 99 end as type_rank,
            alerts.contact_id as sort_contact_id
        from marts.fct_account_alerts as alerts
        inner join accounts_in_view on accounts_in_view.account_id = alerts.account_id
        left join marts.dim_contacts as contacts on contacts.contact_id = alerts.contact_id
        {joins}
        where {one} and {_alert_where(reader, scope, q, f, alert_type)}
    )

    select * exclude (severity_rank, type_rank, sort_contact_id)
    from final
    order by
        severity_rank,
        {TIER_ORDER.format(col='tier')},
        type_rank,
        alert_type,
        account_name,
        account_id,
        contact_name nulls first,
        sort_contact_id nulls first,
        detail
    {page}
    """
    return fetch(reader, scope, sql, q)


def alert_counts(reader: Reader, scope: Scope, f: Filters) -> pl.DataFrame:
    """Alerts per type on the accounts in view, the most severe first: alert_type,
    severity, alerts, accounts. Their sum is the number of rows alerts() lists unfiltered
    by type (same scope, filters and rules)."""
    q = Sql()
    accounts = _alerts_in_view(q, scope, f)
    sql = f"""
    with {accounts}

    select
        alerts.alert_type,
        {_severity_sql('alerts.alert_type')} as severity,
        count(*) as alerts,
        count(distinct alerts.account_id) as accounts
    from marts.fct_account_alerts as alerts
    inner join accounts_in_view on accounts_in_view.account_id = alerts.account_id
    where {_alert_where(reader, scope, q, f, None)}
    group by alerts.alert_type
    order by
        {_severity_rank_sql('alerts.alert_type')},
        case alerts.alert_type {ALERT_ORDER} else 99 end,
        alerts.alert_type
    """
    return fetch(reader, scope, sql, q)

"""Queries of the Relationship health page and its one-account drill-down."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

import polars as pl

from rapport.serving.queries._base import (
    HEALTH_BANDS,
    OTHER_REGION_CONTACT,
    Filters,
    Sql,
    account_list,
    accounts_in_view,
    age_band_sql,
    contact_region,
    fetch,
    name_sql,
    one_account,
    text_literal,
)
from rapport.serving.queries.options import columns_of
from rapport.serving.reader import Reader
from rapport.serving.scope import Scope

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


# the whole list's figures that account_health() adds to each row (the page's tiles)
HEALTH_SUMMARY = ("matching", "mean_health", "weak_accounts", "privately_held")


def account_health(reader: Reader, scope: Scope, f: Filters, month_end: dt.date, *,
                   sort_by: str = "health", descending: bool = False,
                   bands: Sequence[str] = (), trend_months: int = 12,
                   limit: int | None = None, offset: int = 0, find: str = "",
                   keep: Sequence[str] = ()) -> pl.DataFrame:
    """One row per account in view at a month-end: the three parts, health, band, changes,
    the last `trend_months` health values (health_trend) and the concentration measures.
    limit/offset: one page of the sorted list; find, keep: account_list(). Each row also
    carries the whole list's figures (HEALTH_SUMMARY): `matching` accounts, their
    `mean_health`, `weak_accounts` and `privately_held` accounts. The trend is read for the
    rows returned only."""
    if sort_by not in HEALTH_SORTS:
        raise ValueError(f"cannot sort by {sort_by!r}; choose one of {sorted(HEALTH_SORTS)}")
    bad = set(bands) - set(HEALTH_BANDS)
    if bad:
        raise ValueError(f"unknown health band(s) {sorted(bad)}; choose from {HEALTH_BANDS}")
    order = (f"{HEALTH_SORTS[sort_by]} {'desc' if descending else 'asc'} nulls last, "
             "account_name, account_id")
    trend_start = month_end - dt.timedelta(days=31 * trend_months)
    q = Sql()
    accounts = accounts_in_view(q, scope, f)
    sql = f"""
    with {accounts},

    listed as (
        select
            accounts_in_view.account_name,
            accounts_in_view.tier,
            health.health_score,
            health.health_band,
            health.health_change_1m,
            health.health_change_3m,
            health.key_score,
            health.general_score,
            health.org_score,
            accounts_in_view.region_name,
            accounts_in_view.industry,
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
        where health.month_end_date = {q.bind(month_end)}
            and {q.one_of('health.health_band', list(bands))}
    ),

    -- one row (an aggregate over () as a window took 1.7 s for 50,000 rows)
    summary as (
        select
            avg(health_score) as mean_health,
            count(*) filter (where health_band = 'weak') as weak_accounts,
            count(*) filter (where is_privately_held) as privately_held
        from listed
    ),

    picked as (
        {account_list(q, "listed", order, find=find, limit=limit, keep=keep, offset=offset)}
    ),

    history as (
        select
            health.account_id,
            list(round(health.health_score, 1) order by health.month_end_date) as health_trend
        from marts.fct_relationship_health as health
        inner join picked on picked.account_id = health.account_id
        where health.month_end_date > {q.bind(trend_start)}
            and health.month_end_date <= {q.bind(month_end)}
        group by health.account_id
    )

    select
        picked.account_name,
        picked.tier,
        picked.health_score,
        picked.health_band,
        picked.health_change_1m,
        picked.health_change_3m,
        history.health_trend,
        picked.key_score,
        picked.general_score,
        picked.org_score,
        picked.region_name,
        picked.industry,
        picked.breadth,
        picked.department_coverage,
        picked.level_coverage,
        picked.org_level,
        picked.has_exec_visit_12m,
        picked.top_rep_share,
        picked.rep_hhi,
        picked.is_privately_held,
        picked.account_id,
        picked.matching,
        summary.mean_health,
        summary.weak_accounts,
        summary.privately_held
    from picked
    cross join summary
    left join history on history.account_id = picked.account_id
    order by {", ".join(f"picked.{part.strip()}" for part in order.split(","))}
    """
    return fetch(reader, scope, sql, q)


def health_trend(reader: Reader, scope: Scope, f: Filters, month_end: dt.date,
                 months: int = 24) -> pl.DataFrame:
    """Mean key / general / org / health over the accounts in view per month-end, the
    number of accounts per band, and whether every window of the month is complete
    (`window_complete`; true on a warehouse built before the warm-up flags existed), for the
    `months` months up to month_end."""
    start = month_end - dt.timedelta(days=31 * months)
    q = Sql()
    accounts = accounts_in_view(q, scope, f)
    complete = ("bool_and(health.window_complete)"
                if "window_complete" in columns_of(reader, scope, "marts.fct_relationship_health")
                else "true")
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
        count(*) as accounts,
        {complete} as window_complete
    from marts.fct_relationship_health as health
    inner join accounts_in_view on accounts_in_view.account_id = health.account_id
    where health.month_end_date > {q.bind(start)} and health.month_end_date <= {q.bind(month_end)}
    group by health.month_end_date
    order by health.month_end_date
    """
    return fetch(reader, scope, sql, q)



def account(reader: Reader, scope: Scope, account_id: str) -> pl.DataFrame:
    """The account's dimension row (0 rows if out of scope or unknown)."""
    q = Sql()
    sql = f"""
    with {one_account(q, scope, account_id)}

    select
        the_account.*,
        reps.rep_name as ar_rep_name
    from the_account
    left join marts.dim_reps as reps on reps.rep_id = the_account.ar_rep_id
    """
    return fetch(reader, scope, sql, q)


def account_health_history(reader: Reader, scope: Scope, account_id: str) -> pl.DataFrame:
    """Every month-end of one account: parts, health, band, coverage and concentration."""
    q = Sql()
    sql = f"""
    with {one_account(q, scope, account_id)}

    select health.*
    from marts.fct_relationship_health as health
    inner join the_account on the_account.account_id = health.account_id
    order by health.month_end_date
    """
    return fetch(reader, scope, sql, q)


def account_contacts(reader: Reader, scope: Scope, account_id: str) -> pl.DataFrame:
    """The contacts of one account with their touch and depth evidence (general part)."""
    q = Sql()
    sql = f"""
    with {one_account(q, scope, account_id)}

    select
        {name_sql(scope, 'contacts.full_name')} as contact_name,
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
        {age_band_sql(scope, 'contacts.birthday')} as birthday,
        contacts.contact_id
    from marts.dim_contacts as contacts
    inner join the_account on the_account.account_id = contacts.account_id
    order by
        case when contacts.decision_role is null then 1 else 0 end,
        contacts.decision_role,
        contacts.days_since_last_touch nulls last
    """
    return fetch(reader, scope, sql, q)


def account_activities(reader: Reader, scope: Scope, account_id: str, since: dt.date, *,
                       layer: str | None = None, limit: int = 500) -> pl.DataFrame:
    """One account's interactions since a date (newest first), optionally of one layer.

    An interaction that names a contact of an account outside the scope (inconsistent data)
    is kept, as the account's activity, but the contact is not shown: contact_name reads
    "(contact of another region)", decision_role and department are null.

    Reads fct_interactions filtered by account: never a scan of all interactions."""
    if layer is not None and layer not in ("key", "general", "org"):
        raise ValueError(f"unknown layer {layer!r}; choose key, general or org")
    q = Sql()
    joins, visible = contact_region(q, scope, "interactions.contact_id")
    sql = f"""
    with {one_account(q, scope, account_id)}

    select
        interactions.occurred_date,
        interactions.activity_type,
        interactions.layer,
        interactions.depth_step,
        interactions.org_element,
        interactions.is_executive_visit,
        case
            when contacts.contact_id is null then null
            when {visible} then {name_sql(scope, 'contacts.full_name')}
            else {text_literal(OTHER_REGION_CONTACT)}
        end as contact_name,
        case when {visible} then contacts.decision_role end as decision_role,
        case when {visible} then contacts.department end as department,
        reps.rep_name,
        interactions.outcome,
        interactions.interaction_id
    from marts.fct_interactions as interactions
    inner join the_account on the_account.account_id = interactions.account_id
    left join marts.dim_contacts as contacts on contacts.contact_id = interactions.contact_id
    {joins}
    left join marts.dim_reps as reps on reps.rep_id = interactions.rep_id
    where interactions.account_id = {q.bind(account_id)}
        and interactions.occurred_date >= {q.bind(since)}
        and {q.one_of('interactions.layer', [layer] if layer else [])}
    order by interactions.occurred_at desc, interactions.interaction_id
    limit {q.bind(int(limit))}
    """
    return fetch(reader, scope, sql, q)


def account_activity_summary(reader: Reader, scope: Scope, account_id: str,
                             since: dt.date) -> pl.DataFrame:
    """One account's interactions since a date per layer and activity type."""
    q = Sql()
    sql = f"""
    with {one_account(q, scope, account_id)}

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
    return fetch(reader, scope, sql, q)

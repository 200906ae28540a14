"""Queries of the Power map page: one account's map, one deal's map, alerts, attitude moves."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

import polars as pl

from rapport.serving.queries._base import (
    TIER_ORDER,
    Filters,
    Sql,
    account_list,
    accounts_in_view,
    contacts_in_scope,
    fetch,
    name_sql,
    one_account,
)
from rapport.serving.reader import Reader
from rapport.serving.scope import Scope


def power_map_accounts(reader: Reader, scope: Scope, f: Filters, *,
                       mapped_only: bool = False, find: str = "", limit: int | None = None,
                       keep: Sequence[str] = ()) -> pl.DataFrame:
    """Accounts in view with the number of contacts on their power map and the number of
    their deals with contacts recorded, S first; both count only contacts the scope may see
    (as power_map() and deals() show them). mapped_only: only the accounts with a map (a
    mapped contact or a deal with contacts); find, limit, keep and the `matching` column:
    account_list()."""
    q = Sql()
    accounts = accounts_in_view(q, scope, f)
    deal_contacts = (_deal_contacts_in_scope(q, scope) if not scope.sees_all_regions else "")
    sql = f"""
    with {accounts},

    mapped as (
        select power_map.account_id, count(*) as mapped_contacts
        from marts.fct_power_map as power_map
        {contacts_in_scope(q, scope, 'power_map.contact_id')}
        group by power_map.account_id
    ),

    with_deals as (
        select power_map.account_id,
            count(distinct power_map.opportunity_id) as deals_with_contacts
        from marts.fct_opportunity_power_map as power_map
        {deal_contacts}
        group by power_map.account_id
    ),

    listed as (
        select
            accounts_in_view.account_id,
            accounts_in_view.account_name,
            accounts_in_view.tier,
            accounts_in_view.region_name,
            accounts_in_view.rank_in_population,
            coalesce(mapped.mapped_contacts, 0) as mapped_contacts,
            coalesce(with_deals.deals_with_contacts, 0) as deals_with_contacts
        from accounts_in_view
        left join mapped on mapped.account_id = accounts_in_view.account_id
        left join with_deals on with_deals.account_id = accounts_in_view.account_id
        where {"mapped.account_id is not null or with_deals.account_id is not null"
               if mapped_only else "true"}
    )
    {account_list(q, "listed", ACCOUNT_ORDER, find=find, limit=limit, keep=keep)}
    """
    return fetch(reader, scope, sql, q).drop("rank_in_population")


# the order of a list of accounts to choose from: S first, then by rank, then by name
ACCOUNT_ORDER = (TIER_ORDER.format(col="tier")
                 + ", rank_in_population nulls last, account_name, account_id")


# the columns of a power map, account or deal, as the page shows them
_MAP_COLUMNS = """
        {contact_name} as contact_name,
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
        power_map.contact_id"""

_MAP_ORDER = """
        power_map.influence_weight desc nulls last,
        power_map.current_attitude desc nulls last,
        contact_name"""


def power_map(reader: Reader, scope: Scope, account_id: str) -> pl.DataFrame:
    """The power map of one account: one row per contact with a role or an assessment that
    the scope may see (a row naming a contact of an account in another region is left out),
    with its reporting line for the org chart (fct_power_map: reports_to_contact_id as
    recorded, reports_to_status, manager_contact_id the line drawn, is_cycle_break)."""
    q = Sql()
    sql = f"""
    with {one_account(q, scope, account_id)}

    select {_MAP_COLUMNS.format(contact_name=name_sql(scope, 'power_map.full_name'))},
        power_map.reports_to_contact_id,
        power_map.reports_to_status,
        power_map.manager_contact_id,
        power_map.is_cycle_break
    from marts.fct_power_map as power_map
    inner join the_account on the_account.account_id = power_map.account_id
    {contacts_in_scope(q, scope, 'power_map.contact_id')}
    order by {_MAP_ORDER}
    """
    return fetch(reader, scope, sql, q)


def _deal_contacts_in_scope(q: Sql, scope: Scope) -> str:
    """Join condition: the deal contact's own account is one the scope may see (a deal can
    list a contact of another account, e.g. a partner in another region), by the mart's
    contact_account_id and by the contact's record in dim_contacts (contacts_in_scope)."""
    return f"""
    inner join marts.dim_accounts as contact_accounts
        on contact_accounts.account_id = power_map.contact_account_id
            and {q.scope(scope, 'contact_accounts.region_id')}
    {contacts_in_scope(q, scope, 'power_map.contact_id')}"""


def deals(reader: Reader, scope: Scope, account_id: str) -> pl.DataFrame:
    """The account's deals that have contacts recorded (opportunity_contacts) that the scope
    may see: open deals first, then the latest closed."""
    q = Sql()
    sql = f"""
    with {one_account(q, scope, account_id)}

    select
        power_map.opportunity_id,
        power_map.opportunity_name,
        power_map.opportunity_status,
        power_map.opportunity_stage,
        power_map.opportunity_amount,
        power_map.close_date,
        count(*) as deal_contacts
    from marts.fct_opportunity_power_map as power_map
    inner join the_account on the_account.account_id = power_map.account_id
    {_deal_contacts_in_scope(q, scope)}
    group by
        power_map.opportunity_id,
        power_map.opportunity_name,
        power_map.opportunity_status,
        power_map.opportunity_stage,
        power_map.opportunity_amount,
        power_map.close_date
    order by
        power_map.opportunity_status <> 'open',
        power_map.close_date desc nulls last,
        power_map.opportunity_name
    """
    return fetch(reader, scope, sql, q)


def deal_power_map(reader: Reader, scope: Scope, account_id: str,
                   opportunity_id: str) -> pl.DataFrame:
    """The power map of one deal of the account: one row per contact recorded on the deal
    that the scope may see, with the deal's roles and evaluation groups; the same columns
    as power_map()."""
    q = Sql()
    sql = f"""
    with {one_account(q, scope, account_id)}

    select {_MAP_COLUMNS.format(contact_name=name_sql(scope, 'power_map.full_name'))}
    from marts.fct_opportunity_power_map as power_map
    inner join the_account on the_account.account_id = power_map.account_id
    {_deal_contacts_in_scope(q, scope)}
    where power_map.opportunity_id = {q.bind(opportunity_id)}
    order by {_MAP_ORDER}
    """
    return fetch(reader, scope, sql, q)


def attitude_moves(reader: Reader, scope: Scope, account_id: str,
                   since: dt.date) -> pl.DataFrame:
    """Contacts of one account whose attitude now differs from their attitude on `since`
    (fct_attitude_history; an assessment is in force from valid_from to valid_to, both
    included; valid_to is null for the current one).
    attitude_before is null for contacts first assessed after `since`. A contact of an
    account outside the scope (an assessment filed under this account by mistake) is left
    out: every column of the row is about the contact."""
    q = Sql()
    sql = f"""
    with {one_account(q, scope, account_id)},

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
            {name_sql(scope, 'contacts.full_name')} as contact_name,
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
        {contacts_in_scope(q, scope, 'current_attitudes.contact_id')}
        where at_date.attitude_before is distinct from current_attitudes.attitude_now
    )

    select * from final
    order by abs(coalesce(attitude_change, 0)) desc, attitude_change, contact_name
    """
    return fetch(reader, scope, sql, q)

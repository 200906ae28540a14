"""Queries of the Record assessments page: the accounts a viewer may record for, and one
account's contacts as the served warehouse knows them (the page writes to the capture store,
rapport/serving/capture_store.py, never here)."""

from __future__ import annotations

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


def capture_accounts(reader: Reader, scope: Scope, f: Filters,
                     rep_id: str | None = None, *, find: str = "", limit: int | None = None,
                     keep: Sequence[str] = ()) -> pl.DataFrame:
    """Accounts in view (scope and sidebar filters) with their account team: ar_rep_id,
    sr_rep_id, fr_rep_id (today) and period_ar_rep_id (the AR of the latest quarter, recorded
    or inferred: intermediate.int_accounts_owner_of_period). With rep_id, only the accounts
    whose team includes that rep (an account manager's). S first, then by name; find, limit,
    keep and the `matching` column: account_list()."""
    q = Sql()
    accounts = accounts_in_view(q, scope, f)
    team = "true"
    if rep_id is not None:
        rep = q.bind(rep_id)
        team = (f"{rep} in (accounts.ar_rep_id, accounts.sr_rep_id, accounts.fr_rep_id, "
                f"period.period_ar_rep_id)")
    sql = f"""
    with {accounts},

    latest_period as (
        select account_id, period_ar_rep_id
        from intermediate.int_accounts_owner_of_period
        qualify row_number() over (partition by account_id
                                   order by year desc, quarter desc) = 1
    ),

    listed as (
        select
            accounts_in_view.account_id,
            accounts_in_view.account_name,
            accounts_in_view.region_id,
            accounts_in_view.region_name,
            accounts_in_view.tier,
            accounts.ar_rep_id,
            accounts.sr_rep_id,
            accounts.fr_rep_id,
            period.period_ar_rep_id
        from accounts_in_view
        inner join marts.dim_accounts as accounts
            on accounts.account_id = accounts_in_view.account_id
        left join latest_period as period on period.account_id = accounts_in_view.account_id
        where {team}
    )
    {account_list(q, "listed", TIER_ORDER.format(col="tier") + ", account_name, account_id",
                  find=find, limit=limit, keep=keep)}
    """
    return fetch(reader, scope, sql, q)


def capture_contacts(reader: Reader, scope: Scope, account_id: str) -> pl.DataFrame:
    """One account's contacts (every contact of the warehouse, mapped or not) with the
    values the form starts from: decision role, evaluation group, reports-to (only a contact
    of the same account; null in a warehouse built before the column existed), current
    attitude and its date; names masked when the scope may not see them. No row for an
    account outside the scope."""
    from rapport.serving.queries.options import columns_of

    q = Sql()
    if "reports_to_contact_id" in columns_of(reader, scope, "marts.dim_contacts"):
        boss = "bosses.contact_id"
        boss_join = """
    left join marts.dim_contacts as bosses
        on bosses.contact_id = contacts.reports_to_contact_id
            and bosses.account_id = contacts.account_id"""
    else:
        boss, boss_join = "cast(null as varchar)", ""
    sql = f"""
    with {one_account(q, scope, account_id)}

    select
        contacts.contact_id,
        {name_sql(scope, 'contacts.full_name')} as contact_name,
        contacts.title,
        contacts.department,
        contacts.decision_role,
        contacts.evaluation_group,
        {boss} as reports_to_contact_id,
        power_map.current_attitude,
        power_map.attitude_assessed_date,
        power_map.contact_key_score
    from marts.dim_contacts as contacts
    inner join the_account on the_account.account_id = contacts.account_id
    left join marts.fct_power_map as power_map
        on power_map.contact_id = contacts.contact_id
            and power_map.account_id = contacts.account_id
    {boss_join}
    {contacts_in_scope(q, scope, 'contacts.contact_id')}
    order by contacts.decision_role nulls last, contact_name, contacts.contact_id
    """
    return fetch(reader, scope, sql, q)


def captured_upto(reader: Reader, scope: Scope) -> dict:
    """What the served build merged of the capture store (meta.capture_state: last_version_id,
    last_contact_id, file_name); empty for a build without that table. Not region-scoped:
    two ids and a file name."""
    from rapport.serving.queries.options import columns_of

    if not columns_of(reader, scope, "meta.capture_state"):
        return {}
    df = fetch(reader, scope, "select file_name, last_version_id, last_contact_id "
                              "from meta.capture_state limit 1", Sql())
    return df.row(0, named=True) if df.height else {}

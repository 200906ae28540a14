"""Cross-table suites: aggregates computed in DuckDB SQL, asserted with GX on the small frames.

quarantine      raw rows = clean rows + quarantined rows for every table (and what the gate
                recorded in meta.dq_row_counts agrees); quarantine rate per table against
                thresholds.yml (warn / fail); only known reason codes.
reconciliation  revenue in marts.fct_rep_performance = won amount in staging, per quarter;
                every S/A account (latest quarter of fct_account_tiers) has a health row at
                the last month-end of fct_relationship_health; tier shares (warning).
"""

from __future__ import annotations

import great_expectations.expectations as gxe

from expectations._base import Batch, SuiteContext, fail, q, warn

REASON_CODES = ["missing_required", "unparseable", "not_allowed", "out_of_range",
                "duplicate_key", "orphan_fk", "impossible_value"]


def _raw_tables(ctx: SuiteContext) -> list[str]:
    present = ctx.relations()
    return [t for t in ctx.contract.tables if f"raw.{t}" in present]


def quarantine_batches(ctx: SuiteContext) -> list[Batch]:
    tables = _raw_tables(ctx)
    if not tables:
        return [Batch("quarantine", "row_counts", "select * from raw.no_raw_tables_loaded",
                      [fail(gxe.ExpectTableRowCountToBeBetween(min_value=1))])]
    counted = "\nunion all\n".join(
        f"select '{t}' as table_name, "
        f"(select count(*) from raw.{q(t)}) as raw_rows, "
        f"(select count(*) from validated.{q(t)}) as clean_rows, "
        f"(select count(*) from meta.dq_quarantine "
        f" where table_name = '{t}' and build_id = $build_id) as quarantined_rows"
        for t in tables
    )
    counts_sql = f"""
        with counted as (
            {counted}
        ),
        recorded as (
            select table_name, raw_rows, clean_rows, quarantined_rows
            from meta.dq_row_counts
            where build_id = $build_id
        )
        select
            counted.table_name,
            counted.raw_rows,
            counted.clean_rows,
            counted.quarantined_rows,
            counted.raw_rows - counted.clean_rows - counted.quarantined_rows as unbalanced,
            coalesce(recorded.raw_rows, -1) as recorded_raw_rows,
            coalesce(recorded.clean_rows, -1) as recorded_clean_rows,
            coalesce(recorded.quarantined_rows, -1) as recorded_quarantined_rows
        from counted
        left join recorded on recorded.table_name = counted.table_name
    """
    counts = Batch("quarantine", "row_counts", counts_sql, [
        fail(gxe.ExpectTableRowCountToEqual(value=len(tables)), name="every_raw_table_counted"),
        fail(gxe.ExpectColumnValuesToBeBetween(column="unbalanced", min_value=0, max_value=0),
             name="raw_equals_clean_plus_quarantined"),
        *[fail(gxe.ExpectColumnPairValuesToBeEqual(column_A=a, column_B=f"recorded_{a}"),
               name=f"dq_row_counts_{a}_agrees") for a in
          ("raw_rows", "clean_rows", "quarantined_rows")],
    ], params={"build_id": ctx.build_id})

    cfg = ctx.thresholds["quarantine_rate"]
    # rates of the tables that have rows: an absent or empty optional table has no rate
    # (a 0% rate of no rows would read as a pass)
    rated = [t for t in tables if ctx.row_count(f"raw.{q(t)}")] or tables[:1]
    rates_sql = "select " + ",\n".join(
        f"(select count(*) from meta.dq_quarantine where table_name = '{t}' "
        f"and build_id = $build_id)::double "
        f"/ greatest((select count(*) from raw.{q(t)}), 1) as {q(t)}"
        for t in rated
    )
    rate_exps, small_exps = [], []
    floor = int(cfg.get("fail_min_rows", 0))
    for t in rated:
        limits = {**cfg, **cfg.get("per_table", {}).get(t, {})}
        rate_exps.append(warn(gxe.ExpectColumnMaxToBeBetween(
            column=t, min_value=0, max_value=limits["warn_above"]), name="quarantine_rate_warn"))
        failing = fail(gxe.ExpectColumnMaxToBeBetween(
            column=t, min_value=0, max_value=limits["fail_above"]), name="quarantine_rate_fail")
        small = ctx.row_count(f"raw.{q(t)}") < int(limits.get("fail_min_rows", floor))
        (small_exps if small else rate_exps).append(failing)
    rates = Batch("quarantine", "rates", rates_sql, rate_exps, params={"build_id": ctx.build_id})
    # a table with fewer raw rows than fail_min_rows: its rate (2 of 10 = 20%) says too
    # little to refuse the build; it still warns, and its fail check is not applicable
    small = Batch("quarantine", "rates", rates_sql, small_exps,
                  params={"build_id": ctx.build_id},
                  not_applicable=f"fewer than {floor} raw rows (thresholds.yml "
                                 f"quarantine_rate.fail_min_rows): judged by the warning only")

    reasons = Batch("quarantine", "reason_codes", """
        select distinct trim(reason) as reason
        from (select unnest(string_split(reasons, ',')) as reason from meta.dq_quarantine)
    """, [fail(gxe.ExpectColumnValuesToBeInSet(column="reason", value_set=REASON_CODES),
               name="known_reason_codes")])
    return [counts, rates, *([small] if small_exps else []), reasons]


def reconciliation_batches(ctx: SuiteContext) -> list[Batch]:
    tolerance = ctx.thresholds["reconciliation"]["revenue_abs_tolerance"]
    as_of = ctx.as_of_date.isoformat() if ctx.as_of_date else "9999-12-31"
    revenue_sql = """
        with mart as (
            select year, quarter, sum(revenue) as mart_revenue
            from marts.fct_rep_performance
            group by year, quarter
        ),
        won as (
            select
                year(close_date) as year,
                quarter(close_date) as quarter,
                sum(amount) as staging_won_amount
            from staging.stg_opportunities
            where status = 'won' and close_date <= $as_of::date
            group by year(close_date), quarter(close_date)
        ),
        final as (
            select
                coalesce(mart.year, won.year) as year,
                coalesce(mart.quarter, won.quarter) as quarter,
                coalesce(mart.mart_revenue, 0)::double as mart_revenue,
                coalesce(won.staging_won_amount, 0)::double as staging_won_amount
            from mart
            full outer join won on won.year = mart.year and won.quarter = mart.quarter
        )
        select
            *,
            abs(mart_revenue - staging_won_amount) as abs_difference
        from final
    """
    revenue = Batch("reconciliation", "revenue_by_quarter", revenue_sql, [
        warn(gxe.ExpectTableRowCountToBeBetween(min_value=1), name="revenue_quarters_present"),
        fail(gxe.ExpectColumnMaxToBeBetween(column="abs_difference", min_value=0,
                                            max_value=tolerance),
             name="revenue_equals_staging_won_amount"),
        fail(gxe.ExpectColumnValuesToBeBetween(column="abs_difference", min_value=0,
                                               max_value=tolerance),
             name="quarters_with_revenue_difference"),
    ], params={"as_of": as_of})

    health_sql = """
        with latest_quarter as (
            select max(quarter_end_date) as quarter_end_date from marts.fct_account_tiers
        ),
        last_month_end as (
            select max(month_end_date) as month_end_date from marts.fct_relationship_health
        ),
        sa_accounts as (
            select tiers.account_id, tiers.tier
            from marts.fct_account_tiers as tiers
            inner join latest_quarter
                on latest_quarter.quarter_end_date = tiers.quarter_end_date
            where tiers.tier in ('S', 'A')
        ),
        health as (
            select health.account_id
            from marts.fct_relationship_health as health
            inner join last_month_end
                on last_month_end.month_end_date = health.month_end_date
        )
        select
            sa_accounts.account_id,
            sa_accounts.tier,
            case when health.account_id is null then 0 else 1 end as has_health_row
        from sa_accounts
        left join health on health.account_id = sa_accounts.account_id
    """
    health = Batch("reconciliation", "sa_accounts_health", health_sql, [
        warn(gxe.ExpectTableRowCountToBeBetween(min_value=1), name="sa_accounts_present"),
        fail(gxe.ExpectColumnValuesToBeInSet(column="has_health_row", value_set=[1]),
             name="every_sa_account_has_health_row"),
    ], not_applicable=ctx.not_applicable("relationship_health"))

    d = ctx.thresholds["distributions"]
    shares_sql = """
        with latest as (
            select tier
            from marts.fct_account_tiers
            where quarter_end_date = (select max(quarter_end_date) from marts.fct_account_tiers)
        )
        select
            avg(case when tier = 'S' then 1.0 else 0.0 end) as s_share,
            avg(case when tier in ('S', 'A') then 1.0 else 0.0 end) as sa_share
        from latest
    """
    shares = Batch("reconciliation", "tier_shares", shares_sql, [
        warn(gxe.ExpectColumnMaxToBeBetween(column="s_share", min_value=d["tiers_s_share"]["min"],
                                            max_value=d["tiers_s_share"]["max"]),
             name="s_tier_share"),
        warn(gxe.ExpectColumnMaxToBeBetween(column="sa_share",
                                            min_value=d["tiers_sa_share"]["min"],
                                            max_value=d["tiers_sa_share"]["max"]),
             name="sa_tier_share"),
    ])
    return [revenue, health, shares]

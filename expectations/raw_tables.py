"""One suite per raw table, on its clean rows (validated.<table>).

What dbt tests do not cover: row-count ranges, value distributions, and a second, independent
look at the quarantine gate (every clean row must satisfy the contract: required values
present, keys unique, values in their allowed sets and ranges). Derived from
rapport/contract.yml, so a new contract column is checked without touching this file.
"""

from __future__ import annotations

import great_expectations.expectations as gxe

from expectations._base import (
    Batch,
    SuiteContext,
    fail,
    q,
    row_count_batch,
    row_count_expectation,
    violations_batch,
    warn,
)
from rapport.contract import Table


def raw_table_batches(ctx: SuiteContext) -> list[Batch]:
    """Per table: row count, contract and distribution batches. `required_table_has_rows`
    (blocking) only for core tables; an optional table without clean rows has its checks
    reported not applicable (never passed on no rows)."""
    present = ctx.relations()
    batches = []
    for table in ctx.contract.tables.values():
        relation = f"validated.{table.name}"
        if relation not in present:
            if table.core:
                # a core table without its validated relation cannot be checked: error
                batches.append(row_count_batch(f"raw_{table.name}", relation, [
                    fail(row_count_expectation(min_value=1), name="required_table_has_rows")]))
            continue
        found = [_row_count_batch(ctx, table, relation), _contract_batch(ctx, table, relation),
                 *_distribution_batches(ctx, table, relation)]
        if not table.core and ctx.row_count(relation) == 0:
            reason = _empty_reason(ctx, table)
            for batch in found:
                batch.not_applicable = reason
        batches.extend(found)
    return batches


def _empty_reason(ctx: SuiteContext, table: Table) -> str:
    from rapport.pipeline.coverage import table_reason

    why = table_reason(ctx.con, table.name) or f"no clean {table.name} rows"
    feeds = f", feeds {', '.join(table.feeds)}" if table.feeds else ""
    return f"optional table{feeds}: {why}"


def _row_count_batch(ctx: SuiteContext, table: Table, relation: str) -> Batch:
    """Clean rows of the table (a one-row count(*) frame) against thresholds.yml."""
    rc = ctx.thresholds["row_counts"]
    limits = {**rc["default"], **rc.get(table.name, {})}
    exps = []
    if table.core:  # a core table must end with clean rows (blocking)
        exps.append(fail(row_count_expectation(min_value=rc["required_min"]),
                         name="required_table_has_rows"))
    severity = fail if limits.get("severity") == "fail" else warn
    exps.append(severity(row_count_expectation(min_value=limits["min"],
                                               max_value=limits["max"]),
                         name="row_count_in_range"))
    return row_count_batch(f"raw_{table.name}", relation, exps)


def _contract_batch(ctx: SuiteContext, table: Table, relation: str) -> Batch:
    """Every clean row satisfies the contract: validated on the rows that might not."""
    exps = []
    for col in table.columns.values():
        if col.required:
            exps.append(fail(gxe.ExpectColumnValuesToNotBeNull(column=col.name)))
        if col.allowed is not None:
            exps.append(fail(gxe.ExpectColumnValuesToBeInSet(
                column=col.name, value_set=list(col.allowed))))
        if col.min is not None or col.max is not None:
            exps.append(fail(gxe.ExpectColumnValuesToBeBetween(
                column=col.name, min_value=col.min, max_value=col.max)))
    if len(table.primary_key) == 1:
        exps.append(fail(gxe.ExpectColumnValuesToBeUnique(column=table.primary_key[0]),
                         name="primary_key_unique"))
    else:
        exps.append(fail(gxe.ExpectCompoundColumnsToBeUnique(column_list=list(table.primary_key)),
                         name="primary_key_unique"))
    return violations_batch(f"raw_{table.name}", "clean_rows", relation, exps,
                            ctx.column_types(relation), rows=ctx.row_count(relation))


def _distribution_batches(ctx: SuiteContext, table: Table, relation: str) -> list[Batch]:
    """Value distributions worth a warning, per table (thresholds: distributions).

    Means are one-row aggregates (the mean of one value is that value); distinct-value
    counts run on `select distinct`, one row per value.
    """
    d = ctx.thresholds["distributions"]
    suite = f"raw_{table.name}"
    if table.name == "opportunities":
        share = d["opportunities_won_share"]
        return [Batch(suite, "won_share",
                      f"select avg(case when status = 'won' then 1.0 else 0.0 end)::double "
                      f"as is_won from {relation}",
                      [warn(gxe.ExpectColumnMeanToBeBetween(
                          column="is_won", min_value=share["min"], max_value=share["max"]),
                          name="won_share")])]
    if table.name == "interactions":
        share = d["interactions_with_contact_share"]
        return [Batch(suite, "distribution",
                      f"select avg(case when contact_id is null then 0.0 else 1.0 end)::double "
                      f"as has_contact from {relation}",
                      [warn(gxe.ExpectColumnMeanToBeBetween(
                          column="has_contact", min_value=share["min"], max_value=share["max"]),
                          name="share_with_contact")]),
                Batch(suite, "distinct_activity_types",
                      f"select distinct activity_type from {relation}",
                      [warn(gxe.ExpectColumnUniqueValueCountToBeBetween(
                          column="activity_type",
                          min_value=d["interactions_activity_types_min"]),
                          name="activity_types_used")])]
    if table.name == "accounts":
        return [Batch(suite, "distinct_industries", f"select distinct industry from {relation}",
                      [warn(gxe.ExpectColumnUniqueValueCountToBeBetween(
                          column="industry", min_value=d["accounts_industries_min"]),
                          name="industries_used")])]
    if table.name == "contact_assessments":
        mean = d["assessments_mean_attitude"]
        return [Batch(suite, "distribution",
                      f"select avg({q('attitude')})::double as attitude from {relation}",
                      [warn(gxe.ExpectColumnMeanToBeBetween(
                          column="attitude", min_value=mean["min"], max_value=mean["max"]),
                          name="mean_attitude")])]
    return []

{#-
    A key action measured as "owned accounts with a current document" (action 1: account
    strategy, action 2: relationship plan): the whole model, one row per assessed rep per
    quarter (int_actions_rep_quarters) with action_no, numerator, denominator and
    not_scored_reason.
      denominator  the rep's owned accounts (int_actions_owned_accounts) whose tier that
                   quarter is listed for the action in key_action_tiers
      numerator    those with at least one document current at the period end:
                   `valid_from` on or before it, valid_to empty or on or after it, and every
                   column of `required_flags` true
      not scored   when the documents model has no row at all (`no_documents_reason`), or
                   the rep has no account in scope (`no_accounts_reason`)
    Parameters:
      action_no            the key action (key_actions seed)
      documents            the staging model of the documents, with account_id, the
                           `valid_from` column and valid_to
      valid_from           the column from which a document is current
      required_flags       boolean columns of the document that must all be true (null: false)
      no_documents_reason  not_scored_reason when no document is recorded
      no_accounts_reason   not_scored_reason when no owned account is in scope
-#}
{% macro current_document_share(
    action_no, documents, valid_from, required_flags, no_documents_reason, no_accounts_reason
) -%}
with

rep_quarters as (

    select * from {{ ref('int_actions_rep_quarters') }}

),

owned_accounts as (

    select * from {{ ref('int_actions_owned_accounts') }}

),

documents as (

    select * from {{ ref(documents) }}

),

tiers_in_scope as (

    select tier from {{ ref('key_action_tiers') }}
    where action_no = {{ action_no }}

),

document_rows as (

    select count(*) as row_count from documents

),

accounts_in_scope as (

    select owned_accounts.*
    from owned_accounts
    inner join tiers_in_scope
        on owned_accounts.tier = tiers_in_scope.tier

),

accounts_with_document as (

    select distinct
        accounts_in_scope.rep_id,
        accounts_in_scope.year,
        accounts_in_scope.quarter,
        accounts_in_scope.account_id
    from accounts_in_scope
    inner join documents
        on accounts_in_scope.account_id = documents.account_id
            and documents.{{ valid_from }} <= accounts_in_scope.period_end_date
            and (documents.valid_to is null or documents.valid_to >= accounts_in_scope.period_end_date)
            {%- for flag in required_flags %}
            and coalesce(documents.{{ flag }}, false)
            {%- endfor %}

),

counted as (

    select
        accounts_in_scope.rep_id,
        accounts_in_scope.year,
        accounts_in_scope.quarter,
        count(*) as accounts_in_scope,
        count(accounts_with_document.account_id) as accounts_with_document
    from accounts_in_scope
    left join accounts_with_document
        on accounts_in_scope.rep_id = accounts_with_document.rep_id
            and accounts_in_scope.year = accounts_with_document.year
            and accounts_in_scope.quarter = accounts_with_document.quarter
            and accounts_in_scope.account_id = accounts_with_document.account_id
    group by accounts_in_scope.rep_id, accounts_in_scope.year, accounts_in_scope.quarter

),

final as (

    select
        rep_quarters.rep_id,
        rep_quarters.year,
        rep_quarters.quarter,
        {{ action_no }} as action_no,
        cast(coalesce(counted.accounts_with_document, 0) as {{ type_double() }}) as numerator,
        cast(coalesce(counted.accounts_in_scope, 0) as {{ type_double() }}) as denominator,
        case
            when document_rows.row_count = 0 then '{{ no_documents_reason | replace("'", "''") }}'
            when coalesce(counted.accounts_in_scope, 0) = 0
                then '{{ no_accounts_reason | replace("'", "''") }}'
        end as not_scored_reason
    from rep_quarters
    cross join document_rows
    left join counted
        on rep_quarters.rep_id = counted.rep_id
            and rep_quarters.year = counted.year
            and rep_quarters.quarter = counted.quarter

)

select * from final
{%- endmacro %}

{#-
    Key action 1 (customer-group and customer strategy set). One row per assessed rep per
    quarter. denominator: owned accounts whose tier that quarter is listed for action 1 in
    key_action_tiers (all tiers and unranked by default); numerator: those with an account
    strategy current at the period end (approved on or before it, valid_to empty or on or
    after it). Not scored when no account strategy is recorded at all, or no account is in scope.
    The measure: macros/current_document_share.sql.
-#}
{{ current_document_share(
    action_no=1,
    documents='stg_account_strategies',
    valid_from='approved_date',
    required_flags=[],
    no_documents_reason='no account strategies recorded',
    no_accounts_reason='no owned accounts in the tiers this action assesses',
) }}

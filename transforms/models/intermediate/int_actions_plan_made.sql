{#-
    Key action 2 (customer relationship plan made). One row per assessed rep per quarter.
    denominator: owned accounts whose tier that quarter is listed for action 2 in
    key_action_tiers (S and A by default); numerator: those with one relationship plan
    current at the period end (valid_from on or before it, valid_to empty or on or after it)
    that covers all three layers (covers_key, covers_general and covers_org all true).
    Not scored when no relationship plan is recorded at all, or no account is in scope.
    The measure: macros/current_document_share.sql.
-#}
{{ current_document_share(
    action_no=2,
    documents='stg_relationship_plans',
    valid_from='valid_from',
    required_flags=['covers_key', 'covers_general', 'covers_org'],
    no_documents_reason='no relationship plans recorded',
    no_accounts_reason='no owned accounts in the tiers this action assesses (S/A by default)',
) }}

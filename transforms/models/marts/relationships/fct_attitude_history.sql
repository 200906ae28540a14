{#-
    One row per contact per assessment: the attitude toward us and the period it was in
    force (valid_to null = current). Several assessments on one day: the last by
    assessment_id is in force, the others have valid_to before valid_from.
-#}
with

assessments as (

    select * from {{ ref('int_contact_assessments_versioned') }}

),

final as (

    select
        contact_id,
        account_id,
        assessed_date,
        attitude,
        valid_from,
        valid_to,
        assessment_id,
        assessor_rep_id,
        assessed_intimacy,
        is_current
    from assessments

)

select * from final

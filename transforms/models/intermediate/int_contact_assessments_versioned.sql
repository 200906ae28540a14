{#-
    One row per contact assessment, with the period it is in force: from its date to the
    day before the contact's next assessment (valid_to null = current). When a contact has
    several assessments on one day, the last by assessment_id is the one in force; the
    others get valid_to = the day before valid_from (never in force).
-#}
with

assessments as (

    select * from {{ ref('stg_contact_assessments') }}

),

contacts as (

    select * from {{ ref('stg_contacts') }}

),

ordered as (

    select
        assessments.assessment_id,
        assessments.contact_id,
        contacts.account_id,
        assessments.assessed_date,
        assessments.attitude,
        assessments.intimacy as assessed_intimacy,
        assessments.assessor_rep_id,
        lead(assessments.assessed_date) over (
            partition by assessments.contact_id
            order by assessments.assessed_date, assessments.assessment_id
        ) as next_assessed_date
    from assessments
    inner join contacts
        on assessments.contact_id = contacts.contact_id

),

final as (

    select
        assessment_id,
        contact_id,
        account_id,
        assessed_date,
        attitude,
        assessed_intimacy,
        assessor_rep_id,
        assessed_date as valid_from,
        cast({{ dbt.dateadd('day', -1, 'next_assessed_date') }} as date) as valid_to,
        next_assessed_date is null as is_current
    from ordered

)

select * from final

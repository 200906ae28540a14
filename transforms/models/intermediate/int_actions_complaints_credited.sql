{#-
    The iron triangle: one row per complaint with the rep it is credited to on
    key action 8 (credited_rep_id) and why (credited_to: 'owner', 'account_ar', 'current_ar',
    or null when nobody responsible was employed). Who, in which order: credited_items()
    in macros/employment.sql.
    due_date: the day sla_days after the day the complaint was opened (sla_days of the
    complaint, else the default of its severity in complaint_sla, else 'unspecified').
-#}
with

complaints as (

    select * from {{ ref('stg_complaints') }}

),

complaint_sla as (

    select severity, sla_days from {{ ref('complaint_sla') }}

),

with_due_date as (

    select
        complaints.*,
        cast(
            {{ dbt.dateadd(
                'day',
                'coalesce(complaints.sla_days, by_severity.sla_days, unspecified.sla_days)',
                'cast(complaints.opened_at as date)'
            ) }} as date
        ) as due_date
    from complaints
    left join complaint_sla as by_severity
        on complaints.severity = by_severity.severity
    left join complaint_sla as unspecified
        on unspecified.severity = 'unspecified'

),

final as (

    {{ credited_items('with_due_date') }}

)

select * from final

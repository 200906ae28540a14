{#-
    Key action 3 (customer information managed). One row per assessed rep per quarter.
    Every owned account earns an information point between 0 and 1:
      field share = required fields filled / required fields, over the account's own fields
                    and the fields of its key contacts (contacts with a decision role active
                    on the period end, macros/validity.sql: created by then, not left
                    before it; without a left_date, is_active not false); which fields are
                    required: key_action_required_fields (1 when none is required);
      role check  = 1 when every role of key_action_required_roles (A and D by default) is
                    held by an active contact of the account whose latest assessment is at
                    most action3_attitude_recency_days before the period end, else 0.
    Accounts whose tier is listed for action 3 in key_action_tiers (S and A by default):
      point = role_check_weight x role check + (1 - role_check_weight) x field share;
    other accounts: point = field share.
    numerator = sum of the points, denominator = owned accounts.
    Fields are measured on today's data (the CRM keeps no history of field edits).
-#}
with

rep_quarters as (

    select * from {{ ref('int_actions_rep_quarters') }}

),

owned_accounts as (

    select * from {{ ref('int_actions_owned_accounts') }}

),

accounts as (

    select * from {{ ref('stg_accounts') }}

),

contacts as (

    select * from {{ ref('stg_contacts') }}

),

assessments as (

    select * from {{ ref('stg_contact_assessments') }}

),

required_fields as (

    select entity, field_name from {{ ref('key_action_required_fields') }}
    where is_required

),

required_roles as (

    select decision_role from {{ ref('key_action_required_roles') }}

),

role_check_tiers as (

    select tier from {{ ref('key_action_tiers') }}
    where action_no = 3

),

settings as (

    select
        max(case when setting_name = 'action3_attitude_recency_days' then setting_value end)
            as recency_days,
        max(case when setting_name = 'action3_role_check_weight' then setting_value end)
            as role_check_weight
    from {{ ref('key_action_settings') }}

),

account_field_values as (

    select
        accounts.account_id,
        required_fields.field_name,
        case required_fields.field_name
            when 'spend_potential' then accounts.spend_potential is not null
            when 'demonstration_value' then accounts.demonstration_value is not null
            when 'sr_rep_id' then accounts.sr_rep_id is not null
            when 'fr_rep_id' then accounts.fr_rep_id is not null
            when 'has_strategic_agreement' then accounts.has_strategic_agreement is not null
            when 'is_exclusive_partner' then accounts.is_exclusive_partner is not null
            else false
        end as is_filled
    from accounts
    cross join required_fields
    where required_fields.entity = 'account'

),

key_contacts as (

    select *
    from contacts
    where decision_role is not null

),

contact_field_values as (

    select
        key_contacts.contact_id,
        key_contacts.account_id,
        key_contacts.created_date,
        key_contacts.left_date,
        key_contacts.is_active,
        required_fields.field_name,
        case required_fields.field_name
            when 'title' then key_contacts.title is not null
            when 'department' then key_contacts.department is not null
            when 'level' then key_contacts.level is not null
            when 'evaluation_group' then key_contacts.evaluation_group is not null
            when 'email' then key_contacts.email is not null
            when 'birthday' then key_contacts.birthday is not null
            else false
        end as is_filled
    from key_contacts
    cross join required_fields
    where required_fields.entity = 'key_contact'

),

account_field_counts as (

    select
        owned_accounts.rep_id,
        owned_accounts.year,
        owned_accounts.quarter,
        owned_accounts.account_id,
        count(*) as fields_required,
        sum(case when account_field_values.is_filled then 1 else 0 end) as fields_filled
    from owned_accounts
    inner join account_field_values
        on owned_accounts.account_id = account_field_values.account_id
    group by owned_accounts.rep_id, owned_accounts.year, owned_accounts.quarter, owned_accounts.account_id

),

contact_field_counts as (

    select
        owned_accounts.rep_id,
        owned_accounts.year,
        owned_accounts.quarter,
        owned_accounts.account_id,
        count(*) as fields_required,
        sum(case when contact_field_values.is_filled then 1 else 0 end) as fields_filled
    from owned_accounts
    inner join contact_field_values
        on owned_accounts.account_id = contact_field_values.account_id
            and {{ contact_active_on('contact_field_values', 'owned_accounts.period_end_date') }}
    group by owned_accounts.rep_id, owned_accounts.year, owned_accounts.quarter, owned_accounts.account_id

),

latest_assessments as (

    select
        owned_accounts.rep_id,
        owned_accounts.year,
        owned_accounts.quarter,
        owned_accounts.period_end_date,
        owned_accounts.account_id,
        key_contacts.contact_id,
        key_contacts.decision_role,
        max(assessments.assessed_date) as last_assessed_date
    from owned_accounts
    inner join key_contacts
        on owned_accounts.account_id = key_contacts.account_id
            and {{ contact_active_on('key_contacts', 'owned_accounts.period_end_date') }}
    inner join required_roles
        on key_contacts.decision_role = required_roles.decision_role
    inner join assessments
        on key_contacts.contact_id = assessments.contact_id
            and assessments.assessed_date <= owned_accounts.period_end_date
    group by
        owned_accounts.rep_id,
        owned_accounts.year,
        owned_accounts.quarter,
        owned_accounts.period_end_date,
        owned_accounts.account_id,
        key_contacts.contact_id,
        key_contacts.decision_role

),

roles_assessed as (

    select
        latest_assessments.rep_id,
        latest_assessments.year,
        latest_assessments.quarter,
        latest_assessments.account_id,
        count(distinct latest_assessments.decision_role) as roles_assessed
    from latest_assessments
    cross join settings
    where
        {{ dbt.datediff('latest_assessments.last_assessed_date', 'latest_assessments.period_end_date', 'day') }}
        <= settings.recency_days
    group by
        latest_assessments.rep_id,
        latest_assessments.year,
        latest_assessments.quarter,
        latest_assessments.account_id

),

required_role_count as (

    select count(*) as roles_required from required_roles

),

account_points as (

    select
        owned_accounts.rep_id,
        owned_accounts.year,
        owned_accounts.quarter,
        owned_accounts.account_id,
        role_check_tiers.tier is not null as has_role_check,
        coalesce(account_field_counts.fields_required, 0) as account_fields_required,
        coalesce(contact_field_counts.fields_required, 0) as contact_fields_required,
        coalesce(account_field_counts.fields_filled, 0) as account_fields_filled,
        coalesce(contact_field_counts.fields_filled, 0) as contact_fields_filled,
        case
            when coalesce(roles_assessed.roles_assessed, 0) >= required_role_count.roles_required
                then 1
            else 0
        end as role_check,
        settings.role_check_weight
    from owned_accounts
    cross join settings
    cross join required_role_count
    left join role_check_tiers
        on owned_accounts.tier = role_check_tiers.tier
    left join account_field_counts
        on owned_accounts.rep_id = account_field_counts.rep_id
            and owned_accounts.year = account_field_counts.year
            and owned_accounts.quarter = account_field_counts.quarter
            and owned_accounts.account_id = account_field_counts.account_id
    left join contact_field_counts
        on owned_accounts.rep_id = contact_field_counts.rep_id
            and owned_accounts.year = contact_field_counts.year
            and owned_accounts.quarter = contact_field_counts.quarter
            and owned_accounts.account_id = contact_field_counts.account_id
    left join roles_assessed
        on owned_accounts.rep_id = roles_assessed.rep_id
            and owned_accounts.year = roles_assessed.year
            and owned_accounts.quarter = roles_assessed.quarter
            and owned_accounts.account_id = roles_assessed.account_id

),

scored_accounts as (

    select
        rep_id,
        year,
        quarter,
        account_id,
        case
            when account_fields_required + contact_fields_required > 0
                then cast(account_fields_filled + contact_fields_filled as {{ type_double() }})
                    / (account_fields_required + contact_fields_required)
            else 1
        end as field_share,
        has_role_check,
        role_check,
        role_check_weight
    from account_points

),

counted as (

    select
        rep_id,
        year,
        quarter,
        sum(
            case
                when has_role_check
                    then role_check_weight * role_check + (1 - role_check_weight) * field_share
                else field_share
            end
        ) as points,
        count(*) as owned_accounts
    from scored_accounts
    group by rep_id, year, quarter

),

final as (

    select
        rep_quarters.rep_id,
        rep_quarters.year,
        rep_quarters.quarter,
        3 as action_no,
        cast(coalesce(counted.points, 0) as {{ type_double() }}) as numerator,
        cast(coalesce(counted.owned_accounts, 0) as {{ type_double() }}) as denominator,
        case
            when coalesce(counted.owned_accounts, 0) = 0 then 'no owned accounts'
        end as not_scored_reason
    from rep_quarters
    left join counted
        on rep_quarters.rep_id = counted.rep_id
            and rep_quarters.year = counted.year
            and rep_quarters.quarter = counted.quarter

)

select * from final

{#-
    A warning, not an error: two AR windows of one account (account_owners) that share a
    day. One account has one AR at a time; an overlap is an error in the CRM's history or
    its export. The build still publishes: int_accounts_owner_recorded gives each shared
    day to the window with the latest valid_from. Returns one row per overlapping pair.
-#}
{{ config(severity='warn') }}

with

windows as (

    select account_id, rep_id, valid_from, valid_to
    from {{ ref('stg_account_owners') }}
    where role = 'AR'

),

final as (

    select
        earlier.account_id,
        earlier.rep_id as earlier_rep_id,
        earlier.valid_from as earlier_valid_from,
        earlier.valid_to as earlier_valid_to,
        later.rep_id as later_rep_id,
        later.valid_from as later_valid_from
    from windows as earlier
    inner join windows as later
        on earlier.account_id = later.account_id
            and earlier.valid_from < later.valid_from
            and (earlier.valid_to is null or earlier.valid_to >= later.valid_from)

)

select * from final

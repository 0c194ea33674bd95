-- Match values of every contact: its normalised email and phone, minus placeholders
-- (identity_blocklist seed) and minus values shared by more source contacts than the
-- `identity_max_contacts_per_value` var allows (junk such as a shop's counter phone would
-- otherwise chain unrelated people into one giant person).

with contacts as (

    select * from {{ ref('stg_raw__contacts') }}

),

blocklist as (

    select * from {{ ref('identity_blocklist') }}

),

identifiers as (

    select contact_key, 'email' as match_type, email_normalized as match_value
    from contacts
    where email_normalized is not null

    union all

    select contact_key, 'phone' as match_type, phone_normalized as match_value
    from contacts
    where phone_normalized is not null

),

value_usage as (

    select
        match_type,
        match_value,
        count(distinct contact_key) as contact_count

    from identifiers
    group by match_type, match_value

),

final as (

    select
        identifiers.contact_key,
        identifiers.match_type,
        identifiers.match_value,
        value_usage.contact_count

    from identifiers
    inner join value_usage
        on value_usage.match_type = identifiers.match_type
        and value_usage.match_value = identifiers.match_value
    left join blocklist
        on blocklist.match_type = identifiers.match_type
        and blocklist.match_value = identifiers.match_value
    where blocklist.match_value is null
        and value_usage.contact_count <= {{ var('identity_max_contacts_per_value') }}

)

select * from final

-- One row per source contact (latest version) with the person (customer_key) it resolves to
-- and its source's trust rank, the input of customer_identities and customer_360.

with contacts as (

    select * from {{ ref('stg_raw__contacts') }}

),

resolved as (

    select * from {{ ref('int_contacts_resolved') }}

),

source_systems as (

    select * from {{ ref('source_systems') }}

),

final as (

    select
        resolved.customer_key,
        contacts.source_system,
        contacts.source_contact_id,
        resolved.match_rule,
        contacts.full_name,
        contacts.email,
        contacts.email_normalized,
        contacts.phone,
        contacts.phone_normalized,
        contacts.company,
        contacts.country,
        contacts.region,
        contacts.city,
        contacts.acquisition_channel,
        contacts.acquisition_campaign_id,
        contacts.owner,
        -- A source missing from the seed ranks after every known one.
        coalesce(source_systems.source_priority, 99) as source_priority,
        contacts.marketing_consent,
        contacts.lifecycle_stage,
        contacts.lead_at,
        contacts.mql_at,
        contacts.sql_at,
        contacts.opportunity_at,
        contacts.customer_at,
        contacts.created_at,
        contacts.updated_at

    from contacts
    inner join resolved
        on resolved.contact_key = contacts.contact_key
    left join source_systems
        on source_systems.source_system = contacts.source_system

)

select * from final

-- One row per source contact (latest version) with the person (customer_key) it resolves to
-- and its source's trust rank, the input of customer_identities and customer_360.
-- Incremental: a contact is rewritten (and stamped `_dbt_updated_at`) only when it got a new
-- version, its person or match rule changed (int_contacts_resolved stamped it after this
-- model's last write), or its source's trust rank changed in the seed.
{{
    config(
        materialized='incremental',
        unique_key=['source_system', 'source_contact_id'],
        incremental_strategy='delete+insert',
        on_schema_change='fail',
    )
}}

with source_systems as (

    select * from {{ ref('source_systems') }}

),

resolved as (

    select * from {{ ref('int_contacts_resolved') }}

),

contacts as (

    {{ rows_to_recheck(ref('stg_raw__contacts'), moved_contacts(ref('int_contacts_resolved'))) }}
    {%- if is_incremental() %}
    -- `union`, not `union all`: these contacts may also be in the sets above.
    union
    select * from {{ ref('stg_raw__contacts') }}
    where source_system in (
        select built.source_system
        from (select distinct source_system, source_priority from {{ this }}) as built
        left join source_systems
            on source_systems.source_system = built.source_system
        where coalesce(source_systems.source_priority, 99) <> built.source_priority
    )
    {%- endif %}

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
        contacts.updated_at,
        contacts._loaded_at,
        {{ run_started_timestamp() }} as _dbt_updated_at

    from contacts
    inner join resolved
        on resolved.contact_key = contacts.contact_key
    left join source_systems
        on source_systems.source_system = contacts.source_system

)

select * from final

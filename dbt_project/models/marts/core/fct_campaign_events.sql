{{
    config(
        materialized='incremental',
        unique_key='event_id',
        incremental_strategy='delete+insert',
        on_schema_change='fail',
    )
}}

with campaign_events as (

    -- Only rows that can differ from the built ones go on to incremental_changes.
    {{ rows_to_recheck(ref('stg_raw__campaign_events'), moved_contacts(ref('int_contacts_resolved'))) }}

),

identities as (

    select * from {{ ref('int_contacts_resolved') }}

),

joined as (

    select
        campaign_events.event_id,
        campaign_events.campaign_id,
        identities.customer_key,
        campaign_events.event_type,
        campaign_events.occurred_at,
        campaign_events._load_id,
        campaign_events._loaded_at

    from campaign_events
    left join identities
        on identities.contact_key = campaign_events.contact_key

),

changed as (

    {{ incremental_changes('joined', 'event_id', ['customer_key']) }}

),

final as (

    select
        cast(event_id as varchar) as event_id,
        cast(campaign_id as varchar) as campaign_id,
        cast(customer_key as varchar) as customer_key,
        cast(event_type as varchar) as event_type,
        cast(occurred_at as timestamp) as occurred_at,
        cast({{ reporting_date('occurred_at') }} as date) as event_date,
        cast(_load_id as varchar) as _load_id,
        cast(_loaded_at as timestamp) as _loaded_at,
        cast(_previous_customer_key as varchar) as _previous_customer_key,
        cast('{{ invocation_id }}' as varchar) as _dbt_invocation_id,
        {{ run_started_timestamp() }} as _dbt_updated_at

    from changed

)

select * from final

{{ config(unique_key='event_id') }}

with source as (

    select * from {{ source('raw', 'campaign_events') }} as raw_rows
    {{ keys_with_new_versions(source('raw', 'campaign_events'), 'raw_rows', ['event_id']) }}

),

latest as (

    {{ latest_version('source', ['event_id']) }}

),

renamed as (

    select
        trim(event_id) as event_id,
        trim(campaign_id) as campaign_id,
        lower(trim(contact_source_system)) as contact_source_system,
        trim(contact_source_id) as contact_source_id,
        {{ dbt.concat(["lower(trim(contact_source_system))", "':'", "trim(contact_source_id)"]) }} as contact_key,
        lower(trim(event_type)) as event_type,
        occurred_at,
        _load_id,
        _loaded_at

    from latest

),

final as (

    select
        *,
        {{ run_started_timestamp() }} as _dbt_updated_at

    from renamed

)

select * from final

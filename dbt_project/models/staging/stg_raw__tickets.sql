{{ config(unique_key='ticket_id') }}

with source as (

    select * from {{ source('raw', 'tickets') }} as raw_rows
    {{ keys_with_new_versions(source('raw', 'tickets'), 'raw_rows', ['ticket_id']) }}

),

latest as (

    {{ latest_version('source', ['ticket_id'], 'updated_at') }}

),

renamed as (

    select
        trim(ticket_id) as ticket_id,
        lower(trim(contact_source_system)) as contact_source_system,
        trim(contact_source_id) as contact_source_id,
        {{ dbt.concat(["lower(trim(contact_source_system))", "':'", "trim(contact_source_id)"]) }} as contact_key,
        lower(trim(channel)) as channel,
        {{ clean_string('category') }} as category,
        lower(trim(priority)) as priority,
        lower(trim(status)) as ticket_status,
        {{ clean_string('agent') }} as agent,
        coalesce(reopen_count, 0) as reopen_count,
        csat_score,
        created_at,
        first_response_at,
        resolved_at,
        updated_at,
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

{{ config(unique_key='contact_key') }}

with source as (

    select * from {{ source('raw', 'contacts') }} as raw_rows
    {{ keys_with_new_versions(source('raw', 'contacts'), 'raw_rows', ['source_system', 'source_contact_id']) }}

),

latest as (

    {{ latest_version('source', ['source_system', 'source_contact_id'], 'updated_at') }}

),

renamed as (

    select
        {{ dbt.concat(["lower(trim(source_system))", "':'", "trim(source_contact_id)"]) }} as contact_key,
        lower(trim(source_system)) as source_system,
        trim(source_contact_id) as source_contact_id,
        {{ clean_string('full_name') }} as full_name,
        {{ clean_string('email') }} as email,
        {{ normalize_email('email') }} as email_normalized,
        {{ clean_string('phone') }} as phone,
        {{ normalize_phone('phone') }} as phone_normalized,
        {{ clean_string('company') }} as company,
        upper({{ clean_string('country') }}) as country,
        {{ clean_string('region') }} as region,
        {{ clean_string('city') }} as city,
        lower({{ clean_string('acquisition_channel') }}) as acquisition_channel,
        {{ clean_string('acquisition_campaign_id') }} as acquisition_campaign_id,
        {{ clean_string('owner') }} as owner,
        lower({{ clean_string('lifecycle_stage') }}) as lifecycle_stage,
        marketing_consent,
        lead_at,
        mql_at,
        sql_at,
        opportunity_at,
        customer_at,
        created_at,
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

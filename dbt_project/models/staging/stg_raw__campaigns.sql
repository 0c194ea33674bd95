{{ config(unique_key='campaign_id') }}

with source as (

    select * from {{ source('raw', 'campaigns') }} as raw_rows
    {{ keys_with_new_versions(source('raw', 'campaigns'), 'raw_rows', ['campaign_id']) }}

),

fx_rates as (

    select * from {{ ref('fx_rates') }}

),

latest as (

    {{ latest_version('source', ['campaign_id'], 'updated_at') }}

),

renamed as (

    select
        trim(campaign_id) as campaign_id,
        {{ clean_string('campaign_name') }} as campaign_name,
        lower(trim(channel)) as channel,
        upper(trim(currency)) as currency,
        budget,
        spend,
        start_date,
        end_date,
        updated_at,
        _load_id,
        _loaded_at

    from latest

),

-- Spend converts at the rate of the campaign's start month: one rate per campaign keeps
-- budget and spend comparable across the months a campaign runs.
converted as (

    select
        renamed.campaign_id,
        renamed.campaign_name,
        renamed.channel,
        renamed.currency,
        renamed.budget,
        renamed.spend,
        {{ fx_rate_to_reporting() }} as fx_rate_to_reporting,
        cast(renamed.budget * {{ fx_rate_to_reporting() }} as decimal(18, 2)) as budget_reporting,
        cast(renamed.spend * {{ fx_rate_to_reporting() }} as decimal(18, 2)) as spend_reporting,
        renamed.start_date,
        renamed.end_date,
        renamed.updated_at,
        renamed._load_id,
        renamed._loaded_at

    from renamed
    left join fx_rates as fx
        on fx.currency = renamed.currency
        and fx.rate_month = cast({{ dbt.date_trunc('month', 'renamed.start_date') }} as date)
    left join fx_rates as fx_reporting
        on fx_reporting.currency = '{{ var("reporting_currency") }}'
        and fx_reporting.rate_month = fx.rate_month

),

final as (

    select
        *,
        {{ run_started_timestamp() }} as _dbt_updated_at

    from converted

)

select * from final

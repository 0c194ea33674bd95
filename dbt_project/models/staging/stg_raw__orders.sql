{{ config(unique_key='order_id') }}

with source as (

    select * from {{ source('raw', 'orders') }} as raw_rows
    {{ keys_with_new_versions(source('raw', 'orders'), 'raw_rows', ['order_id']) }}

),

fx_rates as (

    select * from {{ ref('fx_rates') }}

),

latest as (

    {{ latest_version('source', ['order_id'], 'updated_at') }}

),

renamed as (

    select
        trim(order_id) as order_id,
        lower(trim(source_system)) as source_system,
        lower(trim(contact_source_system)) as contact_source_system,
        trim(contact_source_id) as contact_source_id,
        {{ dbt.concat(["lower(trim(contact_source_system))", "':'", "trim(contact_source_id)"]) }} as contact_key,
        lower(trim(status)) as order_status,
        lower({{ clean_string('sales_channel') }}) as sales_channel,
        upper(trim(currency)) as currency,
        total_amount,
        ordered_at,
        updated_at,
        _load_id,
        _loaded_at

    from latest

),

-- Amounts convert at the rate of the month the order was placed in, in the reporting time
-- zone (the month the order is reported in).
converted as (

    select
        renamed.order_id,
        renamed.source_system,
        renamed.contact_source_system,
        renamed.contact_source_id,
        renamed.contact_key,
        renamed.order_status,
        renamed.sales_channel,
        renamed.currency,
        renamed.total_amount,
        {{ fx_rate_to_reporting() }} as fx_rate_to_reporting,
        cast(renamed.total_amount * {{ fx_rate_to_reporting() }} as decimal(18, 2)) as total_amount_reporting,
        renamed.ordered_at,
        renamed.updated_at,
        renamed._load_id,
        renamed._loaded_at

    from renamed
    left join fx_rates as fx
        on fx.currency = renamed.currency
        and fx.rate_month = cast({{ dbt.date_trunc('month', from_utc('renamed.ordered_at', var('reporting_timezone'))) }} as date)
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

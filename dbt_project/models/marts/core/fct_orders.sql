{{
    config(
        materialized='incremental',
        unique_key='order_id',
        incremental_strategy='delete+insert',
        on_schema_change='fail',
    )
}}

with orders as (

    -- Only rows that can differ from the built ones go on to incremental_changes.
    {{ rows_to_recheck(ref('stg_raw__orders'), moved_contacts(ref('int_contacts_resolved'))) }}

),

identities as (

    select * from {{ ref('int_contacts_resolved') }}

),

joined as (

    select
        orders.order_id,
        identities.customer_key,
        orders.source_system,
        orders.contact_source_system,
        orders.contact_source_id,
        orders.order_status,
        orders.sales_channel,
        orders.currency,
        orders.total_amount,
        orders.fx_rate_to_reporting,
        orders.total_amount_reporting as gross_revenue,
        orders.ordered_at,
        orders._load_id,
        orders._loaded_at

    from orders
    left join identities
        on identities.contact_key = orders.contact_key

),

changed as (

    {{ incremental_changes('joined', 'order_id', ['customer_key']) }}

),

final as (

    select
        cast(order_id as varchar) as order_id,
        cast(customer_key as varchar) as customer_key,
        cast(source_system as varchar) as source_system,
        cast(contact_source_system as varchar) as contact_source_system,
        cast(contact_source_id as varchar) as contact_source_id,
        cast(order_status as varchar) as order_status,
        cast(sales_channel as varchar) as sales_channel,
        cast(currency as varchar) as currency,
        cast(total_amount as decimal(18, 2)) as total_amount,
        cast(fx_rate_to_reporting as decimal(18, 6)) as fx_rate_to_reporting,
        cast(gross_revenue as decimal(18, 2)) as gross_revenue,
        cast(case when order_status = 'completed' then gross_revenue else 0 end as decimal(18, 2)) as net_revenue,
        cast(order_status = 'completed' as boolean) as is_revenue,
        cast(ordered_at as timestamp) as ordered_at,
        cast({{ reporting_date('ordered_at') }} as date) as order_date,
        cast(_load_id as varchar) as _load_id,
        cast(_loaded_at as timestamp) as _loaded_at,
        cast(_previous_customer_key as varchar) as _previous_customer_key,
        cast('{{ invocation_id }}' as varchar) as _dbt_invocation_id,
        {{ run_started_timestamp() }} as _dbt_updated_at

    from changed

)

select * from final

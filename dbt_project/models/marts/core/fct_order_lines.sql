{{
    config(
        materialized='incremental',
        unique_key='order_line_id',
        incremental_strategy='delete+insert',
        on_schema_change='fail',
    )
}}

with orders as (

    select * from {{ ref('stg_raw__orders') }}

),

-- Only lines that can differ from the built ones go on to incremental_changes: loaded since
-- the last build, or of an order that was (new version, or its contact's person moved).
orders_to_recheck as (

    select order_id from (
        {{ rows_to_recheck(ref('stg_raw__orders'), moved_contacts(ref('int_contacts_resolved'))) }}
    ) as recheck

),

order_lines as (

    {{ rows_to_recheck(ref('stg_raw__order_lines'), 'select order_id from orders_to_recheck', key='order_id') }}

),

identities as (

    select * from {{ ref('int_contacts_resolved') }}

),

joined as (

    select
        order_lines.order_line_id,
        order_lines.order_id,
        identities.customer_key,
        order_lines.product_id,
        order_lines.product_name,
        order_lines.category,
        orders.currency,
        order_lines.quantity,
        order_lines.unit_price,
        order_lines.discount_amount,
        order_lines.line_amount,
        cast(order_lines.line_amount * orders.fx_rate_to_reporting as decimal(18, 2)) as line_revenue,
        orders.order_status = 'completed' as is_revenue,
        orders.ordered_at,
        order_lines._load_id,
        -- A line changes when it is reloaded or when its order gets a new version (status).
        greatest(order_lines._loaded_at, orders._loaded_at) as _loaded_at

    from order_lines
    left join orders
        on orders.order_id = order_lines.order_id
    left join identities
        on identities.contact_key = orders.contact_key

),

changed as (

    {{ incremental_changes('joined', 'order_line_id', ['customer_key', 'is_revenue']) }}

),

final as (

    select
        cast(order_line_id as varchar) as order_line_id,
        cast(order_id as varchar) as order_id,
        cast(customer_key as varchar) as customer_key,
        cast(product_id as varchar) as product_id,
        cast(product_name as varchar) as product_name,
        cast(category as varchar) as category,
        cast(currency as varchar) as currency,
        cast(quantity as integer) as quantity,
        cast(unit_price as decimal(18, 2)) as unit_price,
        cast(discount_amount as decimal(18, 2)) as discount_amount,
        cast(line_amount as decimal(18, 2)) as line_amount,
        cast(line_revenue as decimal(18, 2)) as line_revenue,
        cast(is_revenue as boolean) as is_revenue,
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

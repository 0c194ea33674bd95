{#- One row per completed order with the campaign credited under last-touch and first-touch
    attribution: the latest / earliest engagement of the same person within
    `attribution_window_days` before the order (docs/decisions.md § KPI definitions).
    Orders with no touch in the window keep null campaigns, so revenue still reconciles.

    Both credits and is_first_order depend only on the person's own orders and touches, so a
    daily build rewrites every order of the persons with an order or a campaign event written
    since this model's last build (on both sides of an identity merge); an order that moved
    carries its new person and is rewritten under its order_id. An order rewritten since then
    that no longer counts (refunded, cancelled) gets a row with a null is_first_order, which
    deletes its old row (delete+insert on order_id); the post-hook then removes that row. -#}

{{
    config(
        materialized='incremental',
        unique_key='order_id',
        incremental_strategy='delete+insert',
        on_schema_change='fail',
        post_hook="delete from {{ this }} where is_first_order is null",
    )
}}
{#- The model's watermark, read once: macro newest_value runs a query per call. #}
{%- set watermark = incremental_watermark() if is_incremental() %}

with

orders as (
    select * from {{ ref('fct_orders') }}
),

campaign_events as (
    select * from {{ ref('fct_campaign_events') }}
),

{%- if is_incremental() %}

changed_customers as (
    {{ changed_customer_keys([ref('fct_orders'), ref('fct_campaign_events')], watermark) }}
),
{%- endif %}

revenue_orders as (
    select
        order_id,
        customer_key,
        net_revenue,
        order_date,
        ordered_at,
        row_number() over (
            partition by customer_key
            order by ordered_at, order_id
        ) = 1 as is_first_order
    from orders
    where is_revenue
    {%- if is_incremental() %}
        and customer_key in (select changed_customers.customer_key from changed_customers)
    {%- endif %}
),

touches as (
    select
        customer_key,
        campaign_id,
        occurred_at
    from campaign_events
    where event_type in (
        {%- for event_type in var('kpi_attribution_touch_events') -%}
        '{{ event_type }}'{{ ", " if not loop.last }}
        {%- endfor -%}
    )
        and customer_key is not null
    {%- if is_incremental() %}
        and customer_key in (select changed_customers.customer_key from changed_customers)
    {%- endif %}
),

touches_in_window as (
    select
        revenue_orders.order_id,
        touches.campaign_id,
        touches.occurred_at,
        row_number() over (
            partition by revenue_orders.order_id
            order by touches.occurred_at desc, touches.campaign_id
        ) as recency_rank,
        row_number() over (
            partition by revenue_orders.order_id
            order by touches.occurred_at, touches.campaign_id
        ) as earliness_rank
    from revenue_orders
    inner join touches
        on revenue_orders.customer_key = touches.customer_key
        and touches.occurred_at <= revenue_orders.ordered_at
        and touches.occurred_at >= {{ dbt.dateadd('day', -1 * var('attribution_window_days'), 'revenue_orders.ordered_at') }}
),

credited as (
    select
        order_id,
        max(case when recency_rank = 1 then campaign_id end) as last_touch_campaign_id,
        max(case when earliness_rank = 1 then campaign_id end) as first_touch_campaign_id,
        max(case when recency_rank = 1 then occurred_at end) as last_touch_at,
        max(case when earliness_rank = 1 then occurred_at end) as first_touch_at
    from touches_in_window
    group by order_id
),

{%- if is_incremental() %}

withdrawn_orders as (
    select
        order_id,
        cast(null as {{ dbt.type_string() }}) as customer_key,
        cast(null as decimal(18, 2)) as net_revenue,
        cast(null as date) as order_date,
        cast(null as {{ dbt.type_timestamp() }}) as ordered_at,
        cast(null as {{ dbt.type_boolean() }}) as is_first_order
    from orders
    where _dbt_updated_at > {{ watermark }}
        and not is_revenue
),

rewritten_orders as (
    select * from revenue_orders
    union all
    select * from withdrawn_orders
),
{%- else %}

rewritten_orders as (
    select * from revenue_orders
),
{%- endif %}

final as (
    select
        cast(rewritten_orders.order_id as {{ dbt.type_string() }}) as order_id,
        cast(rewritten_orders.customer_key as {{ dbt.type_string() }}) as customer_key,
        cast(credited.last_touch_campaign_id as {{ dbt.type_string() }}) as last_touch_campaign_id,
        cast(credited.first_touch_campaign_id as {{ dbt.type_string() }}) as first_touch_campaign_id,
        cast('{{ var("reporting_currency") }}' as {{ dbt.type_string() }}) as currency,
        cast(rewritten_orders.net_revenue as decimal(18, 2)) as net_revenue,
        cast(rewritten_orders.is_first_order as {{ dbt.type_boolean() }}) as is_first_order,
        cast(credited.order_id is not null as {{ dbt.type_boolean() }}) as is_attributed,
        cast(rewritten_orders.order_date as date) as order_date,
        cast(rewritten_orders.ordered_at as {{ dbt.type_timestamp() }}) as ordered_at,
        cast(credited.last_touch_at as {{ dbt.type_timestamp() }}) as last_touch_at,
        cast(credited.first_touch_at as {{ dbt.type_timestamp() }}) as first_touch_at,
        {{ run_started_timestamp() }} as _dbt_updated_at
    from rewritten_orders
    left join credited
        on rewritten_orders.order_id = credited.order_id
)

select * from final

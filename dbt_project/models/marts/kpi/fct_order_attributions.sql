{#- One row per completed order with the campaign credited under last-touch and first-touch
    attribution: the latest / earliest engagement of the same person within
    `attribution_window_days` before the order (docs/decisions.md § KPI definitions).
    Orders with no touch in the window keep null campaigns, so revenue still reconciles. -#}

with

orders as (
    select * from {{ ref('fct_orders') }}
),

campaign_events as (
    select * from {{ ref('fct_campaign_events') }}
),

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

final as (
    select
        cast(revenue_orders.order_id as {{ dbt.type_string() }}) as order_id,
        cast(revenue_orders.customer_key as {{ dbt.type_string() }}) as customer_key,
        cast(credited.last_touch_campaign_id as {{ dbt.type_string() }}) as last_touch_campaign_id,
        cast(credited.first_touch_campaign_id as {{ dbt.type_string() }}) as first_touch_campaign_id,
        cast('{{ var("reporting_currency") }}' as {{ dbt.type_string() }}) as currency,
        cast(revenue_orders.net_revenue as decimal(18, 2)) as net_revenue,
        cast(revenue_orders.is_first_order as {{ dbt.type_boolean() }}) as is_first_order,
        cast(credited.order_id is not null as {{ dbt.type_boolean() }}) as is_attributed,
        cast(revenue_orders.order_date as date) as order_date,
        cast(revenue_orders.ordered_at as {{ dbt.type_timestamp() }}) as ordered_at,
        cast(credited.last_touch_at as {{ dbt.type_timestamp() }}) as last_touch_at,
        cast(credited.first_touch_at as {{ dbt.type_timestamp() }}) as first_touch_at
    from revenue_orders
    left join credited
        on revenue_orders.order_id = credited.order_id
)

select * from final

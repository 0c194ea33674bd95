{#- One row per person and day with a completed order, linked to the person's first, previous
    and next order day: the part of mart_customer_order_days that depends on the person's own
    orders only, kept incrementally so that a daily build re-sequences only the persons whose
    orders were written since this model's last build (on both sides of an identity merge,
    and orders whose status changed), while the mart re-joins the attributes that move daily.

    A changed person left without any order day (every order moved to another person, or no
    longer completed) gets one row with a null order_date: delete+insert on customer_key only
    deletes the keys present in the new rows, so that row is what removes the person's old
    days; the post-hook then removes the row itself. -#}

{{
    config(
        materialized='incremental',
        unique_key='customer_key',
        incremental_strategy='delete+insert',
        on_schema_change='fail',
        post_hook="delete from {{ this }} where order_date is null",
    )
}}

with

orders as (
    select * from {{ ref('fct_orders') }}
),

{%- if is_incremental() %}

changed_customers as (
    {{ changed_customer_keys([ref('fct_orders')], incremental_watermark()) }}
),
{%- endif %}

order_days as (
    select
        customer_key,
        order_date,
        count(*) as orders,
        sum(net_revenue) as net_revenue
    from orders
    where is_revenue
    {%- if is_incremental() %}
        and customer_key in (select changed_customers.customer_key from changed_customers)
    {%- endif %}
    group by
        customer_key,
        order_date
),

sequenced as (
    select
        customer_key,
        orders,
        net_revenue,
        order_date,
        min(order_date) over (partition by customer_key) as first_order_date,
        lag(order_date) over (partition by customer_key order by order_date)
            as previous_order_date,
        lead(order_date) over (partition by customer_key order by order_date)
            as next_order_date
    from order_days
),

{%- if is_incremental() %}

emptied_customers as (
    select
        changed_customers.customer_key,
        cast(null as {{ dbt.type_bigint() }}) as orders,
        cast(null as decimal(18, 2)) as net_revenue,
        cast(null as date) as order_date,
        cast(null as date) as first_order_date,
        cast(null as date) as previous_order_date,
        cast(null as date) as next_order_date
    from changed_customers
    left join order_days
        on changed_customers.customer_key = order_days.customer_key
    where order_days.customer_key is null
),

rewritten as (
    select * from sequenced
    union all
    select * from emptied_customers
),
{%- else %}

rewritten as (
    select * from sequenced
),
{%- endif %}

final as (
    select
        cast(customer_key as {{ dbt.type_string() }}) as customer_key,
        cast(orders as {{ dbt.type_bigint() }}) as orders,
        cast(net_revenue as decimal(18, 2)) as net_revenue,
        cast(order_date as date) as order_date,
        cast(first_order_date as date) as first_order_date,
        cast(previous_order_date as date) as previous_order_date,
        cast(next_order_date as date) as next_order_date,
        {{ run_started_timestamp() }} as _dbt_updated_at
    from rewritten
)

select * from final

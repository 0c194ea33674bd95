{#- One row per person and day with a completed order: what the dashboards need to count
    active, new, retained and repeat customers under any date range and person filter without
    a distinct over people. A person is active in [start, end] once, on their first order day
    in it: the day whose previous order day is null or before `start`. The days and their
    links come from int_customer_order_days_sequenced (kept incrementally); the person
    attributes, which move daily (RFM and CLV are relative to the as-of date), are
    customer_360's and the CLV prediction and churn risk mart_clv_predictions', as the
    dashboards read them, so the Customers page reads only this table for the active people.
    Stored in order_date order: a date range reads only its row groups (zone maps). -#}

with

order_days as (
    select * from {{ ref('int_customer_order_days_sequenced') }}
),

customers as (
    select * from {{ ref('customer_360') }}
),

clv_predictions as (
    select * from {{ ref('mart_clv_predictions') }}
),

joined as (
    select
        order_days.customer_key,
        customers.region,
        customers.acquisition_channel,
        customers.rfm_segment,
        customers.value_tier,
        clv_predictions.churn_risk,
        order_days.orders,
        order_days.net_revenue,
        customers.net_revenue as customer_net_revenue,
        clv_predictions.predicted_clv_12m,
        order_days.order_date,
        order_days.first_order_date,
        order_days.previous_order_date,
        order_days.next_order_date
    from order_days
    left join customers
        on order_days.customer_key = customers.customer_key
    left join clv_predictions
        on order_days.customer_key = clv_predictions.customer_key
),

final as (
    select
        cast(customer_key as {{ dbt.type_string() }}) as customer_key,
        cast(region as {{ dbt.type_string() }}) as region,
        cast(acquisition_channel as {{ dbt.type_string() }}) as acquisition_channel,
        cast(rfm_segment as {{ dbt.type_string() }}) as rfm_segment,
        cast(value_tier as {{ dbt.type_string() }}) as value_tier,
        cast(churn_risk as {{ dbt.type_string() }}) as churn_risk,
        cast('{{ var("reporting_currency") }}' as {{ dbt.type_string() }}) as currency,
        cast(orders as {{ dbt.type_bigint() }}) as orders,
        cast(net_revenue as decimal(18, 2)) as net_revenue,
        cast(customer_net_revenue as decimal(18, 2)) as customer_net_revenue,
        cast(predicted_clv_12m as decimal(18, 2)) as predicted_clv_12m,
        cast(order_date as date) as order_date,
        cast(first_order_date as date) as first_order_date,
        cast(previous_order_date as date) as previous_order_date,
        cast(next_order_date as date) as next_order_date
    from joined
)

-- the physical order is part of the model (see above)
select * from final
order by order_date

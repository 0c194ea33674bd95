-- Reconciliation: net revenue in fct_orders equals the completed orders of the raw layer (the
-- valid ones: ingestion rejected the rest), each order counted once at its latest version,
-- converted with the fx_rates seed. Computed from raw without the staging or fact models so a
-- lost, duplicated or mis-converted order shows up as a difference.

with raw_orders as (

    select * from {{ source('raw', 'orders') }}

),

fx_rates as (

    select * from {{ ref('fx_rates') }}

),

fct_orders as (

    select * from {{ ref('fct_orders') }}

),

latest_update as (

    select order_id, max(updated_at) as updated_at
    from raw_orders
    group by order_id

),

latest as (

    select distinct raw_orders.order_id, raw_orders.status, raw_orders.currency, raw_orders.total_amount, raw_orders.ordered_at
    from raw_orders
    inner join latest_update
        on latest_update.order_id = raw_orders.order_id
        and latest_update.updated_at = raw_orders.updated_at

),

expected as (

    select
        count(distinct latest.order_id) as order_count,
        sum(case when lower(trim(latest.status)) = 'completed'
            then cast(latest.total_amount * cast(fx.cny_per_unit / fx_reporting.cny_per_unit as decimal(18, 6)) as decimal(18, 2))
            else 0 end) as net_revenue

    from latest
    inner join fx_rates as fx
        on fx.currency = upper(trim(latest.currency))
        and fx.rate_month = cast({{ dbt.date_trunc('month', from_utc('latest.ordered_at', var('reporting_timezone'))) }} as date)
    inner join fx_rates as fx_reporting
        on fx_reporting.currency = '{{ var("reporting_currency") }}'
        and fx_reporting.rate_month = fx.rate_month

),

actual as (

    select count(*) as order_count, sum(net_revenue) as net_revenue
    from fct_orders

)

select
    expected.order_count as expected_order_count,
    actual.order_count as actual_order_count,
    expected.net_revenue as expected_net_revenue,
    actual.net_revenue as actual_net_revenue

from expected
cross join actual
where expected.order_count <> actual.order_count
    or abs(coalesce(expected.net_revenue, 0) - coalesce(actual.net_revenue, 0)) > 0.005

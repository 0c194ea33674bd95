{#- First-order-month cohorts × months since the first order. Every cohort has a row for every
    month up to the as-of month (zero activity included), so retention curves have no holes. -#}

with

orders as (
    select * from {{ ref('fct_orders') }}
),

revenue_orders as (
    select
        customer_key,
        order_date,
        net_revenue
    from orders
    where is_revenue
),

first_orders as (
    select
        customer_key,
        {{ kpi_month('min(order_date)') }} as cohort_month
    from revenue_orders
    group by customer_key
),

cohort_sizes as (
    select
        cohort_month,
        count(*) as cohort_size
    from first_orders
    group by cohort_month
),

months as (
    {{ kpi_month_spine(
        '(select min(cohort_month) from first_orders)',
        kpi_month(kpi_as_of_date())
    ) }}
),

cohort_activity as (
    select
        first_orders.cohort_month,
        {{ kpi_month('revenue_orders.order_date') }} as activity_month,
        count(distinct revenue_orders.customer_key) as active_customers,
        sum(revenue_orders.net_revenue) as revenue
    from revenue_orders
    inner join first_orders
        on revenue_orders.customer_key = first_orders.customer_key
    group by 1, 2
),

grid as (
    select
        cohort_sizes.cohort_month,
        months.month_start as activity_month,
        cohort_sizes.cohort_size
    from cohort_sizes
    inner join months
        on months.month_start >= cohort_sizes.cohort_month
),

filled as (
    select
        grid.cohort_month,
        grid.activity_month,
        {{ dbt.datediff('grid.cohort_month', 'grid.activity_month', 'month') }}
            as months_since_first_order,
        grid.cohort_size,
        coalesce(cohort_activity.active_customers, 0) as active_customers,
        coalesce(cohort_activity.revenue, 0) as revenue
    from grid
    left join cohort_activity
        on grid.cohort_month = cohort_activity.cohort_month
        and grid.activity_month = cohort_activity.activity_month
),

with_first_month as (
    select
        filled.*,
        max(case when months_since_first_order = 0 then revenue end)
            over (partition by cohort_month) as first_month_revenue
    from filled
),

final as (
    select
        cast(cohort_month as date) as cohort_month,
        cast(months_since_first_order as {{ dbt.type_int() }}) as months_since_first_order,
        cast('{{ var("reporting_currency") }}' as {{ dbt.type_string() }}) as currency,
        cast(cohort_size as {{ dbt.type_bigint() }}) as cohort_size,
        cast(active_customers as {{ dbt.type_bigint() }}) as active_customers,
        cast({{ kpi_safe_divide('active_customers', 'cohort_size') }} as {{ kpi_type_double() }})
            as customer_retention_rate,
        cast(revenue as decimal(18, 2)) as revenue,
        cast({{ kpi_safe_divide('revenue', 'first_month_revenue') }} as {{ kpi_type_double() }})
            as revenue_retention_rate,
        cast({{ kpi_month_end('activity_month') }} <= {{ kpi_as_of_date() }} as {{ dbt.type_boolean() }})
            as is_complete_month,
        cast(activity_month as date) as activity_month
    from with_first_month
)

select * from final

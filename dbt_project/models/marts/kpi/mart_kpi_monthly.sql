{#- The executive KPI set by calendar month (reporting time zone) and customer region, plus one
    row per month with region = 'ALL' for the whole business (distinct counts and medians are
    computed at that level, never summed from regions). Marketing figures (spend, CAC,
    LTV:CAC, campaign ROI) exist only on the 'ALL' rows: spend is not split by region.
    Definitions: docs/metrics.md; choices: docs/decisions.md § KPI definitions. -#}
{%- set by_region = "group by grouping sets ((report_month, region), (report_month))" -%}

with

order_days as (
    select * from {{ ref('int_customer_order_days_sequenced') }}
),

tickets as (
    select * from {{ ref('fct_tickets') }}
),

customers as (
    select * from {{ ref('customer_360') }}
),

attributions as (
    select * from {{ ref('fct_order_attributions') }}
),

campaigns as (
    select * from {{ ref('dim_campaigns') }}
),

customer_regions as (
    select
        customer_key,
        coalesce(region, 'unknown') as region
    from customers
),

-- completed orders per person and day, already linked to the person's first and next order
-- day (kept incrementally), so no window over the orders is needed here
revenue_days as (
    select
        order_days.customer_key,
        coalesce(customer_regions.region, 'unknown') as region,
        order_days.order_date,
        {{ kpi_month('order_days.order_date') }} as report_month,
        {{ kpi_month('order_days.first_order_date') }} as first_order_month,
        order_days.next_order_date,
        order_days.orders,
        order_days.net_revenue
    from order_days
    left join customer_regions
        on order_days.customer_key = customer_regions.customer_key
),

months as (
    {{ kpi_month_spine(
        '(select min(report_month) from revenue_days)',
        kpi_month(kpi_as_of_date())
    ) }}
),

periods as (
    select
        month_start as report_month,
        {{ kpi_month_end('month_start') }} as month_end,
        case
            when {{ kpi_month_end('month_start') }} > {{ kpi_as_of_date() }}
                then {{ kpi_as_of_date() }}
            else {{ kpi_month_end('month_start') }}
        end as period_end
    from months
),

-- every region some order or ticket is booked under, so detail rows add up to 'ALL'
regions as (
    select region from customer_regions
    union
    select 'unknown' as region from revenue_days where region = 'unknown'
    union
    select 'unknown' as region
    from tickets
    left join customer_regions
        on tickets.customer_key = customer_regions.customer_key
    where customer_regions.customer_key is null
    union
    select 'ALL' as region
),

report_grid as (
    select
        periods.report_month,
        periods.period_end,
        periods.month_end,
        regions.region
    from periods
    cross join regions
),

-- one row per person and month; a person has one region, so counting rows counts people
customer_months as (
    select
        customer_key,
        region,
        report_month,
        first_order_month,
        sum(net_revenue) as revenue,
        sum(orders) as orders
    from revenue_days
    group by
        customer_key,
        region,
        report_month,
        first_order_month
),

order_metrics as (
    select
        report_month,
        coalesce(region, 'ALL') as region,
        sum(revenue) as revenue,
        sum(orders) as orders,
        count(*) as purchasers,
        count(case when report_month = first_order_month then 1 end) as new_customers,
        count(case when report_month > first_order_month then 1 end) as returning_customers
    from customer_months
    {{ by_region }}
),

-- active at a period's end = a completed order in the `kpi_active_window_days` days ending on
-- it. The person's latest order day on or before the period's end decides, so each order day
-- answers for the period ends from it up to its next order day: one match per active person
-- and month, with no distinct.
active_customer_months as (
    select
        revenue_days.customer_key,
        revenue_days.region,
        periods.report_month
    from revenue_days
    inner join periods
        on periods.period_end >= revenue_days.order_date
        and periods.period_end
            < cast({{ dbt.dateadd('day', var('kpi_active_window_days'), 'revenue_days.order_date') }} as date)
        and (
            revenue_days.next_order_date is null
            or periods.period_end < revenue_days.next_order_date
        )
),

active_metrics as (
    select
        report_month,
        coalesce(region, 'ALL') as region,
        count(*) as active_customers
    from active_customer_months
    {{ by_region }}
),

-- retained = active at the end of the previous month and still active at the end of this one
carried_forward as (
    select
        previous_month.customer_key,
        previous_month.region,
        cast({{ dbt.dateadd('month', 1, 'previous_month.report_month') }} as date) as report_month,
        this_month.customer_key is not null as is_retained
    from active_customer_months as previous_month
    left join active_customer_months as this_month
        on previous_month.customer_key = this_month.customer_key
        and this_month.report_month
            = cast({{ dbt.dateadd('month', 1, 'previous_month.report_month') }} as date)
),

retention_metrics as (
    select
        report_month,
        coalesce(region, 'ALL') as region,
        count(*) as customers_active_at_start,
        count(case when is_retained then 1 end) as retained_customers
    from carried_forward
    {{ by_region }}
),

-- churned on the day the `kpi_churn_window_days`-th day passes without a new order
churn_events as (
    select
        customer_key,
        region,
        cast({{ dbt.dateadd('day', var('kpi_churn_window_days'), 'order_date') }} as date)
            as churned_on
    from revenue_days
    where next_order_date is null
        or next_order_date
            > cast({{ dbt.dateadd('day', var('kpi_churn_window_days'), 'order_date') }} as date)
),

churn_metrics as (
    select
        report_month,
        coalesce(region, 'ALL') as region,
        count(*) as churned_customers
    from (
        select
            {{ kpi_month('churned_on') }} as report_month,
            region
        from churn_events
        where churned_on <= {{ kpi_as_of_date() }}
    ) as churns
    {{ by_region }}
),

region_tickets as (
    select
        {{ kpi_month('tickets.created_date') }} as report_month,
        coalesce(customer_regions.region, 'unknown') as region,
        tickets.csat_score,
        tickets.first_response_minutes
    from tickets
    left join customer_regions
        on tickets.customer_key = customer_regions.customer_key
),

ticket_metrics as (
    select
        report_month,
        coalesce(region, 'ALL') as region,
        count(*) as tickets,
        {{ kpi_csat_rate('csat_score') }} as csat_rate,
        {{ kpi_median('first_response_minutes') }} as median_first_response_minutes
    from region_tickets
    {{ by_region }}
),

campaign_periods as (
    select
        campaign_id,
        spend_reporting,
        start_date,
        case
            when end_date is null or end_date > {{ kpi_as_of_date() }} then {{ kpi_as_of_date() }}
            else end_date
        end as end_date
    from campaigns
    where start_date <= {{ kpi_as_of_date() }}
),

-- spend is spread evenly over the campaign's days and summed per month
spend_allocations as (
    select
        periods.report_month,
        campaign_periods.spend_reporting
        * ({{ kpi_days_between(
                'case when campaign_periods.start_date > periods.report_month then campaign_periods.start_date else periods.report_month end',
                'case when campaign_periods.end_date < periods.month_end then campaign_periods.end_date else periods.month_end end'
            ) }} + 1)
        / ({{ kpi_days_between('campaign_periods.start_date', 'campaign_periods.end_date') }} + 1)
            as spend
    from campaign_periods
    inner join periods
        on periods.report_month <= campaign_periods.end_date
        and periods.month_end >= campaign_periods.start_date
    where campaign_periods.end_date >= campaign_periods.start_date
),

marketing_metrics as (
    select
        report_month,
        'ALL' as region,
        sum(spend) as marketing_spend
    from spend_allocations
    group by report_month
),

attribution_metrics as (
    select
        {{ kpi_month('order_date') }} as report_month,
        'ALL' as region,
        sum(net_revenue) as attributed_revenue
    from attributions
    where last_touch_campaign_id is not null
    group by 1
),

joined as (
    select
        report_grid.report_month,
        report_grid.region,
        coalesce(order_metrics.revenue, 0) as revenue,
        coalesce(order_metrics.orders, 0) as orders,
        coalesce(order_metrics.purchasers, 0) as purchasers,
        coalesce(order_metrics.new_customers, 0) as new_customers,
        coalesce(order_metrics.returning_customers, 0) as returning_customers,
        coalesce(active_metrics.active_customers, 0) as active_customers,
        coalesce(churn_metrics.churned_customers, 0) as churned_customers,
        coalesce(retention_metrics.customers_active_at_start, 0) as customers_active_at_start,
        coalesce(retention_metrics.retained_customers, 0) as retained_customers,
        coalesce(ticket_metrics.tickets, 0) as tickets,
        ticket_metrics.csat_rate,
        ticket_metrics.median_first_response_minutes,
        case when report_grid.region = 'ALL' then coalesce(marketing_metrics.marketing_spend, 0) end
            as marketing_spend,
        case when report_grid.region = 'ALL' then coalesce(attribution_metrics.attributed_revenue, 0) end
            as attributed_revenue,
        report_grid.month_end <= {{ kpi_as_of_date() }} as is_complete_month
    from report_grid
    left join order_metrics
        on report_grid.report_month = order_metrics.report_month
        and report_grid.region = order_metrics.region
    left join active_metrics
        on report_grid.report_month = active_metrics.report_month
        and report_grid.region = active_metrics.region
    left join retention_metrics
        on report_grid.report_month = retention_metrics.report_month
        and report_grid.region = retention_metrics.region
    left join churn_metrics
        on report_grid.report_month = churn_metrics.report_month
        and report_grid.region = churn_metrics.region
    left join ticket_metrics
        on report_grid.report_month = ticket_metrics.report_month
        and report_grid.region = ticket_metrics.region
    left join marketing_metrics
        on report_grid.report_month = marketing_metrics.report_month
        and report_grid.region = marketing_metrics.region
    left join attribution_metrics
        on report_grid.report_month = attribution_metrics.report_month
        and report_grid.region = attribution_metrics.region
),

-- historical CLV to date: cumulative net revenue / cumulative customers with an order
cumulative as (
    select
        joined.*,
        sum(revenue) over (
            partition by region
            order by report_month
            rows between unbounded preceding and current row
        ) as cumulative_revenue,
        sum(new_customers) over (
            partition by region
            order by report_month
            rows between unbounded preceding and current row
        ) as cumulative_customers
    from joined
),

with_ratios as (
    select
        cumulative.*,
        {{ kpi_safe_divide('cumulative_revenue', 'cumulative_customers') }} as avg_historical_clv,
        {{ kpi_customer_acquisition_cost('marketing_spend', 'new_customers') }}
            as customer_acquisition_cost
    from cumulative
),

final as (
    select
        cast(report_month as date) as report_month,
        cast(region as {{ dbt.type_string() }}) as region,
        cast('{{ var("reporting_currency") }}' as {{ dbt.type_string() }}) as currency,
        cast(revenue as decimal(18, 2)) as revenue,
        cast(orders as {{ dbt.type_bigint() }}) as orders,
        {{ kpi_average_order_value('revenue', 'orders') }} as average_order_value,
        cast(purchasers as {{ dbt.type_bigint() }}) as purchasers,
        cast(active_customers as {{ dbt.type_bigint() }}) as active_customers,
        cast(new_customers as {{ dbt.type_bigint() }}) as new_customers,
        cast(returning_customers as {{ dbt.type_bigint() }}) as returning_customers,
        cast(churned_customers as {{ dbt.type_bigint() }}) as churned_customers,
        cast({{ kpi_safe_divide('returning_customers', 'purchasers') }} as {{ kpi_type_double() }})
            as repeat_purchase_rate,
        cast(customers_active_at_start as {{ dbt.type_bigint() }}) as customers_active_at_start,
        cast(retained_customers as {{ dbt.type_bigint() }}) as retained_customers,
        cast({{ kpi_safe_divide('retained_customers', 'customers_active_at_start') }} as {{ kpi_type_double() }})
            as customer_retention_rate,
        cast(cumulative_customers as {{ dbt.type_bigint() }}) as cumulative_customers,
        cast(avg_historical_clv as decimal(18, 2)) as avg_historical_clv,
        cast(tickets as {{ dbt.type_bigint() }}) as tickets,
        cast(csat_rate as {{ kpi_type_double() }}) as csat_rate,
        cast(median_first_response_minutes as {{ kpi_type_double() }}) as median_first_response_minutes,
        cast(marketing_spend as decimal(18, 2)) as marketing_spend,
        cast(attributed_revenue as decimal(18, 2)) as attributed_revenue,
        cast(customer_acquisition_cost as decimal(18, 2)) as customer_acquisition_cost,
        cast({{ kpi_safe_divide('avg_historical_clv', 'customer_acquisition_cost') }} as {{ kpi_type_double() }})
            as ltv_to_cac_ratio,
        cast({{ kpi_roi('attributed_revenue', 'marketing_spend') }} as {{ kpi_type_double() }})
            as campaign_roi,
        cast(is_complete_month as {{ dbt.type_boolean() }}) as is_complete_month
    from with_ratios
)

select * from final

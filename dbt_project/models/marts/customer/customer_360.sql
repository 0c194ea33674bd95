{#- One row per resolved person (customer_key). Survivorship, RFM and tier rules:
    docs/decisions.md § KPI definitions. The per-person aggregates come from
    int_customer_rollup (kept incrementally); the scores here are relative to every person on
    the as-of date, so they are recomputed on every build. -#}
{%- set stages = ['lead', 'mql', 'sql', 'opportunity', 'customer'] -%}

with

customers as (
    select * from {{ ref('int_customer_rollup') }}
),

clv_predictions as (
    select * from {{ ref('mart_clv_predictions') }}
),

-- buyers: persons with a completed order (`orders` is null for the others)
rfm_values as (
    select
        customer_key,
        {{ kpi_days_between('last_order_date', kpi_as_of_date()) }} as recency_days,
        orders as frequency,
        net_revenue as monetary_value
    from customers
    where orders is not null
),

rfm_scores as (
    select
        customer_key,
        recency_days,
        frequency,
        monetary_value,
        {{ kpi_rfm_quintile_score('recency_days desc') }} as recency_score,
        {{ kpi_rfm_frequency_score('frequency') }} as frequency_score,
        {{ kpi_rfm_quintile_score('monetary_value') }} as monetary_score,
        -- historical CLV = net revenue to date (no cost data, so no margin)
        cume_dist() over (order by monetary_value) as clv_cume_dist
    from rfm_values
),

rfm_segments as (
    select
        *,
        {{ kpi_rfm_segment('recency_score', 'frequency_score') }} as rfm_segment
    from rfm_scores
),

joined as (
    select
        customers.customer_key,
        customers.full_name,
        customers.email_normalized as email,
        customers.phone_normalized as phone,
        customers.company,
        customers.country,
        customers.region,
        customers.city,
        customers.owner,
        customers.acquisition_channel,
        customers.acquisition_campaign_id,
        case customers.lifecycle_stage_rank
            {%- for stage in stages %}
            when {{ loop.index }} then '{{ stage }}'
            {%- endfor %}
        end as lifecycle_stage,
        rfm_segments.rfm_segment,
        clv_predictions.churn_risk,
        case
            when rfm_segments.clv_cume_dist > 1 - {{ var('kpi_value_tier_core_share') }} then 'core'
            when rfm_segments.rfm_segment in (
                {%- for segment in var('kpi_value_tier_potential_segments') -%}
                '{{ segment | replace("'", "''") }}'{{ ", " if not loop.last }}
                {%- endfor -%}
            ) then 'potential'
            else 'ordinary'
        end as value_tier,
        '{{ var("reporting_currency") }}' as currency,
        customers.source_identities,
        coalesce(customers.orders, 0) as orders,
        coalesce(customers.net_revenue, 0) as net_revenue,
        {{ kpi_average_order_value('customers.net_revenue', 'customers.orders') }}
            as average_order_value,
        coalesce(customers.net_revenue, 0) as historical_clv,
        rfm_segments.recency_days,
        rfm_segments.frequency,
        rfm_segments.monetary_value,
        rfm_segments.recency_score,
        rfm_segments.frequency_score,
        rfm_segments.monetary_score,
        clv_predictions.p_alive,
        clv_predictions.p_no_purchase_12m,
        clv_predictions.predicted_purchases_12m,
        clv_predictions.predicted_clv_12m,
        coalesce(customers.tickets, 0) as tickets,
        coalesce(customers.open_tickets, 0) as open_tickets,
        customers.avg_csat_score,
        coalesce(customers.emails_sent, 0) as emails_sent,
        coalesce(customers.emails_delivered, 0) as emails_delivered,
        coalesce(customers.emails_opened, 0) as emails_opened,
        coalesce(customers.emails_clicked, 0) as emails_clicked,
        {{ kpi_safe_divide('customers.emails_opened', 'customers.emails_delivered') }}
            as email_open_rate,
        {{ kpi_safe_divide('customers.emails_clicked', 'customers.emails_delivered') }}
            as email_click_rate,
        customers.orders is not null as has_orders,
        coalesce(rfm_segments.recency_days < {{ var('kpi_active_window_days') }}, false) as is_active,
        coalesce(rfm_segments.recency_days >= {{ var('kpi_churn_window_days') }}, false) as is_churned,
        customers.has_source_consent
            and not coalesce(customers.has_unsubscribed, false) as has_marketing_consent,
        coalesce(customers.has_unsubscribed, false) as has_unsubscribed,
        customers.first_order_date,
        customers.last_order_date,
        customers.lead_at,
        customers.mql_at,
        customers.sql_at,
        customers.opportunity_at,
        customers.customer_at,
        customers.first_seen_at,
        customers.last_interaction_at
    from customers
    left join rfm_segments
        on customers.customer_key = rfm_segments.customer_key
    left join clv_predictions
        on customers.customer_key = clv_predictions.customer_key
),

final as (
    select
        cast(customer_key as {{ dbt.type_string() }}) as customer_key,
        cast(full_name as {{ dbt.type_string() }}) as full_name,
        cast(email as {{ dbt.type_string() }}) as email,
        cast(phone as {{ dbt.type_string() }}) as phone,
        cast(company as {{ dbt.type_string() }}) as company,
        cast(country as {{ dbt.type_string() }}) as country,
        cast(region as {{ dbt.type_string() }}) as region,
        cast(city as {{ dbt.type_string() }}) as city,
        cast(owner as {{ dbt.type_string() }}) as owner,
        cast(acquisition_channel as {{ dbt.type_string() }}) as acquisition_channel,
        cast(acquisition_campaign_id as {{ dbt.type_string() }}) as acquisition_campaign_id,
        cast(lifecycle_stage as {{ dbt.type_string() }}) as lifecycle_stage,
        cast(rfm_segment as {{ dbt.type_string() }}) as rfm_segment,
        cast(value_tier as {{ dbt.type_string() }}) as value_tier,
        cast(churn_risk as {{ dbt.type_string() }}) as churn_risk,
        cast(currency as {{ dbt.type_string() }}) as currency,
        cast(source_identities as {{ dbt.type_bigint() }}) as source_identities,
        cast(orders as {{ dbt.type_bigint() }}) as orders,
        cast(net_revenue as decimal(18, 2)) as net_revenue,
        cast(average_order_value as decimal(18, 2)) as average_order_value,
        cast(historical_clv as decimal(18, 2)) as historical_clv,
        cast(recency_days as {{ dbt.type_int() }}) as recency_days,
        cast(frequency as {{ dbt.type_bigint() }}) as frequency,
        cast(monetary_value as decimal(18, 2)) as monetary_value,
        cast(recency_score as {{ dbt.type_int() }}) as recency_score,
        cast(frequency_score as {{ dbt.type_int() }}) as frequency_score,
        cast(monetary_score as {{ dbt.type_int() }}) as monetary_score,
        cast(p_alive as {{ kpi_type_double() }}) as p_alive,
        cast(p_no_purchase_12m as {{ kpi_type_double() }}) as p_no_purchase_12m,
        cast(predicted_purchases_12m as {{ kpi_type_double() }}) as predicted_purchases_12m,
        cast(predicted_clv_12m as decimal(18, 2)) as predicted_clv_12m,
        cast(tickets as {{ dbt.type_bigint() }}) as tickets,
        cast(open_tickets as {{ dbt.type_bigint() }}) as open_tickets,
        cast(avg_csat_score as {{ kpi_type_double() }}) as avg_csat_score,
        cast(emails_sent as {{ dbt.type_bigint() }}) as emails_sent,
        cast(emails_delivered as {{ dbt.type_bigint() }}) as emails_delivered,
        cast(emails_opened as {{ dbt.type_bigint() }}) as emails_opened,
        cast(emails_clicked as {{ dbt.type_bigint() }}) as emails_clicked,
        cast(email_open_rate as {{ kpi_type_double() }}) as email_open_rate,
        cast(email_click_rate as {{ kpi_type_double() }}) as email_click_rate,
        cast(has_orders as {{ dbt.type_boolean() }}) as has_orders,
        cast(is_active as {{ dbt.type_boolean() }}) as is_active,
        cast(is_churned as {{ dbt.type_boolean() }}) as is_churned,
        cast(has_marketing_consent as {{ dbt.type_boolean() }}) as has_marketing_consent,
        cast(has_unsubscribed as {{ dbt.type_boolean() }}) as has_unsubscribed,
        cast(first_order_date as date) as first_order_date,
        cast(last_order_date as date) as last_order_date,
        cast(lead_at as {{ dbt.type_timestamp() }}) as lead_at,
        cast(mql_at as {{ dbt.type_timestamp() }}) as mql_at,
        cast(sql_at as {{ dbt.type_timestamp() }}) as sql_at,
        cast(opportunity_at as {{ dbt.type_timestamp() }}) as opportunity_at,
        cast(customer_at as {{ dbt.type_timestamp() }}) as customer_at,
        cast(first_seen_at as {{ dbt.type_timestamp() }}) as first_seen_at,
        cast(last_interaction_at as {{ dbt.type_timestamp() }}) as last_interaction_at
    from joined
)

select * from final

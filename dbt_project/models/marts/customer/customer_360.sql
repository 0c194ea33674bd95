{#- One row per resolved person (customer_key). Survivorship, RFM and tier rules:
    docs/decisions.md § KPI definitions. -#}
{%- set survivor_columns = ['full_name', 'email_normalized', 'phone_normalized', 'company', 'country', 'region', 'city', 'owner'] -%}
{%- set survivor_order = 'source_priority, updated_at desc nulls last, source_system, source_contact_id' -%}
{%- set acquisition_order = 'case when acquisition_channel is null then 1 else 0 end, created_at, source_priority, source_system, source_contact_id' -%}
{%- set stages = ['lead', 'mql', 'sql', 'opportunity', 'customer'] -%}

with

contacts as (
    select * from {{ ref('int_contacts_unified') }}
),

orders as (
    select * from {{ ref('fct_orders') }}
),

tickets as (
    select * from {{ ref('fct_tickets') }}
),

campaign_events as (
    select * from {{ ref('fct_campaign_events') }}
),

campaigns as (
    select * from {{ ref('dim_campaigns') }}
),

clv_predictions as (
    select * from {{ ref('mart_clv_predictions') }}
),

-- One row per person from their source records.
-- Survivorship: per attribute, the non-null value of the most trusted source
-- (source_priority 1 first), the most recently updated record within a priority.
-- Acquisition is first touch: channel and campaign come together from the earliest created
-- record that names a channel.
-- Lifecycle: the furthest stage any source reports (by stage column or stage timestamp),
-- each stage dated by the earliest source that saw it.
contact_rollup as (
    select
        customer_key,
        {%- for column in survivor_columns %}
        {{ first_by(column, 'case when ' ~ column ~ ' is null then 1 else 0 end, ' ~ survivor_order) }}
            as {{ column }},
        {%- endfor %}
        {{ first_by('acquisition_channel', acquisition_order) }} as acquisition_channel,
        {{ first_by('acquisition_campaign_id', acquisition_order) }} as acquisition_campaign_id,
        count(*) as source_identities,
        max(
            case
                {%- for stage in stages | reverse %}
                when lifecycle_stage = '{{ stage }}' or {{ stage }}_at is not null then {{ loop.revindex }}
                {%- endfor %}
            end
        ) as lifecycle_stage_rank,
        {%- for stage in stages %}
        min({{ stage }}_at) as {{ stage }}_at,
        {%- endfor %}
        min(created_at) as first_seen_at,
        -- opting out anywhere wins: consent needs every source that states it to say yes
        case
            when count(marketing_consent) = 0 then false
            else min(case when marketing_consent then 1 when not marketing_consent then 0 end) = 1
        end as has_source_consent
    from contacts
    group by customer_key
),

order_facts as (
    select
        customer_key,
        count(*) as orders,
        sum(net_revenue) as net_revenue,
        min(order_date) as first_order_date,
        max(order_date) as last_order_date
    from orders
    where is_revenue
    group by customer_key
),

ticket_facts as (
    select
        customer_key,
        count(*) as tickets,
        count(case when not is_resolved then 1 end) as open_tickets,
        avg(cast(csat_score as {{ kpi_type_double() }})) as avg_csat_score
    from tickets
    where customer_key is not null
    group by customer_key
),

-- Email engagement counts campaigns, not events: a person opening one email three times
-- has opened one email.
email_events as (
    select
        campaign_events.customer_key,
        campaign_events.campaign_id,
        campaign_events.event_type
    from campaign_events
    inner join campaigns
        on campaign_events.campaign_id = campaigns.campaign_id
    where campaigns.channel = 'email'
        and campaign_events.customer_key is not null
),

-- One row per person, email campaign and event type, so the counts below are plain counts.
email_engagement as (
    select
        customer_key,
        campaign_id,
        event_type
    from email_events
    group by customer_key, campaign_id, event_type
),

email_facts as (
    select
        customer_key,
        count(case when event_type = 'sent' then 1 end) as emails_sent,
        count(case when event_type = 'delivered' then 1 end) as emails_delivered,
        count(case when event_type = 'open' then 1 end) as emails_opened,
        count(case when event_type = 'click' then 1 end) as emails_clicked,
        count(case when event_type = 'unsubscribe' then 1 end) > 0 as has_unsubscribed
    from email_engagement
    group by customer_key
),

-- Interactions the person started: orders (any status), tickets, and campaign engagement.
interactions as (
    select customer_key, ordered_at as interaction_at from orders
    union all
    select customer_key, created_at as interaction_at from tickets
    union all
    select customer_key, occurred_at as interaction_at
    from campaign_events
    where event_type in ('open', 'click', 'conversion')
),

last_interactions as (
    select
        customer_key,
        max(interaction_at) as last_interaction_at
    from interactions
    where customer_key is not null
    group by customer_key
),

rfm_values as (
    select
        customer_key,
        {{ kpi_days_between('last_order_date', kpi_as_of_date()) }} as recency_days,
        orders as frequency,
        net_revenue as monetary_value
    from order_facts
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
        contact_rollup.customer_key,
        contact_rollup.full_name,
        contact_rollup.email_normalized as email,
        contact_rollup.phone_normalized as phone,
        contact_rollup.company,
        contact_rollup.country,
        contact_rollup.region,
        contact_rollup.city,
        contact_rollup.owner,
        contact_rollup.acquisition_channel,
        contact_rollup.acquisition_campaign_id,
        case contact_rollup.lifecycle_stage_rank
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
        contact_rollup.source_identities,
        coalesce(order_facts.orders, 0) as orders,
        coalesce(order_facts.net_revenue, 0) as net_revenue,
        {{ kpi_average_order_value('order_facts.net_revenue', 'order_facts.orders') }}
            as average_order_value,
        coalesce(order_facts.net_revenue, 0) as historical_clv,
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
        coalesce(ticket_facts.tickets, 0) as tickets,
        coalesce(ticket_facts.open_tickets, 0) as open_tickets,
        ticket_facts.avg_csat_score,
        coalesce(email_facts.emails_sent, 0) as emails_sent,
        coalesce(email_facts.emails_delivered, 0) as emails_delivered,
        coalesce(email_facts.emails_opened, 0) as emails_opened,
        coalesce(email_facts.emails_clicked, 0) as emails_clicked,
        {{ kpi_safe_divide('email_facts.emails_opened', 'email_facts.emails_delivered') }}
            as email_open_rate,
        {{ kpi_safe_divide('email_facts.emails_clicked', 'email_facts.emails_delivered') }}
            as email_click_rate,
        order_facts.customer_key is not null as has_orders,
        coalesce(rfm_segments.recency_days < {{ var('kpi_active_window_days') }}, false) as is_active,
        coalesce(rfm_segments.recency_days >= {{ var('kpi_churn_window_days') }}, false) as is_churned,
        contact_rollup.has_source_consent
            and not coalesce(email_facts.has_unsubscribed, false) as has_marketing_consent,
        coalesce(email_facts.has_unsubscribed, false) as has_unsubscribed,
        order_facts.first_order_date,
        order_facts.last_order_date,
        contact_rollup.lead_at,
        contact_rollup.mql_at,
        contact_rollup.sql_at,
        contact_rollup.opportunity_at,
        contact_rollup.customer_at,
        contact_rollup.first_seen_at,
        last_interactions.last_interaction_at
    from contact_rollup
    left join order_facts
        on contact_rollup.customer_key = order_facts.customer_key
    left join rfm_segments
        on contact_rollup.customer_key = rfm_segments.customer_key
    left join clv_predictions
        on contact_rollup.customer_key = clv_predictions.customer_key
    left join ticket_facts
        on contact_rollup.customer_key = ticket_facts.customer_key
    left join email_facts
        on contact_rollup.customer_key = email_facts.customer_key
    left join last_interactions
        on contact_rollup.customer_key = last_interactions.customer_key
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

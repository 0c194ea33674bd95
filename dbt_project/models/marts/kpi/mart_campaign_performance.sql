{#- One row per campaign: spend, funnel of message events, attributed revenue, CAC and ROI.
    Event counts are distinct people per event type (a person opening twice opened once),
    counted on each person's first touch day in int_campaign_touch_days (one per campaign,
    event type and person) rather than made distinct again from 20 M events. -#}
{%- set event_types = {
    'sent': 'sent', 'delivered': 'delivered', 'open': 'opened', 'click': 'clicked',
    'unsubscribe': 'unsubscribed', 'bounce': 'bounced', 'conversion': 'conversions'} -%}

with

campaigns as (
    select * from {{ ref('dim_campaigns') }}
),

touch_days as (
    select * from {{ ref('int_campaign_touch_days') }}
),

attributions as (
    select * from {{ ref('fct_order_attributions') }}
),

-- One row per campaign, event type and person, so the counts below are plain counts.
campaign_reach as (
    select
        campaign_id,
        event_type,
        customer_key
    from touch_days
    where previous_event_date is null
),

event_counts as (
    select
        campaign_id,
        {%- for event_type, column in event_types.items() %}
        count(case when event_type = '{{ event_type }}' then 1 end)
            as {{ column }}{{ "," if not loop.last }}
        {%- endfor %}
    from campaign_reach
    group by campaign_id
),

last_touch as (
    select
        last_touch_campaign_id as campaign_id,
        count(*) as last_touch_orders,
        sum(net_revenue) as last_touch_revenue,
        count(case when is_first_order then 1 end) as new_customers
    from attributions
    where last_touch_campaign_id is not null
    group by last_touch_campaign_id
),

first_touch as (
    select
        first_touch_campaign_id as campaign_id,
        count(*) as first_touch_orders,
        sum(net_revenue) as first_touch_revenue
    from attributions
    where first_touch_campaign_id is not null
    group by first_touch_campaign_id
),

joined as (
    select
        campaigns.campaign_id,
        campaigns.campaign_name,
        campaigns.channel,
        campaigns.spend_reporting as spend,
        {%- for column in event_types.values() %}
        coalesce(event_counts.{{ column }}, 0) as {{ column }},
        {%- endfor %}
        coalesce(last_touch.last_touch_orders, 0) as last_touch_orders,
        coalesce(first_touch.first_touch_orders, 0) as first_touch_orders,
        coalesce(last_touch.last_touch_revenue, 0) as last_touch_revenue,
        coalesce(first_touch.first_touch_revenue, 0) as first_touch_revenue,
        coalesce(last_touch.new_customers, 0) as new_customers,
        campaigns.start_date,
        campaigns.end_date
    from campaigns
    left join event_counts
        on campaigns.campaign_id = event_counts.campaign_id
    left join last_touch
        on campaigns.campaign_id = last_touch.campaign_id
    left join first_touch
        on campaigns.campaign_id = first_touch.campaign_id
),

final as (
    select
        cast(campaign_id as {{ dbt.type_string() }}) as campaign_id,
        cast(campaign_name as {{ dbt.type_string() }}) as campaign_name,
        cast(channel as {{ dbt.type_string() }}) as channel,
        cast('{{ var("reporting_currency") }}' as {{ dbt.type_string() }}) as currency,
        cast(spend as decimal(18, 2)) as spend,
        {%- for column in event_types.values() %}
        cast({{ column }} as {{ dbt.type_bigint() }}) as {{ column }},
        {%- endfor %}
        cast({{ kpi_safe_divide('delivered', 'sent') }} as {{ kpi_type_double() }}) as delivery_rate,
        cast({{ kpi_safe_divide('opened', 'delivered') }} as {{ kpi_type_double() }}) as open_rate,
        cast({{ kpi_safe_divide('clicked', 'delivered') }} as {{ kpi_type_double() }}) as click_rate,
        cast({{ kpi_safe_divide('clicked', 'opened') }} as {{ kpi_type_double() }}) as click_to_open_rate,
        cast({{ kpi_safe_divide('unsubscribed', 'delivered') }} as {{ kpi_type_double() }}) as unsubscribe_rate,
        cast({{ kpi_safe_divide('bounced', 'sent') }} as {{ kpi_type_double() }}) as bounce_rate,
        cast({{ kpi_safe_divide('conversions', 'delivered') }} as {{ kpi_type_double() }}) as conversion_rate,
        cast(last_touch_orders as {{ dbt.type_bigint() }}) as last_touch_orders,
        cast(first_touch_orders as {{ dbt.type_bigint() }}) as first_touch_orders,
        cast(last_touch_revenue as decimal(18, 2)) as last_touch_revenue,
        cast(first_touch_revenue as decimal(18, 2)) as first_touch_revenue,
        cast(new_customers as {{ dbt.type_bigint() }}) as new_customers,
        {{ kpi_customer_acquisition_cost('spend', 'new_customers') }} as customer_acquisition_cost,
        cast({{ kpi_roi('last_touch_revenue', 'spend') }} as {{ kpi_type_double() }}) as roi,
        cast(start_date as date) as start_date,
        cast(end_date as date) as end_date
    from joined
)

select * from final

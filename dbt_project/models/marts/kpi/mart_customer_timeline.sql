{#- Every order, ticket and campaign touch of a person, stored in customer_key order so that
    reading one person's timeline (the Customer 360 page) touches a few row groups instead of
    scanning the facts (min/max zone maps prune by customer_key). -#}

with

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

order_entries as (
    select
        customer_key,
        'order' as kind,
        order_id as reference,
        order_status as detail,
        net_revenue as amount,
        ordered_at as occurred_at
    from orders
),

ticket_entries as (
    select
        customer_key,
        'ticket' as kind,
        ticket_id as reference,
        concat_ws(' · ', channel, category, ticket_status) as detail,
        cast(null as decimal(18, 2)) as amount,
        created_at as occurred_at
    from tickets
),

campaign_entries as (
    select
        campaign_events.customer_key,
        'campaign' as kind,
        campaign_events.campaign_id as reference,
        concat_ws(' · ', campaigns.campaign_name, campaign_events.event_type) as detail,
        cast(null as decimal(18, 2)) as amount,
        campaign_events.occurred_at
    from campaign_events
    left join campaigns
        on campaign_events.campaign_id = campaigns.campaign_id
),

entries as (
    select * from order_entries
    union all
    select * from ticket_entries
    union all
    select * from campaign_entries
),

final as (
    select
        cast(customer_key as {{ dbt.type_string() }}) as customer_key,
        cast(kind as {{ dbt.type_string() }}) as kind,
        cast(reference as {{ dbt.type_string() }}) as reference,
        cast(detail as {{ dbt.type_string() }}) as detail,
        cast(amount as decimal(18, 2)) as amount,
        cast(occurred_at as {{ dbt.type_timestamp() }}) as occurred_at
    from entries
)

-- the physical order is the point of the model (see above)
select * from final
order by customer_key

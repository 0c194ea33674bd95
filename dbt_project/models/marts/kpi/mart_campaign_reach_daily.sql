{#- Campaign reach the dashboards can sum under any date range and person filter, exactly.
    A person counts once per campaign and event type in a date range [start, end]: on the
    first day in the range they had such an event, i.e. the day whose previous event day is
    null or before `start`. Counting those days needs no distinct over people, so one row per
    (campaign, event type, person attributes, event day, previous event day) with the number
    of people is enough. The person attributes are customer_360's, as the dashboard filters.
    The sequencing is int_campaign_touch_days' (incremental, per person); the attributes move
    daily (RFM with the as-of date), so this join and count run over every touch day. -#}

with

touch_days as (
    select * from {{ ref('int_campaign_touch_days') }}
),

customers as (
    select * from {{ ref('customer_360') }}
),

with_people as (
    select
        touch_days.campaign_id,
        touch_days.event_type,
        customers.region,
        customers.acquisition_channel,
        customers.rfm_segment,
        touch_days.event_date,
        touch_days.previous_event_date
    from touch_days
    left join customers
        on touch_days.customer_key = customers.customer_key
),

aggregated as (
    select
        campaign_id,
        event_type,
        region,
        acquisition_channel,
        rfm_segment,
        count(*) as people,
        event_date,
        previous_event_date
    from with_people
    group by
        campaign_id,
        event_type,
        region,
        acquisition_channel,
        rfm_segment,
        event_date,
        previous_event_date
),

final as (
    select
        cast(campaign_id as {{ dbt.type_string() }}) as campaign_id,
        cast(event_type as {{ dbt.type_string() }}) as event_type,
        cast(region as {{ dbt.type_string() }}) as region,
        cast(acquisition_channel as {{ dbt.type_string() }}) as acquisition_channel,
        cast(rfm_segment as {{ dbt.type_string() }}) as rfm_segment,
        cast(people as {{ dbt.type_bigint() }}) as people,
        cast(event_date as date) as event_date,
        cast(previous_event_date as date) as previous_event_date
    from aggregated
)

select * from final

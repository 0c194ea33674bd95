{#- Campaign reach the dashboards can sum under any date range and person filter, exactly.
    A person counts once per campaign and event type in a date range [start, end]: on the
    first day in the range they had such an event, i.e. the day whose previous event day is
    null or before `start`. Counting those days needs no distinct over people, so one row per
    (campaign, event type, person attributes, event day, previous event day) with the number
    of people is enough. The person attributes are customer_360's, as the dashboard filters. -#}

with

campaign_events as (
    select * from {{ ref('fct_campaign_events') }}
),

customers as (
    select * from {{ ref('customer_360') }}
),

touch_days as (
    select distinct
        campaign_id,
        event_type,
        customer_key,
        event_date
    from campaign_events
    where customer_key is not null
),

sequenced as (
    select
        campaign_id,
        event_type,
        customer_key,
        event_date,
        lag(event_date) over (
            partition by campaign_id, event_type, customer_key
            order by event_date
        ) as previous_event_date
    from touch_days
),

with_people as (
    select
        sequenced.campaign_id,
        sequenced.event_type,
        customers.region,
        customers.acquisition_channel,
        customers.rfm_segment,
        sequenced.event_date,
        sequenced.previous_event_date
    from sequenced
    left join customers
        on sequenced.customer_key = customers.customer_key
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

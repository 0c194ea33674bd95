{#- Campaign reach the dashboards can sum under any date range and person filter, exactly.
    A person counts once per campaign and event type in a date range [start, end]: on the
    first day in the range they had such an event, i.e. the day whose previous event day is
    null or before `start`. Counting those days needs no distinct over people, so one row per
    (campaign, event type, person attributes, event day, previous event day) with the number
    of people is enough. The person attributes are customer_360's, as the dashboard filters.
    The sequencing is int_campaign_touch_days' (incremental, per person); the attributes move
    daily (RFM with the as-of date), so this join and count run over every touch day, on an
    integer per attribute combination. -#}

with

touch_days as (
    select * from {{ ref('int_campaign_touch_days') }}
),

customers as (
    select * from {{ ref('customer_360') }}
),

-- the attribute combinations people fall in: a few hundred, so the 20M touch days are joined
-- and grouped on one integer instead of three strings (about 40 % less time at large)
segments as (
    select
        region,
        acquisition_channel,
        rfm_segment,
        row_number() over (order by region, acquisition_channel, rfm_segment) as segment_id
    from (
        select distinct
            region,
            acquisition_channel,
            rfm_segment
        from customers
    ) as combinations
),

customer_segments as (
    select
        customers.customer_key,
        segments.segment_id
    from customers
    inner join segments
        on customers.region is not distinct from segments.region
        and customers.acquisition_channel is not distinct from segments.acquisition_channel
        and customers.rfm_segment is not distinct from segments.rfm_segment
),

aggregated as (
    select
        touch_days.campaign_id,
        touch_days.event_type,
        customer_segments.segment_id,
        touch_days.event_date,
        touch_days.previous_event_date,
        count(*) as people
    from touch_days
    left join customer_segments
        on touch_days.customer_key = customer_segments.customer_key
    group by
        touch_days.campaign_id,
        touch_days.event_type,
        customer_segments.segment_id,
        touch_days.event_date,
        touch_days.previous_event_date
),

-- a touch day of a person customer_360 does not know gets null attributes, which a known
-- person's combination can share: summed again so the grain stays one row per combination
with_attributes as (
    select
        aggregated.campaign_id,
        aggregated.event_type,
        segments.region,
        segments.acquisition_channel,
        segments.rfm_segment,
        sum(aggregated.people) as people,
        aggregated.event_date,
        aggregated.previous_event_date
    from aggregated
    left join segments
        on aggregated.segment_id = segments.segment_id
    group by
        aggregated.campaign_id,
        aggregated.event_type,
        segments.region,
        segments.acquisition_channel,
        segments.rfm_segment,
        aggregated.event_date,
        aggregated.previous_event_date
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
    from with_attributes
)

select * from final

{{
    config(
        materialized='incremental',
        unique_key=['kind', 'entry_id'],
        incremental_strategy='delete+insert',
        on_schema_change='fail',
    )
}}
{#- The model's watermark, read once: macro newest_value runs a query per call. #}
{%- set watermark = incremental_watermark() if is_incremental() %}

{#- Every order, ticket and campaign touch of a person, stored in customer_key order so that
    reading one person's timeline (the Customer 360 page) touches a few row groups instead of
    scanning the facts (min/max zone maps prune by customer_key).
    Incremental: a run rewrites the entries of the fact rows written since its last build
    (new rows, new versions, rows an identity merge moved to another person: the key is the
    fact's own id, so an entry leaves its old person wherever it was), and every entry of a
    campaign whose name changed since (the name is part of `detail`). The rows a day appends
    are sorted among themselves only: a few row groups each lookup also reads. -#}

with

orders as (
    select * from {{ ref('fct_orders') }}
    {%- if is_incremental() %}
    where _dbt_updated_at > {{ watermark }}
    {%- endif %}
),

tickets as (
    select * from {{ ref('fct_tickets') }}
    {%- if is_incremental() %}
    where _dbt_updated_at > {{ watermark }}
    {%- endif %}
),

campaigns as (
    select * from {{ ref('dim_campaigns') }}
),

staged_campaigns as (
    select * from {{ ref('stg_raw__campaigns') }}
),

{%- if is_incremental() %}

-- The campaign export re-delivers running campaigns (their spend moves), so a new version
-- alone must not rewrite all their entries: only a changed name makes entries stale.
reloaded_campaigns as (
    select campaign_id
    from staged_campaigns
    where _loaded_at > {{ watermark }}
),

-- All stored entries of a campaign carry the same name (a rename rewrites every one of
-- them), so one entry per campaign tells whether its name is still current.
sampled_entries as (
    select
        reference as campaign_id,
        min(entry_id) as entry_id,
        {{ first_by('detail', 'entry_id') }} as detail
    from {{ this }}
    where kind = 'campaign'
        and reference in (select campaign_id from reloaded_campaigns)
    group by reference
),

-- fct_campaign_events is read by three separate scans, not one CTE: DuckDB materialises a
-- CTE read more than once, and that copied all 20M events at 1M customers (3-4 s a day).
renamed_campaigns as (
    select sampled_entries.campaign_id
    from sampled_entries
    inner join {{ ref('fct_campaign_events') }} as sampled_events
        on sampled_events.event_id = sampled_entries.entry_id
    left join campaigns
        on campaigns.campaign_id = sampled_entries.campaign_id
    where sampled_entries.detail is distinct from
        concat_ws(' · ', campaigns.campaign_name, sampled_events.event_type)
),

campaign_events as (
    select * from {{ ref('fct_campaign_events') }}
    where _dbt_updated_at > {{ watermark }}
    union all
    select * from {{ ref('fct_campaign_events') }}
    where campaign_id in (select campaign_id from renamed_campaigns)
        and _dbt_updated_at <= {{ watermark }}
),

{%- else %}

campaign_events as (
    select * from {{ ref('fct_campaign_events') }}
),

{%- endif %}

order_entries as (
    select
        customer_key,
        'order' as kind,
        order_id as entry_id,
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
        ticket_id as entry_id,
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
        campaign_events.event_id as entry_id,
        campaign_events.campaign_id as reference,
        concat_ws(' · ', campaigns.campaign_name, campaign_events.event_type) as detail,
        cast(null as decimal(18, 2)) as amount,
        campaign_events.occurred_at
    from campaign_events
    left join campaigns
        on campaign_events.campaign_id = campaigns.campaign_id
),

-- The largest input first: with the campaign events last, the full build's sort ran out of
-- memory under a limit where it spills in this order (medium: 600 MB, docs/decisions.md).
entries as (
    select * from campaign_entries
    union all
    select * from order_entries
    union all
    select * from ticket_entries
),

final as (
    select
        cast(customer_key as {{ dbt.type_string() }}) as customer_key,
        cast(kind as {{ dbt.type_string() }}) as kind,
        cast(entry_id as {{ dbt.type_string() }}) as entry_id,
        cast(reference as {{ dbt.type_string() }}) as reference,
        cast(detail as {{ dbt.type_string() }}) as detail,
        cast(amount as decimal(18, 2)) as amount,
        cast(occurred_at as {{ dbt.type_timestamp() }}) as occurred_at,
        {{ run_started_timestamp() }} as _dbt_updated_at
    from entries
)

-- the physical order is the point of the model (see above)
select * from final
order by customer_key

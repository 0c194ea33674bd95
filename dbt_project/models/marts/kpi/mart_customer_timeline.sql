{{
    config(
        materialized='incremental',
        unique_key=['kind', 'entry_id'],
        incremental_strategy='delete+insert',
        on_schema_change='fail',
    )
}}

{#- Every order, ticket and campaign touch of a person, stored in customer_key order so that
    reading one person's timeline (the Customer 360 page) touches a few row groups instead of
    scanning the facts (min/max zone maps prune by customer_key).
    Incremental: the facts stamp each row with the dbt invocation that wrote it, so a run
    rewrites only the entries of fact rows written by builds the timeline has not taken in
    yet (new rows, new versions, rows moved to a merged person), even if an earlier build
    stopped before reaching this model. Entries hold fact columns only (a campaign's name is
    joined when read), so nothing else can make an entry stale. -#}

with

orders as (
    select * from {{ ref('fct_orders') }}
    {{ rows_not_taken_in('_dbt_invocation_id', '_source_invocation_id') }}
),

tickets as (
    select * from {{ ref('fct_tickets') }}
    {{ rows_not_taken_in('_dbt_invocation_id', '_source_invocation_id') }}
),

campaign_events as (
    select * from {{ ref('fct_campaign_events') }}
    {{ rows_not_taken_in('_dbt_invocation_id', '_source_invocation_id') }}
),

order_entries as (
    select
        customer_key,
        'order' as kind,
        order_id as entry_id,
        order_id as reference,
        order_status as detail,
        net_revenue as amount,
        ordered_at as occurred_at,
        _dbt_invocation_id as _source_invocation_id
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
        created_at as occurred_at,
        _dbt_invocation_id as _source_invocation_id
    from tickets
),

campaign_entries as (
    select
        customer_key,
        'campaign' as kind,
        event_id as entry_id,
        campaign_id as reference,
        event_type as detail,
        cast(null as decimal(18, 2)) as amount,
        occurred_at,
        _dbt_invocation_id as _source_invocation_id
    from campaign_events
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
        cast(entry_id as {{ dbt.type_string() }}) as entry_id,
        cast(reference as {{ dbt.type_string() }}) as reference,
        cast(detail as {{ dbt.type_string() }}) as detail,
        cast(amount as decimal(18, 2)) as amount,
        cast(occurred_at as {{ dbt.type_timestamp() }}) as occurred_at,
        cast(_source_invocation_id as {{ dbt.type_string() }}) as _source_invocation_id
    from entries
)

-- the physical order is the point of the model (see above)
select * from final
order by customer_key

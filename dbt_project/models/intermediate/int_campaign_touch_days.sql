{#- Each person's distinct days per campaign and event type, with their previous such day: what
    mart_campaign_reach_daily counts, kept so a daily build sequences only the persons whose
    campaign events changed (docs/decisions.md § Dashboards) instead of 20 M events.
    A person whose events all moved away (an identity merge) has no touch day left to replace
    theirs, and delete+insert deletes only keys present in the batch: the batch carries one
    placeholder row (null campaign) for each such person, so their old rows are deleted, and
    the post-hook removes the placeholders. -#}
{{
    config(
        materialized='incremental',
        unique_key='customer_key',
        incremental_strategy='delete+insert',
        on_schema_change='fail',
        post_hook="delete from {{ this }} where _dbt_updated_at = {{ run_started_timestamp() }} and campaign_id is null",
    )
}}

with

campaign_events as (
    select * from {{ ref('fct_campaign_events') }}
),

{% if is_incremental() %}
changed_customers as (
    {{ changed_customer_keys([ref('fct_campaign_events')], incremental_watermark()) }}
),
{% endif %}

touch_days as (
    select distinct
        campaign_id,
        event_type,
        customer_key,
        event_date
    from campaign_events
    where customer_key is not null
    {%- if is_incremental() %}
        and customer_key in (select changed_customers.customer_key from changed_customers)
    {%- endif %}
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

{% if is_incremental() %}
departed_customers as (
    select
        cast(null as {{ dbt.type_string() }}) as campaign_id,
        cast(null as {{ dbt.type_string() }}) as event_type,
        changed_customers.customer_key,
        cast(null as date) as event_date,
        cast(null as date) as previous_event_date
    from changed_customers
    where changed_customers.customer_key not in (
        select touch_days.customer_key from touch_days
    )
),
{% endif %}

rebuilt as (
    select * from sequenced
    {%- if is_incremental() %}
    union all
    select * from departed_customers
    {%- endif %}
),

final as (
    select
        cast(campaign_id as {{ dbt.type_string() }}) as campaign_id,
        cast(event_type as {{ dbt.type_string() }}) as event_type,
        cast(customer_key as {{ dbt.type_string() }}) as customer_key,
        cast(event_date as date) as event_date,
        cast(previous_event_date as date) as previous_event_date,
        {{ run_started_timestamp() }} as _dbt_updated_at
    from rebuilt
)

select * from final

{#- One row per resolved person: what customer_360 aggregates per person (survivorship over
    the person's contacts, and their orders, tickets and email engagement), kept incrementally.
    A daily run rebuilds only the persons whose contacts or fact rows changed since the last
    build, and first deletes the persons who no longer have a contact (merged into another);
    customer_360 adds the population-relative scores over all rows. Rules: docs/decisions.md
    § KPI definitions; the incremental scheme: § dbt warehouse core. -#}
{{
    config(
        materialized='incremental',
        unique_key='customer_key',
        incremental_strategy='delete+insert',
        on_schema_change='fail',
        pre_hook="{% if is_incremental() %}delete from {{ this }} where customer_key not in (select customer_key from {{ ref('int_contacts_unified') }}){% endif %}",
    )
}}
{#- The model's watermark, read once: macro newest_value runs a query per call. #}
{%- set watermark = incremental_watermark() if is_incremental() %}
{%- set survivor_columns = ['full_name', 'email_normalized', 'phone_normalized', 'company', 'country', 'region', 'city', 'owner'] -%}
{%- set survivor_order = 'source_priority, updated_at desc nulls last, source_system, source_contact_id' -%}
{%- set acquisition_order = 'case when acquisition_channel is null then 1 else 0 end, created_at, source_priority, source_system, source_contact_id' -%}
{%- set stages = ['lead', 'mql', 'sql', 'opportunity', 'customer'] -%}
{#- A contact's content is fixed by its version (updated_at): raw rejects a second record with
    the same key and version, so these columns tell every change of a person's contacts. -#}
{%- set contact_version_columns = ['source_system', 'source_contact_id', 'updated_at', 'source_priority'] -%}

-- depends_on: {{ ref('stg_raw__campaigns') }} (read on incremental runs only)
with

contact_fingerprints as (
    select
        customer_key,
        {{ group_fingerprint(contact_version_columns) }} as contacts_fingerprint
    from {{ ref('int_contacts_unified') }}
    group by customer_key
),

{% if is_incremental() %}
-- Persons whose set of contact versions differs from the stored one: new persons, changed
-- contacts, and contacts an identity merge or split moved in or out.
changed_contacts as (
    select contact_fingerprints.customer_key
    from contact_fingerprints
    left join {{ this }} as built
        on built.customer_key = contact_fingerprints.customer_key
    where built.customer_key is null
        or built.contacts_fingerprint <> contact_fingerprints.contacts_fingerprint
),

-- A campaign loaded again may have changed channel, moving its events in or out of the email
-- counts of everyone it reached.
reloaded_campaigns as (
    select campaign_id
    from {{ ref('stg_raw__campaigns') }}
    where _loaded_at > {{ watermark }}
),

changed_persons as (
    select customer_key from changed_contacts
    union
    {{ changed_customer_keys([ref('fct_orders'), ref('fct_tickets'), ref('fct_campaign_events')], watermark) }}
    union
    select customer_key
    from {{ ref('fct_campaign_events') }}
    where campaign_id in (select campaign_id from reloaded_campaigns)
),

persons as (
    select contact_fingerprints.*
    from contact_fingerprints
    inner join changed_persons
        on changed_persons.customer_key = contact_fingerprints.customer_key
),
{% else %}
persons as (
    select * from contact_fingerprints
),
{% endif %}

{#- Rows of the persons being built (all rows on a full build). -#}
{%- set of_persons -%}
    {%- if is_incremental() %}
    where customer_key in (select customer_key from persons)
    {%- endif %}
{%- endset %}

contacts as (
    select * from {{ ref('int_contacts_unified') }}
    {{ of_persons }}
),

orders as (
    select * from {{ ref('fct_orders') }}
    {{ of_persons }}
),

tickets as (
    select * from {{ ref('fct_tickets') }}
    {{ of_persons }}
),

campaign_events as (
    select * from {{ ref('fct_campaign_events') }}
    {{ of_persons }}
),

email_campaigns as (
    select campaign_id from {{ ref('dim_campaigns') }}
    where channel = 'email'
),

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

-- Each fact is read once (a CTE read twice is materialised whole): its counts and the
-- person's latest interaction with it come out of one aggregate.
order_facts as (
    select
        customer_key,
        nullif(count(case when is_revenue then 1 end), 0) as orders,
        sum(case when is_revenue then net_revenue end) as net_revenue,
        min(case when is_revenue then order_date end) as first_order_date,
        max(case when is_revenue then order_date end) as last_order_date,
        -- an order of any status is an interaction the person started
        max(ordered_at) as last_ordered_at
    from orders
    where customer_key is not null
    group by customer_key
),

ticket_facts as (
    select
        customer_key,
        count(*) as tickets,
        count(case when not is_resolved then 1 end) as open_tickets,
        avg(cast(csat_score as {{ kpi_type_double() }})) as avg_csat_score,
        max(created_at) as last_ticket_at
    from tickets
    where customer_key is not null
    group by customer_key
),

-- One row per person, campaign and event type among the events that count: any event of an
-- email campaign (email engagement counts campaigns, not events: a person opening one email
-- three times has opened one email) and opens, clicks and conversions of any channel
-- (interactions the person started).
engagements as (
    select
        campaign_events.customer_key,
        campaign_events.campaign_id,
        campaign_events.event_type,
        email_campaigns.campaign_id is not null as is_email,
        max(campaign_events.occurred_at) as last_occurred_at
    from campaign_events
    left join email_campaigns
        on campaign_events.campaign_id = email_campaigns.campaign_id
    where campaign_events.customer_key is not null
        and (
            email_campaigns.campaign_id is not null
            or campaign_events.event_type in ('open', 'click', 'conversion')
        )
    group by
        campaign_events.customer_key,
        campaign_events.campaign_id,
        campaign_events.event_type,
        email_campaigns.campaign_id
),

-- Email columns stay null for a person without an email-campaign event.
event_facts as (
    select
        customer_key,
        count(case when is_email then 1 end) > 0 as has_email_events,
        {%- for column, event_type in [('emails_sent', 'sent'), ('emails_delivered', 'delivered'), ('emails_opened', 'open'), ('emails_clicked', 'click')] %}
        count(case when is_email and event_type = '{{ event_type }}' then 1 end) as {{ column }},
        {%- endfor %}
        count(case when is_email and event_type = 'unsubscribe' then 1 end) > 0 as has_unsubscribed,
        max(case when event_type in ('open', 'click', 'conversion') then last_occurred_at end)
            as last_engaged_at
    from engagements
    group by customer_key
),

last_interactions as (
    select
        customer_key,
        max(interaction_at) as last_interaction_at
    from (
        select customer_key, last_ordered_at as interaction_at from order_facts
        union all
        select customer_key, last_ticket_at as interaction_at from ticket_facts
        union all
        select customer_key, last_engaged_at as interaction_at from event_facts
    ) as interactions
    group by customer_key
),

-- Fact columns stay null for a person without such facts (customer_360 tells "no orders"
-- from a null `orders`).
final as (
    select
        cast(persons.customer_key as {{ dbt.type_string() }}) as customer_key,
        {%- for column in survivor_columns %}
        cast(contact_rollup.{{ column }} as {{ dbt.type_string() }}) as {{ column }},
        {%- endfor %}
        cast(contact_rollup.acquisition_channel as {{ dbt.type_string() }}) as acquisition_channel,
        cast(contact_rollup.acquisition_campaign_id as {{ dbt.type_string() }})
            as acquisition_campaign_id,
        cast(contact_rollup.source_identities as {{ dbt.type_bigint() }}) as source_identities,
        cast(contact_rollup.lifecycle_stage_rank as {{ dbt.type_int() }}) as lifecycle_stage_rank,
        {%- for stage in stages %}
        cast(contact_rollup.{{ stage }}_at as {{ dbt.type_timestamp() }}) as {{ stage }}_at,
        {%- endfor %}
        cast(contact_rollup.first_seen_at as {{ dbt.type_timestamp() }}) as first_seen_at,
        cast(contact_rollup.has_source_consent as {{ dbt.type_boolean() }}) as has_source_consent,
        cast(order_facts.orders as {{ dbt.type_bigint() }}) as orders,
        cast(order_facts.net_revenue as decimal(18, 2)) as net_revenue,
        cast(order_facts.first_order_date as date) as first_order_date,
        cast(order_facts.last_order_date as date) as last_order_date,
        cast(ticket_facts.tickets as {{ dbt.type_bigint() }}) as tickets,
        cast(ticket_facts.open_tickets as {{ dbt.type_bigint() }}) as open_tickets,
        cast(ticket_facts.avg_csat_score as {{ kpi_type_double() }}) as avg_csat_score,
        {%- for column in ['emails_sent', 'emails_delivered', 'emails_opened', 'emails_clicked'] %}
        cast(case when event_facts.has_email_events then event_facts.{{ column }} end as {{ dbt.type_bigint() }})
            as {{ column }},
        {%- endfor %}
        cast(case when event_facts.has_email_events then event_facts.has_unsubscribed end as {{ dbt.type_boolean() }})
            as has_unsubscribed,
        cast(last_interactions.last_interaction_at as {{ dbt.type_timestamp() }})
            as last_interaction_at,
        persons.contacts_fingerprint,
        {{ run_started_timestamp() }} as _dbt_updated_at
    from persons
    inner join contact_rollup
        on persons.customer_key = contact_rollup.customer_key
    left join order_facts
        on persons.customer_key = order_facts.customer_key
    left join ticket_facts
        on persons.customer_key = ticket_facts.customer_key
    left join event_facts
        on persons.customer_key = event_facts.customer_key
    left join last_interactions
        on persons.customer_key = last_interactions.customer_key
)

select * from final

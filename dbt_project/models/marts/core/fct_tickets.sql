{{
    config(
        materialized='incremental',
        unique_key='ticket_id',
        incremental_strategy='delete+insert',
        on_schema_change='fail',
    )
}}

with tickets as (

    -- Only rows that can differ from the built ones go on to incremental_changes.
    {{ rows_to_recheck(ref('stg_raw__tickets'), moved_contacts(ref('int_contacts_resolved'))) }}

),

identities as (

    select * from {{ ref('int_contacts_resolved') }}

),

business_calendar as (

    select * from {{ ref('int_business_calendar') }}

),

sla_targets as (

    select * from {{ ref('sla_targets') }}

),

joined as (

    select
        tickets.ticket_id,
        identities.customer_key,
        tickets.channel,
        tickets.category,
        tickets.priority,
        tickets.ticket_status,
        tickets.agent,
        tickets.reopen_count,
        tickets.csat_score,
        tickets.created_at,
        -- A response or resolution stamped before creation is unusable, not negative.
        case when tickets.first_response_at >= tickets.created_at then tickets.first_response_at end as first_response_at,
        case when tickets.resolved_at >= tickets.created_at then tickets.resolved_at end as resolved_at,
        tickets._load_id,
        tickets._loaded_at

    from tickets
    left join identities
        on identities.contact_key = tickets.contact_key

),

changed as (

    {{ incremental_changes('joined', 'ticket_id', ['customer_key']) }}

),

working_days as (

    select * from business_calendar
    where is_working_day

),

-- Business time: the part of [created_at, end) that falls inside each working day's window;
-- dbt.datediff(start, end) returns end - start, so every overlap is non-negative.
first_response_business as (

    select
        changed.ticket_id,
        sum({{ dbt.datediff(
            'greatest(changed.created_at, working_days.work_start_at)',
            'least(changed.first_response_at, working_days.work_end_at)',
            'second') }}) as business_seconds

    from changed
    inner join working_days
        on working_days.work_end_at > changed.created_at
        and working_days.work_start_at < changed.first_response_at
    group by changed.ticket_id

),

resolution_business as (

    select
        changed.ticket_id,
        sum({{ dbt.datediff(
            'greatest(changed.created_at, working_days.work_start_at)',
            'least(changed.resolved_at, working_days.work_end_at)',
            'second') }}) as business_seconds

    from changed
    inner join working_days
        on working_days.work_end_at > changed.created_at
        and working_days.work_start_at < changed.resolved_at
    group by changed.ticket_id

),

durations as (

    select
        changed.*,
        floor({{ dbt.datediff('changed.created_at', 'changed.first_response_at', 'second') }} / 60) as first_response_minutes,
        floor({{ dbt.datediff('changed.created_at', 'changed.resolved_at', 'second') }} / 60) as resolution_minutes,
        case when changed.first_response_at is not null
            then floor(coalesce(first_response_business.business_seconds, 0) / 60)
        end as first_response_business_minutes,
        case when changed.resolved_at is not null
            then floor(coalesce(resolution_business.business_seconds, 0) / 60)
        end as resolution_business_minutes

    from changed
    left join first_response_business
        on first_response_business.ticket_id = changed.ticket_id
    left join resolution_business
        on resolution_business.ticket_id = changed.ticket_id

),

with_sla as (

    select
        durations.*,
        sla_targets.sla_clock,
        sla_targets.first_response_minutes as sla_first_response_minutes,
        sla_targets.resolution_minutes as sla_resolution_minutes,
        case when sla_targets.sla_clock = 'calendar'
            then durations.first_response_minutes
            else durations.first_response_business_minutes
        end as sla_measured_first_response_minutes,
        case when sla_targets.sla_clock = 'calendar'
            then durations.resolution_minutes
            else durations.resolution_business_minutes
        end as sla_measured_resolution_minutes

    from durations
    left join sla_targets
        on sla_targets.priority = durations.priority

),

final as (

    select
        cast(ticket_id as varchar) as ticket_id,
        cast(customer_key as varchar) as customer_key,
        cast(channel as varchar) as channel,
        cast(category as varchar) as category,
        cast(priority as varchar) as priority,
        cast(ticket_status as varchar) as ticket_status,
        cast(agent as varchar) as agent,
        cast(reopen_count as integer) as reopen_count,
        cast(csat_score as integer) as csat_score,
        cast(first_response_minutes as bigint) as first_response_minutes,
        cast(resolution_minutes as bigint) as resolution_minutes,
        cast(first_response_business_minutes as bigint) as first_response_business_minutes,
        cast(resolution_business_minutes as bigint) as resolution_business_minutes,
        cast(sla_first_response_minutes as integer) as sla_first_response_minutes,
        cast(sla_resolution_minutes as integer) as sla_resolution_minutes,
        cast(
            coalesce(sla_measured_first_response_minutes > sla_first_response_minutes, false)
            or coalesce(sla_measured_resolution_minutes > sla_resolution_minutes, false)
            as boolean
        ) as is_sla_breached,
        cast(reopen_count > 0 as boolean) as is_reopened,
        -- Settled by the first response: resolved, never reopened, and resolved within the
        -- one-touch window after the first response (no interaction counts in the exports).
        cast(
            ticket_status in ('solved', 'closed')
            and reopen_count = 0
            and resolved_at is not null
            and first_response_at is not null
            and {{ dbt.datediff('first_response_at', 'resolved_at', 'minute') }}
                <= {{ var('one_touch_window_minutes') }}
            as boolean
        ) as is_one_touch,
        cast(ticket_status in ('solved', 'closed') as boolean) as is_resolved,
        cast(csat_score is not null as boolean) as has_csat,
        cast(created_at as timestamp) as created_at,
        cast(first_response_at as timestamp) as first_response_at,
        cast(resolved_at as timestamp) as resolved_at,
        cast({{ reporting_date('created_at') }} as date) as created_date,
        cast(_load_id as varchar) as _load_id,
        cast(_loaded_at as timestamp) as _loaded_at,
        cast(_previous_customer_key as varchar) as _previous_customer_key,
        cast('{{ invocation_id }}' as varchar) as _dbt_invocation_id,
        {{ run_started_timestamp() }} as _dbt_updated_at

    from with_sla

)

select * from final

{#- Service quality by the month a ticket was created (reporting time zone) × channel ×
    category × agent, with roll-up rows labelled 'ALL': (channel, category), (channel),
    (agent) and the whole month. Durations come from fct_tickets in calendar and business
    minutes. -#}
{%- set durations = ['first_response_minutes', 'resolution_minutes', 'first_response_business_minutes', 'resolution_business_minutes'] -%}

with

tickets as (
    select * from {{ ref('fct_tickets') }}
),

prepared as (
    select
        {{ kpi_month('created_date') }} as ticket_month,
        coalesce(channel, 'unknown') as channel,
        coalesce(category, 'unknown') as category,
        coalesce(agent, 'unassigned') as agent,
        csat_score,
        {%- for duration in durations %}
        {{ duration }},
        {%- endfor %}
        is_resolved,
        is_sla_breached,
        is_reopened,
        is_one_touch
    from tickets
),

aggregated as (
    select
        ticket_month,
        coalesce(channel, 'ALL') as channel,
        coalesce(category, 'ALL') as category,
        coalesce(agent, 'ALL') as agent,
        count(*) as tickets,
        count(case when is_resolved then 1 end) as resolved_tickets,
        count(csat_score) as csat_responses,
        {{ kpi_csat_rate('csat_score') }} as csat_rate,
        avg(cast(csat_score as {{ kpi_type_double() }})) as avg_csat_score,
        {%- for duration in durations %}
        {{ kpi_percentile(duration, 0.5) }} as {{ duration }}_p50,
        {{ kpi_percentile(duration, 0.9) }} as {{ duration }}_p90,
        {%- endfor %}
        count(case when is_sla_breached then 1 end) as sla_breached_tickets,
        count(case when is_resolved and is_reopened then 1 end) as reopened_tickets,
        count(case when is_resolved and is_one_touch then 1 end) as one_touch_tickets
    from prepared
    group by grouping sets (
        (ticket_month, channel, category, agent),
        (ticket_month, channel, category),
        (ticket_month, channel),
        (ticket_month, agent),
        (ticket_month)
    )
),

final as (
    select
        cast(ticket_month as date) as ticket_month,
        cast(channel as {{ dbt.type_string() }}) as channel,
        cast(category as {{ dbt.type_string() }}) as category,
        cast(agent as {{ dbt.type_string() }}) as agent,
        cast(tickets as {{ dbt.type_bigint() }}) as tickets,
        cast(resolved_tickets as {{ dbt.type_bigint() }}) as resolved_tickets,
        cast(csat_responses as {{ dbt.type_bigint() }}) as csat_responses,
        cast(csat_rate as {{ kpi_type_double() }}) as csat_rate,
        cast(avg_csat_score as {{ kpi_type_double() }}) as avg_csat_score,
        cast({{ kpi_safe_divide('csat_responses', 'tickets') }} as {{ kpi_type_double() }})
            as survey_response_rate,
        {%- for duration in durations %}
        cast({{ duration }}_p50 as {{ kpi_type_double() }}) as {{ duration }}_p50,
        cast({{ duration }}_p90 as {{ kpi_type_double() }}) as {{ duration }}_p90,
        {%- endfor %}
        cast(sla_breached_tickets as {{ dbt.type_bigint() }}) as sla_breached_tickets,
        cast({{ kpi_safe_divide('sla_breached_tickets', 'tickets') }} as {{ kpi_type_double() }})
            as sla_breach_rate,
        cast(reopened_tickets as {{ dbt.type_bigint() }}) as reopened_tickets,
        cast({{ kpi_safe_divide('reopened_tickets', 'resolved_tickets') }} as {{ kpi_type_double() }})
            as reopen_rate,
        cast(one_touch_tickets as {{ dbt.type_bigint() }}) as one_touch_tickets,
        cast({{ kpi_safe_divide('one_touch_tickets', 'resolved_tickets') }} as {{ kpi_type_double() }})
            as one_touch_rate
    from aggregated
)

select * from final

{#- Lifecycle funnel of resolved persons by the month they entered the funnel (became a lead,
    in the reporting time zone) × acquisition channel × acquisition campaign, with roll-up rows
    labelled 'ALL' (all campaigns of a channel; all channels of a month).
    A person has reached a stage when their furthest lifecycle stage is at or past it; durations
    between stages use the stage timestamps and are only measured when both are known. -#}
{%- set stages = ['lead', 'mql', 'sql', 'opportunity', 'customer'] -%}
{%- set stage_counts = ['leads', 'mqls', 'sqls', 'opportunities', 'customers'] -%}

with

customers as (
    select * from {{ ref('customer_360') }}
),

persons as (
    select
        customer_key,
        coalesce(acquisition_channel, 'unknown') as acquisition_channel,
        coalesce(acquisition_campaign_id, 'none') as acquisition_campaign_id,
        {{ kpi_month(reporting_date('coalesce(lead_at, first_seen_at)')) }} as lead_month,
        -- everyone in customer_360 entered the funnel, even without a recorded stage
        case lifecycle_stage
            {%- for stage in stages %}
            when '{{ stage }}' then {{ loop.index }}
            {%- endfor %}
            else 1
        end as stage_rank,
        {%- for stage in stages %}
        {{ stage }}_at{{ "," if not loop.last }}
        {%- endfor %}
    from customers
),

durations as (
    select
        *,
        {%- for stage in stages[1:] %}
        {{ kpi_days_between(stages[loop.index0] ~ '_at', stage ~ '_at') }}
            as days_{{ stages[loop.index0] }}_to_{{ stage }},
        {%- endfor %}
        {{ kpi_days_between('lead_at', 'customer_at') }} as sales_cycle_days
    from persons
),

aggregated as (
    select
        lead_month,
        coalesce(acquisition_channel, 'ALL') as acquisition_channel,
        coalesce(acquisition_campaign_id, 'ALL') as acquisition_campaign_id,
        {%- for stage in stages %}
        count(case when stage_rank >= {{ loop.index }} then 1 end) as {{ stage_counts[loop.index0] }},
        {%- endfor %}
        {%- for stage in stages[1:] %}
        {{ kpi_median('days_' ~ stages[loop.index0] ~ '_to_' ~ stage) }}
            as median_days_{{ stages[loop.index0] }}_to_{{ stage }},
        {%- endfor %}
        {{ kpi_median('sales_cycle_days') }} as median_sales_cycle_days,
        avg(cast(sales_cycle_days as {{ kpi_type_double() }})) as avg_sales_cycle_days
    from durations
    group by grouping sets (
        (lead_month, acquisition_channel, acquisition_campaign_id),
        (lead_month, acquisition_channel),
        (lead_month)
    )
),

final as (
    select
        cast(lead_month as date) as lead_month,
        cast(acquisition_channel as {{ dbt.type_string() }}) as acquisition_channel,
        cast(acquisition_campaign_id as {{ dbt.type_string() }}) as acquisition_campaign_id,
        {%- for column in stage_counts %}
        cast({{ column }} as {{ dbt.type_bigint() }}) as {{ column }},
        {%- endfor %}
        {%- for stage in stages[1:] %}
        cast({{ kpi_safe_divide(stage_counts[loop.index0 + 1], stage_counts[loop.index0]) }} as {{ kpi_type_double() }})
            as {{ stages[loop.index0] }}_to_{{ stage }}_rate,
        {%- endfor %}
        cast({{ kpi_safe_divide('customers', 'leads') }} as {{ kpi_type_double() }})
            as lead_to_customer_rate,
        {%- for stage in stages[1:] %}
        cast(median_days_{{ stages[loop.index0] }}_to_{{ stage }} as {{ kpi_type_double() }})
            as median_days_{{ stages[loop.index0] }}_to_{{ stage }},
        {%- endfor %}
        cast(median_sales_cycle_days as {{ kpi_type_double() }}) as median_sales_cycle_days,
        cast(avg_sales_cycle_days as {{ kpi_type_double() }}) as avg_sales_cycle_days
    from aggregated
)

select * from final

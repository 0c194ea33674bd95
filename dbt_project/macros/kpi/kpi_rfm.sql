{#- RFM scoring and segments (rules in docs/decisions.md § KPI definitions).

    Recency and monetary scores are quintiles among customers with orders, computed with
    cume_dist so that equal values always get equal scores (ntile would split ties at random):
    score = ceil(5 × cume_dist), ordered so that 5 is best (most recent, highest spend).
    Frequency is a small integer where most customers tie at 1 order, so quintiles would not
    separate anyone: it is scored on fixed order-count thresholds from `kpi_rfm_frequency_thresholds`
    (orders needed for F = 2, 3, 4, 5). -#}

{% macro kpi_rfm_quintile_score(order_by) -%}
    cast(ceil(5 * cume_dist() over (order by {{ order_by }})) as integer)
{%- endmacro %}

{% macro kpi_rfm_frequency_score(orders) -%}
    {%- set thresholds = var('kpi_rfm_frequency_thresholds') -%}
    {%- if thresholds | length != 4 -%}
        {{ exceptions.raise_compiler_error("kpi_rfm_frequency_thresholds needs 4 order counts (for F = 2, 3, 4, 5), got " ~ thresholds) }}
    {%- endif -%}
    case
        when {{ orders }} >= {{ thresholds[3] }} then 5
        when {{ orders }} >= {{ thresholds[2] }} then 4
        when {{ orders }} >= {{ thresholds[1] }} then 3
        when {{ orders }} >= {{ thresholds[0] }} then 2
        else 1
    end
{%- endmacro %}

{#- Segment from the recency (R) and frequency (F) scores; first matching rule wins and the
    rules cover all 25 (R, F) cells. -#}
{% macro kpi_rfm_segment(r, f) -%}
    case
        when {{ r }} is null or {{ f }} is null then null
        when {{ r }} >= 4 and {{ f }} >= 4 then 'Champions'
        when {{ r }} >= 3 and {{ f }} >= 3 then 'Loyal'
        when {{ r }} >= 3 and {{ f }} = 2 then 'Potential Loyalist'
        when {{ r }} >= 4 and {{ f }} = 1 then 'New'
        when {{ r }} = 1 and {{ f }} >= 4 then 'Can''t Lose'
        when {{ r }} <= 2 and {{ f }} >= 3 then 'At Risk'
        when {{ r }} = 1 then 'Lost'
        else 'Hibernating'
    end
{%- endmacro %}

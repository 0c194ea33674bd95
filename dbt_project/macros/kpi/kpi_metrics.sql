{#- One definition per KPI formula. Models call these macros instead of repeating the
    arithmetic, so a definition changes in one place. Formulas are documented in
    models/marts/kpi/_kpi__models.yml and docs/metrics.md. -#}

{#- numerator / denominator as a double; null (not 0, not an error) when the denominator is 0
    or null, so an empty group reads "no data" rather than "0 %". -#}
{% macro kpi_safe_divide(numerator, denominator) -%}
    case
        when {{ denominator }} is null or {{ denominator }} = 0 then null
        else cast({{ numerator }} as {{ kpi_type_double() }}) / {{ denominator }}
    end
{%- endmacro %}

{#- CSAT: share of survey responses scoring 4 or 5 (top-2-box) among all responses. -#}
{% macro kpi_csat_rate(score) -%}
    {{ kpi_safe_divide(
        'count(case when ' ~ score ~ ' >= ' ~ var('kpi_csat_satisfied_min_score') ~ ' then 1 end)',
        'count(' ~ score ~ ')'
    ) }}
{%- endmacro %}

{#- Average order value: net revenue / completed orders. Money, rounded to cents. -#}
{% macro kpi_average_order_value(net_revenue, orders) -%}
    cast({{ kpi_safe_divide(net_revenue, orders) }} as decimal(18, 2))
{%- endmacro %}

{#- Customer acquisition cost: marketing spend / new customers. Money, rounded to cents. -#}
{% macro kpi_customer_acquisition_cost(spend, new_customers) -%}
    cast({{ kpi_safe_divide(spend, new_customers) }} as decimal(18, 2))
{%- endmacro %}

{#- Return on marketing investment: (attributed revenue - spend) / spend. 0 = break-even. -#}
{% macro kpi_roi(attributed_revenue, spend) -%}
    {{ kpi_safe_divide('(' ~ attributed_revenue ~ ') - (' ~ spend ~ ')', spend) }}
{%- endmacro %}

{#- Days from one event to a later one (positive when `to_at` is after `from_at`). -#}
{% macro kpi_days_between(from_at, to_at) -%}
    {{ dbt.datediff(from_at, to_at, 'day') }}
{%- endmacro %}

{#- Double-precision type for rates and ratios (dbt.type_float() is a 4-byte float on DuckDB). -#}
{% macro kpi_type_double() -%}
    {{ return(adapter.dispatch('kpi_type_double')()) }}
{%- endmacro %}

{% macro default__kpi_type_double() -%}
    double precision
{%- endmacro %}

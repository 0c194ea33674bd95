{#- Dates shared by the KPI marts. -#}

{#- The date every "as of" metric (recency, active, churn, partial months) is measured at:
    the `kpi_as_of_date` var when set, else the latest order date in fct_orders — never the
    wall clock, so a rebuild of the same data gives the same numbers. -#}
{% macro kpi_as_of_date() -%}
    {%- if var('kpi_as_of_date') -%}
        cast('{{ var("kpi_as_of_date") }}' as date)
    {%- else -%}
        (select max(order_date) from {{ ref('fct_orders') }})
    {%- endif -%}
{%- endmacro %}

{% macro kpi_month(date_expression) -%}
    cast({{ dbt.date_trunc('month', date_expression) }} as date)
{%- endmacro %}

{#- Last day of the month that starts on `month_start`. -#}
{% macro kpi_month_end(month_start) -%}
    cast({{ dbt.dateadd('day', -1, dbt.dateadd('month', 1, month_start)) }} as date)
{%- endmacro %}

{#- Month starts from `start_month` to `end_month` inclusive, as a select with one column
    `month_start`; both arguments are SQL expressions (scalar subqueries are fine). -#}
{% macro kpi_month_spine(start_month, end_month) -%}
    select
        cast({{ dbt.dateadd('month', 'series.generated_number - 1', start_month) }} as date)
            as month_start
    from ({{ dbt.generate_series(var('kpi_max_months')) }}) as series
    where {{ dbt.dateadd('month', 'series.generated_number - 1', start_month) }}
        <= {{ end_month }}
{%- endmacro %}

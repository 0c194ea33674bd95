{#- Percentiles and medians for the KPI marts.
    Ordered-set aggregates are not spelled the same everywhere, so they go through
    adapter.dispatch: the default is the SQL:2008 form (Postgres, Snowflake, Redshift, SQL Server),
    DuckDB uses its own quantile_cont. Another adapter adds `<adapter>__kpi_percentile`.
    Both interpolate linearly between the two nearest ranks (pandas' default as well). -#}

{% macro kpi_percentile(expression, fraction) -%}
    {{ return(adapter.dispatch('kpi_percentile')(expression, fraction)) }}
{%- endmacro %}

{% macro default__kpi_percentile(expression, fraction) -%}
    percentile_cont({{ fraction }}) within group (order by {{ expression }})
{%- endmacro %}

{% macro duckdb__kpi_percentile(expression, fraction) -%}
    quantile_cont({{ expression }}, {{ fraction }})
{%- endmacro %}

{% macro kpi_median(expression) -%}
    {{ kpi_percentile(expression, 0.5) }}
{%- endmacro %}

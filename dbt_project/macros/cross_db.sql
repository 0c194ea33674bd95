{#- Portable helpers dbt's cross-database macros do not cover. Each dispatches, so an adapter
    (spark, postgres, ...) can add its own implementation without touching the models. -#}

{#- regexp_replace of every match (global). -#}
{% macro regexp_replace_all(expression, pattern, replacement) -%}
    {{ return(adapter.dispatch('regexp_replace_all', 'crm_analytics')(expression, pattern, replacement)) }}
{%- endmacro %}

{% macro default__regexp_replace_all(expression, pattern, replacement) -%}
    regexp_replace({{ expression }}, '{{ pattern }}', '{{ replacement }}', 'g')
{%- endmacro %}

{% macro spark__regexp_replace_all(expression, pattern, replacement) -%}
    regexp_replace({{ expression }}, '{{ pattern }}', '{{ replacement }}')
{%- endmacro %}

{#- Wall-clock time in `timezone` of a UTC timestamp (timestamp without time zone in, out). -#}
{% macro from_utc(expression, timezone) -%}
    {{ return(adapter.dispatch('from_utc', 'crm_analytics')(expression, timezone)) }}
{%- endmacro %}

{% macro default__from_utc(expression, timezone) -%}
    cast((cast({{ expression }} as timestamp) at time zone 'UTC') at time zone '{{ timezone }}' as timestamp)
{%- endmacro %}

{% macro spark__from_utc(expression, timezone) -%}
    from_utc_timestamp({{ expression }}, '{{ timezone }}')
{%- endmacro %}

{#- UTC timestamp of a wall-clock time in `timezone`. -#}
{% macro to_utc(expression, timezone) -%}
    {{ return(adapter.dispatch('to_utc', 'crm_analytics')(expression, timezone)) }}
{%- endmacro %}

{% macro default__to_utc(expression, timezone) -%}
    cast((cast({{ expression }} as timestamp) at time zone '{{ timezone }}') at time zone 'UTC' as timestamp)
{%- endmacro %}

{% macro spark__to_utc(expression, timezone) -%}
    to_utc_timestamp({{ expression }}, '{{ timezone }}')
{%- endmacro %}

{#- Day in the reporting time zone of a UTC timestamp. -#}
{% macro reporting_date(expression) -%}
    cast({{ from_utc(expression, var('reporting_timezone')) }} as date)
{%- endmacro %}

{#- `expression` on the group's first row in `order_by` order: an ordered aggregate, so a
    survivorship rule over many columns is one aggregate instead of a window per column. -#}
{% macro first_by(expression, order_by) -%}
    {{ return(adapter.dispatch('first_by', 'crm_analytics')(expression, order_by)) }}
{%- endmacro %}

{% macro default__first_by(expression, order_by) -%}
    (array_agg({{ expression }} order by {{ order_by }}))[1]
{%- endmacro %}

{% macro duckdb__first_by(expression, order_by) -%}
    first({{ expression }} order by {{ order_by }})
{%- endmacro %}

{#- An order-independent fingerprint of a group's rows over `columns`: equal when the group
    holds the same rows, so an incremental model can tell which groups changed since it stored
    the previous value. DuckDB xors a 64-bit hash per row (its hash may change with a DuckDB
    upgrade: every group then reads as changed once); the default hashes the sorted rows. -#}
{% macro group_fingerprint(columns) -%}
    {{ return(adapter.dispatch('group_fingerprint', 'crm_analytics')(columns)) }}
{%- endmacro %}

{% macro default__group_fingerprint(columns) -%}
    {%- set parts = [] -%}
    {%- for column in columns -%}
        {%- do parts.append("coalesce(cast(" ~ column ~ " as " ~ dbt.type_string() ~ "), '')") -%}
        {%- if not loop.last %}{% do parts.append("'|'") %}{% endif -%}
    {%- endfor -%}
    {{ dbt.hash(dbt.listagg(dbt.concat(parts), "';'", "order by " ~ dbt.concat(parts))) }}
{%- endmacro %}

{% macro duckdb__group_fingerprint(columns) -%}
    bit_xor(hash({{ columns | join(', ') }}))
{%- endmacro %}

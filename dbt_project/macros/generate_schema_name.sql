{#- Custom schema names are used as they are (staging, intermediate, marts, seeds) instead of
    dbt's default <target_schema>_<custom>: the warehouse layout is part of the published
    interface that dashboards and quality checks read. -#}
{% macro generate_schema_name(custom_schema_name, node) -%}
    {%- if custom_schema_name is none -%}
        {{ target.schema }}
    {%- else -%}
        {{ custom_schema_name | trim }}
    {%- endif -%}
{%- endmacro %}

{#- dbt's hook for a data test's `where` config (it wraps the tested model in a subquery),
    overridden to give `where` one placeholder, `__latest_write__`: the rows the model's latest
    write produced, `_dbt_updated_at` = the model's newest. On a full build that is every row,
    after a daily run the day's rows, and a `dbt test` on its own checks the latest batch,
    never nothing. The newest stamp is read when the test runs (macro newest_value, a literal
    so that DuckDB skips the row groups of older writes): a timestamp rendered into the YAML
    would be frozen by partial parsing. Any other `where`
    keeps dbt's behaviour, and the var `data_tests_whole_tables: true` makes the placeholder
    mean every row (to re-check a table after a failure or a changed test).

    Only where it is sound (docs/decisions.md § dbt warehouse core, "Data tests of incremental
    models check their latest write"): per-row tests (not_null, accepted_values, accepted_range,
    expression_is_true), because a row is only changed by being rewritten and so was checked
    when written; uniqueness on exactly a delete+insert model's unique_key, because the batch's
    keys are deleted before it is inserted; and the child side of a relationship whose parent
    never loses a key. Relationships to a parent that can lose keys, aggregates and
    reconciliations stay whole. -#}
{% macro get_where_subquery(relation) -%}
    {%- set where = config.get('where', '') -%}
    {%- if where and '__latest_write__' in where -%}
        {%- if var('data_tests_whole_tables') -%}
            {%- set latest_write = 'true' -%}
        {%- else -%}
            {%- set latest_write -%}
                _dbt_updated_at = {{ newest_value(relation, '_dbt_updated_at') }}
            {%- endset -%}
        {%- endif -%}
        {%- set filtered -%}
            (select * from {{ relation }} where {{ where | replace('__latest_write__', latest_write) }}) dbt_subquery
        {%- endset -%}
        {%- do return(filtered) -%}
    {%- endif -%}
    {%- do return(adapter.dispatch('get_where_subquery', 'dbt')(relation)) -%}
{%- endmacro %}

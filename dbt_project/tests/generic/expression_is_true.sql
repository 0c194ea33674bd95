{#- Every row (optionally only those matching `where`) satisfies `expression`. On a column, the
    expression is appended to the column name: `column_name ~ ' ' ~ expression`. -#}
{% test expression_is_true(model, expression, column_name=none) %}
    {%- set predicate = (column_name ~ ' ' ~ expression) if column_name else expression %}
    select *
    from {{ model }}
    where not coalesce(({{ predicate }}), false)
{% endtest %}

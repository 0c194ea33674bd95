{#- The model has as many rows as `compare_model` (optionally filtered on either side). -#}
{% test equal_row_count(model, compare_model, where_model=none, where_compare=none) %}
    with model_rows as (
        select count(*) as row_count from {{ model }}
        {% if where_model %}where {{ where_model }}{% endif %}
    ),

    compare_rows as (
        select count(*) as row_count from {{ compare_model }}
        {% if where_compare %}where {{ where_compare }}{% endif %}
    )

    select
        model_rows.row_count as model_row_count,
        compare_rows.row_count as compare_row_count
    from model_rows
    cross join compare_rows
    where model_rows.row_count <> compare_rows.row_count
{% endtest %}

{#- The combination of `combination_of_columns` is unique over the model (a composite key). -#}
{% test unique_combination_of_columns(model, combination_of_columns) %}
    {%- set columns = combination_of_columns | join(', ') %}
    with validation as (
        select
            {{ columns }},
            count(*) as row_count
        from {{ model }}
        group by {{ columns }}
    )

    select * from validation
    where row_count > 1
{% endtest %}

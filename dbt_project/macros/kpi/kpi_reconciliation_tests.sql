{#- Reconciliation test: an aggregate over the tested model equals an aggregate over another
    relation, within an absolute tolerance. Fails with one row showing both sides.

    data_tests:
      - kpi_aggregate_equals:
          name: mart_kpi_monthly_revenue_equals_fct_orders
          arguments:
            expression: sum(revenue)
            where: "region = 'ALL'"          # optional, on the tested model
            compare_model: ref('fct_orders')
            compare_expression: sum(net_revenue)
            compare_where: is_revenue        # optional, on compare_model
            tolerance: 0.01                  # optional, default 0
    Without compare_model, compare_expression is a constant (e.g. 0 for a signed difference). -#}
{% test kpi_aggregate_equals(model, expression, compare_expression, compare_model=none, where=none, compare_where=none, tolerance=0) %}

with

actual as (
    select {{ expression }} as actual_value
    from {{ model }}
    {% if where %}where {{ where }}{% endif %}
),

expected as (
    select {{ compare_expression }} as expected_value
    {% if compare_model %}
    from {{ compare_model }}
    {% if compare_where %}where {{ compare_where }}{% endif %}
    {% endif %}
),

final as (
    select
        actual.actual_value,
        expected.expected_value
    from actual
    cross join expected
    where
        abs(coalesce(actual.actual_value, 0) - coalesce(expected.expected_value, 0)) > {{ tolerance }}
        or (actual.actual_value is null) <> (expected.expected_value is null)
)

select * from final

{% endtest %}

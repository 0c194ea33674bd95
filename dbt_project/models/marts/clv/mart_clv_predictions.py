"""Score every customer with the latest CLV model run (clv/warehouse.py)."""

from clv import warehouse


def model(dbt, session):
    runs = dbt.ref("mart_clv_model_runs").df()
    orders = warehouse.completed_orders(dbt.ref("fct_orders"))
    scored = warehouse.score_customers(orders, warehouse.latest_run(runs))
    return warehouse.typed(scored, "mart_clv_predictions")

"""Score every customer at the as-of date with the newest CLV model run (clv/warehouse.py)."""

from clv import warehouse


def model(dbt, session):
    runs = dbt.ref("mart_clv_model_runs").df()
    scored = warehouse.score_customers(
        dbt.ref("fct_orders"),
        warehouse.latest_run(runs),
        # A direct argument: dbt finds meta_get calls statically, not inside `x or y` here.
        dbt.config.meta_get("as_of_date"),
    )
    return warehouse.typed(scored, "mart_clv_predictions")

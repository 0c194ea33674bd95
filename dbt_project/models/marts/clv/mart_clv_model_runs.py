"""Fit BG/NBD + Gamma-Gamma on completed orders and append the run to the history (clv/)."""

from clv import warehouse


def model(dbt, session):
    orders = warehouse.completed_orders(dbt.ref("fct_orders"))
    cutoff = dbt.config.meta_get("calibration_cutoff") or None
    return warehouse.typed(warehouse.fit_run(orders, cutoff), "mart_clv_model_runs")

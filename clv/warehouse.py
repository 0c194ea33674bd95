"""The CLV step of the warehouse, called by the dbt Python models in models/marts/clv/.

`scheduled_fit` fits both models when a refit is due (clv/refit.py) and returns the run record
appended to `marts.mart_clv_model_runs`; `score_customers` scores every customer at the as-of
date with the newest run's parameters for `marts.mart_clv_predictions`. The per-customer
summaries are computed in DuckDB, next to the orders. Column names and types come from the
models' YAML (the dbt contract), so the frames handed back to dbt always match it.
"""

from __future__ import annotations

import json
import time
import uuid
from datetime import UTC, date, datetime
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pyarrow as pa
import yaml

from clv.bgnbd import BgNbdParams
from clv.config import DAYS_PER_UNIT, ChurnRiskBands, ClvConfig, load_config
from clv.gamma_gamma import GammaGammaParams
from clv.model import fit_summary
from clv.predict import predict
from clv.refit import configured_settings, refit_reason
from crm.settings import DBT_PROJECT_DIR

MODELS_YAML = DBT_PROJECT_DIR / "models" / "marts" / "clv" / "_clv__models.yml"
ORDER_COLUMNS = "customer_key, order_date, net_revenue"
ORDER_FILTER = "is_revenue and customer_key is not null"

# The conventions of clv/summary.py (summary_from_transactions), in SQL: one purchase per
# customer and calendar day with its orders' net revenue summed; the first day is the birth;
# monetary_value is the mean of the repeat days (the first day's amount left out), null
# without one. `{as_of}` and `{days_per_unit}` are filled in by `customer_summaries`.
SUMMARY_SQL = """
with purchase_days as (
    select
        customer_key,
        cast(order_date as date) as purchase_date,
        sum(net_revenue) as amount
    from completed_orders
    where cast(order_date as date) <= date '{as_of}'
    group by all
),

customers as (
    select
        customer_key,
        count(*) - 1 as frequency,
        min(purchase_date) as first_purchase_date,
        max(purchase_date) as last_purchase_date,
        sum(amount) - arg_min(amount, purchase_date) as repeat_amount
    from purchase_days
    group by all
),

final as (
    select
        customer_key,
        frequency,
        date_diff('day', first_purchase_date, last_purchase_date) / {days_per_unit} as recency,
        date_diff('day', first_purchase_date, date '{as_of}') / {days_per_unit} as "T",
        cast(repeat_amount as double) / nullif(frequency, 0) as monetary_value
    from customers
    order by customer_key
)

select * from final
"""


def contract_columns(model: str, models_yaml: Path = MODELS_YAML) -> dict[str, str]:
    """Column name → data_type of `model`, in the order its YAML declares them."""
    spec = yaml.safe_load(models_yaml.read_text(encoding="utf-8"))
    for node in spec["models"]:
        if node["name"] == model:
            return {c["name"]: c["data_type"] for c in node["columns"]}
    raise KeyError(f"{models_yaml}: no model named {model}")


def typed(frame: pd.DataFrame, model: str) -> pa.Table:
    """`frame` cast to the contract of `model` (names, order and types), as an Arrow table."""
    columns = contract_columns(model)
    casts = ", ".join(f'cast("{name}" as {kind}) as "{name}"' for name, kind in columns.items())
    con = duckdb.connect()
    try:
        con.register("frame", frame.reset_index(drop=True)[list(columns)])
        return con.sql(f"select {casts} from frame").to_arrow_table()
    finally:
        con.close()


def completed(orders: duckdb.DuckDBPyRelation) -> duckdb.DuckDBPyRelation:
    """Revenue orders of resolved customers: the purchases the models describe."""
    return orders.filter(ORDER_FILTER).project(ORDER_COLUMNS)


def completed_orders(orders: duckdb.DuckDBPyRelation) -> pd.DataFrame:
    """`completed(orders)` read into pandas."""
    return completed(orders).df()


def as_of_date(orders: duckdb.DuckDBPyRelation, pinned: date | str | None = None) -> date | None:
    """The date the CLV is measured at: `pinned` (the dbt vars `clv_calibration_cutoff`, else
    `kpi_as_of_date`) when set, else the latest order date in `orders` — the KPI marts' as-of
    date (docs/decisions.md); None when there are no orders."""
    if pinned:
        return pd.Timestamp(pinned).date()
    latest = orders.aggregate("max(order_date)").fetchall()[0][0]
    return None if latest is None else pd.Timestamp(latest).date()


def customer_summaries(
    orders: duckdb.DuckDBPyRelation, as_of: date, time_unit: str
) -> pd.DataFrame:
    """Per-customer frequency, recency, T and monetary_value at `as_of` (inclusive) from
    completed orders, indexed by customer_key, as `summary_from_transactions` computes them."""
    sql = SUMMARY_SQL.format(as_of=as_of.isoformat(), days_per_unit=DAYS_PER_UNIT[time_unit])
    summary = orders.query("completed_orders", sql).df().set_index("customer_key")
    summary["frequency"] = summary["frequency"].astype(np.int64)
    summary["monetary_value"] = summary["monetary_value"].astype(float)
    return summary


def _empty(model: str) -> pd.DataFrame:
    return pd.DataFrame(columns=list(contract_columns(model)))


def fit_run(
    orders: duckdb.DuckDBPyRelation | pd.DataFrame,
    cutoff: date | str | None = None,
    config: ClvConfig | None = None,
    reason: str | None = None,
) -> pd.DataFrame:
    """Fit on completed orders at the cut-off (default: the latest order date); the run record,
    or no row when there is no order on or before it (e.g. `dbt build --empty`). `reason`
    (why this fit was made) is recorded with it."""
    config = config or load_config()
    if isinstance(orders, pd.DataFrame):
        con = duckdb.connect()
        try:
            return fit_run(con.from_df(orders), cutoff, config, reason)
        finally:
            con.close()
    as_of = as_of_date(orders, cutoff)
    if as_of is None:
        return _empty("mart_clv_model_runs")
    started = time.perf_counter()
    summary = customer_summaries(orders, as_of, config.time_unit)
    if summary.empty:
        return _empty("mart_clv_model_runs")
    used = orders.filter(f"cast(order_date as date) <= date '{as_of.isoformat()}'")
    orders_used = used.aggregate("count(*)").fetchall()[0][0]
    fitted = fit_summary(summary, config)
    diagnostics = fitted.as_dict()["diagnostics"]
    record = {
        "model_run_id": uuid.uuid4().hex,
        # What refit_reason compares with clv.yml to tell whether this fit still serves.
        **configured_settings(config),
        "refit_reason": reason,
        **fitted.bgnbd.params.as_dict(),
        **fitted.gamma_gamma.params.as_dict(),
        "bgnbd_log_likelihood": fitted.bgnbd.diagnostics.log_likelihood,
        "gamma_gamma_log_likelihood": fitted.gamma_gamma.diagnostics.log_likelihood,
        "bgnbd_iterations": fitted.bgnbd.diagnostics.iterations,
        "gamma_gamma_iterations": fitted.gamma_gamma.diagnostics.iterations,
        "customers_used": fitted.n_customers,
        "repeat_customers_used": fitted.n_repeat_customers,
        "orders_used": orders_used,
        "fit_seconds": time.perf_counter() - started,
        "is_bgnbd_converged": fitted.bgnbd.diagnostics.converged,
        "is_gamma_gamma_converged": fitted.gamma_gamma.diagnostics.converged,
        "fit_date": as_of,
        "fitted_at": datetime.now(UTC).replace(tzinfo=None),
        "diagnostics": json.dumps(diagnostics, default=str),
    }
    return pd.DataFrame([record])


def scheduled_fit(
    orders: duckdb.DuckDBPyRelation,
    history: pd.DataFrame | None,
    pinned_as_of: str | None,
    refit_days: int,
    forced: bool,
) -> pd.DataFrame:
    """The run to append to `history` (the run records so far; None before the table exists):
    a fit at the as-of date when one is due (clv/refit.py), else no row, and then the orders
    are read for nothing but their latest date."""
    as_of = as_of_date(orders, pinned_as_of)
    if as_of is None:
        return _empty("mart_clv_model_runs")
    config = load_config()
    reason = refit_reason(latest_run(history), as_of, refit_days, forced, config)
    if reason is None:
        return _empty("mart_clv_model_runs")
    return fit_run(completed(orders), as_of, config, reason)


def latest_run(runs: pd.DataFrame | None) -> pd.Series | None:
    """The most recent run record, or None before the first run."""
    if runs is None or runs.empty:
        return None
    return runs.sort_values("fitted_at").iloc[-1]


def score_customers(
    orders: duckdb.DuckDBPyRelation, run: pd.Series | None, pinned_as_of: str | None = None
) -> pd.DataFrame:
    """One row per customer with a completed order on or before the as-of date, summarised at
    that date and scored with the run's parameters and with the horizon, discount rate and
    churn cut-offs the run recorded."""
    as_of = as_of_date(orders, pinned_as_of)
    if run is None or as_of is None:
        return _empty("mart_clv_predictions")
    base = load_config()
    config = ClvConfig(
        time_unit=run["time_unit"],
        horizon_days=float(run["horizon_days"]),
        annual_discount_rate=float(run["annual_discount_rate"]),
        discount_steps_per_year=base.discount_steps_per_year,
        churn_risk=ChurnRiskBands(
            low_below_p_no_purchase=float(run["low_below_p_no_purchase"]),
            high_min_p_no_purchase=float(run["high_min_p_no_purchase"]),
        ),
        optimizer=base.optimizer,
    )
    summary = customer_summaries(completed(orders), as_of, config.time_unit)
    scored = predict(
        summary,
        BgNbdParams(*(float(run[k]) for k in ("r", "alpha", "a", "b"))),
        GammaGammaParams(*(float(run[k]) for k in ("p", "q", "gamma"))),
        config,
    )
    scored = scored.rename(columns={"T": "t"}).reset_index()
    scored["model_run_id"] = run["model_run_id"]
    scored["fit_date"] = pd.Timestamp(run["fit_date"]).date()
    scored["as_of_date"] = as_of
    scored["fitted_at"] = run["fitted_at"]
    scored["predicted_clv_12m"] = np.round(scored["predicted_clv_12m"], 2)
    return scored[list(contract_columns("mart_clv_predictions"))]

"""The CLV step of the warehouse, called by the dbt Python models in models/marts/clv/.

`fit_run` fits both models on completed orders and returns the one-row run record appended to
`marts.mart_clv_model_runs`; `score_customers` scores every customer with the latest run's
parameters for `marts.mart_clv_predictions`. Column names and types come from the models' YAML
(the dbt contract), so the frames handed back to dbt always match it.
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
from clv.config import ChurnRiskBands, ClvConfig, load_config
from clv.gamma_gamma import GammaGammaParams
from clv.model import fit_summary
from clv.predict import predict
from clv.summary import summary_from_transactions
from crm.settings import DBT_PROJECT_DIR

MODELS_YAML = DBT_PROJECT_DIR / "models" / "marts" / "clv" / "_clv__models.yml"
ORDER_COLUMNS = "customer_key, order_date, net_revenue"
ORDER_FILTER = "is_revenue and customer_key is not null"


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


def completed_orders(orders: duckdb.DuckDBPyRelation) -> pd.DataFrame:
    """Revenue orders of resolved customers: the purchases the models describe."""
    return orders.filter(ORDER_FILTER).project(ORDER_COLUMNS).df()


def fit_run(
    orders: pd.DataFrame, cutoff: date | str | None = None, config: ClvConfig | None = None
) -> pd.DataFrame:
    """Fit at the cut-off (default: the latest order date); the run record, or no row when
    there are no orders at all (e.g. `dbt build --empty`)."""
    config = config or load_config()
    if orders.empty:
        return pd.DataFrame(columns=list(contract_columns("mart_clv_model_runs")))
    started = time.perf_counter()
    summary = summary_from_transactions(
        orders, "customer_key", "order_date", "net_revenue", cutoff, config.time_unit
    )
    fitted = fit_summary(summary, config)
    diagnostics = fitted.as_dict()["diagnostics"]
    record = {
        "model_run_id": uuid.uuid4().hex,
        "time_unit": config.time_unit,
        **fitted.bgnbd.params.as_dict(),
        **fitted.gamma_gamma.params.as_dict(),
        "bgnbd_log_likelihood": fitted.bgnbd.diagnostics.log_likelihood,
        "gamma_gamma_log_likelihood": fitted.gamma_gamma.diagnostics.log_likelihood,
        "bgnbd_iterations": fitted.bgnbd.diagnostics.iterations,
        "gamma_gamma_iterations": fitted.gamma_gamma.diagnostics.iterations,
        "customers_used": fitted.n_customers,
        "repeat_customers_used": fitted.n_repeat_customers,
        "orders_used": int((pd.to_datetime(orders["order_date"]) <= _cutoff(summary)).sum()),
        "fit_seconds": time.perf_counter() - started,
        "horizon_days": config.horizon_days,
        "annual_discount_rate": config.annual_discount_rate,
        "low_below_p_no_purchase": config.churn_risk.low_below_p_no_purchase,
        "high_min_p_no_purchase": config.churn_risk.high_min_p_no_purchase,
        "is_bgnbd_converged": fitted.bgnbd.diagnostics.converged,
        "is_gamma_gamma_converged": fitted.gamma_gamma.diagnostics.converged,
        "fit_date": _cutoff(summary).date(),
        "fitted_at": datetime.now(UTC).replace(tzinfo=None),
        "diagnostics": json.dumps(diagnostics, default=str),
    }
    return pd.DataFrame([record])


def _cutoff(summary: pd.DataFrame) -> pd.Timestamp:
    return pd.Timestamp(summary.attrs["cutoff"])


def latest_run(runs: pd.DataFrame) -> pd.Series | None:
    """The most recent run record, or None before the first run."""
    if runs.empty:
        return None
    return runs.sort_values("fitted_at").iloc[-1]


def score_customers(orders: pd.DataFrame, run: pd.Series | None) -> pd.DataFrame:
    """One row per customer born on or before the run's fit date, scored with its parameters
    and with the horizon, discount rate and churn cut-offs the run recorded."""
    columns = list(contract_columns("mart_clv_predictions"))
    if run is None or orders.empty:
        return pd.DataFrame(columns=columns)
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
    summary = summary_from_transactions(
        orders, "customer_key", "order_date", "net_revenue", run["fit_date"], config.time_unit
    )
    scored = predict(
        summary,
        BgNbdParams(*(float(run[k]) for k in ("r", "alpha", "a", "b"))),
        GammaGammaParams(*(float(run[k]) for k in ("p", "q", "gamma"))),
        config,
    )
    scored = scored.rename(columns={"T": "t"}).reset_index()
    scored["fit_date"] = pd.Timestamp(run["fit_date"]).date()
    scored["model_run_id"] = run["model_run_id"]
    scored["predicted_clv_12m"] = np.round(scored["predicted_clv_12m"], 2)
    return scored[columns]

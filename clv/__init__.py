"""Predictive customer lifetime value: BG/NBD + Gamma-Gamma fitted by maximum likelihood.

`summary_from_transactions` turns transactions into per-customer summaries, `fit_summary` fits
both models, `predict` scores customers; `fit_transactions` chains the first two for the CLI.
"""

from __future__ import annotations

import pandas as pd

from clv.config import ClvConfig, load_config
from clv.model import ClvFit, fit_summary
from clv.predict import predict
from clv.summary import holdout_purchases, summary_from_transactions

__all__ = [
    "ClvConfig",
    "ClvFit",
    "fit_summary",
    "fit_transactions",
    "holdout_purchases",
    "load_config",
    "predict",
    "summary_from_transactions",
]


def fit_transactions(
    df: pd.DataFrame,
    customer_col: str,
    date_col: str,
    amount_col: str,
    config: ClvConfig | None = None,
    cutoff=None,
    time_unit: str | None = None,
) -> dict[str, object]:
    """Summaries at the cut-off, both fits, and the JSON-ready result of `crm clv fit`."""
    config = config or load_config()
    unit = time_unit or config.time_unit
    summary = summary_from_transactions(df, customer_col, date_col, amount_col, cutoff, unit)
    if summary.empty:
        raise ValueError(f"no purchases on or before the cut-off {cutoff}")
    result = fit_summary(summary, config, unit).as_dict()
    calibration_end = summary.attrs.get("cutoff")
    result["diagnostics"]["cutoff"] = calibration_end
    return result

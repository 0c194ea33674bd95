"""Per-customer predictions from fitted BG/NBD and Gamma-Gamma parameters."""

from __future__ import annotations

import numpy as np
import pandas as pd

from clv import bgnbd, gamma_gamma
from clv.bgnbd import BgNbdParams
from clv.config import ClvConfig
from clv.gamma_gamma import GammaGammaParams

CHURN_RISK_BANDS = ("low", "medium", "high")


def churn_risk(p_no_purchase: np.ndarray, config: ClvConfig) -> np.ndarray:
    """Band the probability of no purchase in the horizon with the cut-offs of clv.yml:
    low below low_below_p_no_purchase, high from high_min_p_no_purchase up."""
    bands = config.churn_risk
    p_no_purchase = np.asarray(p_no_purchase, dtype=float)
    return np.select(
        [
            p_no_purchase < bands.low_below_p_no_purchase,
            p_no_purchase < bands.high_min_p_no_purchase,
        ],
        ["low", "medium"],
        default="high",
    )


def discounted_purchases(params: BgNbdParams, x, t_x, T, config: ClvConfig) -> np.ndarray:
    """Expected purchases over the horizon, each period's share discounted to the cut-off.

    With a zero rate this is just E[Y(horizon)]; otherwise the horizon is split into
    `discount_steps_per_year` periods a year and period k's increment of E[Y] is divided by
    (1 + rate) ** (k / steps_per_year).
    """
    horizon = config.horizon_units
    rate = config.annual_discount_rate
    if rate == 0:
        return bgnbd.expected_purchases(params, horizon, x, t_x, T)
    steps = max(1, round(config.discount_steps_per_year * config.horizon_days / 365.0))
    total = np.zeros(len(np.asarray(x)))
    previous = np.zeros_like(total)
    for k in range(1, steps + 1):
        cumulative = bgnbd.expected_purchases(params, horizon * k / steps, x, t_x, T)
        total += (cumulative - previous) / (1.0 + rate) ** (k / config.discount_steps_per_year)
        previous = cumulative
    return total


def predict(
    summary: pd.DataFrame,
    bgnbd_params: BgNbdParams,
    gg_params: GammaGammaParams,
    config: ClvConfig,
) -> pd.DataFrame:
    """Add p_alive, p_no_purchase_12m, predicted_purchases_12m, expected_order_value,
    predicted_clv_12m and churn_risk to a summary (columns frequency, recency, T,
    monetary_value)."""
    x = summary["frequency"].to_numpy(dtype=float)
    t_x = summary["recency"].to_numpy(dtype=float)
    T = summary["T"].to_numpy(dtype=float)
    m = summary["monetary_value"].to_numpy(dtype=float)
    alive = bgnbd.p_alive(bgnbd_params, x, t_x, T)
    order_value = gamma_gamma.expected_order_value(gg_params, x, m)
    # Customers whose repeat orders were all worth nothing were left out of the spend fit;
    # their own mean (0) is the best estimate of what they will spend.
    order_value = np.where((x > 0) & ~(m > 0), 0.0, order_value)
    out = summary.copy()
    out["p_alive"] = alive
    silent = bgnbd.p_no_purchase(bgnbd_params, config.horizon_units, x, t_x, T)
    out["p_no_purchase_12m"] = silent
    out["predicted_purchases_12m"] = bgnbd.expected_purchases(
        bgnbd_params, config.horizon_units, x, t_x, T
    )
    out["expected_order_value"] = order_value
    out["predicted_clv_12m"] = discounted_purchases(bgnbd_params, x, t_x, T, config) * order_value
    out["churn_risk"] = churn_risk(silent, config)
    return out

"""Draw customers from the BG/NBD + Gamma-Gamma processes: known truth for tests and benchmarks.

BG/NBD (FHL 2005): a customer is born with a purchase at time 0, buys at Poisson rate
λ ~ Gamma(r, α) while alive, and after each *repeat* purchase drops out with probability
p ~ Beta(a, b). Gamma-Gamma: each purchase is worth Gamma(p, ν), ν ~ Gamma(q, γ) per customer.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from clv.bgnbd import BgNbdParams
from clv.gamma_gamma import GammaGammaParams


def purchase_times(
    params: BgNbdParams, horizon: np.ndarray, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """Repeat purchases of len(horizon) customers in (0, horizon]: (customer index, time)."""
    n = len(horizon)
    rate = rng.gamma(params.r, 1.0 / params.alpha, n)
    dropout = rng.beta(params.a, params.b, n)
    clock = np.zeros(n)
    active = np.arange(n)
    who, when = [], []
    while active.size:
        clock[active] += rng.exponential(1.0, active.size) / np.maximum(rate[active], 1e-300)
        active = active[clock[active] <= horizon[active]]
        who.append(active)
        when.append(clock[active])
        active = active[rng.random(active.size) >= dropout[active]]
    return np.concatenate(who), np.concatenate(when)


def simulate_summaries(
    params: BgNbdParams,
    T: np.ndarray,
    rng: np.random.Generator,
    spend: GammaGammaParams | None = None,
    holdout: float = 0.0,
) -> pd.DataFrame:
    """Per-customer frequency, recency, T (continuous time) and, with `spend`, the mean repeat
    value; `holdout_frequency` counts purchases in (T, T + holdout]."""
    T = np.asarray(T, dtype=float)
    n = len(T)
    who, when = purchase_times(params, T + holdout, rng)
    calibration = when <= T[who]
    frequency = np.bincount(who[calibration], minlength=n)
    recency = np.zeros(n)
    np.maximum.at(recency, who[calibration], when[calibration])
    out = pd.DataFrame(
        {
            "frequency": frequency,
            "recency": recency,
            "T": T,
            "holdout_frequency": np.bincount(who[~calibration], minlength=n),
        }
    )
    if spend is not None:
        nu = rng.gamma(spend.q, 1.0 / spend.gamma, n)
        # The sum of x Gamma(p, ν) values is Gamma(p·x, ν): draw the mean directly.
        total = rng.gamma(spend.p * np.maximum(frequency, 1), 1.0 / nu)
        out["monetary_value"] = np.where(frequency > 0, total / np.maximum(frequency, 1), np.nan)
    return out


def simulate_transactions(
    params: BgNbdParams,
    spend: GammaGammaParams,
    births: pd.Series,
    end: pd.Timestamp,
    rng: np.random.Generator,
    days_per_unit: float = 7.0,
) -> pd.DataFrame:
    """Dated transactions (customer_id, date, amount) of customers born on `births` (a Series of
    dates indexed by customer id), observed to `end`; the first row of each is the birth."""
    births = pd.to_datetime(births)
    horizon = ((end - births).dt.days.to_numpy() / days_per_unit).astype(float)
    who, when = purchase_times(params, horizon, rng)
    ids = births.index.to_numpy()
    n = len(ids)
    nu = rng.gamma(spend.q, 1.0 / spend.gamma, n)
    customers = np.concatenate([np.arange(n), who])
    offsets = np.concatenate([np.zeros(n), when])
    days = np.floor(offsets * days_per_unit).astype("timedelta64[D]")
    frame = pd.DataFrame(
        {
            "customer_id": ids[customers],
            "date": births.to_numpy()[customers] + days,
            "amount": np.round(rng.gamma(spend.p, 1.0 / nu[customers]), 2),
        }
    )
    return frame.sort_values(["customer_id", "date"], ignore_index=True)

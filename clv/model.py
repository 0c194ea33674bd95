"""Fit both models on a summary table: the one entry point of `crm clv fit` and the dbt models."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from clv import bgnbd, gamma_gamma
from clv.bgnbd import BgNbdFit
from clv.config import ClvConfig
from clv.gamma_gamma import GammaGammaFit


@dataclass(frozen=True)
class ClvFit:
    bgnbd: BgNbdFit
    gamma_gamma: GammaGammaFit
    time_unit: str
    n_customers: int
    n_repeat_customers: int

    def as_dict(self) -> dict[str, object]:
        """The JSON shape printed by `crm clv fit`."""
        return {
            "bgnbd": self.bgnbd.params.as_dict(),
            "gamma_gamma": self.gamma_gamma.params.as_dict(),
            "diagnostics": {
                "time_unit": self.time_unit,
                "n_customers": self.n_customers,
                "n_repeat_customers": self.n_repeat_customers,
                "bgnbd": self.bgnbd.diagnostics.as_dict(),
                "gamma_gamma": self.gamma_gamma.diagnostics.as_dict(),
            },
        }


def fit_summary(summary: pd.DataFrame, config: ClvConfig, time_unit: str | None = None) -> ClvFit:
    """BG/NBD on every customer; Gamma-Gamma on those with repeat purchases of positive value."""
    x = summary["frequency"].to_numpy(dtype=float)
    m = summary["monetary_value"].to_numpy(dtype=float)
    frequency_fit = bgnbd.fit(x, summary["recency"], summary["T"], config.optimizer)
    spenders = (x > 0) & (m > 0)
    spend_fit = gamma_gamma.fit(x[spenders], m[spenders], config.optimizer)
    return ClvFit(
        bgnbd=frequency_fit,
        gamma_gamma=spend_fit,
        time_unit=time_unit or config.time_unit,
        n_customers=len(x),
        n_repeat_customers=int(np.count_nonzero(spenders)),
    )

"""Gamma-Gamma spend model (Fader & Hardie 2013, "The Gamma-Gamma Model of Monetary Value").

A customer's order values are Gamma(p, ν) around their own mean; ν ~ Gamma(q, γ) across
customers. Fitted on repeat customers only: x repeat orders with mean value m (x ≥ 1, m > 0).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.special import digamma, gammaln

from clv.config import OptimizerSettings
from clv.mle import FitDiagnostics, maximise

NAMES = ("p", "q", "gamma")


@dataclass(frozen=True)
class GammaGammaParams:
    p: float
    q: float
    gamma: float

    def as_dict(self) -> dict[str, float]:
        return {"p": self.p, "q": self.q, "gamma": self.gamma}

    @property
    def population_mean(self) -> float:
        """E[M] = pγ/(q−1): the expected order value of a customer with no repeat orders."""
        return self.p * self.gamma / (self.q - 1.0)


@dataclass(frozen=True)
class GammaGammaFit:
    params: GammaGammaParams
    diagnostics: FitDiagnostics


def log_likelihood(params: GammaGammaParams, x: np.ndarray, m: np.ndarray) -> np.ndarray:
    """Per-customer log density of the mean order value m given x orders (the note's eq. 3)."""
    p, q, g = params.p, params.q, params.gamma
    x, m = np.asarray(x, dtype=float), np.asarray(m, dtype=float)
    px = p * x
    return (
        gammaln(px + q)
        - gammaln(px)
        - gammaln(q)
        + q * np.log(g)
        + (px - 1.0) * np.log(m)
        + px * np.log(x)
        - (px + q) * np.log(g + x * m)
    )


class _Means:
    """Repeat customers with the x-only terms evaluated once per distinct x."""

    def __init__(self, x: np.ndarray, m: np.ndarray) -> None:
        self.x, self.m = x, m
        self.log_m = np.log(m)
        self.xm = x * m
        self.total = float(len(x))
        self.ux, self.xi = np.unique(x, return_inverse=True)
        self.wu = np.bincount(self.xi).astype(float)
        self.sum_x_log_m = float(x @ self.log_m)
        self.sum_log_m = float(self.log_m.sum())

    def objective(self, log_params: np.ndarray) -> tuple[float, np.ndarray]:
        p, q, g = np.exp(log_params)
        ux, wu = self.ux, self.wu
        pux = p * ux
        log_gxm = np.log(g + self.xm)
        ll = (
            (gammaln(pux + q) - gammaln(pux) + pux * np.log(ux)) @ wu
            - gammaln(q) * self.total
            + q * np.log(g) * self.total
            + p * self.sum_x_log_m
            - self.sum_log_m
            - (p * self.x + q) @ log_gxm
        )
        d_p = (
            (ux * (digamma(pux + q) - digamma(pux) + np.log(ux))) @ wu
            + self.sum_x_log_m
            - self.x @ log_gxm
        )
        d_q = (
            (digamma(pux + q) @ wu)
            - digamma(q) * self.total
            + np.log(g) * self.total
            - log_gxm.sum()
        )
        d_g = q / g * self.total - ((p * self.x + q) / (g + self.xm)).sum()
        grad = np.array([d_p * p, d_q * q, d_g * g])
        return -float(ll) / self.total, -grad / self.total


def fit(x: np.ndarray, m: np.ndarray, settings: OptimizerSettings) -> GammaGammaFit:
    """Maximum-likelihood Gamma-Gamma parameters from repeat customers' (x, mean value)."""
    x, m = np.asarray(x, dtype=float), np.asarray(m, dtype=float)
    if len(x) == 0:
        raise ValueError("no repeat customers to fit the spend model on")
    if np.any(x < 1) or np.any(~(m > 0)):
        raise ValueError("the spend model needs x >= 1 and a positive mean order value")
    data = _Means(x, m)
    # p = 1, q = 2 puts the prior mean pγ/(q−1) at the observed average order value.
    start = np.array([1.0, 2.0, float(m.mean())])
    params, diagnostics = maximise(data.objective, NAMES, start, data.total, len(x), settings)
    return GammaGammaFit(GammaGammaParams(**params), diagnostics)


def expected_order_value(params: GammaGammaParams, x, m) -> np.ndarray:
    """E[M | x, m] = (γ + x·m)·p / (p·x + q − 1); the population mean when x = 0 (m ignored)."""
    p, q, g = params.p, params.q, params.gamma
    x = np.asarray(x, dtype=float)
    m = np.nan_to_num(np.asarray(m, dtype=float), nan=0.0)
    return np.where(x > 0, (g + x * m) * p / (p * x + q - 1.0), params.population_mean)

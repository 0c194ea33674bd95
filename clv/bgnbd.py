"""BG/NBD (Fader, Hardie & Lee 2005): repeat-purchase frequency with dropout after a purchase.

Per customer: x repeat purchases, the last at t_x, observed for T time units since the first
purchase. Heterogeneity: purchase rate λ ~ Gamma(r, α), dropout probability p ~ Beta(a, b).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.special import betaln, digamma, expit, gammaln, hyp2f1

from clv.config import OptimizerSettings
from clv.mle import FitDiagnostics, maximise

NAMES = ("r", "alpha", "a", "b")


@dataclass(frozen=True)
class BgNbdParams:
    r: float
    alpha: float
    a: float
    b: float

    def as_dict(self) -> dict[str, float]:
        return {"r": self.r, "alpha": self.alpha, "a": self.a, "b": self.b}


@dataclass(frozen=True)
class BgNbdFit:
    params: BgNbdParams
    diagnostics: FitDiagnostics


def log_likelihood(
    params: BgNbdParams, x: np.ndarray, t_x: np.ndarray, T: np.ndarray
) -> np.ndarray:
    """Per-customer log-likelihood, equation (6) of FHL (2005) in log form."""
    r, alpha, a, b = params.r, params.alpha, params.a, params.b
    x, t_x, T = (np.asarray(v, dtype=float) for v in (x, t_x, T))
    head = gammaln(r + x) - gammaln(r) + r * np.log(alpha) + betaln(a, b + x) - betaln(a, b)
    stay = -(r + x) * np.log(alpha + T)
    with np.errstate(divide="ignore", invalid="ignore"):
        drop = np.where(
            x > 0, np.log(a) - np.log(b + x - 1) - (r + x) * np.log(alpha + t_x), -np.inf
        )
    return head + np.logaddexp(stay, drop)


class _Summaries:
    """Identical (x, t_x, T) rows compressed into weights; unique x values indexed, because the
    gamma/beta terms depend on x alone and are the expensive part of each evaluation."""

    def __init__(self, x: np.ndarray, t_x: np.ndarray, T: np.ndarray) -> None:
        # Hash grouping: several times faster than np.unique(axis=0)'s lexicographic sort.
        counts = (
            pd.DataFrame({"x": x, "t_x": t_x, "T": T}).groupby(["x", "t_x", "T"], sort=False).size()
        )
        self.x, self.t_x, self.T = (counts.index.get_level_values(i).to_numpy() for i in range(3))
        self.w = counts.to_numpy(dtype=float)
        self.total = float(self.w.sum())
        self.ux, self.xi = np.unique(self.x, return_inverse=True)
        self.repeat = self.x > 0
        # x-only sums per unique x, so per-row work is O(1) transcendental calls.
        self.wu = np.bincount(self.xi, weights=self.w)

    def objective(self, log_params: np.ndarray) -> tuple[float, np.ndarray]:
        r, alpha, a, b = np.exp(log_params)
        ux, xi, w = self.ux, self.xi, self.w
        x, t_x, T = self.x, self.t_x, self.T

        head_u = gammaln(r + ux) - gammaln(r) + r * np.log(alpha) + betaln(a, b + ux) - betaln(a, b)
        with np.errstate(divide="ignore"):
            drop_const_u = np.where(
                ux > 0, np.log(a) - np.log(np.maximum(b + ux - 1, 1e-300)), -np.inf
            )
        log_aT = np.log(alpha + T)
        log_atx = np.log(alpha + t_x)
        stay = -(r + x) * log_aT
        drop = drop_const_u[xi] - (r + x) * log_atx
        # log-sum-exp by hand, reusing its exponential for the posterior weight of "dropped
        # out after t_x" (w_drop) instead of a second pass of exp.
        gap = drop - stay
        small = np.exp(-np.abs(gap))
        tail = np.maximum(stay, drop) + np.log1p(small)
        w_drop = np.where(gap > 0, 1.0, small) / (1.0 + small)
        w_stay = 1.0 - w_drop
        ll = float(head_u @ self.wu + tail @ w)

        d_r = (
            (digamma(r + ux) - digamma(r) + np.log(alpha)) @ self.wu
            - (w * w_stay) @ log_aT
            - (w * w_drop) @ log_atx
        )
        d_alpha = r / alpha * self.total - (w * (r + x)) @ (
            w_stay / (alpha + T) + w_drop / (alpha + t_x)
        )
        wd_u = np.bincount(xi, weights=w * w_drop, minlength=len(ux))
        inv_bx1_u = np.where(ux > 0, 1.0 / np.maximum(b + ux - 1, 1e-300), 0.0)
        d_a = (digamma(a + b) - digamma(a + b + ux)) @ self.wu + wd_u.sum() / a
        d_b = (digamma(a + b) + digamma(b + ux) - digamma(b) - digamma(a + b + ux)) @ self.wu - (
            wd_u @ inv_bx1_u
        )
        grad = np.array([d_r * r, d_alpha * alpha, d_a * a, d_b * b])
        return -ll / self.total, -grad / self.total


def fit(x: np.ndarray, t_x: np.ndarray, T: np.ndarray, settings: OptimizerSettings) -> BgNbdFit:
    """Maximum-likelihood BG/NBD parameters from per-customer (x, t_x, T)."""
    x, t_x, T = (np.asarray(v, dtype=float) for v in (x, t_x, T))
    _check_summaries(x, t_x, T)
    data = _Summaries(x, t_x, T)
    # Start from a rate of "repeat purchases per unit of observed time" and uninformative dropout.
    rate = max(float(x.sum() / T.sum()), 1e-6)
    start = np.array([1.0, 1.0 / rate, 1.0, 1.0])
    params, diagnostics = maximise(data.objective, NAMES, start, data.total, len(data.w), settings)
    return BgNbdFit(BgNbdParams(**params), diagnostics)


def _check_summaries(x: np.ndarray, t_x: np.ndarray, T: np.ndarray) -> None:
    if len(x) == 0:
        raise ValueError("no customers to fit")
    if np.any(x < 0) or np.any(t_x < 0) or np.any(t_x > T + 1e-9) or np.any(T < 0):
        raise ValueError("summaries must satisfy x >= 0 and 0 <= t_x <= T")
    if np.any((x == 0) & (t_x != 0)):
        raise ValueError("customers without repeat purchases must have t_x = 0")


def _log_odds_dead(params: BgNbdParams, x: np.ndarray, t_x: np.ndarray, T: np.ndarray):
    """log of  a/(b+x-1) · ((α+T)/(α+t_x))^(r+x)  — the odds of having dropped out (x > 0)."""
    r, alpha, a, b = params.r, params.alpha, params.a, params.b
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(
            x > 0,
            np.log(a) - np.log(b + x - 1) + (r + x) * (np.log(alpha + T) - np.log(alpha + t_x)),
            -np.inf,
        )


def p_alive(params: BgNbdParams, x, t_x, T) -> np.ndarray:
    """P(still active at T | x, t_x, T), FHL (2005) eq. (11). 1 for customers with x = 0: in the
    BG/NBD a customer can only drop out right after a repeat purchase."""
    x, t_x, T = (np.asarray(v, dtype=float) for v in (x, t_x, T))
    return expit(-_log_odds_dead(params, x, t_x, T))


def expected_purchases(params: BgNbdParams, t: float, x, t_x, T) -> np.ndarray:
    """E[Y(T, T+t) | x, t_x, T]: expected purchases in the next t units, FHL (2005) eq. (10).

    The term ((α+T)/(α+T+t))^(r+x) · 2F1(r+x, b+x; a+b+x-1; z) is evaluated through Euler's
    transformation as (1-z)^(a-1) · 2F1(a+b-1-r, a-1; a+b+x-1; z) with z = t/(α+T+t): x then
    appears only in the third argument, so the series stays near 1 instead of overflowing for
    customers with many purchases.
    """
    r, alpha, a, b = params.r, params.alpha, params.a, params.b
    x, t_x, T = (np.asarray(v, dtype=float) for v in (x, t_x, T))
    z = t / (alpha + T + t)
    decayed = (1.0 - z) ** (a - 1.0) * hyp2f1(a + b - 1.0 - r, a - 1.0, a + b + x - 1.0, z)
    alive_part = (a + b + x - 1.0) / (a - 1.0) * (1.0 - decayed)
    return alive_part * p_alive(params, x, t_x, T)


def p_no_purchase(params: BgNbdParams, t: float, x, t_x, T) -> np.ndarray:
    """P(X(T, T+t) = 0 | x, t_x, T): no purchase in the next t units.

    Dead at T (probability 1 − p_alive) means no purchase. Alive at T, the posterior rate is
    Gamma(r+x, α+T) (likelihood λ^x e^(−λT) times the Gamma(r, α) prior), and dropout happens
    only right after a purchase, so "no purchase in t" is just "no Poisson event in t":
    E[e^(−λt)] = ((α+T)/(α+T+t))^(r+x). Unlike p_alive this falls below 1 for one-time buyers
    and rises with the time since their first purchase.
    """
    r, alpha = params.r, params.alpha
    x, t_x, T = (np.asarray(v, dtype=float) for v in (x, t_x, T))
    log_odds_dead = _log_odds_dead(params, x, t_x, T)
    silent_if_alive = np.exp(-(r + x) * np.log1p(t / (alpha + T)))
    return expit(log_odds_dead) + expit(-log_odds_dead) * silent_if_alive

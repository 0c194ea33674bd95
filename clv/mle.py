"""Maximum likelihood on log-parameters: the optimiser loop shared by BG/NBD and Gamma-Gamma.

Both models have strictly positive parameters, so they are optimised as log-parameters
(unconstrained, better conditioned) with L-BFGS-B and an analytic gradient. The objective is the
weighted *mean* negative log-likelihood so that tolerances do not depend on the sample size.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
from scipy.optimize import minimize

from clv.config import OptimizerSettings

# Keeps exp(log-parameter) finite; no real data set needs parameters outside [e^-30, e^30].
LOG_PARAM_BOUND = 30.0
HESSIAN_STEP = 1e-5

Objective = Callable[[np.ndarray], tuple[float, np.ndarray]]


@dataclass(frozen=True)
class FitDiagnostics:
    log_likelihood: float
    converged: bool
    iterations: int
    evaluations: int
    message: str
    gradient_norm: float
    fit_seconds: float
    n_customers: int
    n_unique_rows: int
    standard_errors: dict[str, float] = field(default_factory=dict)

    def as_dict(self) -> dict[str, object]:
        return {
            "log_likelihood": self.log_likelihood,
            "converged": self.converged,
            "iterations": self.iterations,
            "evaluations": self.evaluations,
            "message": self.message,
            "gradient_norm": self.gradient_norm,
            "fit_seconds": self.fit_seconds,
            "n_customers": self.n_customers,
            "n_unique_rows": self.n_unique_rows,
            "standard_errors": self.standard_errors,
        }


def maximise(
    objective: Objective,
    names: tuple[str, ...],
    start: np.ndarray,
    total_weight: float,
    n_unique_rows: int,
    settings: OptimizerSettings,
) -> tuple[dict[str, float], FitDiagnostics]:
    """Minimise `objective` (mean negative log-likelihood and its gradient in log-parameters)."""
    started = time.perf_counter()
    result = minimize(
        objective,
        np.log(start),
        jac=True,
        method="L-BFGS-B",
        bounds=[(-LOG_PARAM_BOUND, LOG_PARAM_BOUND)] * len(names),
        options={
            "maxiter": settings.max_iterations,
            "gtol": settings.gradient_tolerance,
            "ftol": settings.function_tolerance,
        },
    )
    seconds = time.perf_counter() - started
    params = np.exp(result.x)
    gradient_norm = float(np.max(np.abs(result.jac)))
    finite = bool(np.isfinite(result.fun)) and bool(np.all(np.isfinite(result.x)))
    diagnostics = FitDiagnostics(
        log_likelihood=float(-result.fun * total_weight),
        converged=finite and (bool(result.success) or gradient_norm <= settings.converged_gradient),
        iterations=int(result.nit),
        evaluations=int(result.nfev),
        message=str(result.message),
        gradient_norm=gradient_norm,
        fit_seconds=seconds,
        n_customers=int(total_weight),
        n_unique_rows=n_unique_rows,
        standard_errors=_standard_errors(objective, result.x, total_weight, names),
    )
    return dict(zip(names, params.tolist(), strict=True)), diagnostics


def _standard_errors(
    objective: Objective, log_params: np.ndarray, total_weight: float, names: tuple[str, ...]
) -> dict[str, float]:
    """Asymptotic standard errors of the parameters from the observed information.

    The Hessian of the total negative log-likelihood in log-parameters comes from central
    differences of the analytic gradient; the delta method maps it back (se(θ) = θ·se(log θ)).
    """
    k = len(log_params)
    hessian = np.empty((k, k))
    for i in range(k):
        step = np.zeros(k)
        step[i] = HESSIAN_STEP
        hessian[i] = (objective(log_params + step)[1] - objective(log_params - step)[1]) / (
            2 * HESSIAN_STEP
        )
    hessian = (hessian + hessian.T) / 2 * total_weight
    try:
        covariance = np.linalg.inv(hessian)
    except np.linalg.LinAlgError:
        return {name: float("nan") for name in names}
    variances = np.diag(covariance)
    se_log = np.sqrt(np.where(variances > 0, variances, np.nan))
    return {
        name: float(np.exp(lp) * s) for name, lp, s in zip(names, log_params, se_log, strict=True)
    }

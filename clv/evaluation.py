"""Out-of-sample checks: predicted vs actual hold-out purchases, p_alive and p_no_purchase as
churn scores."""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np
from scipy.stats import rankdata


@dataclass(frozen=True)
class HoldoutReport:
    customers: int
    mae: float  # mean |predicted − actual| purchases per customer
    correlation: float  # Pearson, per customer
    predicted_total: float
    actual_total: float
    aggregate_error: float  # (predicted − actual) / actual, all customers together
    inactive_share: float  # customers without a hold-out purchase
    auc_p_alive: float  # ROC AUC of p_alive for "purchased in hold-out"
    auc_p_no_purchase: float  # ROC AUC of P(no purchase in hold-out) for "no purchase"

    def as_dict(self) -> dict[str, float]:
        return asdict(self)


def roc_auc(score: np.ndarray, positive: np.ndarray) -> float:
    """Probability that a random positive scores above a random negative (ties count half):
    the Mann-Whitney U statistic over n_pos·n_neg."""
    score = np.asarray(score, dtype=float)
    positive = np.asarray(positive, dtype=bool)
    n_pos, n_neg = int(positive.sum()), int((~positive).sum())
    if n_pos == 0 or n_neg == 0:
        return float("nan")
    ranks = rankdata(score)
    return float((ranks[positive].sum() - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg))


def holdout_report(
    predicted: np.ndarray, actual: np.ndarray, p_alive: np.ndarray, p_no_purchase: np.ndarray
) -> HoldoutReport:
    """Compare expected hold-out purchases with what customers did; p_alive should rank those
    who bought again above those who did not (AUC for "still active"), and the predicted
    probability of no purchase over the hold-out should rank the silent ones above the rest."""
    predicted = np.asarray(predicted, dtype=float)
    actual = np.asarray(actual, dtype=float)
    active = actual > 0
    return HoldoutReport(
        customers=len(actual),
        mae=float(np.abs(predicted - actual).mean()),
        correlation=float(np.corrcoef(predicted, actual)[0, 1]),
        predicted_total=float(predicted.sum()),
        actual_total=float(actual.sum()),
        aggregate_error=float((predicted.sum() - actual.sum()) / actual.sum()),
        inactive_share=float(1.0 - active.mean()),
        auc_p_alive=roc_auc(p_alive, active),
        auc_p_no_purchase=roc_auc(p_no_purchase, ~active),
    )

"""BG/NBD and Gamma-Gamma: the published CDNOW estimates, the likelihoods against their textbook
form, and recovery of known parameters from simulated customers."""

from __future__ import annotations

import dataclasses
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy.optimize import approx_fprime
from scipy.special import beta, gamma, hyp2f1

from clv import (
    bgnbd,
    fit_summary,
    gamma_gamma,
    load_config,
    predict,
    simulate,
    summary_from_transactions,
)
from clv.bgnbd import BgNbdParams
from clv.gamma_gamma import GammaGammaParams

CDNOW = Path(__file__).parent / "fixtures" / "cdnow"
# Fader, Hardie & Lee (2005), Table/§5; Fader & Hardie (2013) note on the Gamma-Gamma model.
PUBLISHED_BGNBD = {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426}
PUBLISHED_BGNBD_LL = -9582.4
PUBLISHED_GG = {"p": 6.25, "q": 3.74, "gamma": 15.44}
CONFIG = load_config()


@pytest.fixture(scope="module")
def cdnow_summary() -> pd.DataFrame:
    return pd.read_csv(CDNOW / "cdnow_summary_39w.csv", index_col="customer_id")


@pytest.fixture(scope="module")
def cdnow_transactions() -> pd.DataFrame:
    return pd.read_csv(CDNOW / "cdnow_sample_transactions.csv", parse_dates=["date"])


def assert_within(fitted: dict[str, float], expected: dict[str, float], rel: float) -> None:
    for name, value in expected.items():
        assert fitted[name] == pytest.approx(value, rel=rel), f"{name}: {fitted[name]} vs {value}"


def test_bgnbd_reproduces_published_cdnow_estimates(cdnow_summary):
    fit = bgnbd.fit(
        cdnow_summary["frequency"], cdnow_summary["recency"], cdnow_summary["T"], CONFIG.optimizer
    )
    assert len(cdnow_summary) == 2357
    assert fit.diagnostics.converged
    assert_within(fit.params.as_dict(), PUBLISHED_BGNBD, rel=0.01)
    assert fit.diagnostics.log_likelihood == pytest.approx(PUBLISHED_BGNBD_LL, abs=0.1)


def test_gamma_gamma_reproduces_published_cdnow_estimates(cdnow_summary):
    repeat = cdnow_summary[cdnow_summary["frequency"] > 0]
    fit = gamma_gamma.fit(repeat["frequency"], repeat["monetary_value"], CONFIG.optimizer)
    assert len(repeat) == 946
    assert fit.diagnostics.converged
    assert_within(fit.params.as_dict(), PUBLISHED_GG, rel=0.01)


def test_summary_from_transactions_matches_the_published_cdnow_summary(
    cdnow_transactions, cdnow_summary
):
    summary = summary_from_transactions(
        cdnow_transactions, "customer_id", "date", "sales", cutoff="1997-09-30"
    )
    published = cdnow_summary.reindex(summary.index)
    assert len(summary) == len(cdnow_summary)
    assert (summary["frequency"] == published["frequency"]).all()
    # The published summary is rounded to 2 decimals.
    for column in ("recency", "T", "monetary_value"):
        ours = summary[column].fillna(0.0)
        assert np.abs(ours - published[column]).max() <= 0.005 + 1e-9, column


def test_fit_on_cdnow_transactions_matches_published_estimates(cdnow_transactions):
    summary = summary_from_transactions(
        cdnow_transactions, "customer_id", "date", "sales", cutoff="1997-09-30"
    )
    fitted = fit_summary(summary, CONFIG)
    assert_within(fitted.bgnbd.params.as_dict(), PUBLISHED_BGNBD, rel=0.01)
    assert_within(fitted.gamma_gamma.params.as_dict(), PUBLISHED_GG, rel=0.01)
    assert fitted.n_repeat_customers == 946


def test_same_day_purchases_count_once_and_the_first_is_the_birth():
    tx = pd.DataFrame(
        {
            "c": ["a", "a", "a", "a", "b"],
            "d": pd.to_datetime(
                [
                    "2024-01-01 09:00",
                    "2024-01-01 18:00",
                    "2024-01-15 00:00",
                    "2024-01-29 00:00",
                    "2024-01-29 12:00",
                ]
            ),
            "v": [10.0, 5.0, 20.0, 40.0, 7.0],
        }
    )
    summary = summary_from_transactions(tx, "c", "d", "v", cutoff="2024-02-12")
    a, b = summary.loc["a"], summary.loc["b"]
    assert (a["frequency"], a["recency"], a["T"], a["monetary_value"]) == (2, 4.0, 6.0, 30.0)
    assert (b["frequency"], b["recency"], b["T"]) == (0, 0.0, 2.0)
    assert math.isnan(b["monetary_value"])
    in_days = summary_from_transactions(tx, "c", "d", "v", cutoff="2024-01-20", time_unit="day")
    assert in_days.loc["a", "frequency"] == 1 and in_days.loc["a", "T"] == 19.0
    assert "b" not in in_days.index  # born after the cut-off


def _bgnbd_likelihood_textbook(p: BgNbdParams, x: int, t_x: float, T: float) -> float:
    """FHL (2005) eq. (6), written as in the paper with plain gamma and beta functions."""
    r, alpha, a, b = p.r, p.alpha, p.a, p.b
    common = gamma(r + x) * alpha**r / gamma(r)
    value = beta(a, b + x) / beta(a, b) * common / (alpha + T) ** (r + x)
    if x > 0:
        value += beta(a + 1, b + x - 1) / beta(a, b) * common / (alpha + t_x) ** (r + x)
    return value


def _gg_density_textbook(p: GammaGammaParams, x: int, m: float) -> float:
    """Fader & Hardie (2013) eq. (3): density of the mean of x order values."""
    px = p.p * x
    return (
        gamma(px + p.q)
        / (gamma(px) * gamma(p.q))
        * p.gamma**p.q
        * m ** (px - 1)
        * x**px
        / (p.gamma + x * m) ** (px + p.q)
    )


def test_log_likelihoods_equal_the_textbook_formulas():
    params = BgNbdParams(0.4, 3.0, 0.9, 2.0)
    rows = [(0, 0.0, 30.0), (1, 5.5, 20.0), (3, 12.0, 39.0), (7, 38.0, 38.5)]
    ours = bgnbd.log_likelihood(params, *map(np.array, zip(*rows, strict=True)))
    textbook = [math.log(_bgnbd_likelihood_textbook(params, *row)) for row in rows]
    np.testing.assert_allclose(ours, textbook, rtol=1e-10)

    spend = GammaGammaParams(5.0, 3.0, 20.0)
    pairs = [(1, 12.0), (2, 30.5), (6, 9.75)]
    ours = gamma_gamma.log_likelihood(spend, *map(np.array, zip(*pairs, strict=True)))
    np.testing.assert_allclose(
        ours, [math.log(_gg_density_textbook(spend, *pair)) for pair in pairs], rtol=1e-10
    )


def test_compressed_objective_gradients_match_finite_differences(cdnow_summary):
    s = cdnow_summary
    frequency_data = bgnbd._Summaries(
        s["frequency"].to_numpy(float), s["recency"].to_numpy(), s["T"].to_numpy()
    )
    point = np.log([0.3, 5.0, 0.7, 2.0])
    value, grad = frequency_data.objective(point)
    np.testing.assert_allclose(
        grad, approx_fprime(point, lambda t: frequency_data.objective(t)[0], 1e-7), atol=1e-5
    )
    # The compressed, weighted objective is the plain mean log-likelihood.
    direct = bgnbd.log_likelihood(BgNbdParams(*np.exp(point)), s["frequency"], s["recency"], s["T"])
    assert value == pytest.approx(-direct.mean(), rel=1e-12)

    repeat = s[s["frequency"] > 0]
    spend_data = gamma_gamma._Means(
        repeat["frequency"].to_numpy(float), repeat["monetary_value"].to_numpy()
    )
    point = np.log([4.0, 3.0, 20.0])
    _, grad = spend_data.objective(point)
    np.testing.assert_allclose(
        grad, approx_fprime(point, lambda t: spend_data.objective(t)[0], 1e-7), atol=1e-5
    )


def test_conditional_expectation_reproduces_the_paper_example():
    # FHL (2005) §5: x = 2, t_x = 30.43, T = 38.86 expects 1.226 purchases in the next 39 weeks.
    params = BgNbdParams(**PUBLISHED_BGNBD)
    value = bgnbd.expected_purchases(params, 39.0, 2, 30.43, 38.86)
    assert float(value) == pytest.approx(1.226, abs=0.0015)


def _expected_purchases_monte_carlo(params, t, x, t_x, T, draws, rng) -> float:
    """E[Y(t) | x, t_x, T] by sampling the posterior: alive with probability p_alive, then
    λ ~ Gamma(r+x, α+T), p ~ Beta(a, b+x), and Y = min(Poisson(λt), Geometric(p)) purchases
    (the customer stops after the purchase at which they drop out)."""
    lam = rng.gamma(params.r + x, 1.0 / (params.alpha + T), draws)
    p = rng.beta(params.a, params.b + x, draws)
    purchases = np.minimum(rng.poisson(lam * t), rng.geometric(p))
    return float(bgnbd.p_alive(params, x, t_x, T)) * purchases.mean()


def test_conditional_expectation_is_stable_and_right_for_heavy_buyers():
    params = BgNbdParams(0.243, 4.414, 0.793, 2.426)
    x = np.array([1, 5, 20, 60, 200, 1000], dtype=float)
    T = np.full(6, 104.0)
    t_x = T.copy()  # bought on the cut-off day: alive, whatever their pace
    ours = bgnbd.expected_purchases(params, 52.0, x, t_x, T)
    assert np.all(np.isfinite(ours)) and np.all(np.diff(ours) > 0)
    # For moderate x the untransformed formula is still computable: both forms agree.
    r, alpha, a, b = params.r, params.alpha, params.a, params.b
    small = x[:3]
    z = 52.0 / (alpha + 104.0 + 52.0)
    decay = ((alpha + 104.0) / (alpha + 156.0)) ** (r + small)
    original = (
        (a + b + small - 1)
        / (a - 1)
        * (1 - decay * hyp2f1(r + small, b + small, a + b + small - 1, z))
        * bgnbd.p_alive(params, small, t_x[:3], T[:3])
    )
    np.testing.assert_allclose(ours[:3], original, rtol=1e-8)
    # Where it is not (2F1 overflows), the posterior simulated directly agrees within 1 %.
    rng = np.random.default_rng(5)
    for i in (4, 5):
        sampled = _expected_purchases_monte_carlo(params, 52.0, x[i], t_x[i], T[i], 400_000, rng)
        assert ours[i] == pytest.approx(sampled, rel=0.01)


def _xtT(summary: pd.DataFrame):
    return summary["frequency"], summary["recency"], summary["T"]


def test_p_no_purchase_agrees_with_a_simulation_of_the_bgnbd_process():
    """P(no purchase in the next t | x, t_x, T) checked against the process itself, not the
    posterior it is derived from: 200,000 customers simulated forward with known parameters,
    observed for T then a 52-week hold-out. Because the formula is the conditional probability
    given (x, t_x, T), its mean over any group selected on (x, t_x, T) must equal the share of
    that group silent in the hold-out: checked per decile of the prediction and for one-time
    and repeat buyers, each within 4 binomial standard errors (≤ 0.0035 for a decile)."""
    truth = BgNbdParams(0.55, 6.0, 0.75, 3.5)
    rng = np.random.default_rng(7)
    summary = simulate.simulate_summaries(truth, rng.uniform(1, 104, 200_000), rng, holdout=52)
    predicted = bgnbd.p_no_purchase(truth, 52.0, *_xtT(summary))
    observed = (summary["holdout_frequency"] == 0).to_numpy()
    decile = np.searchsorted(np.quantile(predicted, np.linspace(0.1, 0.9, 9)), predicted)
    one_time = (summary["frequency"] == 0).to_numpy()
    groups = [decile == k for k in range(10)] + [one_time, ~one_time]
    for group in groups:
        p, n = predicted[group].mean(), group.sum()
        se = np.sqrt(p * (1 - p) / n)
        assert abs(observed[group].mean() - p) <= 4 * se, (n, p, observed[group].mean(), se)
    # The check has teeth: the silence of alive customers alone (ignoring dropout) misses it.
    alive_only = np.exp(
        -(truth.r + summary["frequency"]) * np.log1p(52.0 / (truth.alpha + summary["T"]))
    )
    assert abs(alive_only[~one_time].mean() - observed[~one_time].mean()) > 0.05


def test_one_time_buyers_churn_risk_rises_with_the_time_since_their_purchase():
    """p_alive is 1 for every one-time buyer; P(no purchase in 12 months) is not, and grows
    with the time since the first (only) purchase. With CDNOW's parameters (most one-time
    buyers never return) those silent for one or two years are high risk, those who bought in
    the last month are not. tests/test_clv_generated.py checks it on the generator's fit."""
    params = BgNbdParams(**PUBLISHED_BGNBD)
    T = np.array([1.0, 4.0, 13.0, 52.0, 104.0, 208.0])
    summary = pd.DataFrame({"frequency": 0, "recency": 0.0, "T": T, "monetary_value": np.nan})
    scored = predict(summary, params, GammaGammaParams(**PUBLISHED_GG), CONFIG)
    assert (scored["p_alive"] == 1.0).all()
    assert np.all(np.diff(scored["p_no_purchase_12m"]) > 0)
    # x = 0: dropout cannot have happened, so it is the Gamma-Poisson zero term alone.
    np.testing.assert_allclose(
        scored["p_no_purchase_12m"],
        ((params.alpha + T) / (params.alpha + T + CONFIG.horizon_units)) ** params.r,
        rtol=1e-12,
    )
    assert scored["churn_risk"].iloc[-3:].tolist() == ["high", "high", "high"]
    assert "high" not in scored["churn_risk"].iloc[:2].tolist()


def test_p_alive_is_one_without_repeat_purchases_and_falls_with_silence():
    params = BgNbdParams(**PUBLISHED_BGNBD)
    assert bgnbd.p_alive(params, 0, 0.0, 30.0) == 1.0
    alive = bgnbd.p_alive(params, 4, np.array([38.0, 30.0, 20.0, 5.0]), 39.0)
    assert np.all(np.diff(alive) < 0) and 0 < alive[-1] < alive[0] < 1


@pytest.mark.parametrize("seed", [11, 12])
def test_fit_recovers_parameters_of_simulated_customers(seed):
    """20,000 customers observed 52-104 weeks. Tolerance: each estimate within 4 asymptotic
    standard errors (from the observed information) of the truth, which a correct fit meets
    with probability > 0.9999 per parameter; and the standard errors themselves must be small
    (< 10 % of the value), so the check cannot pass vacuously."""
    truth = BgNbdParams(0.55, 6.0, 0.75, 3.5)
    spend = GammaGammaParams(4.0, 3.5, 250.0)
    rng = np.random.default_rng(seed)
    summary = simulate.simulate_summaries(truth, rng.uniform(52, 104, 20_000), rng, spend)
    fitted = fit_summary(summary, CONFIG)
    for fit, true in ((fitted.bgnbd, truth), (fitted.gamma_gamma, spend)):
        assert fit.diagnostics.converged
        for name, value in true.as_dict().items():
            estimate = getattr(fit.params, name)
            se = fit.diagnostics.standard_errors[name]
            assert 0 < se < 0.1 * value, (name, se)
            assert abs(estimate - value) <= 4 * se, (name, estimate, value, se)


def test_a_fit_stopped_early_is_reported_as_not_converged(cdnow_summary):
    s = cdnow_summary
    stopped = dataclasses.replace(CONFIG.optimizer, max_iterations=2)
    fit = bgnbd.fit(s["frequency"], s["recency"], s["T"], stopped)
    assert not fit.diagnostics.converged
    assert fit.diagnostics.gradient_norm > CONFIG.optimizer.converged_gradient
    full = bgnbd.fit(s["frequency"], s["recency"], s["T"], CONFIG.optimizer)
    assert full.diagnostics.gradient_norm <= CONFIG.optimizer.converged_gradient


def test_predictions_follow_the_configured_bands_and_discounting(cdnow_summary):
    params, spend = BgNbdParams(**PUBLISHED_BGNBD), GammaGammaParams(**PUBLISHED_GG)
    scored = predict(cdnow_summary, params, spend, CONFIG)
    value = scored["expected_order_value"]
    # Undiscounted by default: CLV = expected purchases × expected order value.
    np.testing.assert_allclose(
        scored["predicted_clv_12m"], scored["predicted_purchases_12m"] * value, rtol=1e-12
    )
    one_time = scored["frequency"] == 0
    assert (value[one_time] == spend.population_mean).all()
    bands = CONFIG.churn_risk
    silent = scored["p_no_purchase_12m"]
    expected_band = np.where(
        silent < bands.low_below_p_no_purchase,
        "low",
        np.where(silent < bands.high_min_p_no_purchase, "medium", "high"),
    )
    assert (scored["churn_risk"] == expected_band).all()
    assert set(scored["churn_risk"]) == {"low", "medium", "high"}
    np.testing.assert_allclose(
        silent,
        bgnbd.p_no_purchase(params, CONFIG.horizon_units, *_xtT(cdnow_summary)),
        rtol=1e-12,
    )
    # One discounting step a year: the whole year's purchases are discounted once.
    yearly = dataclasses.replace(CONFIG, annual_discount_rate=0.1, discount_steps_per_year=1)
    discounted = predict(cdnow_summary, params, spend, yearly)
    np.testing.assert_allclose(
        discounted["predicted_clv_12m"], scored["predicted_clv_12m"] / 1.1, rtol=1e-12
    )
    monthly = dataclasses.replace(CONFIG, annual_discount_rate=0.1)
    between = predict(cdnow_summary, params, spend, monthly)["predicted_clv_12m"]
    assert (
        (between >= discounted["predicted_clv_12m"]) & (between <= scored["predicted_clv_12m"])
    ).all()

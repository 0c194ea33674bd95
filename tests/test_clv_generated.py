"""CLV on the sample generator's data: recovery of its true parameters (`_truth/params.json`)
and out-of-sample accuracy. Orders are read with pandas straight from the generated files and
mapped to persons with `_truth/contact_person.csv`: independent of ingestion and dbt."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from clv import (
    bgnbd,
    fit_summary,
    holdout_purchases,
    load_config,
    predict,
    summary_from_transactions,
)
from clv.evaluation import holdout_report, roc_auc

CONFIG = load_config()
WEEK = pd.Timedelta(weeks=1)


@pytest.fixture(scope="module")
def small_data(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The `small` scale (about 9,000 buyers over three years), without planted faults."""
    from generator import generate

    out = tmp_path_factory.mktemp("clv_small")
    generate(out, scale="small", seed=11, fault_rate=0.0)
    return out


@pytest.fixture(scope="module")
def truth(small_data: Path) -> dict:
    return json.loads((small_data / "_truth" / "params.json").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def purchases(small_data: Path, truth: dict) -> pd.DataFrame:
    """Completed orders (latest version) per person: UTC time, Shanghai date, value in CNY."""
    orders = pd.read_csv(small_data / "orders.csv", dtype=str)
    orders = orders.sort_values("updated_at").drop_duplicates("order_id", keep="last")
    orders = orders[orders["status"] == "completed"]
    persons = pd.read_csv(small_data / "_truth" / "contact_person.csv", dtype=str)
    orders = orders.merge(
        persons,
        left_on=["contact_source_system", "contact_source_id"],
        right_on=["source_system", "source_contact_id"],
        suffixes=("", "_contact"),
    )
    at = pd.to_datetime(orders["ordered_at"], utc=True)
    local = at.dt.tz_convert("Asia/Shanghai").dt.tz_localize(None)
    rates = truth["fx_rates_to_cny"]["rates"]
    fx = [
        1.0 if currency == "CNY" else rates[currency][month]
        for currency, month in zip(orders["currency"], local.dt.strftime("%Y-%m"), strict=True)
    ]
    return pd.DataFrame(
        {
            "person_id": orders["person_id"].to_numpy(),
            "ordered_at": at.to_numpy(),
            "order_date": local.dt.normalize().to_numpy(),
            "amount": orders["total_amount"].astype(float).to_numpy() * np.array(fx),
        }
    )


def assert_recovered(fit, true: dict, max_relative_se: float) -> None:
    """Each estimate within 4 asymptotic standard errors of the truth (a correct fit fails
    this with probability < 1e-4 per parameter), with standard errors small enough that the
    check has teeth."""
    assert fit.diagnostics.converged
    for name, estimate in fit.params.as_dict().items():
        se = fit.diagnostics.standard_errors[name]
        assert 0 < se < max_relative_se * true[name], (name, se)
        assert abs(estimate - true[name]) <= 4 * se, (name, estimate, true[name], se)


def test_fit_recovers_the_generators_parameters(purchases, truth):
    """The generator simulates purchases in continuous time up to `window_utc.to`, so the
    recovery check uses that process's own summaries: every completed order is a purchase,
    times in weeks from the first order. ~9,000 buyers give standard errors of 2-7 %."""
    end = pd.Timestamp(truth["window_utc"]["to"])
    by_person = purchases.groupby("person_id")
    first = by_person["ordered_at"].min()
    values = purchases.sort_values("ordered_at").groupby("person_id")["amount"]
    summary = pd.DataFrame(
        {
            "frequency": by_person.size() - 1,
            "recency": (by_person["ordered_at"].max() - first) / WEEK,
            "T": (end - first) / WEEK,
            # mean of the repeat orders: all but the first
            "monetary_value": (values.sum() - values.first()) / (by_person.size() - 1),
        }
    )
    # `buyers` also counts people whose first order falls after as_of (simulated for increments).
    assert 0.9 * truth["process"]["buyers"] < len(summary) <= truth["process"]["buyers"]
    fitted = fit_summary(summary, CONFIG)
    print(
        f"generated (small): truth {truth['bgnbd']} {truth['gamma_gamma']}; "
        f"fitted {fitted.bgnbd.params} {fitted.gamma_gamma.params}"
    )
    assert_recovered(fitted.bgnbd, truth["bgnbd"], max_relative_se=0.1)
    assert_recovered(fitted.gamma_gamma, truth["gamma_gamma"], max_relative_se=0.1)


def test_daily_summaries_stay_close_to_the_generators_parameters(purchases, truth):
    """The production path merges same-day orders into one purchase (the literature's
    convention). The generator's process is continuous, so its heaviest buyers lose a few
    orders: here alpha comes out +8 % and b −13 % (alpha +11 % at seed 7), well beyond their
    2-7 % standard errors. Tolerance 20 % for BG/NBD and 10 % for Gamma-Gamma, which the
    merge barely touches (< 4 % here)."""
    summary = summary_from_transactions(
        purchases, "person_id", "order_date", "amount", cutoff=truth["as_of"]
    )
    fitted = fit_summary(summary, CONFIG)
    print(f"generated (small), daily summaries: {fitted.bgnbd.params} {fitted.gamma_gamma.params}")
    for name, value in fitted.bgnbd.params.as_dict().items():
        assert value == pytest.approx(truth["bgnbd"][name], rel=0.2), name
    for name, value in fitted.gamma_gamma.params.as_dict().items():
        assert value == pytest.approx(truth["gamma_gamma"][name], rel=0.1), name


def test_holdout_accuracy_on_generated_data(purchases, truth):
    """Calibrate on all but the last 52 weeks, predict those 52 weeks."""
    as_of = pd.Timestamp(truth["as_of"])
    cutoff = as_of - pd.Timedelta(weeks=52)
    summary = summary_from_transactions(
        purchases, "person_id", "order_date", "amount", cutoff=cutoff
    )
    actual = (
        holdout_purchases(purchases, "person_id", "order_date", cutoff, as_of)
        .reindex(summary.index, fill_value=0)
        .to_numpy()
    )
    fitted = fit_summary(summary, CONFIG)
    x, t_x, T = summary["frequency"], summary["recency"], summary["T"]
    predicted = bgnbd.expected_purchases(fitted.bgnbd.params, 52.0, x, t_x, T)
    alive = bgnbd.p_alive(fitted.bgnbd.params, x, t_x, T)
    silent = bgnbd.p_no_purchase(fitted.bgnbd.params, 52.0, x, t_x, T)
    report = holdout_report(predicted, actual, alive, silent)
    repeat = x.to_numpy() > 0
    naive_mae = np.abs(x / T.clip(lower=1.0) * 52.0 - actual).mean()
    auc_repeat = roc_auc(alive[repeat], actual[repeat] > 0)
    print(
        f"generated hold-out: {report.as_dict()}; naive MAE {naive_mae:.3f}; "
        f"p_alive AUC on repeat customers {auc_repeat:.3f}"
    )
    assert report.auc_p_alive >= 0.75
    assert report.auc_p_no_purchase >= 0.75
    assert report.mae < naive_mae
    assert report.correlation > 0.6
    assert abs(report.aggregate_error) < 0.1


def test_churn_risk_flags_long_silent_one_time_buyers_and_matches_the_hold_out(purchases, truth):
    """Scored as the warehouse does (12-month horizon, bands of clv.yml) at as_of − 52 weeks.
    One-time buyers: those whose only purchase is over ~2 years old are `high`, recent ones
    (under 6 months) `low`, although p_alive is 1 for all of them. And the bands mean what
    they say in the following 52 weeks: each band's share of silent customers lies in its
    p_no_purchase range (within 0.05), and the share rises from low to medium to high."""
    as_of = pd.Timestamp(truth["as_of"])
    cutoff = as_of - pd.Timedelta(weeks=52)
    summary = summary_from_transactions(
        purchases, "person_id", "order_date", "amount", cutoff=cutoff
    )
    fitted = fit_summary(summary, CONFIG)
    scored = predict(summary, fitted.bgnbd.params, fitted.gamma_gamma.params, CONFIG)
    scored["silent"] = (
        holdout_purchases(purchases, "person_id", "order_date", cutoff, as_of)
        .reindex(summary.index, fill_value=0)
        .eq(0)
    )
    one_time = scored[scored["frequency"] == 0]
    long_ago, recent = one_time[one_time["T"] >= 100], one_time[one_time["T"] <= 26]
    assert len(long_ago) >= 5 and len(recent) >= 100
    assert (one_time["p_alive"] == 1.0).all()
    assert (long_ago["churn_risk"] == "high").all()
    assert (recent["churn_risk"] == "low").all()

    bands = CONFIG.churn_risk
    silent_share = scored.groupby("churn_risk")["silent"].mean()
    print(
        f"generated hold-out, share silent per churn_risk band: {silent_share.round(3).to_dict()}"
    )
    assert silent_share["low"] < bands.low_below_p_no_purchase + 0.05
    assert (
        bands.low_below_p_no_purchase - 0.05
        <= silent_share["medium"]
        < bands.high_min_p_no_purchase + 0.05
    )
    assert silent_share["high"] >= bands.high_min_p_no_purchase - 0.05
    assert silent_share["low"] < silent_share["medium"] < silent_share["high"]

"""The dbt Python models in models/marts/clv/, built by real `dbt build` runs (crm.build) on a
private warehouse whose marts.fct_orders holds simulated orders with known parameters."""

from __future__ import annotations

import json
import shutil
from functools import partial
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pytest
import yaml

from clv import load_config, refit, simulate
from clv.bgnbd import BgNbdParams
from clv.gamma_gamma import GammaGammaParams
from clv.warehouse import MODELS_YAML
from crm.build import build

CLV_MODELS = ["mart_clv_model_runs", "mart_clv_predictions"]
TRUTH = BgNbdParams(0.55, 6.0, 0.75, 3.5)
SPEND = GammaGammaParams(4.0, 3.5, 250.0)
LAST_DAY = pd.Timestamp("2025-06-30")


def simulated_orders(n: int, seed: int) -> pd.DataFrame:
    """fct_orders-shaped orders: completed purchases from the BG/NBD + Gamma-Gamma processes,
    plus cancelled orders and orders of unresolved contacts that the models must ignore."""
    rng = np.random.default_rng(seed)
    births = pd.Series(
        LAST_DAY - pd.to_timedelta(rng.integers(0, 3 * 365, n), unit="D"),
        index=[f"cust{i:06d}" for i in range(n)],
    )
    orders = simulate.simulate_transactions(TRUTH, SPEND, births, LAST_DAY, rng)
    orders = orders.rename(columns={"customer_id": "customer_key", "date": "order_date"})
    orders["is_revenue"] = True
    noise = orders.sample(frac=0.05, random_state=seed).assign(is_revenue=False)
    orphans = orders.sample(frac=0.02, random_state=seed + 1).assign(customer_key=None)
    orders = pd.concat([orders, noise, orphans], ignore_index=True)
    orders["order_id"] = [f"o{i}" for i in range(len(orders))]
    orders["gross_revenue"] = orders["amount"]
    orders["net_revenue"] = np.where(orders["is_revenue"], orders["amount"], 0.0)
    orders["ordered_at"] = pd.to_datetime(orders["order_date"]) - pd.Timedelta(hours=5)
    return orders


@pytest.fixture(scope="module")
def orders() -> pd.DataFrame:
    return simulated_orders(4000, seed=31)


@pytest.fixture(scope="module")
def built(orders: pd.DataFrame, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A warehouse with a raw layer and marts.fct_orders (as `crm build` leaves them), then the
    CLV models built on it once. Read-only for tests; copy it to build again."""
    db = tmp_path_factory.mktemp("clv_warehouse") / "crm.duckdb"
    con = duckdb.connect(str(db))
    con.register("orders", orders)
    con.execute("create schema raw; create table raw._loads (_load_id varchar)")
    con.execute(
        """
        create schema marts;
        create table marts.fct_orders as
        select
            order_id, customer_key,
            cast(gross_revenue as decimal(18, 2)) as gross_revenue,
            cast(net_revenue as decimal(18, 2)) as net_revenue,
            is_revenue, cast(ordered_at as timestamp) as ordered_at,
            cast(order_date as date) as order_date
        from orders
        """
    )
    con.close()
    build_clv(db, db.parent)
    return db


def build_clv(db: Path, tmp_path: Path, **kwargs):
    result = build(db, select=CLV_MODELS, target_path=tmp_path / "target", **kwargs)
    assert result.success, result.summary
    return result


def read(db: Path, sql: str) -> pd.DataFrame:
    con = duckdb.connect(str(db), read_only=True)
    try:
        return con.execute(sql).df()
    finally:
        con.close()


def test_built_tables_have_exactly_the_documented_columns_and_types(built):
    spec = yaml.safe_load(MODELS_YAML.read_text(encoding="utf-8"))
    for model in spec["models"]:
        columns = read(
            built,
            f"""select column_name, data_type from information_schema.columns
                where table_schema = 'marts' and table_name = '{model["name"]}'
                order by ordinal_position""",
        )
        declared = [(c["name"], c["data_type"].replace(" ", "").upper()) for c in model["columns"]]
        assert (
            list(
                zip(columns["column_name"], columns["data_type"].str.replace(" ", ""), strict=True)
            )
            == declared
        )


def test_predictions_agree_with_an_independent_sql_summary_and_formula(built):
    run = read(built, "select * from marts.mart_clv_model_runs order by fitted_at desc").iloc[0]
    as_of = read(built, "select distinct as_of_date from marts.mart_clv_predictions")
    assert as_of["as_of_date"].tolist() == [LAST_DAY] == [run.fit_date]
    # Summaries and the Gamma-Gamma conditional mean recomputed in SQL from fct_orders.
    expected = read(
        built,
        f"""
        with days as (
            select customer_key, order_date, sum(net_revenue) as amount
            from marts.fct_orders
            where is_revenue and customer_key is not null
            group by all
        ),
        firsts as (select customer_key, min(order_date) as born from days group by all),
        summary as (
            select
                customer_key,
                count(*) - 1 as frequency,
                date_diff('day', min(days.order_date), max(days.order_date)) / 7.0 as recency,
                date_diff('day', min(days.order_date), date '{LAST_DAY.date()}') / 7.0 as t,
                avg(amount) filter (where days.order_date > firsts.born) as monetary_value
            from days join firsts using (customer_key)
            group by all
        ),
        alive as (
            select
                *,
                case when frequency = 0 then 1.0
                    else 1.0 / (1.0 + {run.a} / ({run.b} + frequency - 1)
                        * pow(({run.alpha} + t) / ({run.alpha} + recency), {run.r} + frequency))
                    end as p_alive
            from summary
        )
        select
            *,
            case when frequency = 0 then {run.p} * {run.gamma} / ({run.q} - 1)
                else ({run.gamma} + frequency * monetary_value) * {run.p}
                    / ({run.p} * frequency + {run.q} - 1) end as order_value,
            (1 - p_alive) + p_alive * pow(
                ({run.alpha} + t) / ({run.alpha} + t + {run.horizon_days} / 7.0),
                {run.r} + frequency
            ) as p_no_purchase_12m
        from alive
        """,
    ).set_index("customer_key")
    mart = read(built, "select * from marts.mart_clv_predictions").set_index("customer_key")

    assert sorted(mart.index) == sorted(expected.index)
    expected = expected.loc[mart.index]
    assert (mart["frequency"] == expected["frequency"]).all()
    np.testing.assert_allclose(mart["recency"], expected["recency"], atol=1e-9)
    np.testing.assert_allclose(mart["t"], expected["t"], atol=1e-9)
    np.testing.assert_allclose(
        mart["monetary_value"].astype(float), expected["monetary_value"].astype(float), atol=0.006
    )
    np.testing.assert_allclose(
        mart["predicted_clv_12m"].astype(float),
        mart["predicted_purchases_12m"] * expected["order_value"].astype(float),
        rtol=1e-6,
        atol=0.006,
    )
    np.testing.assert_allclose(mart["p_alive"], expected["p_alive"], rtol=1e-9)
    np.testing.assert_allclose(mart["p_no_purchase_12m"], expected["p_no_purchase_12m"], rtol=1e-9)
    bands = load_config().churn_risk
    assert (run.low_below_p_no_purchase, run.high_min_p_no_purchase) == (
        bands.low_below_p_no_purchase,
        bands.high_min_p_no_purchase,
    )
    expected_band = np.where(
        expected["p_no_purchase_12m"] < bands.low_below_p_no_purchase,
        "low",
        np.where(expected["p_no_purchase_12m"] < bands.high_min_p_no_purchase, "medium", "high"),
    )
    assert (mart["churn_risk"] == expected_band).all()
    assert set(mart["churn_risk"]) == {"low", "medium", "high"}
    assert set(mart["model_run_id"]) == {run.model_run_id}
    assert set(mart["fit_date"]) == {run.fit_date}
    assert set(mart["fitted_at"]) == {run.fitted_at}
    assert run.customers_used == len(mart)
    assert run.refit_reason == "first fit"


PREDICTION_VALUES = [
    "frequency",
    "recency",
    "t",
    "monetary_value",
    "p_alive",
    "p_no_purchase_12m",
    "predicted_purchases_12m",
    "predicted_clv_12m",
]


def runs_of(db: Path) -> pd.DataFrame:
    return read(db, "select * from marts.mart_clv_model_runs order by fitted_at")


def predictions_of(db: Path) -> pd.DataFrame:
    return read(db, "select * from marts.mart_clv_predictions order by customer_key")


def day(offset: int) -> str:
    return (LAST_DAY + pd.Timedelta(days=offset)).date().isoformat()


def test_refit_reason_follows_the_age_of_the_newest_fit():
    config = load_config()
    newest = pd.Series({"fit_date": LAST_DAY, **refit.configured_settings(config)})
    reason = partial(refit.refit_reason, newest, refit_days=7, config=config)
    assert reason(LAST_DAY.date(), forced=False) is None
    assert reason((LAST_DAY + pd.Timedelta(days=6)).date(), forced=False) is None
    assert reason((LAST_DAY + pd.Timedelta(days=7)).date(), forced=False).startswith(
        "newest fit is 7 days old"
    )
    assert "before the newest fit" in reason((LAST_DAY - pd.Timedelta(days=1)).date(), forced=False)
    assert reason(LAST_DAY.date(), forced=True) == "forced"
    stale = newest.copy()
    stale["horizon_days"] = config.horizon_days + 1
    assert refit.refit_reason(stale, LAST_DAY.date(), 7, False, config).startswith("clv.yml")
    assert refit.refit_reason(None, LAST_DAY.date(), 7, False, config) == "first fit"


def test_no_refit_within_the_window_a_refit_after_it_and_the_history_is_kept(built, tmp_path):
    warehouse = tmp_path / "crm.duckdb"
    shutil.copy(built, warehouse)
    first = runs_of(warehouse)
    assert len(first) == 1

    # Same data, then the as-of date 6 days on: the stored fit scores, with summaries at the
    # new as-of date (every customer 6 days older).
    build_clv(warehouse, tmp_path)
    assert runs_of(warehouse).equals(first)
    build_clv(warehouse, tmp_path, dbt_vars={"kpi_as_of_date": day(6)})
    assert runs_of(warehouse).equals(first)
    later = predictions_of(warehouse)
    assert set(later["model_run_id"]) == {first.model_run_id.iloc[0]}
    assert set(later["as_of_date"].dt.date.astype(str)) == {day(6)}
    before = predictions_of(built)
    np.testing.assert_allclose(later["t"], before["t"] + 6 / 7, atol=1e-12)
    assert (later["p_no_purchase_12m"] >= before["p_no_purchase_12m"] - 1e-12).all()

    # 7 days on: a new fit, appended; the first run's row is unchanged.
    build_clv(warehouse, tmp_path, dbt_vars={"kpi_as_of_date": day(7)})
    runs = runs_of(warehouse)
    assert len(runs) == 2 and runs.iloc[:1].equals(first)
    new = runs.iloc[-1]
    assert new.refit_reason == "newest fit is 7 days old (refit every 7)"
    assert new.fit_date.date().isoformat() == day(7)
    scored = predictions_of(warehouse)
    assert set(scored["model_run_id"]) == {new.model_run_id}
    assert set(scored["fitted_at"]) == {new.fitted_at}


def test_predictions_from_stored_parameters_equal_those_of_a_fresh_fit(built, tmp_path):
    """--full-refresh forces a refit on unchanged data and keeps the history: the fresh fit's
    parameters and predictions equal the stored run's, which scored the fixture's build."""
    warehouse = tmp_path / "crm.duckdb"
    shutil.copy(built, warehouse)
    build_clv(warehouse, tmp_path, full_refresh=True)
    runs = runs_of(warehouse)
    assert len(runs) == 2 and runs.iloc[:1].equals(runs_of(built))
    stored, fresh = runs.iloc[0], runs.iloc[1]
    assert fresh.refit_reason == "forced" and fresh.model_run_id != stored.model_run_id
    for name in [*TRUTH.as_dict(), *SPEND.as_dict()]:
        assert fresh[name] == pytest.approx(stored[name], rel=1e-9), name
    from_stored, from_fresh = predictions_of(built), predictions_of(warehouse)
    assert set(from_fresh["model_run_id"]) == {fresh.model_run_id}
    assert (from_fresh["customer_key"] == from_stored["customer_key"]).all()
    assert (from_fresh["churn_risk"] == from_stored["churn_risk"]).all()
    for column in PREDICTION_VALUES:
        np.testing.assert_allclose(
            from_fresh[column].astype(float), from_stored[column].astype(float), rtol=1e-9
        )


def test_the_force_var_refits_and_an_earlier_cutoff_refits_on_the_orders_up_to_it(built, tmp_path):
    warehouse = tmp_path / "crm.duckdb"
    shutil.copy(built, warehouse)
    build_clv(warehouse, tmp_path, dbt_vars={"clv_force_refit": True})
    build_clv(warehouse, tmp_path, dbt_vars={"clv_calibration_cutoff": "2024-12-31"})
    runs = runs_of(warehouse)
    assert len(runs) == 3 and runs["model_run_id"].is_unique
    assert runs["refit_reason"].iloc[1] == "forced"
    assert runs["refit_reason"].iloc[2].startswith("as-of date 2024-12-31 is before")
    fit_dates = [d.isoformat() for d in runs["fit_date"].dt.date]
    assert fit_dates == ["2025-06-30", "2025-06-30", "2024-12-31"]
    assert runs["orders_used"].iloc[2] < runs["orders_used"].iloc[1]
    latest = runs.iloc[-1]
    mart = read(
        warehouse,
        """select model_run_id, fit_date, as_of_date, count(*) as n
           from marts.mart_clv_predictions group by all""",
    )
    assert mart["model_run_id"].tolist() == [latest.model_run_id]
    assert mart["as_of_date"].dt.date.astype(str).tolist() == ["2024-12-31"]
    assert mart["n"].iloc[0] == latest.customers_used
    assert bool(runs["is_bgnbd_converged"].all()) and bool(runs["is_gamma_gamma_converged"].all())


def test_a_history_with_retired_columns_keeps_them_and_gains_the_new_ones(built, tmp_path):
    """A run history written before churn_risk moved from p_alive to p_no_purchase_12m (cut-off
    columns low_min_p_alive / high_below_p_alive): the next build refits (the newest run's
    settings are not clv.yml's) instead of failing, adds the new cut-off columns (null for the
    old run) and keeps the old values."""
    warehouse = tmp_path / "crm.duckdb"
    shutil.copy(built, warehouse)
    con = duckdb.connect(str(warehouse))
    con.execute(
        """
        alter table marts.mart_clv_model_runs add column low_min_p_alive double;
        alter table marts.mart_clv_model_runs add column high_below_p_alive double;
        update marts.mart_clv_model_runs set low_min_p_alive = 0.7, high_below_p_alive = 0.3;
        alter table marts.mart_clv_model_runs drop column low_below_p_no_purchase;
        alter table marts.mart_clv_model_runs drop column high_min_p_no_purchase;
        """
    )
    before = con.execute("select count(*) from marts.mart_clv_model_runs").fetchone()[0]
    con.close()
    build_clv(warehouse, tmp_path)
    runs = read(warehouse, "select * from marts.mart_clv_model_runs order by fitted_at")
    assert len(runs) == before + 1
    old, new = runs.iloc[-2], runs.iloc[-1]
    assert new.refit_reason == "clv.yml settings changed since the newest fit"
    assert (old.low_min_p_alive, old.high_below_p_alive) == (0.7, 0.3)
    assert pd.isna(new.low_min_p_alive) and pd.isna(old.low_below_p_no_purchase)
    bands = load_config().churn_risk
    assert new.low_below_p_no_purchase == bands.low_below_p_no_purchase
    assert new.high_min_p_no_purchase == bands.high_min_p_no_purchase
    mart = read(warehouse, "select model_run_id, p_no_purchase_12m from marts.mart_clv_predictions")
    assert set(mart["model_run_id"]) == {new.model_run_id}
    assert mart["p_no_purchase_12m"].between(0, 1).all()


def test_run_records_parameters_near_the_simulation_truth(built):
    """4,000 simulated customers: each parameter within 4 of its recorded standard errors of
    the truth (noise at this size is several percent, so no fixed percentage is meaningful)."""
    run = read(built, "select * from marts.mart_clv_model_runs order by fitted_at desc").iloc[0]
    errors = json.loads(run.diagnostics)
    for model, truth in (("bgnbd", TRUTH), ("gamma_gamma", SPEND)):
        for name, value in truth.as_dict().items():
            se = errors[model]["standard_errors"][name]
            assert 0 < se < 0.5 * value
            assert abs(run[name] - value) <= 4 * se, (name, run[name], value, se)


def test_crm_build_scores_every_customer_of_the_tiny_warehouse(built_db):
    """The whole pipeline's build (shared fixture: generated tiny data → ingest → crm build)."""
    customers = read(
        built_db,
        """select distinct customer_key from marts.fct_orders
           where is_revenue and customer_key is not null""",
    )
    mart = read(built_db, "select * from marts.mart_clv_predictions")
    runs = read(built_db, "select * from marts.mart_clv_model_runs")
    assert len(runs) == 1 and runs["customers_used"].iloc[0] == len(mart)
    assert bool(runs["is_bgnbd_converged"].iloc[0]) and bool(
        runs["is_gamma_gamma_converged"].iloc[0]
    )
    assert sorted(mart["customer_key"]) == sorted(customers["customer_key"])
    assert mart["p_alive"].between(0, 1).all()
    assert mart["p_no_purchase_12m"].between(0, 1).all()
    assert (mart["predicted_clv_12m"] >= 0).all()

"""When the warehouse refits the CLV models: on a schedule, not on every build.

Production practice (docs/decisions.md, CLV): the parameters describe a population and move
slowly, so they are refitted every `clv_refit_days` of the data's as-of date, while every
customer is rescored daily with the newest fit (their frequency, recency and age change daily).
"""

from __future__ import annotations

from datetime import date

import pandas as pd

from clv.config import ClvConfig


def configured_settings(config: ClvConfig) -> dict[str, object]:
    """The clv.yml settings a fit records with itself and its predictions are made with, as
    clv.yml holds them now."""
    return {
        "time_unit": config.time_unit,
        "horizon_days": config.horizon_days,
        "annual_discount_rate": config.annual_discount_rate,
        "low_below_p_no_purchase": config.churn_risk.low_below_p_no_purchase,
        "high_min_p_no_purchase": config.churn_risk.high_min_p_no_purchase,
    }


def refit_reason(
    newest: pd.Series | None, as_of: date, refit_days: int, forced: bool, config: ClvConfig
) -> str | None:
    """Why a new fit is due at `as_of`, or None when the newest fit still serves.

    A fit made at as-of date D serves the as-of dates D .. D + refit_days - 1; the next one is
    made at D + refit_days (weekly with the default 7). An as-of date before D (a back-test
    cut-off) also refits: those parameters were estimated on later data.
    """
    if newest is None:
        return "first fit"
    if forced:
        return "forced"
    age = (pd.Timestamp(as_of) - pd.Timestamp(newest["fit_date"])).days
    if age < 0:
        fit_date = pd.Timestamp(newest["fit_date"]).date()
        return f"as-of date {as_of} is before the newest fit's ({fit_date})"
    if age >= refit_days:
        return f"newest fit is {age} days old (refit every {refit_days})"
    configured = configured_settings(config)
    if {name: newest.get(name) for name in configured} != configured:
        return "clv.yml settings changed since the newest fit"
    return None

"""The CLV settings in `clv/clv.yml`, read into a typed object."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import yaml

CONFIG_PATH = Path(__file__).with_name("clv.yml")
DAYS_PER_UNIT = {"day": 1.0, "week": 7.0}


@dataclass(frozen=True)
class ChurnRiskBands:
    """Cut-offs on p_no_purchase_12m: below `low_below` is low risk, from `high_min` up high."""

    low_below_p_no_purchase: float
    high_min_p_no_purchase: float


@dataclass(frozen=True)
class OptimizerSettings:
    max_iterations: int
    gradient_tolerance: float
    function_tolerance: float
    converged_gradient: float


@dataclass(frozen=True)
class ClvConfig:
    time_unit: str
    horizon_days: float
    annual_discount_rate: float
    discount_steps_per_year: int
    churn_risk: ChurnRiskBands
    optimizer: OptimizerSettings

    @property
    def horizon_units(self) -> float:
        """The prediction horizon in the model's time unit."""
        return self.horizon_days / DAYS_PER_UNIT[self.time_unit]


def load_config(path: Path = CONFIG_PATH) -> ClvConfig:
    raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    bands = ChurnRiskBands(**raw["churn_risk"])
    if not 0.0 <= bands.low_below_p_no_purchase <= bands.high_min_p_no_purchase <= 1.0:
        raise ValueError(
            f"{path}: churn_risk cut-offs must satisfy "
            "0 <= low_below_p_no_purchase <= high_min_p_no_purchase <= 1"
        )
    if raw["time_unit"] not in DAYS_PER_UNIT:
        raise ValueError(f"{path}: time_unit must be one of {sorted(DAYS_PER_UNIT)}")
    return ClvConfig(
        time_unit=raw["time_unit"],
        horizon_days=float(raw["horizon_days"]),
        annual_discount_rate=float(raw["annual_discount_rate"]),
        discount_steps_per_year=int(raw["discount_steps_per_year"]),
        churn_risk=bands,
        optimizer=OptimizerSettings(**raw["optimizer"]),
    )

"""Settings of one generation run: the scale table, process parameters and reference data (all
versioned YAML beside this module) plus the run's seed, fault rate and as-of date."""

from __future__ import annotations

import zlib
from dataclasses import dataclass
from datetime import UTC, date, datetime
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np
import yaml

from crm.errors import UserError

HERE = Path(__file__).resolve().parent
DAY = 86_400


@cache
def _load(name: str) -> dict[str, Any]:
    with (HERE / name).open(encoding="utf-8") as fh:
        return yaml.safe_load(fh)


def scale_table() -> dict[str, dict[str, int]]:
    return _load("scales.yml")["scales"]


def params() -> dict[str, Any]:
    return _load("params.yml")


def reference() -> dict[str, Any]:
    return _load("reference.yml")


@dataclass(frozen=True)
class Settings:
    scale: str
    seed: int
    fault_rate: float
    as_of: date
    persons: int
    campaigns: int
    audience_share: float

    @property
    def cutoff(self) -> int:
        """End of the as-of day (UTC), in epoch seconds: the base export sees what happened
        before it."""
        end = datetime(self.as_of.year, self.as_of.month, self.as_of.day, tzinfo=UTC)
        return int(end.timestamp()) + DAY

    @property
    def start(self) -> int:
        return self.cutoff - params()["history_days"] * DAY

    @property
    def horizon_end(self) -> int:
        return self.cutoff + params()["horizon_days"] * DAY

    def rng(self, stream: str) -> np.random.Generator:
        """An independent random stream per component, so changing one process leaves the
        others' draws unchanged."""
        return np.random.default_rng([self.seed, zlib.crc32(stream.encode())])


def make_settings(scale: str, seed: int, fault_rate: float, as_of: date | None) -> Settings:
    table = scale_table()
    if scale not in table:
        raise UserError(f"unknown scale {scale!r}; choose one of {', '.join(table)}")
    if not 0.0 <= fault_rate <= 0.2:
        raise UserError(f"fault rate {fault_rate} is outside [0, 0.2]")
    if seed < 0:
        raise UserError(f"seed {seed} must be a non-negative integer")
    as_of = as_of or (datetime.now(UTC).date())
    row = table[scale]
    return Settings(
        scale,
        seed,
        fault_rate,
        as_of,
        int(row["persons"]),
        int(row["campaigns"]),
        float(row["audience_share"]),
    )


def as_of_from_text(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise UserError(f"--as-of {text!r} is not a date like 2026-01-31") from None

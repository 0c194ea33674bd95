"""Settings of the benchmark run, read from `bench/bench.yml`."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import yaml

CONFIG_FILE = Path(__file__).with_name("bench.yml")
CACHE_DIR = Path(__file__).with_name("cache")
RESULTS_DIR = Path(__file__).with_name("results")


@dataclass(frozen=True)
class BenchConfig:
    increment_days: int
    dashboard_repeats: int
    max_cpu_steal_percent: float


def load_config(path: Path = CONFIG_FILE) -> BenchConfig:
    return BenchConfig(**yaml.safe_load(path.read_text(encoding="utf-8")))

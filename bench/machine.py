"""What the figures were measured on: cores, memory, load and the versions that matter."""

from __future__ import annotations

import os
import platform
from importlib import metadata
from pathlib import Path

_PACKAGES = ("duckdb", "dbt-core", "dbt-duckdb", "great-expectations", "streamlit", "pandas")


def _memory_gb() -> float | None:
    meminfo = Path("/proc/meminfo")
    if not meminfo.exists():
        return None
    kb = int(meminfo.read_text().split("\n", 1)[0].split()[1])
    return round(kb / 1024 / 1024, 1)


def _version(package: str) -> str | None:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return None


def describe() -> dict:
    return {
        "cores": os.cpu_count(),
        "memory_gb": _memory_gb(),
        "platform": platform.platform(),
        "machine": platform.machine(),
        "python": platform.python_version(),
        "versions": {p: _version(p) for p in _PACKAGES},
    }


def load_average() -> list[float]:
    return [round(x, 2) for x in os.getloadavg()]

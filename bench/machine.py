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


def cpu_ticks() -> tuple[int, int] | None:
    """(steal, total) jiffies of all CPUs since boot, from /proc/stat (None off Linux).

    Steal is the time the hypervisor gave this VM's virtual CPUs to another guest: the load
    average does not show it, yet a stage run under 30 % steal takes twice as long."""
    stat = Path("/proc/stat")
    if not stat.exists():
        return None
    fields = [int(x) for x in stat.read_text().split("\n", 1)[0].split()[1:]]
    # user nice system idle iowait irq softirq steal [guest guest_nice: already in user/nice]
    return (fields[7] if len(fields) > 7 else 0), sum(fields[:8])


def steal_percent(before: tuple[int, int] | None, after: tuple[int, int] | None) -> float | None:
    """Share of the CPU time between two `cpu_ticks()` readings that was stolen."""
    if before is None or after is None or after[1] <= before[1]:
        return None
    return round(100 * (after[0] - before[0]) / (after[1] - before[1]), 1)

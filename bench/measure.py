"""Runs one stage function in a fresh Python process and measures it from outside.

A child process per stage makes the figures per stage: `os.wait4` returns the child's CPU time
(user + sys) including every process it waited for (dbt runs as a grandchild). The child
reports its peak RSS itself (see `bench.child.peak_rss_mb`: wait4's ru_maxrss would include
this process's own high-water mark, inherited over fork + exec), and times the function alone
(`seconds`, without interpreter start-up and imports), which is what ratios use.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from bench import machine


@dataclass
class Measurement:
    stage: str
    ok: bool
    seconds: float | None  # the stage function's wall time, measured in the child
    process_seconds: float  # wall time of the whole child process, start-up included
    cpu_seconds: float  # user + sys of the child and its descendants
    peak_rss_mb: float
    cpu_steal_percent: float | None = None  # of the whole machine's CPU time during the stage
    details: dict[str, Any] = field(default_factory=dict)
    error: str | None = None
    log: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def run_stage(
    stage: str, kwargs: dict[str, Any], log_dir: Path, label: str | None = None
) -> Measurement:
    """Run `bench.stages.<stage>(**kwargs)` in a child, recorded under `label` (default: the
    stage's name); never raises for the stage's failure."""
    label = label or stage
    log_dir.mkdir(parents=True, exist_ok=True)
    out = log_dir / f"{label}.result.json"
    log = log_dir / f"{label}.log"
    out.unlink(missing_ok=True)
    command = [sys.executable, "-m", "bench.child", stage, json.dumps(kwargs), str(out)]
    started = time.perf_counter()
    ticks = machine.cpu_ticks()
    with log.open("w", encoding="utf-8") as sink:
        child = subprocess.Popen(command, stdout=sink, stderr=subprocess.STDOUT)
        _, status, usage = os.wait4(child.pid, 0)
    child.returncode = os.waitstatus_to_exitcode(status)
    process_seconds = time.perf_counter() - started
    steal = machine.steal_percent(ticks, machine.cpu_ticks())
    cpu = usage.ru_utime + usage.ru_stime
    if out.exists():
        result = json.loads(out.read_text(encoding="utf-8"))
    else:
        tail = log.read_text(encoding="utf-8", errors="replace").strip().splitlines()[-3:]
        result = {
            "ok": False,
            "seconds": None,
            "details": {},
            "error": f"child exited {child.returncode} without a result: " + " | ".join(tail),
        }
    return Measurement(
        stage=label,
        ok=bool(result["ok"]),
        seconds=result.get("seconds"),
        process_seconds=round(process_seconds, 3),
        cpu_seconds=round(cpu, 3),
        # Without the child's own figure (it died), wait4's: an upper bound (Linux: kB).
        peak_rss_mb=result.get("peak_rss_mb") or round(usage.ru_maxrss / 1024, 1),
        cpu_steal_percent=steal,
        details=result.get("details") or {},
        error=result.get("error"),
        log=str(log),
    )

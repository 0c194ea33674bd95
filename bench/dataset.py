"""The scale's generated exports, cached in `bench/cache/<scale>-<seed>/` between runs.

`base/` is the full export and `increment/` the days right after its as_of. A `dataset.json`
written last marks a complete cache entry; an interrupted generation is started over.
"""

from __future__ import annotations

import json
import shutil
from dataclasses import dataclass
from pathlib import Path

from bench.measure import Measurement, run_stage

MARKER = "dataset.json"


@dataclass(frozen=True)
class Dataset:
    base_dir: Path
    increment_dir: Path
    info: dict  # as_of, rows and files of base and increment, and how they were made


def ensure_dataset(
    scale: str, seed: int, increment_days: int, cache_root: Path, log_dir: Path
) -> tuple[Dataset, list[Measurement]]:
    """The cached dataset, generating what is missing (each generation measured in a child).
    A cache whose increment covers another number of days keeps its base export."""
    root = cache_root / f"{scale}-{seed}"
    marker = root / MARKER
    dataset = Dataset(root / "base", root / "increment", {})
    base_details = None
    if marker.exists():
        info = json.loads(marker.read_text(encoding="utf-8"))
        if info.get("increment_days") == increment_days:
            return Dataset(dataset.base_dir, dataset.increment_dir, info), []
        base_details, generate_seconds = info["base"], info["generate_seconds"]
        marker.unlink()
        shutil.rmtree(dataset.increment_dir, ignore_errors=True)
    else:
        shutil.rmtree(root, ignore_errors=True)
        root.mkdir(parents=True)
    measurements = []
    if base_details is None:
        base = run_stage(
            "generate", {"out_dir": str(dataset.base_dir), "scale": scale, "seed": seed}, log_dir
        )
        measurements.append(base)
        if not base.ok:
            return dataset, measurements
        base_details, generate_seconds = base.details, base.seconds
    increment = run_stage(
        "generate_increment",
        {
            "out_dir": str(dataset.increment_dir),
            "scale": scale,
            "seed": seed,
            "days": increment_days,
            "as_of": base_details["as_of"],
        },
        log_dir,
    )
    measurements.append(increment)
    info = {
        "scale": scale,
        "seed": seed,
        "as_of": base_details["as_of"],
        "increment_days": increment_days,
        "base": base_details,
        "increment": increment.details if increment.ok else {"error": increment.error},
        "generate_seconds": generate_seconds,
    }
    if increment.ok:
        marker.write_text(json.dumps(info, indent=2), encoding="utf-8")
    return Dataset(dataset.base_dir, dataset.increment_dir, info), measurements

"""The library entry points: `generate` (the base export) and `generate_increment` (one more
day). Both simulate the same world for (scale, seed, as_of) and write a view of it."""

from __future__ import annotations

import csv
import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import numpy as np
import pyarrow.compute as pc

from generator.config import DAY, Settings, make_settings, params
from generator.faults import FAULTS, Fault, plant
from generator.render import Window, contact_truth, render_all
from generator.text import timestamps
from generator.world import World, simulate
from generator.writers import write

Progress = Callable[[str], None]


@dataclass
class FileSummary:
    file: str
    rows: int
    faults: int


@dataclass
class Summary:
    out_dir: Path
    scale: str
    seed: int
    as_of: date
    fault_rate: float
    files: list[FileSummary] = field(default_factory=list)
    faults_by_type: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0
    increment: int | None = None

    @property
    def rows(self) -> int:
        return sum(f.rows for f in self.files)


def generate(
    out_dir: Path,
    scale: str = "tiny",
    seed: int = 42,
    fault_rate: float = 0.01,
    as_of: date | None = None,
    progress: Progress | None = None,
) -> Summary:
    """Write the sample exports of `ingestion/mappings/default.yml` and `_truth/` into out_dir.
    Byte-for-byte deterministic for (scale, seed, fault_rate, as_of); as_of defaults to today
    (UTC) and the data ends with that day."""
    s = make_settings(scale, seed, fault_rate, as_of)
    return _export(s, Path(out_dir), Window(None, s.cutoff, ""), progress, None)


def generate_increment(
    out_dir: Path,
    scale: str = "tiny",
    seed: int = 42,
    day: int = 1,
    as_of: date | None = None,
    fault_rate: float = 0.01,
    progress: Progress | None = None,
) -> Summary:
    """Write day `day` after as_of (1 = the day after as_of) as files named like the base ones
    with an `_incNNN` suffix: new contacts, orders, lines, tickets and events of that day, and
    later versions of the contacts, orders, tickets and campaigns that changed on it."""
    from crm.errors import UserError

    s = make_settings(scale, seed, fault_rate, as_of)
    horizon = params()["horizon_days"]
    if not 1 <= day <= horizon:
        raise UserError(f"increment day {day} is outside 1..{horizon}")
    lo = s.cutoff + (day - 1) * DAY
    return _export(s, Path(out_dir), Window(lo, lo + DAY, f"_inc{day:03d}"), progress, day)


def _export(
    s: Settings, out: Path, win: Window, progress: Progress | None, day: int | None
) -> Summary:
    started = time.perf_counter()
    step = progress or (lambda label: None)
    out.mkdir(parents=True, exist_ok=True)
    truth_dir = out / "_truth"
    truth_dir.mkdir(exist_ok=True)
    world = simulate(s, step)
    summary = Summary(out, s.scale, s.seed, s.as_of, s.fault_rate, increment=day)
    faults: list[Fault] = []
    for frame in render_all(world, win):
        if day is not None and frame.rows == 0:
            continue  # nothing of this kind happened that day: no file
        step(f"writing {frame.name}")
        planted = plant(frame, s, win.hi, force_each=day is None)
        faults += planted
        write(frame, out)
        summary.files.append(FileSummary(frame.name, frame.rows, len(planted)))
        del frame
    _write_truth(world, win, truth_dir, faults, summary)
    summary.faults_by_type = {f: sum(x.fault == f for x in faults) for f in FAULTS}
    summary.seconds = time.perf_counter() - started
    return summary


def _write_truth(
    w: World, win: Window, truth_dir: Path, faults: list[Fault], summary: Summary
) -> None:
    suffix = win.suffix
    table = contact_truth(w, win)
    lines = pc.binary_join_element_wise(*table.columns, ",")
    with (truth_dir / f"contact_person{suffix}.csv").open("w", encoding="utf-8") as fh:
        fh.write(",".join(table.column_names) + "\n")
        fh.write("\n".join(lines.to_pylist()) + ("\n" if len(lines) else ""))
    with (truth_dir / f"faults{suffix}.csv").open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh, lineterminator="\n")
        writer.writerow(["file", "source_row", "fault"])
        writer.writerows((f.file, f.source_row, f.fault) for f in faults)
    p = params()["purchasing"]
    s = w.settings
    doc = {
        "scale": s.scale,
        "seed": s.seed,
        "as_of": s.as_of.isoformat(),
        "fault_rate": s.fault_rate,
        "increment": summary.increment,
        "window_utc": {"from": None if win.lo is None else _iso(win.lo), "to": _iso(win.hi)},
        "bgnbd": {**p["bgnbd"], "time_unit": "week"},
        "gamma_gamma": {
            **p["gamma_gamma"],
            "currency": "CNY",
            "parameterisation": "nu ~ Gamma(shape q, rate gamma); order value ~ "
            "Gamma(shape p, rate nu)",
        },
        "fx_rates_to_cny": {
            "month_basis": "ordered_at month in Asia/Shanghai",
            "rates": w.fx.as_dict(),
        },
        "process": {**w.truth, "persons_simulated": w.persons.n},
        "counts": {f.file: f.rows for f in summary.files},
        "faults": {f: sum(x.fault == f for x in faults) for f in FAULTS},
    }
    name = "params.json" if not suffix else f"params{suffix}.json"
    (truth_dir / name).write_text(
        json.dumps(doc, ensure_ascii=False, indent=2) + "\n", encoding="utf-8"
    )


def _iso(seconds: int) -> str:
    return timestamps(np.array([seconds]))[0].as_py()

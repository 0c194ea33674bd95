"""Time `generate` per scale against a same-run baseline: DuckDB writing a plain CSV with as
many rows as the generated data set (the machine's raw formatting and write speed).

    python -m generator.benchmark --scales tiny small medium --out /tmp/bench
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import time
from datetime import date
from pathlib import Path

import duckdb

from generator import generate


def baseline_seconds(rows: int, out: Path) -> float:
    con = duckdb.connect()
    started = time.perf_counter()
    con.execute(
        f"copy (select i as id, md5(i::varchar) as text, i * 0.01 as amount, "
        f"timestamp '2024-01-01' + to_seconds(i) as at from range({rows}) t(i)) "
        f"to '{out}' (header)"
    )
    elapsed = time.perf_counter() - started
    out.unlink()
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scales", nargs="+", default=["tiny", "small", "medium"])
    parser.add_argument("--out", type=Path, default=Path("/tmp/crm-generator-bench"))
    args = parser.parse_args()
    print("| scale | rows | files MB | generate s | CPU s | baseline s | ratio |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    for scale in args.scales:
        out = args.out / scale
        shutil.rmtree(out, ignore_errors=True)
        cpu0 = resource.getrusage(resource.RUSAGE_SELF)
        summary = generate(out, scale=scale, seed=1, as_of=date(2026, 11, 1))
        cpu1 = resource.getrusage(resource.RUSAGE_SELF)
        cpu = (cpu1.ru_utime - cpu0.ru_utime) + (cpu1.ru_stime - cpu0.ru_stime)
        size = sum(p.stat().st_size for p in out.rglob("*") if p.is_file()) / 1e6
        base = baseline_seconds(summary.rows, args.out / "baseline.csv")
        print(
            f"| {scale} | {summary.rows:,} | {size:,.0f} | {summary.seconds:.1f} | {cpu:.1f} "
            f"| {base:.1f} | {summary.seconds / base:.1f} |"
        )
        shutil.rmtree(out, ignore_errors=True)
    print(f"\nload average at the end: {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()

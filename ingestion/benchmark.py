"""Ingestion throughput against a plain DuckDB load of the same files, measured in one run.

    python -m ingestion.benchmark DIR [--mapping FILE]

The baseline is what a user would type without a loader: `CREATE TABLE t AS SELECT * FROM
read_csv(file, ignore_errors = true)` (or read_parquet / read_json), which types by sniffing and
drops bad lines silently. Files DuckDB cannot read itself (GB18030 CSV, .xlsx) have no baseline
and are left out of the ratio; their ingestion time is reported on its own.
"""

from __future__ import annotations

import argparse
import os
import platform
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from ingestion.contracts import load_contracts
from ingestion.loader import discover, ingest
from ingestion.mapping import Source, load_mapping
from ingestion.sqltext import literal
from ingestion.transcode import duckdb_encoding


@dataclass(frozen=True)
class FileTiming:
    file: str
    format: str
    rows: int
    ingest_seconds: float
    baseline_seconds: float | None  # None: DuckDB cannot read this file on its own


@dataclass
class BenchmarkResult:
    data_dir: str
    files: list[FileTiming] = field(default_factory=list)
    total_ingest_seconds: float = 0.0  # whole run: discovery, schema, every file, report

    def _comparable(self) -> list[FileTiming]:
        return [f for f in self.files if f.baseline_seconds is not None]

    @property
    def rows(self) -> int:
        return sum(f.rows for f in self.files)

    @property
    def ingest_rows_per_second(self) -> float:
        return self.rows / self.total_ingest_seconds

    @property
    def comparable_rows(self) -> int:
        return sum(f.rows for f in self._comparable())

    @property
    def comparable_ingest_seconds(self) -> float:
        return sum(f.ingest_seconds for f in self._comparable())

    @property
    def baseline_seconds(self) -> float:
        return sum(f.baseline_seconds or 0.0 for f in self._comparable())

    @property
    def ratio(self) -> float:
        """How many times longer ingestion takes than the plain load, on the same files."""
        return self.comparable_ingest_seconds / self.baseline_seconds

    def markdown(self) -> str:
        lines = [
            "| file | format | rows | ingest s | ingest rows/s | plain CTAS s | ratio |",
            "|---|---|---:|---:|---:|---:|---:|",
        ]
        for f in self.files:
            base = f"{f.baseline_seconds:.2f}" if f.baseline_seconds is not None else "n/a"
            ratio = f"{f.ingest_seconds / f.baseline_seconds:.1f}×" if f.baseline_seconds else "n/a"
            rate = f.rows / f.ingest_seconds if f.ingest_seconds else 0.0
            lines.append(
                f"| {f.file} | {f.format} | {f.rows:,} | {f.ingest_seconds:.2f} | {rate:,.0f} | "
                f"{base} | {ratio} |"
            )
        comparable = self.comparable_rows
        ingest_rate = comparable / self.comparable_ingest_seconds
        lines += [
            "",
            f"Whole run: {self.rows:,} rows in {self.total_ingest_seconds:.1f} s "
            f"({self.ingest_rows_per_second:,.0f} rows/s, checksums, checks and ledger included).",
            f"Files DuckDB reads natively: {comparable:,} rows, ingestion "
            f"{self.comparable_ingest_seconds:.1f} s ({ingest_rate:,.0f} rows/s) vs plain CTAS "
            f"{self.baseline_seconds:.1f} s "
            f"({comparable / self.baseline_seconds:,.0f} rows/s): ratio {self.ratio:.1f}×.",
        ]
        return "\n".join(lines)


def machine() -> str:
    memory = ""
    meminfo = Path("/proc/meminfo")
    if meminfo.exists():
        kb = int(meminfo.read_text().split("\n", 1)[0].split()[1])
        memory = f", {kb / 1024 / 1024:.0f} GB RAM"
    return (
        f"{platform.machine()}, {os.cpu_count()} cores{memory}, Python "
        f"{platform.python_version()}, duckdb {duckdb.__version__}"
    )


def _baseline_sql(path: Path, source: Source) -> str | None:
    target = literal(str(path))
    if source.format == "parquet":
        return f"SELECT * FROM read_parquet({target})"
    encoding = duckdb_encoding(source.encoding)
    if encoding is None:
        return None
    if source.format == "csv":
        return (
            f"SELECT * FROM read_csv({target}, delim = {literal(source.delimiter)}, "
            f"encoding = {literal(encoding)}, ignore_errors = true)"
        )
    if source.format == "jsonl":
        return (
            f"SELECT * FROM read_json({target}, format = 'newline_delimited', ignore_errors = true)"
        )
    return None


def _time_baseline(path: Path, source: Source, work: Path) -> float | None:
    sql = _baseline_sql(path, source)
    if sql is None:
        return None
    db = work / "baseline.duckdb"
    db.unlink(missing_ok=True)
    with duckdb.connect(str(db)) as con:
        con.execute("SET enable_progress_bar = false")
        began = time.perf_counter()
        con.execute(f"CREATE TABLE t AS {sql}")
        return time.perf_counter() - began


def run_benchmark(
    data_dir: Path, mapping: Path | None = None, work_dir: Path | None = None
) -> BenchmarkResult:
    """Load each file plainly, ingest `data_dir` into a fresh warehouse, load each file plainly
    again; the baseline of a file is the mean of its two plain loads, which evens out the drift
    of a shared machine's load over the run."""
    data_dir = Path(data_dir)
    contracts = load_contracts()
    planned = {f.name: f for f in discover(data_dir, load_mapping(mapping, contracts), contracts)}
    with tempfile.TemporaryDirectory(prefix="crm-ingest-bench-", dir=work_dir) as scratch:
        work = Path(scratch)
        before = {n: _time_baseline(f.path, f.source, work) for n, f in planned.items()}
        began = time.perf_counter()
        report = ingest(data_dir, work / "ingest.duckdb", mapping=mapping)
        total = time.perf_counter() - began
        after = {n: _time_baseline(f.path, f.source, work) for n, f in planned.items()}
        baseline = {n: None if before[n] is None else (before[n] + after[n]) / 2 for n in planned}
        result = BenchmarkResult(data_dir=str(data_dir), total_ingest_seconds=total)
        for f in report.files:
            plan = planned[f.file]
            result.files.append(
                FileTiming(
                    file=f.file,
                    format=plan.source.format
                    + (f" ({plan.source.encoding})" if plan.source.encoding != "utf-8" else ""),
                    rows=f.rows_read,
                    ingest_seconds=f.seconds,
                    baseline_seconds=baseline[f.file],
                )
            )
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m ingestion.benchmark", description=__doc__)
    parser.add_argument("dir", type=Path, help="generated dataset to ingest")
    parser.add_argument("--mapping", type=Path, default=None)
    args = parser.parse_args(argv)
    result = run_benchmark(args.dir, args.mapping)
    print(f"Machine: {machine()}\nData: {args.dir}\n")
    print(result.markdown())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

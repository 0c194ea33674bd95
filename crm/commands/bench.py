"""`crm bench --scale S`: the pipeline benchmark suite (issue 7, docs/benchmarks.md)."""

from __future__ import annotations

import argparse
from pathlib import Path

from crm.errors import UserError
from crm.settings import PROJECT_ROOT

SCALES = ("tiny", "small", "medium", "large")


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "bench",
        help="measure every pipeline stage against its baseline at a scale",
        description=(
            "Generate the scale's data (cached in bench/cache/), then measure wall time, CPU "
            "time and peak RSS of each stage (ingest, dbt build, quality, publish, dashboards, "
            "CLV fit, an incremental run) and of its baseline in the same run. Writes "
            "bench/results/<scale>-<date>.json and appends a table to docs/benchmarks.md."
        ),
    )
    parser.add_argument("--scale", choices=SCALES, default="tiny")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument(
        "--work-dir",
        type=Path,
        default=None,
        help="where this run's warehouses and logs go (default: bench/cache/<scale>-<seed>/run)",
    )
    parser.add_argument("--results-dir", type=Path, default=None, help="default: bench/results")
    parser.add_argument(
        "--docs",
        type=Path,
        default=PROJECT_ROOT / "docs" / "benchmarks.md",
        help="Markdown file the run's table is appended to",
    )
    parser.add_argument("--no-docs", action="store_true", help="append no table")
    parser.set_defaults(func=_run)


def _run(args: argparse.Namespace) -> int:
    from bench.config import RESULTS_DIR
    from bench.report import append_markdown, markdown, write_json
    from bench.suite import run_suite

    if not args.no_docs and not args.docs.parent.is_dir():
        raise UserError(f"{args.docs}: no such directory for the benchmark table")
    document = run_suite(args.scale, args.seed, work_dir=args.work_dir)
    path = write_json(document, args.results_dir or RESULTS_DIR)
    print()
    print(markdown(document))
    print(f"results: {path}")
    if not args.no_docs:
        append_markdown(document, args.docs)
        print(f"table appended to {args.docs}")
    # Failed stages are recorded, not fatal: the exit code tells CI something went wrong.
    return 1 if document["errors"] else 0

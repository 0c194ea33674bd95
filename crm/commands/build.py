"""`crm build`: runs the dbt project (staging, identity resolution, marts, every dbt test)."""

from __future__ import annotations

import argparse
import sys

from crm.build import build
from crm.commands._common import add_db_option
from crm.settings import resolve_db


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "build",
        help="run dbt build over the warehouse (models, seeds, data and unit tests)",
        description="Run `dbt build` of dbt_project/ against the warehouse and report failures.",
    )
    add_db_option(parser)
    parser.add_argument(
        "--select", nargs="+", metavar="SELECTOR", help="dbt node selection (default: everything)"
    )
    parser.add_argument(
        "--full-refresh", action="store_true", help="rebuild incremental facts from scratch"
    )
    parser.add_argument(
        "--docs",
        action="store_true",
        help="also write the dbt docs site as one offline file (static_index.html)",
    )
    parser.add_argument(
        "--no-unit-tests",
        action="store_true",
        help="leave out the dbt unit tests, as `crm run` does (they test code, not data)",
    )
    parser.add_argument("--target-path", metavar="DIR", default=None, help="dbt target directory")
    parser.set_defaults(func=_run)


def _run(args: argparse.Namespace) -> int:
    db = resolve_db(args.db)
    result = build(
        db,
        select=args.select,
        full_refresh=args.full_refresh,
        target_path=args.target_path,
        docs=args.docs,
        unit_tests=not args.no_unit_tests,
    )
    stream = sys.stdout if result.success else sys.stderr
    print(result.summary, file=stream)
    print(f"({result.elapsed_seconds:.1f}s, warehouse {db})", file=stream)
    if result.docs_path:
        print(f"docs: {result.docs_path}")
    return 0 if result.success else 1

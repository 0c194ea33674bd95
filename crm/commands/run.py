"""`crm run DATA_DIR`: ingest → build → quality → publish (the gate)."""

from __future__ import annotations

import argparse
from pathlib import Path

from crm.commands._common import add_db_option, add_reports_option
from crm.settings import resolve_db


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "run",
        help="ingest, build, check and publish (exit 1 when the gate holds the marts back)",
        description="Ingest the exports in DATA_DIR, build the dbt project, run the quality "
        "suites and publish the marts for the dashboards only if no critical check failed. "
        "On a failed gate the dashboards keep the last good marts and see the failed checks.",
    )
    parser.add_argument("data_dir", metavar="DATA_DIR", type=Path, help="directory of exports")
    add_db_option(parser)
    add_reports_option(parser)
    parser.set_defaults(func=_run)


def _run(args: argparse.Namespace) -> int:
    from crm.pipeline import run_pipeline
    from quality.summary import render

    result = run_pipeline(args.data_dir, resolve_db(args.db), reports_dir=args.reports)
    render(result.quality_run)
    print(result.summary)
    return 0 if result.published else 1

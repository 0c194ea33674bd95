"""`crm quality`: run every GX suite, record the history, build the Data Docs."""

from __future__ import annotations

import argparse

from crm.commands._common import add_db_option, add_reports_option
from crm.settings import resolve_db


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "quality",
        help="run the data-quality suites (exit 1 when a critical check fails)",
        description="Validate the warehouse with the Great Expectations suites in "
        "quality/suites/, append the run to quality.runs / quality.results and build the "
        "Data Docs. Exits 1 when any critical expectation fails. Per-row and key checks of "
        "the raw tables see only the loads no passed run has covered yet; --full checks "
        "every table whole.",
    )
    add_db_option(parser)
    add_reports_option(parser)
    parser.add_argument(
        "--full",
        action="store_true",
        help="run every check over whole tables (the first run always does)",
    )
    parser.set_defaults(func=_run)


def _run(args: argparse.Namespace) -> int:
    from quality import run_quality
    from quality.summary import render

    run = run_quality(resolve_db(args.db), reports_dir=args.reports, full=args.full)
    render(run)
    return 0 if run.passed else 1

"""`crm ingest DIR`: land a directory of exports in the warehouse's raw schema."""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

from rich.console import Console

from crm.commands._common import add_db_option
from crm.settings import resolve_db


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "ingest",
        help="load export files into raw.* (lossless: bad rows go to raw._rejects)",
        description=(
            "Load every file of DIR that the mapping describes into schema raw of the "
            "warehouse. Files already loaded (same checksum) are skipped; rejected rows are "
            "kept in raw._rejects with their reason; raw._loads records every file."
        ),
    )
    parser.add_argument("dir", metavar="DIR", type=Path, help="directory holding the exports")
    add_db_option(parser)
    parser.add_argument(
        "--mapping",
        metavar="FILE",
        type=Path,
        default=None,
        help="mapping YAML of your exports (default: ingestion/mappings/default.yml)",
    )
    parser.add_argument("--quiet", action="store_true", help="print no summary table")
    parser.set_defaults(func=_run)


def _run(args: argparse.Namespace) -> int:
    from ingestion import IngestFailed, ingest

    logging.basicConfig(level=logging.WARNING, format="%(message)s")
    console = Console(stderr=False)
    try:
        report = ingest(args.dir, resolve_db(args.db), mapping=args.mapping, progress=True)
    except IngestFailed as exc:
        if not args.quiet:
            exc.report.render(console)
        raise
    if not args.quiet:
        report.render(console)
    return 0

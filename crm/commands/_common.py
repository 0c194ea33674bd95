"""Options shared by several subcommands."""

from __future__ import annotations

import argparse
from pathlib import Path


def add_db_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--db",
        metavar="PATH",
        default=None,
        help="warehouse file (default: $CRM_DB, else warehouse/crm.duckdb)",
    )


def add_reports_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--reports",
        metavar="DIR",
        type=Path,
        default=None,
        help="where the Data Docs go (default: reports/ for the project warehouse, "
        "else beside the --db file)",
    )

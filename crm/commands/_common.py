"""Options shared by several subcommands."""

from __future__ import annotations

import argparse


def add_db_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--db",
        metavar="PATH",
        default=None,
        help="warehouse file (default: $CRM_DB, else warehouse/crm.duckdb)",
    )

"""`crm clv fit FILE`: fit BG/NBD and Gamma-Gamma on any transaction file, print JSON."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import pandas as pd

from clv import fit_transactions
from clv.config import DAYS_PER_UNIT, load_config
from clv.transactions import read_transactions
from crm.errors import UserError


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "clv", help="predictive CLV: fit BG/NBD + Gamma-Gamma on a transaction file"
    )
    actions = parser.add_subparsers(dest="clv_command", required=True, metavar="ACTION")
    fit = actions.add_parser(
        "fit",
        help="fit both models and print their parameters and diagnostics as JSON",
        description="Per customer, the first purchase is the birth; same-day purchases count "
        "once; purchases after --cutoff are ignored.",
    )
    fit.add_argument("file", type=Path, metavar="FILE", help="transactions (.csv or .parquet)")
    fit.add_argument("--customer-col", required=True, metavar="C", help="customer id column")
    fit.add_argument("--date-col", required=True, metavar="D", help="purchase date/time column")
    fit.add_argument("--amount-col", required=True, metavar="A", help="purchase amount column")
    fit.add_argument(
        "--cutoff",
        metavar="DATE",
        default=None,
        help="calibration end, inclusive (default: the latest purchase date)",
    )
    fit.add_argument(
        "--time-unit",
        choices=sorted(DAYS_PER_UNIT),
        default=None,
        help="unit of recency/T and of alpha (default from clv/clv.yml: week)",
    )
    fit.set_defaults(func=_fit)


def _fit(args: argparse.Namespace) -> int:
    config = load_config()
    cutoff = None
    if args.cutoff is not None:
        try:
            cutoff = pd.Timestamp(args.cutoff)
        except ValueError as exc:
            raise UserError(f"--cutoff {args.cutoff!r} is not a date") from exc
    frame = read_transactions(args.file, args.customer_col, args.date_col, args.amount_col)
    try:
        result = fit_transactions(
            frame,
            args.customer_col,
            args.date_col,
            args.amount_col,
            config=config,
            cutoff=cutoff,
            time_unit=args.time_unit or config.time_unit,
        )
    except ValueError as exc:
        raise UserError(f"{args.file}: cannot fit: {exc}") from exc
    print(json.dumps(result, indent=2))
    return 0

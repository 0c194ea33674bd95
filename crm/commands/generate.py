"""`crm generate`: write deterministic sample exports (with planted faults and truth files)."""

from __future__ import annotations

import argparse
from pathlib import Path

from crm.errors import UserError
from generator.config import as_of_from_text, scale_table


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "generate",
        help="write sample CRM exports (contacts, orders, tickets, campaigns) with truth files",
        description="Write the sample exports described by ingestion/mappings/default.yml, "
        "plus _truth/ (contact→person map, generating parameters, planted faults).",
    )
    parser.add_argument(
        "--scale",
        choices=list(scale_table()),
        default="tiny",
        help="size of the data set (default: tiny)",
    )
    parser.add_argument("--seed", type=int, default=42, help="random seed (default: 42)")
    parser.add_argument(
        "--out", type=Path, required=True, metavar="DIR", help="directory to write the exports into"
    )
    parser.add_argument(
        "--fault-rate",
        type=float,
        default=0.01,
        metavar="RATE",
        help="share of records with a planted fault (default: 0.01; 0 = clean)",
    )
    parser.add_argument(
        "--as-of",
        default=None,
        metavar="YYYY-MM-DD",
        help="last day of the data (default: today, UTC)",
    )
    parser.add_argument(
        "--increment",
        type=int,
        default=None,
        metavar="N",
        help="write only day N after --as-of (files *_incNNN.*) instead of the base export",
    )
    parser.set_defaults(func=_run)


def _run(args: argparse.Namespace) -> int:
    from rich.console import Console
    from rich.table import Table

    from generator import generate, generate_increment

    console = Console(stderr=True)
    as_of = as_of_from_text(args.as_of) if args.as_of else None
    show = args.scale in ("medium", "large")
    with console.status("generating", spinner="dots") as status:

        def progress(label: str) -> None:
            if show:
                status.update(f"generating: {label}")
                console.log(label)

        try:
            if args.increment is None:
                summary = generate(
                    args.out, args.scale, args.seed, args.fault_rate, as_of, progress
                )
            else:
                summary = generate_increment(
                    args.out,
                    args.scale,
                    args.seed,
                    args.increment,
                    as_of,
                    args.fault_rate,
                    progress,
                )
        except OSError as exc:
            raise UserError(f"cannot write to {args.out}: {exc.strerror or exc}") from None

    table = Table(title=f"crm generate → {summary.out_dir}")
    table.add_column("file")
    table.add_column("rows", justify="right")
    table.add_column("faults", justify="right")
    for f in summary.files:
        table.add_row(f.file, f"{f.rows:,}", f"{f.faults:,}")
    table.add_row("total", f"{summary.rows:,}", f"{sum(f.faults for f in summary.files):,}")
    Console().print(table)
    planted = ", ".join(f"{k} {v}" for k, v in summary.faults_by_type.items() if v)
    day = "" if summary.increment is None else f", increment day {summary.increment}"
    print(
        f"scale {summary.scale}, seed {summary.seed}, as of {summary.as_of}{day}; "
        f"{summary.seconds:.1f} s; faults: {planted or 'none'}"
    )
    return 0

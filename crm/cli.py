"""`crm`: one command line over the library. Each subcommand lives in crm/commands/<name>.py and
exposes `register(subparsers)`, which adds its parser and sets `func(args) -> int`."""

from __future__ import annotations

import argparse
import importlib
import logging
import os
import sys

from crm.errors import UserError

COMMANDS = ("generate", "ingest", "build", "quality", "run", "clv", "dashboard", "bench")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="crm", description="CRM analytics stack: ingest, build, check, publish, serve."
    )
    subparsers = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name in COMMANDS:
        importlib.import_module(f"crm.commands.{name}").register(subparsers)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except UserError as exc:
        print(f"crm {args.command}: error: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print(f"crm {args.command}: interrupted", file=sys.stderr)
        return 130


def run() -> None:
    """Console entry point. DuckDB 2.0's bindings (nanobind) print pages of "leaked instance"
    reports at interpreter teardown for objects that libraries such as Great Expectations still
    hold; the process frees everything anyway, so it ends without that teardown."""
    code = main()
    logging.shutdown()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


if __name__ == "__main__":
    run()

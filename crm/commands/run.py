"""Placeholder until its owner lands it."""

from crm.errors import UserError


def register(subparsers) -> None:
    parser = subparsers.add_parser("run", help="(not built yet)")
    parser.set_defaults(func=_run)


def _run(args) -> int:
    raise UserError("'crm run' is not built yet")

"""Quoting of identifiers and literals for the SQL the loader builds from contracts and exports.

Column names come from users' export headers (Chinese, spaces, quotes), so they are always
quoted; values that reach SQL text (formats, constants, spellings) go through `literal`.
"""

from __future__ import annotations


def ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def literal(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def literal_list(values: tuple[str, ...] | list[str]) -> str:
    return "[" + ", ".join(literal(v) for v in values) + "]"

"""Read-only access to the published warehouse file, free of Streamlit (benchmarks use it too).

The published file is replaced atomically by the publisher (`os.replace`), never written in
place. A reader must therefore open by file identity: `duckdb.connect(path, read_only=True)`
would hand back the process-wide cached instance of the *old* file after a swap, so each
identity (inode + mtime) gets its own in-memory connection with the file ATTACHed READ_ONLY.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd

from crm.settings import published_db, resolve_db

ALIAS = "wh"
PUBLISHED_ENV = "CRM_PUBLISHED_DB"


@dataclass(frozen=True)
class FileIdentity:
    """Which published file a connection or cached result belongs to."""

    path: str
    inode: int
    mtime_ns: int


def published_path(environ: dict[str, str] | None = None) -> Path:
    """`$CRM_PUBLISHED_DB` (set by `crm dashboard`), else the published twin of the warehouse."""
    env = os.environ if environ is None else environ
    if env.get(PUBLISHED_ENV):
        return Path(env[PUBLISHED_ENV]).expanduser().resolve()
    return published_db(resolve_db(None))


def identify(path: Path) -> FileIdentity | None:
    """The file's current identity, or None when nothing has been published there yet."""
    try:
        stat = path.stat()
    except FileNotFoundError:
        return None
    return FileIdentity(str(path), stat.st_ino, stat.st_mtime_ns)


def connect(identity: FileIdentity) -> duckdb.DuckDBPyConnection:
    con = duckdb.connect(":memory:")
    # The path is ours (config/env), never user input; DuckDB cannot bind ATTACH targets.
    quoted = identity.path.replace("'", "''")
    con.execute(f"ATTACH '{quoted}' AS {ALIAS} (READ_ONLY)")
    return con


def fetch(
    con: duckdb.DuckDBPyConnection, sql: str, params: dict[str, Any] | None = None
) -> pd.DataFrame:
    # A cursor per query: the cached connection is shared by every session's script thread.
    cursor = con.cursor()
    try:
        return cursor.execute(sql, params or {}).df()
    finally:
        cursor.close()


def columns_by_table(con: duckdb.DuckDBPyConnection) -> dict[str, frozenset[str]]:
    """`schema.table` → its columns, for every relation in the published file."""
    frame = fetch(
        con,
        "select table_schema, table_name, column_name from information_schema.columns "
        "where table_catalog = $alias",
        {"alias": ALIAS},
    )
    tables: dict[str, set[str]] = {}
    for schema, table, column in frame.itertuples(index=False):
        tables.setdefault(f"{schema}.{table}", set()).add(column)
    return {name: frozenset(cols) for name, cols in tables.items()}

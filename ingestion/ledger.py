"""The raw schema's bookkeeping: entity tables from the contracts, the rejects table and the
load ledger `raw._loads`, whose status moves running -> loaded | failed (or is
skipped_duplicate_file from the start)."""

from __future__ import annotations

import datetime as dt
import hashlib
from pathlib import Path

import duckdb

from ingestion.contracts import Contracts
from ingestion.sqltext import ident, literal

LINEAGE_DDL = (
    ("_load_id", "VARCHAR"),
    ("_source_file", "VARCHAR"),
    ("_source_row", "BIGINT"),
    ("_loaded_at", "TIMESTAMP"),
    ("_extra", "JSON"),
)

LOADS_DDL = """
CREATE TABLE IF NOT EXISTS raw._loads (
    _load_id VARCHAR NOT NULL,
    run_id VARCHAR NOT NULL,
    entity VARCHAR NOT NULL,
    source VARCHAR NOT NULL,
    file VARCHAR NOT NULL,
    checksum VARCHAR NOT NULL,
    bytes BIGINT,
    rows_read BIGINT NOT NULL DEFAULT 0,
    rows_loaded BIGINT NOT NULL DEFAULT 0,
    rows_rejected BIGINT NOT NULL DEFAULT 0,
    status VARCHAR NOT NULL,
    error VARCHAR,
    extra_columns VARCHAR,
    missing_columns VARCHAR,
    started_at TIMESTAMP NOT NULL,
    finished_at TIMESTAMP
)
"""

REJECTS_DDL = """
CREATE TABLE IF NOT EXISTS raw._rejects (
    entity VARCHAR NOT NULL,
    _load_id VARCHAR NOT NULL,
    file VARCHAR NOT NULL,
    source_row BIGINT,
    record VARCHAR,
    reason VARCHAR NOT NULL,
    reason_code VARCHAR NOT NULL,
    rejected_at TIMESTAMP NOT NULL
)
"""

INTERRUPTED = "interrupted: the process ended before the file was committed; nothing was kept"


def sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(4 * 1024 * 1024):
            digest.update(chunk)
    return digest.hexdigest()


def utc_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


def ensure_schema(con: duckdb.DuckDBPyConnection, contracts: Contracts) -> None:
    """Create what is missing: schema raw, one table per entity (adding contract columns that
    were added since), the ledger and the rejects table."""
    con.execute("CREATE SCHEMA IF NOT EXISTS raw")
    for entity in contracts.ordered():
        table = f"raw.{ident(entity.name)}"
        columns = [(c.name, c.duckdb_type) for c in entity.columns] + list(LINEAGE_DDL)
        body = ", ".join(f"{ident(n)} {t}" for n, t in columns)
        con.execute(f"CREATE TABLE IF NOT EXISTS {table} ({body})")
        existing = {
            row[0]
            for row in con.execute(
                "SELECT column_name FROM information_schema.columns "
                "WHERE table_schema = 'raw' AND table_name = ?",
                [entity.name],
            ).fetchall()
        }
        for name, type_ in columns:
            if name not in existing:
                con.execute(f"ALTER TABLE {table} ADD COLUMN {ident(name)} {type_}")
    con.execute(LOADS_DDL)
    con.execute(REJECTS_DDL)


def close_interrupted(con: duckdb.DuckDBPyConnection) -> int:
    """Mark ledger rows left `running` by a process that died as failed. DuckDB admits one
    writer per file, so no other load can be running now."""
    rows = con.execute(
        "UPDATE raw._loads SET status = 'failed', error = ?, finished_at = ? "
        "WHERE status = 'running' RETURNING _load_id",
        [INTERRUPTED, utc_now()],
    ).fetchall()
    return len(rows)


def already_loaded(con: duckdb.DuckDBPyConnection, entity: str, checksum: str) -> str | None:
    """The file these bytes were loaded from into `entity`, if they were. Per entity: two
    empty exports of different entities share a checksum but are not the same file."""
    row = con.execute(
        "SELECT file FROM raw._loads WHERE entity = ? AND checksum = ? AND status = 'loaded' "
        "ORDER BY started_at LIMIT 1",
        [entity, checksum],
    ).fetchone()
    return row[0] if row else None


def start(con: duckdb.DuckDBPyConnection, **row: object) -> None:
    names = ", ".join(row)
    marks = ", ".join("?" for _ in row)
    con.execute(f"INSERT INTO raw._loads ({names}) VALUES ({marks})", list(row.values()))


def finish(con: duckdb.DuckDBPyConnection, load_id: str, **values: object) -> None:
    sets = ", ".join(f"{name} = ?" for name in values)
    con.execute(
        f"UPDATE raw._loads SET {sets} WHERE _load_id = {literal(load_id)}", list(values.values())
    )

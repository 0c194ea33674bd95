"""Blue/green publication of the warehouse dashboards read (docs/quality.md, interfaces §C).

The published file (`crm.settings.published_db(db)`) is never written in place: a new file is
assembled beside it and swapped in with `os.replace`, so a dashboard holding the old file keeps
reading it and the next open sees the new one.

- Gate passed: the new file holds every `marts.*` table of the working warehouse.
- Gate failed: the new file starts as a copy of the previous published file, so its marts are
  the last good build's.
Either way it carries the whole quality history (`quality.runs`, `quality.results`, including
the failed runs), the log of publications (`quality.publications`) and copies of the load
ledger and rejects (`ops.loads`, `ops.rejects`) for the data-quality page.
"""

from __future__ import annotations

import os
import shutil
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import duckdb

from crm.settings import published_db

SOURCE = "working"

PUBLICATIONS_DDL = """
create table if not exists quality.publications (
    published_at timestamp not null,   -- UTC
    run_id varchar not null,           -- the quality run that decided this publication
    gate_passed boolean not null,
    marts_updated boolean not null,    -- false: the marts are the previous good build's
    marts_run_id varchar,              -- quality run whose marts this file serves
    marts_tables integer not null
)
"""

# Copied from the working warehouse on every publication, whatever the gate said.
HISTORY_TABLES = {
    ("quality", "runs"): "quality.runs",
    ("quality", "results"): "quality.results",
    ("ops", "loads"): "raw._loads",
    ("ops", "rejects"): "raw._rejects",
}


@dataclass(frozen=True)
class Publication:
    path: Path
    run_id: str
    gate_passed: bool
    marts_updated: bool
    marts_run_id: str | None
    marts_tables: list[str]


def _tables(con: duckdb.DuckDBPyConnection, catalog: str, schema: str) -> list[str]:
    rows = con.execute(
        "select table_name from duckdb_tables() where database_name = ? and schema_name = ? "
        "union select view_name from duckdb_views() "
        "where database_name = ? and schema_name = ? and not internal order by 1",
        [catalog, schema, catalog, schema],
    ).fetchall()
    return [r[0] for r in rows]


def _exists(con: duckdb.DuckDBPyConnection, catalog: str, schema: str, table: str) -> bool:
    return table in _tables(con, catalog, schema)


def _copy_marts(con: duckdb.DuckDBPyConnection) -> list[str]:
    con.execute("drop schema if exists marts cascade")
    con.execute("create schema marts")
    names = _tables(con, SOURCE, "marts")
    for name in names:
        # Views are materialised: they would point at schemas the published file lacks.
        con.execute(f'create table marts."{name}" as select * from {SOURCE}.marts."{name}"')
    return names


def _copy_history(con: duckdb.DuckDBPyConnection) -> None:
    for (schema, table), source in HISTORY_TABLES.items():
        src_schema, src_table = source.split(".")
        con.execute(f"create schema if not exists {schema}")
        con.execute(f"drop table if exists {schema}.{table}")
        if _exists(con, SOURCE, src_schema, src_table):
            con.execute(
                f"create table {schema}.{table} as select * from {SOURCE}.{src_schema}.{src_table}"
            )


def _sql_path(path: Path) -> str:
    return "'" + str(path).replace("'", "''") + "'"


def _carry_publications(con: duckdb.DuckDBPyConnection, previous: Path) -> None:
    """Keep the log of earlier publications in a file assembled from scratch."""
    con.execute(f"attach {_sql_path(previous)} as previous (read_only)")
    try:
        con.execute("create schema if not exists quality")
        con.execute(PUBLICATIONS_DDL)
        if _exists(con, "previous", "quality", "publications"):
            con.execute(
                "insert into quality.publications select * from previous.quality.publications"
            )
    finally:
        con.execute("detach previous")


def _previous_marts_run(con: duckdb.DuckDBPyConnection, catalog: str) -> str | None:
    if not _exists(con, catalog, "quality", "publications"):
        return None
    row = con.execute(
        "select marts_run_id from quality.publications order by published_at desc limit 1"
    ).fetchone()
    return row[0] if row else None


def publish(db_path: Path, run_id: str, gate_passed: bool) -> Publication:
    """Assemble the next published file from the working warehouse and swap it in.

    Call only after every writer of `db_path` has closed (ingest, dbt, the quality history).
    """
    db_path = Path(db_path)
    target = published_db(db_path)
    staging = target.with_name(f".{target.name}.{uuid.uuid4().hex[:8]}.tmp")
    if not gate_passed and target.exists():
        shutil.copyfile(target, staging)
    try:
        con = duckdb.connect(str(staging))
        con.execute("set enable_progress_bar = false")  # copies of large marts run unattended
        try:
            con.execute(f"attach {_sql_path(db_path)} as {SOURCE} (read_only)")
            catalog = con.execute("select current_database()").fetchone()[0]
            if gate_passed and target.exists():
                _carry_publications(con, target)
            marts_run_id = _previous_marts_run(con, catalog)
            if gate_passed:
                marts = _copy_marts(con)
                marts_run_id = run_id
            else:
                marts = _tables(con, catalog, "marts")
            _copy_history(con)
            con.execute(PUBLICATIONS_DDL)
            con.execute(
                "insert into quality.publications values (?, ?, ?, ?, ?, ?)",
                [
                    datetime.now(UTC).replace(tzinfo=None),
                    run_id,
                    gate_passed,
                    gate_passed,
                    marts_run_id,
                    len(marts),
                ],
            )
            con.execute(f"detach {SOURCE}")
            con.execute("checkpoint")
        finally:
            con.close()
        os.replace(staging, target)
    except BaseException:
        staging.unlink(missing_ok=True)
        raise
    return Publication(target, run_id, gate_passed, gate_passed, marts_run_id, marts)

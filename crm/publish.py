"""Blue/green publication of the warehouse dashboards read (docs/quality.md, interfaces §C).

The published file (`crm.settings.published_db(db)`) is never written in place: a new file is
assembled beside it and swapped in with `os.replace`, so a dashboard holding the old file keeps
reading it and the next open sees the new one.

- Gate passed: the new file starts as a byte copy of the working warehouse (after a checkpoint,
  so no committed row is left in its WAL; `crm.pipeline` starts it while the gate's checks
  read the file, `start_snapshot`). Every schema dashboards must not see is dropped from
  the copy, and the `marts.*` tables keep the blocks dbt wrote: nothing is decompressed or
  recompressed, and storage order (which `mart_customer_timeline` relies on) is kept. A view
  among the marts is materialised before the schemas it reads go away. Publishing costs a file
  copy; the price is disk: the dropped schemas' blocks stay in the file as free blocks, so the
  published file is as large as the working one (docs/decisions.md).
- Gate failed: the new file starts as a copy of the previous published file, so its marts are
  the last good build's.
Either way it holds only `marts.*`, the whole quality history (`quality.runs`,
`quality.results`, including the failed runs), the log of publications (`quality.publications`,
carried over from the previous file and appended) and copies of the load ledger and rejects
(`ops.loads`, `ops.rejects`) for the data-quality page.
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
from crm.snapshot import Snapshot, checkpoint, copy_locked

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

# The quality history, kept in the working warehouse under the names dashboards read.
QUALITY_HISTORY = ("runs", "results")
# Served copies of the load ledger and rejects, for the data-quality page.
OPS_TABLES = {"loads": "raw._loads", "rejects": "raw._rejects"}
# Everything else in the working warehouse (raw, staging, intermediate, seeds, dbt's leftovers
# in main, ...) stays out of the published file.
PUBLISHED_SCHEMAS = ("marts", "quality", "ops")


@dataclass(frozen=True)
class Publication:
    path: Path
    run_id: str
    gate_passed: bool
    marts_updated: bool
    marts_run_id: str | None
    marts_tables: list[str]


def _tables(con: duckdb.DuckDBPyConnection, catalog: str, schema: str) -> list[str]:
    return [name for name, _ in _relations(con, catalog, schema)]


def _relations(con: duckdb.DuckDBPyConnection, catalog: str, schema: str) -> list[tuple[str, str]]:
    """(name, 'table' | 'view') of every relation of `catalog.schema`, by name."""
    return con.execute(
        "select table_name, 'table' from duckdb_tables() "
        "where database_name = ? and schema_name = ? "
        "union all select view_name, 'view' from duckdb_views() "
        "where database_name = ? and schema_name = ? and not internal order by 1",
        [catalog, schema, catalog, schema],
    ).fetchall()


def _exists(con: duckdb.DuckDBPyConnection, catalog: str, schema: str, table: str) -> bool:
    return table in _tables(con, catalog, schema)


def _sql_path(path: Path) -> str:
    return "'" + str(path).replace("'", "''") + "'"


def _copy_ops(con: duckdb.DuckDBPyConnection, catalog: str) -> None:
    con.execute("drop schema if exists ops cascade")
    con.execute("create schema ops")
    for table, source in OPS_TABLES.items():
        schema, name = source.split(".")
        if _exists(con, catalog, schema, name):
            con.execute(f'create table ops."{table}" as select * from "{catalog}".{source}')


def _materialise_views(con: duckdb.DuckDBPyConnection, catalog: str, schema: str) -> None:
    """Turn the views of `schema` into tables: they read schemas the published file lacks."""
    for name, kind in _relations(con, catalog, schema):
        if kind == "view":
            con.execute(f'create table {schema}."{name}__table" as select * from {schema}."{name}"')
            con.execute(f'drop view {schema}."{name}"')
            con.execute(f'alter table {schema}."{name}__table" rename to "{name}"')


def _drop_unpublished(con: duckdb.DuckDBPyConnection, catalog: str) -> None:
    schemas = con.execute(
        "select schema_name from duckdb_schemas() where database_name = ? and not internal",
        [catalog],
    ).fetchall()
    for (schema,) in schemas:
        if schema not in (*PUBLISHED_SCHEMAS, "main"):
            con.execute(f'drop schema "{schema}" cascade')
    # `main` cannot be dropped (it is the default schema): empty it instead.
    for name, kind in _relations(con, catalog, "main"):
        con.execute(f'drop {kind} main."{name}"')
    for name, kind in _relations(con, catalog, "quality"):
        if name not in QUALITY_HISTORY:
            con.execute(f'drop {kind} quality."{name}"')


def _copy_history(con: duckdb.DuckDBPyConnection, db_path: Path) -> None:
    """Refresh the quality history and the ops copies of the staging file from the working
    file: a copy of the previous published file lacks this run, and so does a copy of the
    working file made while the gate ran."""
    con.execute(f"attach {_sql_path(db_path)} as {SOURCE} (read_only)")
    try:
        con.execute("create schema if not exists quality")
        for table in QUALITY_HISTORY:
            con.execute(f"drop table if exists quality.{table}")
            if _exists(con, SOURCE, "quality", table):
                con.execute(
                    f"create table quality.{table} as select * from {SOURCE}.quality.{table}"
                )
        _copy_ops(con, SOURCE)
    finally:
        con.execute(f"detach {SOURCE}")


def _carry_publications(con: duckdb.DuckDBPyConnection, previous: Path) -> None:
    """Keep the log of earlier publications in a file that did not start as the previous one."""
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


def _assemble(
    con: duckdb.DuckDBPyConnection, db_path: Path, target: Path, gate_passed: bool
) -> None:
    """Bring the staging file to the published contract (quality.publications aside)."""
    if gate_passed:
        catalog = con.execute("select current_database()").fetchone()[0]
        _materialise_views(con, catalog, "marts")
        _drop_unpublished(con, catalog)
    _copy_history(con, db_path)
    if gate_passed and target.exists():
        _carry_publications(con, target)


def _staging(target: Path) -> Path:
    return target.with_name(f".{target.name}.{uuid.uuid4().hex[:8]}.tmp")


def start_snapshot(db_path: Path) -> Snapshot:
    """Start the byte copy a passed gate publishes from, in the background. Call once the
    build has closed the file; until `publish` (or `Snapshot.wait`) returns, nothing may write
    it, readers may."""
    return Snapshot.start(Path(db_path), _staging(published_db(Path(db_path))))


def publish(
    db_path: Path, run_id: str, gate_passed: bool, snapshot: Snapshot | None = None
) -> Publication:
    """Assemble the next published file from the working warehouse and swap it in.

    Call only after every writer of `db_path` has closed (ingest, dbt, the quality history).
    `snapshot`: the copy `start_snapshot` began before the gate (discarded if it failed).
    """
    db_path = Path(db_path)
    target = published_db(db_path)
    if snapshot is not None and not gate_passed:
        snapshot.discard()
        snapshot = None
    staging = snapshot.dest if snapshot is not None else _staging(target)
    try:
        if snapshot is not None:
            snapshot.check()
        elif gate_passed:
            checkpoint(db_path)
            copy_locked(db_path, staging)
        elif target.exists():
            shutil.copyfile(target, staging)
        con = duckdb.connect(str(staging))
        con.execute("set enable_progress_bar = false")  # copies of large tables run unattended
        try:
            _assemble(con, db_path, target, gate_passed)
            catalog = con.execute("select current_database()").fetchone()[0]
            marts = _tables(con, catalog, "marts")
            marts_run_id = run_id if gate_passed else _previous_marts_run(con, catalog)
            con.execute("create schema if not exists quality")
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
            con.execute("checkpoint")
        finally:
            con.close()
        os.replace(staging, target)
    except BaseException:
        staging.unlink(missing_ok=True)
        staging.with_name(staging.name + ".wal").unlink(missing_ok=True)
        raise
    return Publication(target, run_id, gate_passed, gate_passed, marts_run_id, marts)

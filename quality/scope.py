"""Which rows each check sees in a run: the whole table, or only the rows no passed run covered.

Raw tables are append-only and every row carries the ledger load that brought it (`_load_id`,
`_loaded_at` = the load's `started_at` in raw._loads). The incremental marts facts (suites
that say `written_at: _dbt_updated_at`) are rewritten by dbt only where a row is new or
changed, and every row carries when the dbt invocation that last wrote it started: a rewritten
row (new version, or re-keyed by identity resolution) gets a new stamp. A suite's checks fall
in three scopes (`Check.scope`, set in quality/suites.py):

- `rows` (not null, sets, bounds, formats, row filters, references to an append-only parent)
  holds for the table when it holds for each row, so a row that passed once stays valid: these
  run over the *pending* rows only (raw: the rows of pending loads; facts: the rows written
  after the newest write a passed run covered);
- `keys` (uniqueness) is a table invariant with a cheap incremental form: the keys of the
  pending rows repeat neither among themselves nor in any other row of the table;
- `table` (thresholds over all rows, reconciliations, references to a table dbt rebuilds) runs
  over the whole table, as do the other marts suites (dbt rebuilds those marts), query assets
  and the ledger suite.

A load (a fact's write) is *settled* for a suite once a run covered it and every `rows` and
`keys` check of that suite passed in that run, with the same definition of those checks (a
fingerprint: a new or changed check re-checks everything). Raw: pending = the entity's loaded
loads minus its settled ones. Facts: pending = the rows stamped after the newest stamp a
passed run covered (`quality.load_coverage` keeps that stamp in `_load_id`), and rows with no
stamp. So the rows of a load or write whose run failed are checked again until a run passes
over them. A suite with nothing settled yet (first run, changed checks, `full=True`) runs
every check over the whole table in its original form; such a run still settles what it
covered.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path

import duckdb

from quality.suites import CUSTOM_SQL, Check, Suite

COVERAGE_TABLE = "quality.load_coverage"


@dataclass(frozen=True)
class Load:
    load_id: str
    rows: int
    started_at: datetime


@dataclass(frozen=True)
class Coverage:
    """What the checks of one part saw, in words for the history and the Data Docs."""

    scope: str  # "table", "loads" (raw: rows of new loads) or "written" (facts: rows written since)
    loads: tuple[Load, ...] = ()  # the loads whose rows the checks saw (raw tables only)
    written_rows: int | None = None  # the fact rows the checks saw (facts only)
    since: datetime | None = None  # "written": the rows written after this instant (UTC)
    through: datetime | None = None  # facts: the newest write the checks saw (UTC)

    @property
    def rows(self) -> int:
        if self.written_rows is not None:
            return self.written_rows
        return sum(load.rows for load in self.loads)

    def describe(self) -> str:
        if self.scope == "loads":
            # "new": not yet covered by a run whose per-row and key checks passed.
            return f"{len(self.loads)} new loads ({self.rows:,} rows)"
        if self.scope == "written":
            return f"rows written since {_utc(self.since)}: {self.rows:,} rows"
        if self.loads:
            return f"whole table ({len(self.loads)} loads, {self.rows:,} rows)"
        if self.through:
            return f"whole table ({self.rows:,} rows, written through {_utc(self.through)})"
        return "whole table"


@dataclass(frozen=True)
class Part:
    """One GX validation: some checks of a suite over one relation."""

    name: str  # GX suite and asset name
    suite: Suite
    checks: tuple[Check, ...]  # as run (a `keys` check is rewritten for the pending rows)
    table: str | None
    query: str | None
    coverage: Coverage


@dataclass(frozen=True)
class Settlement:
    """What a run covered for a suite, and the checks whose success settles it."""

    suite: str
    fingerprint: str
    loads: tuple[str, ...]  # raw: the load ids; fact: the newest stamp covered (`stamp()`)
    check_ids: frozenset[str]

    def passed(self, successes: dict[str, bool]) -> bool:
        return all(successes[check_id] for check_id in self.check_ids)


@dataclass(frozen=True)
class Plan:
    parts: list[Part]
    settlements: list[Settlement]

    @property
    def mode(self) -> str:
        """`incremental` when some check ran over pending rows only, else `full`."""
        return "incremental" if any(p.coverage.scope != "table" for p in self.parts) else "full"


def fingerprint(suite: Suite) -> str:
    """What a settled load was proved against: the suite's table and its per-row and key checks."""
    definition = [
        (
            c.check_id,
            c.expectation_type,
            {k: v for k, v in c.kwargs.items() if k not in c.clock_kwargs},
        )
        for c in suite.checks
        if c.scope != "table"
    ]
    # A fact suite's stamp column is part of what a settled stamp means; raw suites keep the
    # fingerprints their loads were settled with.
    table = [suite.table, suite.written_at] if suite.written_at else suite.table
    text = json.dumps([table, sorted(definition, key=str)], default=str, sort_keys=True)
    return hashlib.sha1(text.encode()).hexdigest()[:16]


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def stamp(moment: datetime) -> str:
    """A fact write's stamp as `quality.load_coverage._load_id` keeps it (microseconds, as
    DuckDB's timestamps)."""
    return moment.isoformat(sep=" ", timespec="microseconds")


def _utc(moment: datetime | None) -> str:
    return f"{moment:%Y-%m-%d %H:%M:%S} UTC" if moment else "the first write"


def _in_loads(loads: tuple[Load, ...]) -> str:
    """Rows of `loads`. `_loaded_at` is the load's start, so the bound lets DuckDB skip the row
    groups written before the oldest pending load (load ids are random)."""
    if not loads:
        return "false"
    since = min(load.started_at for load in loads).isoformat(sep=" ")
    ids = ", ".join(_literal(load.load_id) for load in loads)
    return f"_loaded_at >= timestamp {_literal(since)} and _load_id in ({ids})"


def _written_between(column: str, since: datetime | None, through: datetime | None) -> str:
    """Fact rows stamped after `since` up to `through`, and rows with no stamp (never
    settled). Rows are appended as they are written, so zone maps skip the older ones."""
    if through is None:
        return f"{column} is null"
    after = "" if since is None else f"{column} > timestamp {_literal(stamp(since))} and "
    return f"({after}{column} <= timestamp {_literal(stamp(through))}) or {column} is null"


def _new_keys_check(check: Check, table: str, pending: str) -> Check:
    """Uniqueness of the whole table, for settled rows already unique: the pending rows' keys
    repeat neither among themselves nor anywhere else in the table. Rows whose key is all null
    are ignored, as GX's uniqueness expectations ignore them."""
    columns = check.kwargs.get("column_list") or [check.kwargs["column"]]
    keys = ", ".join(columns)
    present = " or ".join(f"{c} is not null" for c in columns)
    same = " and ".join(f"older.{c} is not distinct from new_keys.{c}" for c in columns)
    matched = " and ".join(f"older_copies.{c} is not distinct from new_keys.{c}" for c in columns)
    query = (
        f"with new_keys as (select {keys}, count(*) as copies_in_new_loads from {{batch}} "
        f"where {present} group by all), "
        f"older_copies as (select {', '.join(f'new_keys.{c}' for c in columns)}, "
        f"count(*) as copies_in_other_rows from new_keys inner join "
        f"(select {keys} from {table} where not coalesce({pending}, false)) as older "
        f"on {same} group by all) "
        f"select new_keys.*, coalesce(older_copies.copies_in_other_rows, 0) "
        f"as copies_in_other_rows from new_keys left join older_copies on {matched} "
        f"where new_keys.copies_in_new_loads > 1 or older_copies.copies_in_other_rows > 0"
    )
    return replace(check, expectation_type=CUSTOM_SQL, kwargs={"unexpected_rows_query": query})


def _ledger(con: duckdb.DuckDBPyConnection, entity: str) -> tuple[Load, ...]:
    rows = con.execute(
        "select _load_id, rows_loaded, started_at from raw._loads "
        "where entity = ? and status = 'loaded' order by started_at, _load_id",
        [entity],
    ).fetchall()
    return tuple(Load(*row) for row in rows)


def _has_table(con: duckdb.DuckDBPyConnection, schema: str, table: str) -> bool:
    return (
        con.execute(
            "select count(*) from duckdb_tables() where schema_name = ? and table_name = ?",
            [schema, table],
        ).fetchone()[0]
        > 0
    )


def _settled(con: duckdb.DuckDBPyConnection) -> dict[tuple[str, str], set[str]]:
    """(suite, fingerprint) → the loads a passed run settled for that definition of the suite."""
    schema, table = COVERAGE_TABLE.split(".")
    if not _has_table(con, schema, table):
        return {}
    settled: dict[tuple[str, str], set[str]] = {}
    rows = con.execute(
        f"select distinct suite, fingerprint, _load_id from {COVERAGE_TABLE} where passed"
    ).fetchall()
    for suite, print_, load_id in rows:
        settled.setdefault((suite, print_), set()).add(load_id)
    return settled


def _writes(
    con: duckdb.DuckDBPyConnection, suite: Suite, since: datetime | None
) -> tuple[datetime | None, int, int] | None:
    """A fact's newest stamp, its rows written after `since` (or unstamped) up to that stamp,
    and all its rows; None when the table or its stamp column does not exist (yet)."""
    schema, table = suite.table.split(".")
    exists = con.execute(
        "select count(*) from duckdb_columns() where schema_name = ? and table_name = ? "
        "and column_name = ?",
        [schema, table, suite.written_at],
    ).fetchone()[0]
    if not exists:
        return None
    column = suite.written_at
    through, total = con.execute(f"select max({column}), count(*) from {suite.table}").fetchone()
    pending = con.execute(
        f"select count(*) from {suite.table} where {_written_between(column, since, through)}"
    ).fetchone()[0]
    return through, pending, total


def _whole(suite: Suite, coverage: Coverage = Coverage("table")) -> Part:
    return Part(suite.name, suite, suite.checks, suite.table, suite.query, coverage)


def _split(suite: Suite, pending: str, new: Coverage, whole: Coverage) -> list[Part]:
    """Per-row and key checks over the pending rows (`pending`: a condition on the table's
    rows), the rest over the whole table."""
    checks = tuple(
        _new_keys_check(c, suite.table, pending) if c.scope == "keys" else c
        for c in suite.checks
        if c.scope != "table"
    )
    query = f"select * from {suite.table} where {pending}"
    parts = [Part(suite.name, suite, checks, None, query, new)]
    table_checks = tuple(c for c in suite.checks if c.scope == "table")
    if table_checks:
        parts.append(
            Part(f"{suite.name}__whole_table", suite, table_checks, suite.table, None, whole)
        )
    return parts


def _raw_parts(
    suite: Suite, loads: tuple[Load, ...], settled: set[str]
) -> tuple[list[Part], tuple[str, ...]]:
    """The parts of a raw suite, and the loads they cover."""
    whole = Coverage("table", loads)
    if not settled:
        return [_whole(suite, whole)], tuple(load.load_id for load in loads)
    pending = tuple(load for load in loads if load.load_id not in settled)
    parts = _split(suite, _in_loads(pending), Coverage("loads", pending), whole)
    return parts, tuple(load.load_id for load in pending)


def _fact_parts(
    con: duckdb.DuckDBPyConnection, suite: Suite, settled: set[str]
) -> tuple[list[Part], tuple[str, ...]]:
    """The parts of a fact suite, and the stamp of the newest write they cover (none when
    they cover no write a passed run has not)."""
    since = max((datetime.fromisoformat(s) for s in settled), default=None)
    writes = _writes(con, suite, since)
    if writes is None:
        return [_whole(suite)], ()
    through, pending, total = writes
    if since and through and through < since:
        # Newer writes than the table now holds were settled: the table was replaced by an
        # older copy (a restore), so nothing in it is known to have passed.
        since = None
    covered = (stamp(through),) if through and (since is None or through > since) else ()
    whole = Coverage("table", written_rows=total, through=through)
    if since is None:
        return [_whole(suite, whole)], covered
    condition = _written_between(suite.written_at, since, through)
    new = Coverage("written", written_rows=pending, since=since, through=through)
    return _split(suite, condition, new, whole), covered


def plan(db_path: Path, suites: list[Suite], full: bool = False) -> Plan:
    """The parts to validate and the settlements to record; `full` checks whole tables."""
    tracked = [s for s in suites if s.entity or s.written_at]
    parts = [_whole(s) for s in suites if not (s.entity or s.written_at)]
    settlements = []
    if not tracked:
        return Plan(parts, settlements)
    con = duckdb.connect(str(db_path), read_only=True)
    try:
        has_ledger = _has_table(con, "raw", "_loads")
        settled_by_suite = {} if full else _settled(con)
        for suite in tracked:
            print_ = fingerprint(suite)
            settled = settled_by_suite.get((suite.name, print_), set())
            if suite.written_at:
                suite_parts, covered = _fact_parts(con, suite, settled)
            elif has_ledger:
                suite_parts, covered = _raw_parts(suite, _ledger(con, suite.entity), settled)
            else:
                suite_parts, covered = [_whole(suite)], ()
            parts += suite_parts
            settlements.append(
                Settlement(
                    suite.name,
                    print_,
                    covered,
                    frozenset(c.check_id for c in suite.checks if c.scope != "table"),
                )
            )
    finally:
        con.close()
    return Plan(parts, settlements)

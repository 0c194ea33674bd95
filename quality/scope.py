"""Which rows each check sees in a run: the whole table, or only the loads no passed run covered.

Raw tables are append-only and every row carries the ledger load that brought it (`_load_id`,
`_loaded_at` = the load's `started_at` in raw._loads). A raw suite's checks fall in three
scopes (`Check.scope`, set in quality/suites.py):

- `rows` (not null, sets, bounds, formats, row filters, references to an append-only parent)
  holds for the table when it holds for each row, so a row that passed once stays valid: these
  run over the rows of *pending* loads only;
- `keys` (natural-key uniqueness) is a table invariant with a cheap incremental form: the keys
  of the pending rows repeat neither among themselves nor in any other row of the table;
- `table` (thresholds over all rows) runs over the whole table, as do every marts suite (dbt
  rebuilds the marts), query assets and the ledger suite.

A load is *settled* for a suite once a run covered it and every `rows` and `keys` check of that
suite passed in that run, with the same definition of those checks (a fingerprint: a new or
changed check re-checks every load). Pending = the entity's loaded loads minus its settled ones,
so the rows of a load whose run failed are checked again until a run passes over them. A suite
with nothing settled yet (first run, changed checks, `full=True`) runs every check over the
whole table in its original form; such a run still settles the loads it covered.
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

    scope: str  # "table" or "loads"
    loads: tuple[Load, ...] = ()  # the loads whose rows the checks saw (raw tables only)

    @property
    def rows(self) -> int:
        return sum(load.rows for load in self.loads)

    def describe(self) -> str:
        if self.scope == "loads":
            # "new": not yet covered by a run whose per-row and key checks passed.
            return f"{len(self.loads)} new loads ({self.rows:,} rows)"
        if self.loads:
            return f"whole table ({len(self.loads)} loads, {self.rows:,} rows)"
        return "whole table"


@dataclass(frozen=True)
class Part:
    """One GX validation: some checks of a suite over one relation."""

    name: str  # GX suite and asset name
    suite: Suite
    checks: tuple[Check, ...]  # as run (a `keys` check is rewritten for new loads)
    table: str | None
    query: str | None
    coverage: Coverage


@dataclass(frozen=True)
class Settlement:
    """The loads a run covered for a raw suite, and the checks whose success settles them."""

    suite: str
    fingerprint: str
    loads: tuple[str, ...]
    check_ids: frozenset[str]

    def passed(self, successes: dict[str, bool]) -> bool:
        return all(successes[check_id] for check_id in self.check_ids)


@dataclass(frozen=True)
class Plan:
    parts: list[Part]
    settlements: list[Settlement]

    @property
    def mode(self) -> str:
        """`incremental` when some check ran over new loads only, else `full`."""
        return "incremental" if any(p.coverage.scope == "loads" for p in self.parts) else "full"


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
    text = json.dumps([suite.table, sorted(definition, key=str)], default=str, sort_keys=True)
    return hashlib.sha1(text.encode()).hexdigest()[:16]


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _in_loads(loads: tuple[Load, ...], alias: str = "") -> str:
    """Rows of `loads`. `_loaded_at` is the load's start, so the bound lets DuckDB skip the row
    groups written before the oldest pending load (load ids are random)."""
    if not loads:
        return "false"
    since = min(load.started_at for load in loads).isoformat(sep=" ")
    ids = ", ".join(_literal(load.load_id) for load in loads)
    return f"{alias}_loaded_at >= timestamp {_literal(since)} and {alias}_load_id in ({ids})"


def _new_keys_check(check: Check, table: str, loads: tuple[Load, ...]) -> Check:
    """Uniqueness of the whole table, for settled rows already unique: the pending rows' keys
    repeat neither among themselves nor anywhere else in the table. Rows whose key is all null
    are ignored, as GX's uniqueness expectations ignore them."""
    columns = check.kwargs.get("column_list") or [check.kwargs["column"]]
    keys = ", ".join(columns)
    present = " or ".join(f"{c} is not null" for c in columns)
    same = " and ".join(f"older.{c} is not distinct from new_keys.{c}" for c in columns)
    matched = " and ".join(f"older_copies.{c} is not distinct from new_keys.{c}" for c in columns)
    older = "" if not loads else f"where not coalesce({_in_loads(loads, 'older.')}, false)"
    query = (
        f"with new_keys as (select {keys}, count(*) as copies_in_new_loads from {{batch}} "
        f"where {present} group by all), "
        f"older_copies as (select {', '.join(f'new_keys.{c}' for c in columns)}, "
        f"count(*) as copies_in_other_rows from new_keys inner join "
        f"(select {keys} from {table} as older {older}) as older on {same} group by all) "
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


def _whole(suite: Suite, loads: tuple[Load, ...] = ()) -> Part:
    return Part(suite.name, suite, suite.checks, suite.table, suite.query, Coverage("table", loads))


def _raw_parts(suite: Suite, loads: tuple[Load, ...], settled: set[str]) -> list[Part]:
    if not settled:
        return [_whole(suite, loads)]
    pending = tuple(load for load in loads if load.load_id not in settled)
    checks = tuple(
        _new_keys_check(c, suite.table, pending) if c.scope == "keys" else c
        for c in suite.checks
        if c.scope != "table"
    )
    query = f"select * from {suite.table} where {_in_loads(pending)}"
    parts = [Part(suite.name, suite, checks, None, query, Coverage("loads", pending))]
    whole = tuple(c for c in suite.checks if c.scope == "table")
    if whole:
        parts.append(
            Part(f"{suite.name}__whole_table", suite, whole, suite.table, None,
                 Coverage("table", loads))
        )  # fmt: skip
    return parts


def plan(db_path: Path, suites: list[Suite], full: bool = False) -> Plan:
    """The parts to validate and the settlements to record; `full` checks whole tables."""
    raw = [s for s in suites if s.entity]
    parts = [_whole(s) for s in suites if not s.entity]
    settlements = []
    if not raw:
        return Plan(parts, settlements)
    con = duckdb.connect(str(db_path), read_only=True)
    try:
        has_ledger = _has_table(con, "raw", "_loads")
        settled_by_suite = {} if full else _settled(con)
        for suite in raw:
            if not has_ledger:
                parts.append(_whole(suite))
                continue
            loads = _ledger(con, suite.entity)
            print_ = fingerprint(suite)
            settled = settled_by_suite.get((suite.name, print_), set())
            suite_parts = _raw_parts(suite, loads, settled)
            parts += suite_parts
            settlements.append(
                Settlement(
                    suite.name,
                    print_,
                    tuple(load.load_id for load in suite_parts[0].coverage.loads),
                    frozenset(c.check_id for c in suite.checks if c.scope != "table"),
                )
            )
    finally:
        con.close()
    return Plan(parts, settlements)

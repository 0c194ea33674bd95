"""The quality history in the warehouse: `quality.runs`, `quality.results` and
`quality.load_coverage`.

Append-only: every run, passed or failed, stays queryable; the publisher copies runs and results
into the published file so dashboards can name the checks that held a build back. The load
coverage tells the next run which raw loads, and which fact rows, are settled
(quality/scope.py).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import astuple
from pathlib import Path

import duckdb

from quality.scope import Settlement
from quality.validation import CheckOutcome

SCHEMA = "quality"

DDL = f"""
create schema if not exists {SCHEMA};
create table if not exists {SCHEMA}.runs (
    run_id varchar primary key,
    started_at timestamp not null,       -- UTC
    finished_at timestamp not null,      -- UTC
    status varchar not null,             -- passed | warned | failed
    checks integer not null,
    passed integer not null,
    failed_critical integer not null,
    failed_warning integer not null,
    gx_version varchar not null,
    data_docs_path varchar
);
create table if not exists {SCHEMA}.results (
    run_id varchar not null,
    suite varchar not null,
    check_id varchar not null,
    expectation_type varchar not null,
    column_name varchar,
    severity varchar not null,           -- critical | warning
    description varchar not null,
    success boolean not null,
    observed_value varchar,
    element_count bigint,
    unexpected_count bigint,
    unexpected_percent double,
    unexpected_sample json,              -- up to 20 offending values or rows
    kwargs json not null,
    exception varchar,
    primary key (run_id, check_id)
);
-- Columns added since the first release; older warehouses gain them on their next run.
alter table {SCHEMA}.runs add column if not exists mode varchar;      -- full | incremental
alter table {SCHEMA}.results add column if not exists coverage varchar;  -- what the check saw
-- For each raw suite, the loads a run covered and whether its per-row and key checks passed:
-- the loads of passed rows are settled and not validated again (quality/scope.py). For a marts
-- fact suite, one row: the newest write the run covered (its `_dbt_updated_at`); the fact rows
-- written up to it are settled once a run passed over them.
create table if not exists {SCHEMA}.load_coverage (
    run_id varchar not null,
    suite varchar not null,
    _load_id varchar not null,           -- raw: the load; fact: newest `_dbt_updated_at` covered
    fingerprint varchar not null,        -- definition of the checks that settle a load
    passed boolean not null,
    primary key (run_id, suite, _load_id)
);
"""


def ensure_tables(con: duckdb.DuckDBPyConnection) -> None:
    con.execute(DDL)


def record_run(
    db_path: Path,
    run: dict[str, object],
    outcomes: list[CheckOutcome],
    settlements: Iterable[Settlement] = (),
) -> None:
    """Append one run, its results and the loads it covered in a single transaction."""
    con = duckdb.connect(str(db_path))
    con.execute("set enable_progress_bar = false")
    try:
        ensure_tables(con)
        con.execute("begin")
        con.execute(
            f"insert into {SCHEMA}.runs ({', '.join(run)}) values ({', '.join('?' * len(run))})",
            list(run.values()),
        )
        rows = [(run["run_id"], *astuple(o)) for o in outcomes]
        if rows:
            con.executemany(
                f"""insert into {SCHEMA}.results (
                    run_id, suite, check_id, expectation_type, column_name, severity,
                    description, success, observed_value, element_count, unexpected_count,
                    unexpected_percent, unexpected_sample, kwargs, exception, coverage
                ) values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)""",
                rows,
            )
        successes = {o.check_id: o.success for o in outcomes}
        covered = [
            (run["run_id"], s.suite, load_id, s.fingerprint, s.passed(successes))
            for s in settlements
            for load_id in s.loads
        ]
        if covered:
            con.executemany(f"insert into {SCHEMA}.load_coverage values (?, ?, ?, ?, ?)", covered)
        con.execute("commit")
    finally:
        con.close()

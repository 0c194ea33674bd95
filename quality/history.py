"""The quality history in the warehouse: `quality.runs` and `quality.results`.

Append-only: every run, passed or failed, stays queryable; the publisher copies both tables
into the published file so dashboards can name the checks that held a build back.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import astuple
from pathlib import Path

import duckdb

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
"""


def ensure_tables(con: duckdb.DuckDBPyConnection) -> None:
    con.execute(DDL)


def record_run(
    db_path: Path,
    run: tuple,
    outcomes: Iterable[CheckOutcome],
) -> None:
    """Append one run and its results in a single transaction."""
    con = duckdb.connect(str(db_path))
    con.execute("set enable_progress_bar = false")
    try:
        ensure_tables(con)
        con.execute("begin")
        con.execute(f"insert into {SCHEMA}.runs values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", run)
        rows = [(run[0], *astuple(o)) for o in outcomes]
        if rows:
            con.executemany(
                f"""insert into {SCHEMA}.results (
                    run_id, suite, check_id, expectation_type, column_name, severity,
                    description, success, observed_value, element_count, unexpected_count,
                    unexpected_percent, unexpected_sample, kwargs, exception
                ) values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)""",
                rows,
            )
        con.execute("commit")
    finally:
        con.close()

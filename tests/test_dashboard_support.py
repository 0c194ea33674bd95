"""Fixtures shared by the dashboard tests: the published warehouse they read.

It is the real pipeline's output (`published_tiny`): when the pipeline breaks, the dashboard
tests fail with it rather than pass against something else.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from crm.settings import published_db


@pytest.fixture(scope="session")
def dashboard_published(request: pytest.FixtureRequest) -> Path:
    """Path of a published file (read-only for tests). `$CRM_TEST_PUBLISHED_DB` points the
    dashboard tests at an existing published file instead (quick iteration, bigger scales)."""
    if os.environ.get("CRM_TEST_PUBLISHED_DB"):
        return Path(os.environ["CRM_TEST_PUBLISHED_DB"])
    return published_db(request.getfixturevalue("published_tiny"))


@pytest.fixture
def failed_gate_published(dashboard_published: Path, tmp_path: Path) -> Path:
    """The published file after a failed gate: last good marts, a failed latest quality run."""
    import duckdb

    path = tmp_path / "crm.published.duckdb"
    shutil.copy(dashboard_published, path)
    con = duckdb.connect(str(path))
    try:
        _record_failed_run(con)
    finally:
        con.close()
    return path


def _record_failed_run(con) -> None:
    """Appends a failed run with one failing critical and one failing warning check, the way
    the publisher copies quality history into the last good file."""
    runs = {
        r[0]
        for r in con.execute(
            "select column_name from information_schema.columns where table_name = 'runs'"
        ).fetchall()
    }
    assert runs, "the published file has no quality.runs"
    values = {
        "run_id": "run-failed-test",
        "started_at": "2099-01-01 00:00:00",
        "finished_at": "2099-01-01 00:01:00",
        "status": "failed",
        "checks": 2,
        "passed": 0,
        "failed_critical": 1,
        "failed_warning": 1,
        "gx_version": "test",
    }
    columns = [c for c in values if c in runs]
    con.execute(
        f"insert into quality.runs ({', '.join(columns)}) "
        f"values ({', '.join('?' for _ in columns)})",
        [values[c] for c in columns],
    )
    result_columns = {
        r[0]
        for r in con.execute(
            "select column_name from information_schema.columns where table_name = 'results'"
        ).fetchall()
    }
    for check, severity in (("email_not_null", "critical"), ("csat_in_range", "warning")):
        row = {
            "run_id": "run-failed-test",
            "suite": "marts_customer_360",
            "check_id": check,
            "expectation_type": "expect_column_values_to_not_be_null",
            "column_name": "email",
            "severity": severity,
            "description": "test",
            "success": False,
            "kwargs": "{}",
        }
        cols = [c for c in row if c in result_columns]
        con.execute(
            f"insert into quality.results ({', '.join(cols)}) "
            f"values ({', '.join('?' for _ in cols)})",
            [row[c] for c in cols],
        )

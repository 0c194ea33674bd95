"""Shared, session-scoped fixtures: one generated dataset and the warehouses built from it.

Each fixture calls the library (not the CLI) and works on copies, so a test that mutates a
warehouse never disturbs another.
"""

from __future__ import annotations

import os
import shutil
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

TINY_SEED = 7
# In the past, so a generated day after it (generate_increment) is never in the future of the
# load time, whatever the hour the suite runs at; ingestion rejects future dates.
TINY_AS_OF = datetime.now(UTC).date() - timedelta(days=3)


@pytest.fixture(scope="session")
def chromium() -> str:
    """Debian's Chromium (installed by `make browser`; test tools cannot download one). A
    missing browser fails the test that needs it, never skips it."""
    for candidate in (
        os.environ.get("CRM_CHROMIUM"),
        "/usr/bin/chromium",
        "/usr/bin/chromium-headless-shell",
    ):
        if candidate and os.access(candidate, os.X_OK):
            return candidate
    pytest.fail("Chromium not found (set $CRM_CHROMIUM or run `make browser`)", pytrace=False)


@pytest.fixture(scope="session")
def tiny_data(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Sample exports at the tiny scale with the default fault rate (read-only for tests)."""
    from generator import generate

    out = tmp_path_factory.mktemp("tiny_data")
    generate(out, scale="tiny", seed=TINY_SEED, as_of=TINY_AS_OF)
    return out


@pytest.fixture(scope="session")
def clean_tiny_data(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Sample exports at the tiny scale with no planted faults."""
    from generator import generate

    out = tmp_path_factory.mktemp("clean_tiny_data")
    generate(out, scale="tiny", seed=TINY_SEED, as_of=TINY_AS_OF, fault_rate=0.0)
    return out


@pytest.fixture(scope="session")
def _ingested_tiny(tiny_data: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    from ingestion import ingest

    db = tmp_path_factory.mktemp("ingested") / "crm.duckdb"
    ingest(tiny_data, db)
    return db


@pytest.fixture
def ingested_db(_ingested_tiny: Path, tmp_path: Path) -> Path:
    """A private copy of the tiny dataset ingested into raw.*."""
    db = tmp_path / "crm.duckdb"
    shutil.copy(_ingested_tiny, db)
    return db


@pytest.fixture(scope="session")
def _built_tiny(_ingested_tiny: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    from crm.build import build

    db = tmp_path_factory.mktemp("built") / "crm.duckdb"
    shutil.copy(_ingested_tiny, db)
    result = build(db)
    assert result.success, result.summary
    return db


@pytest.fixture
def built_db(_built_tiny: Path, tmp_path: Path) -> Path:
    """A private copy of the tiny warehouse after a full `dbt build` (raw + staging + marts)."""
    db = tmp_path / "crm.duckdb"
    shutil.copy(_built_tiny, db)
    return db


@pytest.fixture(scope="session")
def published_tiny(tiny_data: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The whole pipeline (ingest → build → quality → publish) on the tiny data; returns the
    working warehouse path. The published file is `crm.settings.published_db(path)`.
    Treat as read-only."""
    from crm.pipeline import run_pipeline

    db = tmp_path_factory.mktemp("pipeline") / "crm.duckdb"
    result = run_pipeline(tiny_data, db)
    assert result.published, result.summary
    return db


# --- dashboards (issue 6): the published warehouse the dashboard tests read --------------------
from test_dashboard_support import dashboard_published, failed_gate_published  # noqa: E402, F401

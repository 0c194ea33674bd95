"""Where things live: project root, warehouse files, and the variables that move them."""

from __future__ import annotations

import os
from pathlib import Path

from ingestion.settings import load_settings

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DBT_PROJECT_DIR = PROJECT_ROOT / "dbt_project"
DEFAULT_DB = PROJECT_ROOT / "warehouse" / "crm.duckdb"
DB_ENV = "CRM_DB"


def resolve_db(db: str | os.PathLike[str] | None = None) -> Path:
    """The working warehouse: `--db`, else `$CRM_DB`, else `warehouse/crm.duckdb`."""
    chosen = db or os.environ.get(DB_ENV) or DEFAULT_DB
    return Path(chosen).expanduser().resolve()


def published_db(db: Path) -> Path:
    """The file dashboards read: marts copied out of the working warehouse after the gate passes.

    Kept beside the working file so that `--db` moves both together.
    """
    return db.with_name(f"{db.stem}.published{db.suffix or '.duckdb'}")


def duckdb_memory_limit() -> str:
    """DuckDB `memory_limit` of every pipeline connection: `$CRM_DUCKDB_MEMORY_LIMIT`, else
    the one of ingestion/settings.yml (why that value: see there). `crm build` hands it to
    dbt's profile through the same variable."""
    return load_settings().memory_limit

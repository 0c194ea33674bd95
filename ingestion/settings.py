"""Resources of ingestion's DuckDB connection, read from ingestion/settings.yml."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import duckdb
import yaml

from ingestion.sqltext import literal

SETTINGS_PATH = Path(__file__).with_name("settings.yml")
# The pipeline-wide override, the same variable crm/settings.py (uncommitted at the time of
# writing) hands to dbt, so that one variable bounds every stage.
MEMORY_LIMIT_ENV = "CRM_DUCKDB_MEMORY_LIMIT"


@dataclass(frozen=True)
class ConnectionSettings:
    memory_limit: str
    threads: int | None = None
    temp_directory: str | None = None

    def apply(self, con: duckdb.DuckDBPyConnection) -> None:
        con.execute(f"SET memory_limit = {literal(self.memory_limit)}")
        if self.threads is not None:
            con.execute(f"SET threads = {int(self.threads)}")
        if self.temp_directory is not None:
            con.execute(f"SET temp_directory = {literal(self.temp_directory)}")


def load_settings(path: Path = SETTINGS_PATH) -> ConnectionSettings:
    """The connection settings of `path`; `$CRM_DUCKDB_MEMORY_LIMIT` overrides the memory limit
    so that one variable bounds every stage of the pipeline."""
    spec = yaml.safe_load(path.read_text(encoding="utf-8"))["duckdb"]
    settings = ConnectionSettings(**spec)
    override = os.environ.get(MEMORY_LIMIT_ENV)
    if override:
        settings = ConnectionSettings(override, settings.threads, settings.temp_directory)
    return settings

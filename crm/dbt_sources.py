"""Writes the dbt sources file (`dbt_project/models/staging/_raw__sources.yml`) from the
ingestion contracts, so the raw layer is described once (ingestion/contracts.yml).

Run `python -m crm.dbt_sources` after changing the contracts; a test fails while the committed
file is out of sync.
"""

from __future__ import annotations

import sys
from pathlib import Path

import yaml

from crm.settings import DBT_PROJECT_DIR
from ingestion.contracts import Contracts, EntityContract, load_contracts

SOURCES_PATH = DBT_PROJECT_DIR / "models" / "staging" / "_raw__sources.yml"
SOURCE_NAME = "raw"

_HEADER = (
    "# GENERATED from ingestion/contracts.yml by `python -m crm.dbt_sources`: do not edit.\n"
    "# tests/test_dbt_core.py fails while this file is out of sync with the contracts.\n"
)

# Lineage columns every raw table carries besides its contract columns.
_LINEAGE = {
    "_load_id": ("varchar", "Load that wrote the row (raw._loads)."),
    "_source_file": ("varchar", "File the row was read from."),
    "_source_row": ("bigint", "1-based data record number inside that file."),
    "_loaded_at": ("timestamp", "When the row was loaded (UTC)."),
    "_extra": ("json", "Export columns the contract does not know, kept as JSON."),
}


def _column(name: str, data_type: str, description: str, *, pii: bool, required: bool) -> dict:
    column: dict = {"name": name, "data_type": data_type, "description": description}
    if pii:
        column["meta"] = {"pii": True}
        column["tags"] = ["pii"]
    if required:
        column["data_tests"] = ["not_null"]
    return column


def _table(entity: EntityContract, lineage: tuple[str, ...]) -> dict:
    columns = [
        _column(c.name, c.duckdb_type.lower(), c.description, pii=c.pii, required=c.required)
        for c in entity.columns
    ]
    columns += [
        _column(name, *_LINEAGE[name], pii=False, required=name != "_extra")
        for name in lineage
        if name in _LINEAGE
    ]
    meta = {"natural_key": list(entity.natural_key), "load_order": entity.load_order}
    if entity.version_column:
        meta["version_column"] = entity.version_column
    return {
        "name": entity.name,
        "description": f"{entity.description} Every loaded version is kept (history).",
        "meta": meta,
        "loaded_at_field": "_loaded_at",
        "columns": columns,
    }


def render_sources(contracts: Contracts | None = None) -> str:
    """The sources YAML for the given contracts (default: the project's)."""
    contracts = contracts or load_contracts()
    document = {
        "version": 2,
        "sources": [
            {
                "name": SOURCE_NAME,
                "description": (
                    "Raw layer written by `crm ingest`: one table per contract entity, every "
                    "version of every record, with lineage columns. Rejected records are in "
                    "raw._rejects, the load ledger in raw._loads."
                ),
                "schema": "raw",
                "tables": [_table(e, contracts.lineage_columns) for e in contracts.ordered()],
            }
        ],
    }
    body = yaml.safe_dump(document, sort_keys=False, allow_unicode=True, width=100)
    return _HEADER + body


def write_sources(path: Path = SOURCES_PATH) -> Path:
    path.write_text(render_sources(), encoding="utf-8")
    return path


if __name__ == "__main__":
    print(f"wrote {write_sources()}", file=sys.stderr)

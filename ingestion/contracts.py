"""Reads ingestion/contracts.yml: the one definition of every raw entity."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

import yaml

CONTRACTS_PATH = Path(__file__).with_name("contracts.yml")

# Contract type -> DuckDB type of the raw column.
DUCKDB_TYPES = {
    "varchar": "VARCHAR",
    "integer": "INTEGER",
    "bigint": "BIGINT",
    "decimal": "DECIMAL(18,2)",
    "double": "DOUBLE",
    "boolean": "BOOLEAN",
    "date": "DATE",
    "timestamp": "TIMESTAMP",
}


@dataclass(frozen=True)
class ColumnContract:
    name: str
    type: str
    description: str = ""
    required: bool = False
    pii: bool = False
    format: str | None = None
    min: float | None = None
    max: float | None = None
    not_future: bool = False
    accepted_values: tuple[str, ...] | None = None
    # Reject code for a min/max violation when the generic ones (negative_amount,
    # out_of_range) are not what downstream counts, e.g. csat_out_of_range.
    range_code: str | None = None

    @property
    def duckdb_type(self) -> str:
        return DUCKDB_TYPES[self.type]


@dataclass(frozen=True)
class Reference:
    columns: tuple[str, ...]
    entity: str
    to: tuple[str, ...]


@dataclass(frozen=True)
class EntityContract:
    name: str
    description: str
    natural_key: tuple[str, ...]
    load_order: int
    columns: tuple[ColumnContract, ...]
    version_column: str | None = None
    references: tuple[Reference, ...] = ()

    @property
    def column_names(self) -> list[str]:
        return [c.name for c in self.columns]

    @property
    def required_columns(self) -> list[str]:
        return [c.name for c in self.columns if c.required]

    def column(self, name: str) -> ColumnContract:
        for col in self.columns:
            if col.name == name:
                return col
        raise KeyError(f"{self.name} has no column {name!r}")


@dataclass(frozen=True)
class Contracts:
    entities: dict[str, EntityContract]
    future_tolerance: str
    lineage_columns: tuple[str, ...] = field(default=())

    def ordered(self) -> list[EntityContract]:
        """Entities in load order: parents before the entities that reference them."""
        return sorted(self.entities.values(), key=lambda e: e.load_order)

    def __getitem__(self, name: str) -> EntityContract:
        return self.entities[name]


def _column(spec: dict) -> ColumnContract:
    if spec["type"] not in DUCKDB_TYPES:
        raise ValueError(f"column {spec['name']!r}: unknown type {spec['type']!r}")
    values = spec.get("accepted_values")
    return ColumnContract(
        name=spec["name"],
        type=spec["type"],
        description=spec.get("description", ""),
        required=bool(spec.get("required", False)),
        pii=bool(spec.get("pii", False)),
        format=spec.get("format"),
        min=spec.get("min"),
        max=spec.get("max"),
        not_future=bool(spec.get("not_future", False)),
        accepted_values=tuple(values) if values is not None else None,
        range_code=spec.get("range_code"),
    )


def parse_contracts(document: dict) -> Contracts:
    entities = {}
    for name, spec in document["entities"].items():
        entities[name] = EntityContract(
            name=name,
            description=spec.get("description", ""),
            natural_key=tuple(spec["natural_key"]),
            load_order=int(spec["load_order"]),
            columns=tuple(_column(c) for c in spec["columns"]),
            version_column=spec.get("version_column"),
            references=tuple(
                Reference(tuple(r["columns"]), r["entity"], tuple(r["to"]))
                for r in spec.get("references", [])
            ),
        )
    settings = document.get("settings", {})
    return Contracts(
        entities=entities,
        future_tolerance=settings.get("future_tolerance", "1 day"),
        lineage_columns=tuple(settings.get("lineage_columns", ())),
    )


@cache
def _load_default() -> Contracts:
    return parse_contracts(yaml.safe_load(CONTRACTS_PATH.read_text(encoding="utf-8")))


def load_contracts(path: Path | None = None) -> Contracts:
    """The contracts in `path`, or the project's own (cached) when no path is given."""
    if path is None:
        return _load_default()
    return parse_contracts(yaml.safe_load(Path(path).read_text(encoding="utf-8")))

"""Reads a mapping YAML: which export files feed which contract entity, and how to read them.

The format is documented at the top of ingestion/mappings/default.yml and in docs/ingestion.md.
Every mistake in a mapping file is a `UserError` naming the mapping file and the source.
"""

from __future__ import annotations

import codecs
from dataclasses import dataclass, field
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml

from crm.errors import UserError
from ingestion.contracts import Contracts, load_contracts

DEFAULT_MAPPING = Path(__file__).parent / "mappings" / "default.yml"
FORMATS = ("csv", "jsonl", "parquet", "xlsx")
# Spellings every source understands; a mapping's true_values/false_values add to them.
BASE_TRUE = ("true", "1")
BASE_FALSE = ("false", "0")
_KEYS = {
    "name", "entity", "files", "format", "encoding", "delimiter", "quote", "sheet", "columns",
    "combine", "constants", "timestamp_format", "date_format", "timezone", "true_values",
    "false_values",
}  # fmt: skip


@dataclass(frozen=True)
class Source:
    """One kind of export file and how it maps onto a contract entity."""

    name: str
    entity: str
    files: tuple[str, ...]
    format: str
    encoding: str = "utf-8"
    delimiter: str = ","
    quote: str = '"'
    sheet: str | None = None
    columns: dict[str, str] = field(default_factory=dict)
    # contract column -> (export columns, separator): e.g. first + last name -> full_name
    combine: dict[str, tuple[tuple[str, ...], str]] = field(default_factory=dict)
    constants: dict[str, str] = field(default_factory=dict)
    timestamp_formats: tuple[str, ...] = ()
    date_formats: tuple[str, ...] = ()
    timezone: str = "UTC"
    true_values: tuple[str, ...] = BASE_TRUE
    false_values: tuple[str, ...] = BASE_FALSE


@dataclass(frozen=True)
class Mapping:
    path: Path
    sources: tuple[Source, ...]


def _as_tuple(value: object) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str | int | float | bool):
        return (str(value),)
    return tuple(str(v) for v in value)


def _source(spec: dict, where: str, contracts: Contracts) -> Source:
    unknown = set(spec) - _KEYS
    if unknown:
        raise UserError(f"{where}: unknown key(s) {', '.join(sorted(unknown))}")
    for key in ("name", "entity", "files", "format"):
        if key not in spec:
            raise UserError(f"{where}: missing key {key!r}")
    entity = spec["entity"]
    if entity not in contracts.entities:
        known = ", ".join(contracts.entities)
        raise UserError(f"{where}: unknown entity {entity!r} (contracts define {known})")
    fmt = str(spec["format"]).lower()
    if fmt not in FORMATS:
        raise UserError(f"{where}: unknown format {fmt!r} (use one of {', '.join(FORMATS)})")
    encoding = str(spec.get("encoding", "utf-8"))
    try:
        codecs.lookup(encoding)
    except LookupError:
        raise UserError(f"{where}: unknown encoding {encoding!r}") from None
    timezone = str(spec.get("timezone", "UTC"))
    try:
        ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError):
        raise UserError(f"{where}: unknown time zone {timezone!r}") from None
    contract = contracts[entity]
    columns = {str(k): str(v) for k, v in (spec.get("columns") or {}).items()}
    constants = {str(k): str(v) for k, v in (spec.get("constants") or {}).items()}
    combine = {}
    for target, rule in (spec.get("combine") or {}).items():
        if not isinstance(rule, dict) or not rule.get("columns"):
            raise UserError(f"{where}: combine.{target} needs a 'columns:' list")
        combine[str(target)] = (_as_tuple(rule["columns"]), str(rule.get("separator", " ")))
    for target in [*columns.values(), *combine, *constants]:
        if target not in contract.column_names:
            raise UserError(f"{where}: {entity} has no column {target!r}")
    delimiter = str(spec.get("delimiter", ","))
    if delimiter in ("\\t", "tab"):
        delimiter = "\t"
    return Source(
        name=str(spec["name"]),
        entity=entity,
        files=_as_tuple(spec["files"]),
        format=fmt,
        encoding=encoding,
        delimiter=delimiter,
        quote=str(spec.get("quote", '"')),
        sheet=spec.get("sheet"),
        columns=columns,
        combine=combine,
        constants=constants,
        timestamp_formats=_as_tuple(spec.get("timestamp_format")),
        date_formats=_as_tuple(spec.get("date_format")),
        timezone=timezone,
        true_values=BASE_TRUE + tuple(v.lower() for v in _as_tuple(spec.get("true_values"))),
        false_values=BASE_FALSE + tuple(v.lower() for v in _as_tuple(spec.get("false_values"))),
    )


def load_mapping(path: Path | None = None, contracts: Contracts | None = None) -> Mapping:
    """The mapping in `path` (default: ingestion/mappings/default.yml), checked against the
    contracts."""
    path = Path(path) if path is not None else DEFAULT_MAPPING
    contracts = contracts or load_contracts()
    if not path.is_file():
        raise UserError(f"{path}: mapping file not found")
    try:
        document = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        reason = str(exc).splitlines()[0]
        raise UserError(f"{path}: not a readable YAML mapping ({reason})") from None
    if not isinstance(document, dict) or not isinstance(document.get("sources"), list):
        raise UserError(f"{path}: a mapping needs a top-level 'sources:' list")
    sources = []
    for i, spec in enumerate(document["sources"], start=1):
        if not isinstance(spec, dict):
            raise UserError(f"{path}: source #{i} is not a mapping of keys")
        where = f"{path}: source {spec.get('name', f'#{i}')!r}"
        sources.append(_source(spec, where, contracts))
    names = [s.name for s in sources]
    duplicated = sorted({n for n in names if names.count(n) > 1})
    if duplicated:
        raise UserError(f"{path}: source name(s) used twice: {', '.join(duplicated)}")
    return Mapping(path=path, sources=tuple(sources))

"""docs/contracts.md, generated from ingestion/contracts.yml (a test keeps the two in sync).

Regenerate after changing the contracts: `python -m ingestion.contracts_doc`.
"""

from __future__ import annotations

import sys
from pathlib import Path

from ingestion.contracts import ColumnContract, Contracts, EntityContract, load_contracts

DOC_PATH = Path(__file__).resolve().parent.parent / "docs" / "contracts.md"

LINEAGE = [
    ("_load_id", "varchar", "Ledger id of the file load that brought the row (raw._loads)."),
    ("_source_file", "varchar", "File the row came from, relative to the ingested directory."),
    ("_source_row", "bigint", "1-based number of the record among the file's data records."),
    ("_loaded_at", "timestamp", "When the file load started (UTC)."),
    ("_extra", "json", "JSON object of export columns the contract does not know (drift)."),
]


def _checks(col: ColumnContract) -> str:
    checks = []
    if col.required:
        checks.append("required")
    if col.format:
        checks.append(f"format {col.format}")
    if col.min is not None:
        checks.append(f"≥ {col.min:g}")
    if col.max is not None:
        checks.append(f"≤ {col.max:g}")
    if col.range_code:
        checks.append(f"range reject code `{col.range_code}`")
    if col.not_future:
        checks.append("not in the future")
    if col.pii:
        checks.append("PII")
    return ", ".join(checks)


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _entity(entity: EntityContract, contracts: Contracts) -> list[str]:
    lines = [f"## `raw.{entity.name}`", "", entity.description, ""]
    lines.append(f"- Natural key: `{', '.join(entity.natural_key)}`")
    if entity.version_column:
        lines.append(
            f"- Version column: `{entity.version_column}` (raw keeps every version; downstream "
            "keeps the latest per key)"
        )
    else:
        lines.append("- No version column: a key arrives once")
    lines.append(f"- Load order: {entity.load_order}")
    for ref in entity.references:
        parent = contracts[ref.entity]
        lines.append(
            f"- References `{parent.name}`: ({', '.join(ref.columns)}) → ({', '.join(ref.to)})"
        )
    lines += [
        "",
        "| column | type | checks | accepted values (reported, not enforced) | description |",
        "|---|---|---|---|---|",
    ]
    for col in entity.columns:
        values = ", ".join(col.accepted_values) if col.accepted_values else ""
        lines.append(
            f"| `{col.name}` | {col.type} | {_checks(col)} | {_cell(values)} | "
            f"{_cell(col.description)} |"
        )
    return [*lines, ""]


def render_contracts_markdown(contracts: Contracts | None = None) -> str:
    contracts = contracts or load_contracts()
    lines = [
        "# Raw data contracts",
        "",
        "<!-- Generated from ingestion/contracts.yml by `python -m ingestion.contracts_doc`; "
        "do not edit by hand. -->",
        "",
        "One contract per raw entity: the loader types and checks every record against it "
        "(see docs/ingestion.md for the reject codes), the dbt sources are generated from it, "
        "and the quality suites read it.",
        f"A timestamp counts as in the future when it is later than the load time plus "
        f"{contracts.future_tolerance}.",
        "",
        "Every raw table also carries the lineage columns:",
        "",
        "| column | type | description |",
        "|---|---|---|",
        *[f"| `{name}` | {type_} | {text} |" for name, type_, text in LINEAGE],
        "",
    ]
    for entity in contracts.ordered():
        lines += _entity(entity, contracts)
    return "\n".join(lines).rstrip() + "\n"


def write_contracts_doc(path: Path = DOC_PATH) -> Path:
    path.write_text(render_contracts_markdown(), encoding="utf-8")
    return path


if __name__ == "__main__":
    sys.stdout.write(f"wrote {write_contracts_doc()}\n")

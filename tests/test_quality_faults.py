"""Each fault the generator plants is caught by the expectation meant for it.

Ingestion rejects planted faults before raw, so a healthy pipeline never shows them to the
gate. These tests play a faulty upstream or a loader bug: they take the very records the
generator planted (from raw._rejects of the tiny dataset), write them into a copy of the raw
tables anyway, run the raw suites and check that exactly the expectation meant for that fault
fails, and no other critical one.
"""

from __future__ import annotations

import json
import re
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pytest

from ingestion.contracts import load_contracts
from quality.suites import CUSTOM_SQL

CONTRACTS = load_contracts()
FAULT_LOAD_ID = "faulty-upstream"


@dataclass(frozen=True)
class Landing:
    """How one planted record lands in raw, and the checks that must fail because of it."""

    entity: str
    source_file: str
    values: dict[str, object]  # contract column -> value written (None: NULL)
    expected: set[str]


def _column(reason: str) -> str:
    """`<code>: <column> ...` → column (ingestion's reason format)."""
    return reason.split(":", 1)[1].split()[0]


def _record(reject: dict) -> dict:
    return json.loads(reject["record"])


def _single_column(kind: str) -> Callable[[dict], Landing]:
    """The planted value lands as written; the check is `<suite>.<column>.<kind>`."""

    def land(reject: dict) -> Landing:
        column = _column(reject["reason"])
        return Landing(
            reject["entity"],
            reject["file"],
            _record(reject),
            {f"raw_{reject['entity']}.{column}.{kind}"},
        )

    return land


def _unparseable(reject: dict) -> Landing:
    # A loader that coerces what it cannot parse to NULL: caught where the date is required.
    column = _column(reject["reason"])
    values = _record(reject) | {column: None}
    return Landing(
        reject["entity"], reject["file"], values, {f"raw_{reject['entity']}.{column}.not_null"}
    )


def _orphan(reject: dict) -> Landing:
    parent = re.search(r"not found in (\w+)", reject["reason"]).group(1)
    return Landing(
        reject["entity"],
        reject["file"],
        _record(reject),
        {f"raw_{reject['entity']}.references.{parent}"},
    )


def _duplicate(reject: dict) -> Landing:
    # The later copy of an already loaded record, landed again.
    return Landing(
        reject["entity"],
        reject["file"],
        _record(reject),
        {f"raw_{reject['entity']}.natural_key.unique"},
    )


def _garbled(reject: dict) -> Landing:
    # A truncated line read positionally: the fields present fill the first columns, the
    # rest stay NULL, so every required column past the cut is missing.
    entity = CONTRACTS[reject["entity"]]
    fields = reject["record"].split(",")
    names = entity.column_names
    values = {name: (fields[i] if i < len(fields) - 1 else None) for i, name in enumerate(names)}
    missing = {
        f"raw_{entity.name}.{c.name}.not_null"
        for c in entity.columns
        if c.required and values[c.name] is None
    }
    return Landing(entity.name, reject["file"], values, missing)


# fault code → (how to pick a planted record, how it lands and which check catches it)
FAULTS: dict[str, tuple[Callable[[dict], bool], Callable[[dict], Landing]]] = {
    "missing_required": (lambda r: True, _single_column("not_null")),
    "malformed_email": (lambda r: True, _single_column("format")),
    "negative_amount": (lambda r: True, _single_column("bounds")),
    "csat_out_of_range": (lambda r: True, _single_column("bounds")),
    "future_date": (lambda r: True, _single_column("not_future")),
    "unparseable_date": (
        lambda r: CONTRACTS[r["entity"]].column(_column(r["reason"])).required,
        _unparseable,
    ),
    "duplicate_row": (lambda r: True, _duplicate),
    "orphan_reference": (lambda r: True, _orphan),
    # Comma-separated garbles only: those can be read positionally.
    "garbled_line": (lambda r: r["file"].endswith(".csv"), _garbled),
}


def _planted(db: Path, fault: str) -> Landing:
    """The first planted record of this fault (contract-named files only, not the POS export
    with its Chinese headers) as it would land in raw."""
    pick, land = FAULTS[fault]
    con = duckdb.connect(str(db), read_only=True)
    try:
        rows = con.execute(
            "select entity, file, reason, record from raw._rejects "
            "where reason_code = ? and file not like 'pos%' order by entity, file, source_row",
            [fault],
        ).fetchall()
    finally:
        con.close()
    for entity, file, reason, record in rows:
        reject = {"entity": entity, "file": file, "reason": reason, "record": record}
        if pick(reject):
            return land(reject)
    pytest.fail(f"the tiny dataset has no usable planted {fault} record")


def _land(db: Path, landing: Landing) -> None:
    """Write the record into raw.<entity>: a row of the same file is the template (lineage,
    source_system), overlaid with the record's values cast as a lenient loader would."""
    entity = CONTRACTS[landing.entity]
    overlay = {k: v for k, v in landing.values.items() if k in entity.column_names}
    replaces = ", ".join(
        f"try_cast(?::varchar as {entity.column(name).duckdb_type}) as {name}" for name in overlay
    )
    con = duckdb.connect(str(db))
    try:
        con.execute(
            f"insert into raw.{entity.name} "
            f"select * replace ({replaces}, ? as _load_id) from raw.{entity.name} "
            "where _source_file = ? limit 1",
            [
                *(None if v is None else str(v) for v in overlay.values()),
                FAULT_LOAD_ID,
                landing.source_file,
            ],
        )
    finally:
        con.close()


@pytest.fixture(scope="module")
def raw_baseline(tmp_path_factory: pytest.TempPathFactory, _ingested_tiny: Path) -> Path:
    db = tmp_path_factory.mktemp("faults") / "crm.duckdb"
    shutil.copy(_ingested_tiny, db)
    return db


def _raw_run(db: Path, reports: Path):
    from quality import run_quality

    return run_quality(db, reports_dir=reports, layers=("raw",))


def test_default_data_passes_the_raw_critical_checks(raw_baseline: Path, tmp_path: Path) -> None:
    db = tmp_path / "crm.duckdb"
    shutil.copy(raw_baseline, db)
    run = _raw_run(db, tmp_path / "reports")
    assert {o.check_id for o in run.critical_failures} == set()
    # Samples are fetched for failed checks only.
    assert [o.check_id for o in run.outcomes if o.success and o.unexpected_sample] == []


@pytest.mark.parametrize("fault", sorted(FAULTS))
def test_planted_fault_is_caught_by_its_expectation(
    fault: str, raw_baseline: Path, tmp_path: Path
) -> None:
    landing = _planted(raw_baseline, fault)
    assert landing.expected, f"{fault}: nothing is meant to catch it"
    db = tmp_path / "crm.duckdb"
    shutil.copy(raw_baseline, db)
    _land(db, landing)
    failed = {o.check_id: o for o in _raw_run(db, tmp_path / "reports").critical_failures}
    assert set(failed) == landing.expected
    # The history shows the auditor what failed: the offending values or rows, and for a
    # column check how many rows (a uniqueness check's count comes from its sampling re-run).
    assert [c for c, o in failed.items() if not o.unexpected_sample] == []
    counted = [o for o in failed.values() if o.expectation_type != CUSTOM_SQL]
    assert [o.check_id for o in counted if not o.unexpected_count] == []

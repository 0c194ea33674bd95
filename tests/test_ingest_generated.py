"""Ingestion of the generator's sample data, checked against its truth files and against the
files read independently (csv module, pyarrow, pandas), not against the loader's own SQL."""

from __future__ import annotations

import csv
import datetime as dt
from pathlib import Path

import duckdb
import pandas as pd
import pyarrow.parquet as pq
import pytest
from python_calamine import CalamineWorkbook

from generator import generate, generate_increment
from ingestion import ingest
from ingestion.mapping import load_mapping


def query(db: Path, sql: str, params: list | None = None) -> list[tuple]:
    with duckdb.connect(str(db), read_only=True) as con:
        return con.execute(sql, params or []).fetchall()


def count_records(path: Path, fmt: str, encoding: str) -> int:
    """Data records in an export, counted without DuckDB (interfaces.md §A numbering)."""
    if fmt == "parquet":
        return pq.ParquetFile(path).metadata.num_rows
    if fmt == "xlsx":
        rows = CalamineWorkbook.from_path(str(path)).get_sheet_by_index(0).to_python()
        return sum(1 for r in rows[1:] if any(v not in (None, "") for v in r))
    with path.open("rb") as handle:
        lines = sum(1 for line in handle if line.strip())
    return lines - (1 if fmt == "csv" else 0)


@pytest.fixture(scope="module")
def faults(tiny_data: Path) -> set[tuple[str, int, str]]:
    with (tiny_data / "_truth" / "faults.csv").open(encoding="utf-8") as handle:
        return {(r["file"], int(r["source_row"]), r["fault"]) for r in csv.DictReader(handle)}


def test_every_planted_fault_is_rejected_with_its_code_at_its_record(
    ingested_db: Path, faults: set[tuple[str, int, str]]
) -> None:
    assert {f for _, _, f in faults} >= {"garbled_line", "duplicate_row", "orphan_reference"}
    rejects = set(query(ingested_db, "SELECT file, source_row, reason_code FROM raw._rejects"))
    missing = sorted(faults - rejects)
    assert not missing, f"planted faults not rejected as planted: {missing[:10]}"
    # Anything else must be a cascade: the child of a rejected parent.
    unplanted = {code for _, _, code in rejects - faults}
    assert unplanted <= {"orphan_reference"}, unplanted


def test_rows_read_equal_loaded_plus_rejected_and_match_the_files(
    ingested_db: Path, tiny_data: Path
) -> None:
    sources = {s.name: s for s in load_mapping().sources}
    ledger = query(
        ingested_db,
        "SELECT _load_id, source, entity, file, rows_read, rows_loaded, rows_rejected, status "
        "FROM raw._loads",
    )
    assert ledger, "nothing was loaded"
    for load_id, source, entity, file, read, n_loaded, n_rejected, status in ledger:
        assert status == "loaded", file
        spec = sources[source]
        assert read == count_records(tiny_data / file, spec.format, spec.encoding), file
        landed = query(
            ingested_db, f"SELECT count(*) FROM raw.{entity} WHERE _load_id = ?", [load_id]
        )[0][0]
        rejected = query(
            ingested_db, "SELECT count(*) FROM raw._rejects WHERE _load_id = ?", [load_id]
        )[0][0]
        assert (landed, rejected) == (n_loaded, n_rejected), file
        assert read == n_loaded + n_rejected, file


def test_clean_data_loads_without_a_single_reject(clean_tiny_data: Path, tmp_path: Path) -> None:
    report = ingest(clean_tiny_data, tmp_path / "wh.duckdb")
    assert report.rows_read > 0
    reasons = query(
        tmp_path / "wh.duckdb", "SELECT file, source_row, reason FROM raw._rejects LIMIT 5"
    )
    assert report.rows_rejected == 0, reasons


def test_gb18030_pos_export_lands_with_its_chinese_names(
    ingested_db: Path, tiny_data: Path
) -> None:
    files = sorted(tiny_data.glob("pos_members*.csv"))
    assert files
    frame = pd.concat(
        pd.read_csv(f, encoding="gb18030", dtype=str, on_bad_lines="skip").assign(_file=f.name)
        for f in files
    )
    expected = dict(zip(frame["会员编号"], frame["姓名"], strict=True))
    landed = dict(
        query(
            ingested_db,
            "SELECT source_contact_id, full_name FROM raw.contacts WHERE source_system = 'pos'",
        )
    )
    assert landed, "no POS contact landed"
    assert any(not name.isascii() for name in landed.values() if name)
    assert {k: expected[k] for k in landed} == landed


def test_xlsx_campaigns_land_with_their_names(ingested_db: Path, tiny_data: Path) -> None:
    path = next(tiny_data.glob("campaigns*.xlsx"))
    rows = CalamineWorkbook.from_path(str(path)).get_sheet_by_name("campaigns").to_python()
    header = rows[0]
    expected = {
        str(r[header.index("campaign_id")]): str(r[header.index("campaign_name")]) for r in rows[1:]
    }
    landed = dict(query(ingested_db, "SELECT campaign_id, campaign_name FROM raw.campaigns"))
    assert landed and {k: expected[k] for k in landed} == landed


def test_a_daily_increment_adds_only_its_rows_and_keeps_later_versions_as_history(
    tmp_path: Path,
) -> None:
    # Dated in the past: increment day 1 of a dataset ending today would be tomorrow, which
    # ingestion rightly rejects as future_date.
    as_of = dt.date.today() - dt.timedelta(days=60)
    exports, db = tmp_path / "exports", tmp_path / "wh.duckdb"
    generate(exports, scale="tiny", seed=11, as_of=as_of)
    ingest(exports, db)
    entities = ["contacts", "campaigns", "orders", "order_lines", "tickets", "campaign_events"]
    counts = "SELECT " + ", ".join(f"(SELECT count(*) FROM raw.{e})" for e in entities)
    before = dict(zip(entities, query(db, counts)[0], strict=True))

    generate_increment(exports, scale="tiny", seed=11, day=1, as_of=as_of)
    increment = {p.name for p in exports.glob("*_inc001.*")}
    report = ingest(exports, db)
    loaded = [f for f in report.files if f.status == "loaded"]
    assert {f.file for f in loaded} == increment
    assert {f.status for f in report.files if f.file not in increment} == {"skipped_duplicate_file"}
    after = dict(zip(entities, query(db, counts)[0], strict=True))
    for entity in entities:
        added = sum(f.rows_loaded for f in loaded if f.entity == entity)
        assert after[entity] == before[entity] + added, entity
    # Changed contacts arrive again with a later updated_at: both versions stay in raw.
    history = query(
        db,
        "SELECT count(*) FROM (SELECT source_system, source_contact_id FROM raw.contacts "
        "GROUP BY ALL HAVING count(DISTINCT updated_at) > 1 "
        "AND arg_max(_source_file, updated_at) LIKE '%_inc001%')",
    )
    assert history[0][0] > 0

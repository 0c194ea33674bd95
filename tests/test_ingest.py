"""Ingestion on hand-made exports whose every record and fault is known (tests/fixtures/exports)."""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from fixtures.exports.samples import CASCADES, FAULTS, POS_NAMES, RECORDS, write_default_exports

from crm.errors import UserError
from ingestion import IngestFailed, ingest
from ingestion.contracts import load_contracts
from ingestion.mapping import load_mapping

FOREIGN = Path(__file__).parent / "fixtures" / "exports" / "foreign"
FOREIGN_MAPPING = (
    Path(__file__).parent.parent / "ingestion" / "mappings" / "examples" / "foreign_exports.yml"
)


def query(db: Path, sql: str, params: list | None = None) -> list[tuple]:
    with duckdb.connect(str(db), read_only=True) as con:
        return con.execute(sql, params or []).fetchall()


@pytest.fixture
def samples(tmp_path: Path) -> Path:
    return write_default_exports(tmp_path / "exports")


@pytest.fixture
def loaded(samples: Path, tmp_path: Path) -> Path:
    db = tmp_path / "wh.duckdb"
    ingest(samples, db)
    return db


def test_every_planted_fault_is_rejected_with_its_code_at_its_record(loaded: Path) -> None:
    rejects = query(loaded, "SELECT file, source_row, reason_code, reason FROM raw._rejects")
    assert {(f, r, c) for f, r, c, _ in rejects} == set(FAULTS) | set(CASCADES)
    for _, _, code, reason in rejects:
        assert reason.startswith(code + ": ") and len(reason) > len(code) + 3


def test_rows_read_equal_rows_loaded_plus_rejected_for_every_file(loaded: Path) -> None:
    ledger = query(
        loaded,
        "SELECT _load_id, entity, file, rows_read, rows_loaded, rows_rejected, status "
        "FROM raw._loads",
    )
    assert {row[2] for row in ledger} == set(RECORDS)
    for load_id, entity, file, read, n_loaded, n_rejected, status in ledger:
        assert status == "loaded"
        assert read == RECORDS[file], file  # counted by hand, not by the loader
        landed = query(loaded, f"SELECT count(*) FROM raw.{entity} WHERE _load_id = ?", [load_id])
        rejected = query(loaded, "SELECT count(*) FROM raw._rejects WHERE _load_id = ?", [load_id])
        assert (n_loaded, n_rejected) == (landed[0][0], rejected[0][0]), file
        assert read == n_loaded + n_rejected, file


def test_every_record_lands_once_in_raw_or_in_rejects(loaded: Path) -> None:
    contracts = load_contracts()
    for file, records in RECORDS.items():
        entity = query(loaded, "SELECT entity FROM raw._loads WHERE file = ?", [file])[0][0]
        rows = query(loaded, f"SELECT _source_row FROM raw.{entity} WHERE _source_file = ?", [file])
        rows += query(loaded, "SELECT source_row FROM raw._rejects WHERE file = ?", [file])
        assert sorted(r[0] for r in rows) == list(range(1, records + 1)), file
    assert set(contracts.entities) <= {r[0] for r in query(loaded, "SELECT entity FROM raw._loads")}


def test_reingesting_the_same_files_adds_nothing(samples: Path, loaded: Path) -> None:
    tables = ["contacts", "campaigns", "orders", "order_lines", "tickets", "campaign_events"]
    counts = "SELECT " + ", ".join(f"(SELECT count(*) FROM raw.{t})" for t in tables)
    before = query(loaded, counts + ", (SELECT count(*) FROM raw._rejects)")
    report = ingest(samples, loaded)
    assert {f.status for f in report.files} == {"skipped_duplicate_file"}
    assert report.rows_read == report.rows_loaded == report.rows_rejected == 0
    assert query(loaded, counts + ", (SELECT count(*) FROM raw._rejects)") == before
    statuses = query(loaded, "SELECT status, count(*) FROM raw._loads GROUP BY 1 ORDER BY 1")
    assert statuses == [("loaded", len(RECORDS)), ("skipped_duplicate_file", len(RECORDS))]


def _write_increment(directory: Path) -> Path:
    header = (
        "order_id,source_system,contact_source_system,contact_source_id,status,sales_channel,"
        "currency,total_amount,ordered_at,updated_at"
    )
    rows = [
        # a new order
        "O7,shop,web,W2,completed,online,CNY,30.00,2024-03-10T10:00:00Z,2024-03-10T10:00:00Z",
        # O5 again, later updated_at: history
        "O5,pos,pos,P1,refunded,store,CNY,88.80,2024-03-07T02:00:00Z,2024-03-11T09:00:00Z",
        # O6 re-sent unchanged: an already-loaded record
        "O6,shop,web,W1,pending,online,USD,15.50,2024-03-08T10:00:00Z,2024-03-08T10:00:00Z",
        # O1's second version with other content under the same key and version
        "O1,shop,crm,C1,cancelled,online,CNY,199.00,2024-03-05T10:00:00Z,2024-03-09T08:00:00Z",
    ]
    path = directory / "orders_inc001.csv"
    path.write_text("\n".join([header, *rows]) + "\n", encoding="utf-8")
    return path


def test_a_new_file_adds_only_its_own_rows(samples: Path, loaded: Path) -> None:
    before = query(loaded, "SELECT count(*) FROM raw.orders")[0][0]
    _write_increment(samples)
    report = ingest(samples, loaded)
    statuses = {f.file: f.status for f in report.files}
    assert statuses.pop("orders_inc001.csv") == "loaded"
    assert set(statuses.values()) == {"skipped_duplicate_file"}
    new = query(
        loaded,
        "SELECT order_id FROM raw.orders WHERE _source_file = 'orders_inc001.csv' ORDER BY 1",
    )
    assert [r[0] for r in new] == ["O5", "O7"]
    assert query(loaded, "SELECT count(*) FROM raw.orders")[0][0] == before + 2
    rejects = query(
        loaded,
        "SELECT source_row, reason_code FROM raw._rejects WHERE file = 'orders_inc001.csv' "
        "ORDER BY 1",
    )
    assert rejects == [(3, "duplicate_row"), (4, "duplicate_key")]


def test_a_later_version_is_kept_as_history(samples: Path, loaded: Path) -> None:
    _write_increment(samples)
    ingest(samples, loaded)
    versions = query(
        loaded,
        "SELECT status, updated_at, _source_file FROM raw.orders WHERE order_id = 'O5' "
        "ORDER BY updated_at",
    )
    assert versions == [
        ("completed", dt.datetime(2024, 3, 7, 2, 0), "orders.csv"),
        ("refunded", dt.datetime(2024, 3, 11, 9, 0), "orders_inc001.csv"),
    ]


def test_gb18030_export_lands_with_chinese_text_and_utc_times(loaded: Path) -> None:
    rows = query(
        loaded,
        "SELECT source_contact_id, full_name, region, marketing_consent, created_at "
        "FROM raw.contacts WHERE source_system = 'pos' ORDER BY 1",
    )
    assert {r[0]: r[1] for r in rows} == POS_NAMES
    # 2024/01/02 08:00:00 in Asia/Shanghai is midnight UTC; 是/否 are booleans.
    assert rows[0][2:] == ("华东", True, dt.datetime(2024, 1, 2, 0, 0))
    assert rows[1][3] is False


def test_xlsx_export_lands_with_chinese_text_dates_and_sheet_rows(loaded: Path) -> None:
    rows = query(
        loaded,
        "SELECT campaign_id, campaign_name, start_date, spend, _source_row FROM raw.campaigns "
        "ORDER BY 1",
    )
    assert [(r[0], r[1], r[4]) for r in rows] == [("CMP1", "春季促销", 1), ("CMP3", "双十一", 3)]
    assert rows[0][2] == dt.date(2024, 3, 1)
    assert str(rows[0][3]) == "8000.50"


def test_unknown_columns_are_kept_in_extra_and_reported(samples: Path, tmp_path: Path) -> None:
    report = ingest(samples, tmp_path / "wh.duckdb")
    drift = {f.file: f.extra_columns for f in report.drift}
    assert drift == {"crm_contacts.csv": ("wechat_id",)}
    extra = query(
        tmp_path / "wh.duckdb",
        "SELECT json_extract_string(_extra, '$.wechat_id') FROM raw.contacts "
        "WHERE source_contact_id = 'C7'",
    )
    assert extra == [("zhaolei88",)]
    ledger = query(
        tmp_path / "wh.duckdb",
        "SELECT extra_columns FROM raw._loads WHERE file = 'crm_contacts.csv'",
    )
    assert ledger == [("wechat_id",)]


def test_missing_optional_columns_load_as_null(loaded: Path) -> None:
    rows = query(
        loaded,
        "SELECT count(*), count(category) FROM raw.order_lines",
    )
    assert rows == [(2, 0)]
    missing = query(loaded, "SELECT missing_columns FROM raw._loads WHERE file = 'tickets.jsonl'")
    assert missing == [("category, agent",)]


def test_csv_source_rows_stay_exact_around_garbled_lines_in_a_large_file(tmp_path: Path) -> None:
    """Large enough for DuckDB's parallel CSV scan; every record carries its own number."""
    exports = tmp_path / "big"
    exports.mkdir()
    n, garbled = 300_000, {1, 2, 77_777, 150_000, 150_001, 299_999, 300_000}
    with duckdb.connect() as con:
        con.execute(
            f"COPY (SELECT 'C' || i AS source_contact_id, 'name ' || i AS full_name, "
            f"'2024-01-01T00:00:00Z' AS created_at, '2024-01-01T00:00:00Z' AS updated_at "
            f"FROM range(1, {n + 1}) t(i)) TO '{exports / 'plain.csv'}' (HEADER)"
        )
    with (exports / "plain.csv").open() as src, (exports / "crm_contacts.csv").open("w") as out:
        for i, line in enumerate(src):
            out.write(f"C{i},cut\n" if i in garbled else line)
    (exports / "plain.csv").unlink()
    db = tmp_path / "wh.duckdb"
    report = ingest(exports, db)
    assert (report.rows_read, report.rows_rejected) == (n, len(garbled))
    wrong = query(
        db, "SELECT count(*) FROM raw.contacts WHERE source_contact_id <> 'C' || _source_row"
    )
    assert wrong == [(0,)]
    rejected = query(db, "SELECT source_row, record FROM raw._rejects ORDER BY 1")
    assert rejected == [(i, f"C{i},cut") for i in sorted(garbled)]


def test_mapped_foreign_exports_land_on_the_contract(tmp_path: Path) -> None:
    db = tmp_path / "wh.duckdb"
    report = ingest(FOREIGN, db, mapping=FOREIGN_MAPPING)
    assert {f.file: (f.rows_read, f.rows_loaded) for f in report.files} == {
        "hubspot_contacts.csv": (4, 3),
        "shopify_orders.csv": (4, 2),
        "zendesk_tickets.txt": (4, 2),
    }
    contact = query(
        db,
        "SELECT full_name, marketing_consent, created_at FROM raw.contacts "
        "WHERE source_contact_id = '101'",
    )
    # HubSpot times are Asia/Shanghai wall-clock; first and last name are combined.
    assert contact == [("Mei Lin", True, dt.datetime(2024, 1, 5, 8, 0))]
    order = query(db, "SELECT total_amount, ordered_at FROM raw.orders WHERE order_id = '#1002'")
    assert [(str(order[0][0]), order[0][1])] == [("49.90", dt.datetime(2024, 3, 6, 8, 0))]
    ticket = query(db, "SELECT created_at, csat_score FROM raw.tickets WHERE ticket_id = '5001'")
    assert ticket == [(dt.datetime(2024, 3, 5, 9, 0), 5)]  # 10:00 CET
    rejects = query(db, "SELECT file, source_row, reason_code FROM raw._rejects ORDER BY 1, 2")
    assert rejects == [
        ("hubspot_contacts.csv", 3, "malformed_email"),
        ("shopify_orders.csv", 3, "negative_amount"),
        ("shopify_orders.csv", 4, "orphan_reference"),
        ("zendesk_tickets.txt", 3, "csat_out_of_range"),
        ("zendesk_tickets.txt", 4, "unparseable_date"),
    ]


def test_missing_required_column_fails_that_file_only_and_a_rerun_recovers(
    samples: Path, tmp_path: Path
) -> None:
    original = (samples / "orders.csv").read_text(encoding="utf-8")
    broken = "\n".join(",".join(line.split(",")[:7]) for line in original.splitlines()) + "\n"
    (samples / "orders.csv").write_text(broken, encoding="utf-8")
    db = tmp_path / "wh.duckdb"
    with pytest.raises(IngestFailed) as failure:
        ingest(samples, db)
    message = str(failure.value)
    assert "orders.csv" in message and "total_amount" in message and "\n" not in message
    statuses = dict(query(db, "SELECT file, status FROM raw._loads"))
    assert statuses.pop("orders.csv") == "failed"
    assert set(statuses.values()) == {"loaded"}
    assert query(db, "SELECT count(*) FROM raw.orders") == [(0,)]

    (samples / "orders.csv").write_text(original, encoding="utf-8")
    report = ingest(samples, db)
    assert {f.file: f.status for f in report.files}["orders.csv"] == "loaded"
    assert query(db, "SELECT count(*) FROM raw.orders") == [(4,)]


def test_a_corrupt_file_rolls_back_and_is_recorded_as_failed(samples: Path, tmp_path: Path) -> None:
    good = (samples / "order_lines.parquet").read_bytes()
    (samples / "order_lines.parquet").write_bytes(good[: len(good) // 2])
    db = tmp_path / "wh.duckdb"
    with pytest.raises(IngestFailed, match=r"order_lines\.parquet: .*Parquet"):
        ingest(samples, db)
    failed = query(db, "SELECT rows_read, rows_loaded, rows_rejected, error FROM raw._loads "
                       "WHERE status = 'failed'")  # fmt: skip
    assert len(failed) == 1 and failed[0][:3] == (0, 0, 0) and failed[0][3]
    assert query(db, "SELECT count(*) FROM raw.order_lines") == [(0,)]
    rejects = query(db, "SELECT count(*) FROM raw._rejects WHERE file = 'order_lines.parquet'")
    assert rejects == [(0,)]
    (samples / "order_lines.parquet").write_bytes(good)
    ingest(samples, db)
    assert query(db, "SELECT count(*) FROM raw.order_lines") == [(2,)]


def test_a_failure_inside_the_transaction_leaves_no_partial_batch(
    samples: Path, tmp_path: Path
) -> None:
    """A record that passes staging but breaks on insert (a value too large for the column)
    happens after rows were written: everything of that file must be rolled back."""
    db = tmp_path / "wh.duckdb"
    ingest(samples, db)
    table = pa.table({
        "order_line_id": ["L10", "L11"], "order_id": ["O1", "O1"], "product_id": ["S", "S"],
        "quantity": pa.array([1, 1]), "unit_price": pa.array([1.0, 1.0]),
    })  # fmt: skip
    pq.write_table(table, samples / "order_lines_inc001.parquet")
    with duckdb.connect(str(db)) as con:  # a constraint the insert will trip over
        con.execute("ALTER TABLE raw.order_lines ALTER COLUMN product_name SET NOT NULL")
    with pytest.raises(duckdb.ConstraintException):
        ingest(samples, db)
    assert query(db, "SELECT count(*) FROM raw.order_lines WHERE order_line_id LIKE 'L1_'") == [
        (0,)
    ]
    ledger = query(
        db, "SELECT status, error FROM raw._loads WHERE file = 'order_lines_inc001.parquet'"
    )
    assert ledger[0][0] == "failed" and "Constraint" in ledger[0][1]


def test_mapping_mistakes_are_user_errors_naming_the_mapping(tmp_path: Path) -> None:
    bad = tmp_path / "m.yml"
    cases = {
        "entity: nope": "unknown entity 'nope'",
        "entity: orders\n    encoding: klingon": "unknown encoding 'klingon'",
        "entity: orders\n    timezone: Mars/Olympus": "unknown time zone",
        "entity: orders\n    columns: {a: not_a_column}": "orders has no column 'not_a_column'",
    }
    for body, expected in cases.items():
        bad.write_text(f"sources:\n  - name: s\n    files: [x.csv]\n    format: csv\n    {body}\n")
        with pytest.raises(UserError, match=expected) as failure:
            load_mapping(bad)
        assert str(bad) in str(failure.value)


def test_default_mapping_is_valid_against_the_contracts() -> None:
    mapping = load_mapping()
    assert {s.entity for s in mapping.sources} == set(load_contracts().entities)


def test_source_dir_must_exist(tmp_path: Path) -> None:
    with pytest.raises(UserError, match="no such directory"):
        ingest(tmp_path / "missing", tmp_path / "wh.duckdb")


def test_a_directory_without_matching_files_is_an_error(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("hello")
    with pytest.raises(UserError, match="no file matches"):
        ingest(tmp_path, tmp_path / "wh.duckdb")


def test_exports_in_a_copied_directory_are_recognised_by_checksum(
    samples: Path, loaded: Path, tmp_path: Path
) -> None:
    renamed = tmp_path / "again"
    shutil.copytree(samples, renamed)
    (renamed / "orders.csv").rename(renamed / "orders_copy.csv")
    report = ingest(renamed, loaded)
    assert {f.status for f in report.files} == {"skipped_duplicate_file"}


def test_committed_contracts_doc_matches_the_contracts() -> None:
    from ingestion.contracts_doc import DOC_PATH, render_contracts_markdown

    assert DOC_PATH.read_text(encoding="utf-8") == render_contracts_markdown()


def test_empty_exports_load_nothing_but_a_headerless_csv_fails(tmp_path: Path) -> None:
    exports = tmp_path / "exports"
    exports.mkdir()
    (exports / "tickets.jsonl").write_bytes(b"")
    (exports / "orders.csv").write_text(
        "order_id,source_system,contact_source_system,contact_source_id,status,currency,"
        "total_amount,ordered_at,updated_at\n"
    )
    (exports / "campaign_events.csv").write_bytes(b"")
    with pytest.raises(IngestFailed, match=r"campaign_events\.csv: file is empty") as failure:
        ingest(exports, tmp_path / "wh.duckdb")
    statuses = {f.file: (f.status, f.rows_read) for f in failure.value.report.files}
    assert statuses == {
        "orders.csv": ("loaded", 0),
        "tickets.jsonl": ("loaded", 0),
        "campaign_events.csv": ("failed", 0),
    }


def test_bytes_invalid_in_the_declared_encoding_reject_only_their_record(
    samples: Path, tmp_path: Path
) -> None:
    lines = (samples / "pos_members.csv").read_bytes().split(b"\r\n")
    lines[2] = lines[2].replace("李娜".encode("gb18030"), b"\x81\x20")  # lead byte, bad trail
    (samples / "pos_members.csv").write_bytes(b"\r\n".join(lines))
    db = tmp_path / "wh.duckdb"
    ingest(samples, db)
    rejects = query(
        db, "SELECT source_row, reason FROM raw._rejects WHERE file = 'pos_members.csv' ORDER BY 1"
    )
    assert rejects[0] == (2, "garbled_line: bytes not valid in gb18030")
    assert [r[0] for r in rejects] == [2, 3]  # record 3 keeps its own planted fault
    names = query(db, "SELECT full_name FROM raw.contacts WHERE source_system = 'pos'")
    assert names == [("张伟",)]


def _memory_limit_of(con: duckdb.DuckDBPyConnection) -> str:
    return con.execute("SELECT current_setting('memory_limit')").fetchone()[0]


def test_the_ingestion_connection_is_bounded_by_the_configured_memory_limit(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """ingestion/settings.yml bounds DuckDB (which spills beyond it); the pipeline-wide
    variable overrides it."""
    from ingestion.loader import connect
    from ingestion.settings import MEMORY_LIMIT_ENV, load_settings

    def expected(limit: str) -> str:  # as DuckDB reports it back
        with duckdb.connect() as con:
            con.execute(f"SET memory_limit = '{limit}'")
            return _memory_limit_of(con)

    monkeypatch.delenv(MEMORY_LIMIT_ENV, raising=False)
    configured = load_settings().memory_limit
    con = connect(tmp_path / "wh.duckdb")
    assert _memory_limit_of(con) == expected(configured)
    con.close()
    monkeypatch.setenv(MEMORY_LIMIT_ENV, "1GB")
    con = connect(tmp_path / "wh.duckdb")
    assert _memory_limit_of(con) == expected("1GB")
    con.close()
    monkeypatch.setenv(MEMORY_LIMIT_ENV, "plenty")
    with pytest.raises(UserError, match=MEMORY_LIMIT_ENV):
        connect(tmp_path / "wh.duckdb")

"""`crm ingest` as a user runs it: one-line errors naming the file, no traceback, and a process
killed mid-file that leaves no partial batch."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import duckdb
from fixtures.exports.samples import write_default_exports

from ingestion import ingest
from ingestion.ledger import INTERRUPTED

CRM = [sys.executable, "-m", "crm.cli"]
ROOT = Path(__file__).resolve().parent.parent


def run_crm(*args: str | Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [*CRM, *map(str, args)], capture_output=True, text=True, cwd=ROOT, timeout=300
    )


def assert_one_line_error(result: subprocess.CompletedProcess, *needles: str) -> None:
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr + result.stdout
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr
    for needle in needles:
        assert needle in lines[0], lines[0]


def test_cli_loads_and_prints_a_summary(tmp_path: Path) -> None:
    exports = write_default_exports(tmp_path / "exports")
    result = run_crm("ingest", exports, "--db", tmp_path / "wh.duckdb")
    assert result.returncode == 0, result.stderr
    assert "42 rows read, 22 loaded, 20 rejected" in result.stdout
    assert "wechat_id" in result.stdout  # schema drift is reported


def test_cli_missing_directory_is_one_line(tmp_path: Path) -> None:
    result = run_crm("ingest", tmp_path / "nowhere", "--db", tmp_path / "wh.duckdb")
    assert_one_line_error(result, "nowhere", "no such directory")


def test_cli_missing_required_column_names_file_and_column(tmp_path: Path) -> None:
    exports = write_default_exports(tmp_path / "exports")
    lines = (exports / "tickets.jsonl").read_text().splitlines()
    (exports / "tickets.jsonl").write_text(
        "\n".join(line.replace('"priority"', '"prio"') for line in lines) + "\n"
    )
    result = run_crm("ingest", exports, "--db", tmp_path / "wh.duckdb", "--quiet")
    assert_one_line_error(result, "tickets.jsonl", "missing required column(s) priority")


def test_cli_corrupt_workbook_names_the_file(tmp_path: Path) -> None:
    exports = write_default_exports(tmp_path / "exports")
    (exports / "campaigns.xlsx").write_bytes(b"PK\x03\x04 this is not a workbook")
    result = run_crm("ingest", exports, "--db", tmp_path / "wh.duckdb", "--quiet")
    assert_one_line_error(result, "campaigns.xlsx", "xlsx")


def test_cli_undecodable_header_names_the_file(tmp_path: Path) -> None:
    exports = write_default_exports(tmp_path / "exports")
    (exports / "orders.csv").write_bytes("订单号,金额\n1,2\n".encode("gb18030"))
    result = run_crm("ingest", exports, "--db", tmp_path / "wh.duckdb", "--quiet")
    assert_one_line_error(result, "orders.csv", "utf-8")


def test_cli_unknown_encoding_in_mapping_names_the_mapping(tmp_path: Path) -> None:
    exports = write_default_exports(tmp_path / "exports")
    mapping = tmp_path / "mine.yml"
    mapping.write_text(
        "sources:\n  - {name: o, entity: orders, files: [orders.csv], format: csv, "
        "encoding: gb99999}\n"
    )
    result = run_crm("ingest", exports, "--db", tmp_path / "wh.duckdb", "--mapping", mapping)
    assert_one_line_error(result, "mine.yml", "unknown encoding 'gb99999'")


def test_cli_missing_mapping_file_is_one_line(tmp_path: Path) -> None:
    exports = write_default_exports(tmp_path / "exports")
    result = run_crm(
        "ingest", exports, "--db", tmp_path / "wh.duckdb", "--mapping", tmp_path / "no.yml"
    )
    assert_one_line_error(result, "no.yml", "not found")


def test_a_process_killed_mid_file_leaves_no_partial_batch_and_a_rerun_recovers(
    tmp_path: Path,
) -> None:
    exports = tmp_path / "exports"
    exports.mkdir()
    n = 1_500_000
    with duckdb.connect() as con:
        con.execute(
            f"COPY (SELECT 'C' || i AS source_contact_id, 'name ' || i AS full_name, "
            f"'c' || i || '@example.com' AS email, '2024-01-01T00:00:00Z' AS created_at, "
            f"'2024-01-01T00:00:00Z' AS updated_at FROM range(1, {n + 1}) t(i)) "
            f"TO '{exports / 'crm_contacts.csv'}' (HEADER)"
        )
    db = tmp_path / "wh.duckdb"
    script = (
        "import logging, sys; from pathlib import Path; from ingestion import ingest; "
        "logging.basicConfig(level=logging.INFO, stream=sys.stderr); "
        f"ingest(Path({str(exports)!r}), Path({str(db)!r}))"
    )
    proc = subprocess.Popen(
        [sys.executable, "-c", script], cwd=ROOT, stderr=subprocess.PIPE, text=True
    )
    # Logged once the file's transaction is open (the `running` ledger row is committed):
    # typing and checking 1.5 M records takes seconds, so the kill lands inside it.
    for line in proc.stderr:
        if "checking crm_contacts.csv" in line:
            break
    time.sleep(0.3)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(timeout=60)
    assert proc.returncode == -signal.SIGKILL  # it was still loading when killed

    with duckdb.connect(str(db), read_only=True) as con:
        assert con.execute("SELECT count(*) FROM raw.contacts").fetchone() == (0,)
        assert con.execute("SELECT status FROM raw._loads").fetchall() == [("running",)]

    report = ingest(exports, db)
    assert [(f.status, f.rows_loaded) for f in report.files] == [("loaded", n)]
    with duckdb.connect(str(db), read_only=True) as con:
        ledger = con.execute("SELECT status, error FROM raw._loads ORDER BY started_at").fetchall()
        assert ledger == [("failed", INTERRUPTED), ("loaded", None)]
        assert con.execute("SELECT count(*) FROM raw.contacts").fetchone() == (n,)

"""The incremental gate (quality/scope.py): per-row and key checks of the raw suites see only
the loads no passed run covered, table invariants keep holding over whole tables, a failed
load is checked again, and the verdicts equal a full run's on the same data."""

from __future__ import annotations

import shutil
from datetime import date, timedelta
from pathlib import Path

import duckdb
import pytest

from crm.cli import main as crm_main
from quality import run_quality
from quality.runner import QualityRun

SEED = 11
# In the past, so the increment's day is not in the future of the validation time.
AS_OF = date.today() - timedelta(days=3)
RAW = ("raw",)


@pytest.fixture(scope="module")
def _day(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A tiny warehouse whose base load passed a first (full) raw run, with one day's
    increment ingested after it and not yet validated."""
    from generator import generate, generate_increment
    from ingestion import ingest

    work = tmp_path_factory.mktemp("incremental")
    base, day = work / "base", work / "day"
    generate(base, scale="tiny", seed=SEED, as_of=AS_OF)
    generate_increment(day, scale="tiny", seed=SEED, day=1, as_of=AS_OF)
    db = work / "crm.duckdb"
    ingest(base, db)
    first = run_quality(db, reports_dir=work / "reports", layers=RAW)
    assert first.mode == "full" and first.passed, [o.check_id for o in first.critical_failures]
    ingest(day, db)
    return db


@pytest.fixture
def day_db(_day: Path, tmp_path: Path) -> Path:
    db = tmp_path / "crm.duckdb"
    shutil.copy(_day, db)
    return db


def _run(db: Path, full: bool = False) -> QualityRun:
    return run_quality(db, reports_dir=db.parent / "reports", layers=RAW, full=full)


def _new_loads(db: Path, entity: str) -> list[str]:
    """The entity's loads of the increment: every load after the first run."""
    with duckdb.connect(str(db), read_only=True) as con:
        rows = con.execute(
            "select _load_id from raw._loads where entity = ? and status = 'loaded' "
            "and started_at > (select min(started_at) from quality.runs) and rows_loaded > 0",
            [entity],
        ).fetchall()
    return [r[0] for r in rows]


def _execute(db: Path, sql: str, params: list | None = None) -> None:
    with duckdb.connect(str(db)) as con:
        con.execute(sql, params or [])


def _outcome(run: QualityRun, check_id: str):
    return next(o for o in run.outcomes if o.check_id == check_id)


def _failed(run: QualityRun) -> set[str]:
    return {o.check_id for o in run.critical_failures}


def test_incremental_run_checks_new_loads_and_equals_a_full_run(day_db: Path) -> None:
    copy = day_db.parent / "full" / "crm.duckdb"
    copy.parent.mkdir()
    shutil.copy(day_db, copy)
    incremental, full = _run(day_db), _run(copy, full=True)
    assert incremental.mode == "incremental" and full.mode == "full"
    assert {o.check_id: o.success for o in incremental.outcomes} == {
        o.check_id: o.success for o in full.outcomes
    }
    with duckdb.connect(str(day_db), read_only=True) as con:
        new_orders = con.execute(
            "select count(*) from raw.orders where _load_id in (select unnest(?))",
            [_new_loads(day_db, "orders")],
        ).fetchone()[0]
    assert new_orders > 0
    # The per-row checks saw the new rows only; thresholds and the ledger saw whole tables.
    not_null = _outcome(incremental, "raw_orders.order_id.not_null")
    assert not_null.element_count == new_orders
    assert not_null.coverage.endswith(f"new loads ({new_orders:,} rows)")
    assert _outcome(full, "raw_orders.order_id.not_null").element_count > 10 * new_orders
    assert _outcome(incremental, "raw_orders.sales_channel.completeness").coverage.startswith(
        "whole table"
    )
    assert _outcome(incremental, "raw_loads.ledger.loaded_rows_landed").coverage == "whole table"


def test_full_run_covers_whole_tables(day_db: Path) -> None:
    # Exit 1: this warehouse has no marts yet, so every marts check fails.
    assert crm_main(["quality", "--db", str(day_db), "--full"]) == 1
    with duckdb.connect(str(day_db), read_only=True) as con:
        failed_suites = con.execute(
            "select distinct suite from quality.results where not success "
            "and severity = 'critical' and run_id = (select max(run_id) from quality.runs)"
        ).fetchall()
        mode, run_id = con.execute(
            "select mode, run_id from quality.runs order by started_at desc limit 1"
        ).fetchone()
        coverage = con.execute(
            "select distinct coverage from quality.results where run_id = ?", [run_id]
        ).fetchall()
        ledger_rows = con.execute(
            "select sum(rows_loaded) from raw._loads where entity = 'orders' and status = 'loaded'"
        ).fetchone()[0]
    assert mode == "full"
    assert failed_suites and all(suite.startswith("marts_") for (suite,) in failed_suites)
    assert coverage and all(c.startswith("whole table") for (c,) in coverage)
    assert (f"whole table (2 loads, {ledger_rows:,} rows)",) in coverage


def test_bad_row_in_a_new_load_is_caught(day_db: Path) -> None:
    _execute(
        day_db,
        "update raw.orders set total_amount = -5 where order_id = (select min(order_id) "
        "from raw.orders where _load_id in (select unnest(?)))",
        [_new_loads(day_db, "orders")],
    )
    run = _run(day_db)
    assert _failed(run) == {"raw_orders.total_amount.bounds"}
    assert _outcome(run, "raw_orders.total_amount.bounds").unexpected_count == 1


def test_a_load_whose_run_failed_is_checked_again_until_a_run_passes(day_db: Path) -> None:
    new = _new_loads(day_db, "tickets")
    bad = (
        "update raw.tickets set csat_score = 9 where ticket_id = (select min(ticket_id) "
        "from raw.tickets where _load_id in (select unnest(?)))"
    )
    _execute(day_db, bad, [new])
    assert _failed(_run(day_db)) == {"raw_tickets.csat_score.bounds"}
    # Nothing new was loaded since: the failed load is still pending and still caught.
    again = _run(day_db)
    assert _failed(again) == {"raw_tickets.csat_score.bounds"}
    assert "new loads" in _outcome(again, "raw_tickets.csat_score.bounds").coverage
    _execute(day_db, "update raw.tickets set csat_score = 5 where csat_score = 9")
    assert _run(day_db).passed
    # Settled now: the next run has no ticket rows left to check.
    settled = _outcome(_run(day_db), "raw_tickets.csat_score.bounds")
    assert settled.element_count == 0 and settled.coverage == "0 new loads (0 rows)"


def test_duplicate_key_across_an_old_and_a_new_load_is_caught(day_db: Path) -> None:
    new = _new_loads(day_db, "order_lines")
    # A line of the new load takes the id of a line the base load brought (settled rows).
    _execute(
        day_db,
        "update raw.order_lines set order_line_id = (select min(order_line_id) "
        "from raw.order_lines where _load_id not in (select unnest($1))) "
        "where order_line_id = (select min(order_line_id) from raw.order_lines "
        "where _load_id in (select unnest($1)))",
        [new],
    )
    run = _run(day_db)
    assert _failed(run) == {"raw_order_lines.natural_key.unique"}
    duplicate = _outcome(run, "raw_order_lines.natural_key.unique")
    assert duplicate.unexpected_count == 1
    assert '"copies_in_other_rows": 1' in duplicate.unexpected_sample
    # The full run agrees.
    assert _failed(_run(day_db, full=True)) == {"raw_order_lines.natural_key.unique"}


def test_duplicate_key_within_the_new_loads_is_caught(day_db: Path) -> None:
    new = _new_loads(day_db, "orders")
    _execute(
        day_db,
        "insert into raw.orders select * from raw.orders where _load_id in (select unnest($1)) "
        "and order_id = (select min(order_id) from raw.orders "
        "where _load_id in (select unnest($1))) limit 1",
        [new],
    )
    run = _run(day_db)
    # The ledger check also sees one row more in raw than the load recorded.
    assert _failed(run) == {"raw_orders.natural_key.unique", "raw_loads.ledger.loaded_rows_landed"}
    sample = _outcome(run, "raw_orders.natural_key.unique").unexpected_sample
    assert '"copies_in_new_loads": 2' in sample

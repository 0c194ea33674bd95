"""The incremental gate over the marts facts (quality/scope.py): per-row and key checks of a
fact suite see only the rows dbt wrote after the newest write a passed run covered (new rows
and rewritten ones: a new version, a new customer key), reconciliations and the other marts
keep whole tables, a failed run's rows stay pending, and a bad row fails the gate as it
fails a full run."""

from __future__ import annotations

import shutil
from datetime import datetime, timedelta
from pathlib import Path

import duckdb
import pytest
from conftest import TINY_AS_OF, TINY_SEED

from quality import run_quality
from quality.runner import QualityRun

MARTS = ("marts",)
FACTS = ("fct_orders", "fct_tickets", "fct_campaign_events")


@pytest.fixture(scope="module")
def _day(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, datetime]:
    """A tiny warehouse after a passed (full) marts run, then one generated day ingested and
    built incrementally, not yet validated; and the newest fact write the first run covered."""
    from crm.build import build
    from generator import generate, generate_increment
    from ingestion import ingest

    work = tmp_path_factory.mktemp("incremental_marts")
    db = work / "crm.duckdb"
    generate(work / "base", scale="tiny", seed=TINY_SEED, as_of=TINY_AS_OF)
    ingest(work / "base", db)
    base = build(db, target_path=work / "target", unit_tests=False)
    assert base.success, base.summary
    first = run_quality(db, reports_dir=work / "reports", layers=MARTS)
    assert first.mode == "full" and first.passed, [o.check_id for o in first.critical_failures]
    covered = _one(db, "select max(_dbt_updated_at) from marts.fct_orders")
    generate_increment(work / "day", scale="tiny", seed=TINY_SEED, day=1, as_of=TINY_AS_OF)
    ingest(work / "day", db)
    day = build(db, target_path=work / "target", unit_tests=False)
    assert day.success, day.summary
    return db, covered


@pytest.fixture
def day_db(_day: tuple[Path, datetime], tmp_path: Path) -> Path:
    db = tmp_path / "crm.duckdb"
    shutil.copy(_day[0], db)
    return db


@pytest.fixture
def covered(_day: tuple[Path, datetime]) -> datetime:
    return _day[1]


def _run(db: Path, full: bool = False, suites_dir: Path | None = None) -> QualityRun:
    extra = {"suites_dir": suites_dir} if suites_dir else {}
    return run_quality(db, reports_dir=db.parent / "reports", layers=MARTS, full=full, **extra)


def _full_copy(db: Path) -> QualityRun:
    """A full run over a copy of `db` as it is now."""
    copy = db.parent / "full" / db.name
    copy.parent.mkdir(exist_ok=True)
    shutil.copy(db, copy)
    return _run(copy, full=True)


def _row(db: Path, sql: str, params: list | None = None) -> tuple:
    with duckdb.connect(str(db), read_only=True) as con:
        return con.execute(sql, params or []).fetchone()


def _one(db: Path, sql: str, params: list | None = None):
    return _row(db, sql, params)[0]


def _execute(db: Path, sql: str, params: list | None = None) -> None:
    with duckdb.connect(str(db)) as con:
        con.execute(sql, params or [])


def _outcome(run: QualityRun, check_id: str):
    return next(o for o in run.outcomes if o.check_id == check_id)


def _failed(run: QualityRun) -> set[str]:
    return {o.check_id for o in run.critical_failures}


def _since(moment: datetime) -> str:
    return f"rows written since {moment:%Y-%m-%d %H:%M:%S} UTC"


def test_fact_checks_see_the_rows_written_since_the_passed_run(
    day_db: Path, covered: datetime
) -> None:
    incremental = _run(day_db)
    full = _full_copy(day_db)
    assert incremental.mode == "incremental" and full.mode == "full"
    assert {o.check_id: o.success for o in incremental.outcomes} == {
        o.check_id: o.success for o in full.outcomes
    }
    for fact in FACTS:
        written = _one(
            day_db, f"select count(*) from marts.{fact} where _dbt_updated_at > ?", [covered]
        )
        rows = _one(day_db, f"select count(*) from marts.{fact}")
        # A tiny day brings orders and tickets, not always campaign events.
        assert written < rows and (written > 0 or fact == "fct_campaign_events"), fact
        not_null = _outcome(incremental, f"marts_{fact}.customer_key.not_null")
        assert not_null.element_count == written
        assert not_null.coverage == f"{_since(covered)}: {written:,} rows"
        assert _outcome(full, f"marts_{fact}.customer_key.not_null").element_count == rows
    # Reconciliations, references to a rebuilt dimension and the other marts: whole tables.
    for check_id in (
        "marts_fct_orders.revenue.reconciles_with_raw",
        "marts_fct_campaign_events.references.dim_campaigns",
    ):
        assert _outcome(incremental, check_id).coverage.startswith("whole table (")
    assert _outcome(incremental, "marts_customer_360.customer_key.unique").coverage == (
        "whole table"
    )
    key = _outcome(incremental, "marts_fct_orders.order_id.unique")
    assert key.expectation_type == "unexpected_rows_expectation" and key.unexpected_count == 0


def test_a_fact_row_rewritten_after_a_passed_run_is_checked_again(
    day_db: Path, covered: datetime
) -> None:
    # A ticket the first run passed, rewritten by the day's build (a new version): its new
    # write is checked like a new ticket, and the full run agrees.
    rewritten = _one(
        day_db,
        "select min(ticket_id) from marts.fct_tickets where _dbt_updated_at > ? "
        "and _previous_customer_key is not null",
        [covered],
    )
    assert rewritten is not None
    _execute(
        day_db,
        "update marts.fct_tickets set first_response_minutes = -1 where ticket_id = ?",
        [rewritten],
    )
    incremental, full = _run(day_db), _full_copy(day_db)
    check = "marts_fct_tickets.first_response_minutes.non_negative"
    assert _failed(incremental) == _failed(full) == {check}
    assert _outcome(incremental, check).unexpected_count == 1
    assert _outcome(incremental, check).coverage.startswith(_since(covered))


def test_a_bad_row_of_the_day_fails_as_in_a_full_run(day_db: Path, covered: datetime) -> None:
    new_ticket = _one(
        day_db,
        "select min(ticket_id) from marts.fct_tickets where _dbt_updated_at > ? "
        "and _previous_customer_key is null",
        [covered],
    )
    assert new_ticket is not None
    bad = "update marts.fct_tickets set csat_score = 9 where ticket_id = ?"
    _execute(day_db, bad, [new_ticket])
    incremental, full = _run(day_db), _full_copy(day_db)
    assert incremental.mode == "incremental"
    assert _failed(incremental) == _failed(full) == {"marts_fct_tickets.csat_score.range"}
    check = "marts_fct_tickets.csat_score.range"
    assert _outcome(incremental, check).unexpected_count == 1
    assert _outcome(full, check).unexpected_count == 1
    assert _outcome(incremental, check).unexpected_sample == _outcome(full, check).unexpected_sample


def test_a_day_row_repeating_a_settled_key_fails_as_in_a_full_run(
    day_db: Path, covered: datetime
) -> None:
    # As if the day's build had written a second row for an order the first run passed.
    _execute(
        day_db,
        "insert into marts.fct_orders select * replace (? as _dbt_updated_at) "
        "from marts.fct_orders where order_id = (select min(order_id) from marts.fct_orders "
        "where _dbt_updated_at <= ?)",
        [_one(day_db, "select max(_dbt_updated_at) from marts.fct_orders"), covered],
    )
    incremental, full = _run(day_db), _full_copy(day_db)
    assert "marts_fct_orders.order_id.unique" in _failed(incremental)
    assert _failed(incremental) == _failed(full)
    sample = _outcome(incremental, "marts_fct_orders.order_id.unique").unexpected_sample
    assert '"copies_in_other_rows": 1' in sample


def test_the_rows_of_a_failed_run_stay_pending_until_a_run_passes(
    day_db: Path, covered: datetime
) -> None:
    check = "marts_fct_tickets.customer_key.not_null"
    written = _one(
        day_db, "select count(*) from marts.fct_tickets where _dbt_updated_at > ?", [covered]
    )
    ticket_id, customer_key = _row(
        day_db,
        "select ticket_id, customer_key from marts.fct_tickets "
        "where _dbt_updated_at > ? order by ticket_id limit 1",
        [covered],
    )
    bad = "update marts.fct_tickets set customer_key = ? where ticket_id = ?"
    _execute(day_db, bad, [None, ticket_id])
    assert _failed(_run(day_db)) == {check}
    # No build since: the same rows are still pending, and still caught.
    again = _outcome(_run(day_db), check)
    assert not again.success and again.coverage == f"{_since(covered)}: {written:,} rows"
    _execute(day_db, bad, [customer_key, ticket_id])
    assert _run(day_db).passed
    # Settled now: nothing written since the newest write the passed run covered.
    newest = _one(day_db, "select max(_dbt_updated_at) from marts.fct_tickets")
    settled = _outcome(_run(day_db), check)
    assert settled.element_count == 0
    assert settled.coverage == f"{_since(newest)}: 0 rows"
    with duckdb.connect(str(day_db), read_only=True) as con:
        recorded = con.execute(
            "select max(_load_id) from quality.load_coverage where suite = ? and passed",
            ["marts_fct_tickets"],
        ).fetchone()[0]
    assert recorded == newest.isoformat(sep=" ", timespec="microseconds")


def test_a_changed_fact_check_checks_the_whole_table_again(
    day_db: Path, covered: datetime, tmp_path: Path
) -> None:
    from quality.suites import SUITES_DIR

    suites = tmp_path / "suites"
    shutil.copytree(SUITES_DIR, suites)
    path = suites / "marts_fct_tickets.yml"
    path.write_text(
        path.read_text(encoding="utf-8")
        + """  - check: ticket_id.not_null
    type: expect_column_values_to_not_be_null
    kwargs: {column: ticket_id}
    severity: critical
    description: Every ticket row has its ticket id.
""",
        encoding="utf-8",
    )
    run = _run(day_db, suites_dir=suites)
    tickets = _one(day_db, "select count(*) from marts.fct_tickets")
    assert _outcome(run, "marts_fct_tickets.ticket_id.not_null").element_count == tickets
    assert _outcome(run, "marts_fct_tickets.csat_score.range").coverage.startswith("whole table")
    assert _outcome(run, "marts_fct_orders.customer_key.not_null").coverage.startswith(
        _since(covered)
    )


def test_a_fact_older_than_its_settled_stamp_is_checked_whole(
    day_db: Path, covered: datetime
) -> None:
    # As if fct_tickets had been restored from a copy older than the run that passed it.
    _execute(
        day_db,
        "update marts.fct_tickets set _dbt_updated_at = ?",
        [covered - timedelta(days=1)],
    )
    run = _run(day_db)
    check = _outcome(run, "marts_fct_tickets.customer_key.not_null")
    assert check.element_count == _one(day_db, "select count(*) from marts.fct_tickets")
    assert check.coverage.startswith("whole table (")

"""`crm.publish.publish` on its own: what the published file holds after each gate outcome, and
that the swap never disturbs a reader of the old file."""

from __future__ import annotations

import shutil
from pathlib import Path

import duckdb
import pytest

from crm.errors import UserError
from crm.pipeline import gate_and_publish
from crm.publish import publish, start_snapshot
from crm.settings import published_db
from crm.snapshot import Snapshot
from quality import run_quality

# What dashboards may see, relation by relation: every mart plus these.
HISTORY = {
    ("quality", "runs"),
    ("quality", "results"),
    ("quality", "publications"),
    ("ops", "loads"),
    ("ops", "rejects"),
}


@pytest.fixture
def working(published_tiny: Path, tmp_path: Path) -> Path:
    """A private copy of a working warehouse after a whole pipeline run (raw, staging,
    intermediate, seeds, marts, quality history), with nothing published beside it yet."""
    db = tmp_path / "crm.duckdb"
    shutil.copy(published_tiny, db)
    return db


def _execute(db: Path, *statements: str) -> None:
    con = duckdb.connect(str(db))
    try:
        for sql in statements:
            con.execute(sql)
    finally:
        con.close()


def _rows(db: Path, sql: str) -> list[tuple]:
    con = duckdb.connect()  # attached, not opened: no cached instance survives the test
    try:
        con.execute(f"attach '{db}' as f (read_only)")
        con.execute("use f")
        return con.execute(sql).fetchall()
    finally:
        con.close()


def _relations(db: Path) -> set[tuple[str, str]]:
    return set(
        _rows(
            db,
            "select schema_name, table_name from duckdb_tables() where database_name = 'f' "
            "union all select schema_name, view_name from duckdb_views() "
            "where database_name = 'f' and not internal",
        )
    )


def _marts(db: Path) -> set[str]:
    return {name for schema, name in _relations(db) if schema == "marts"}


def _scan(db: Path, relation: str) -> list[tuple]:
    """Every row in storage order (no `order by`: insertion order is what a scan returns)."""
    return _rows(db, f"select * from {relation}")


def test_published_file_holds_exactly_the_working_marts_in_storage_order(working: Path) -> None:
    # A view among the marts reads staging, which the published file does not have.
    _execute(
        working,
        "create view marts.v_contacts as select contact_key from staging.stg_raw__contacts",
    )
    expected = {name: _scan(working, f'marts."{name}"') for name in _marts(working)}
    assert "mart_customer_timeline" in expected and expected["v_contacts"]

    publication = publish(working, "run-1", gate_passed=True)

    served = published_db(working)
    assert publication.path == served and sorted(publication.marts_tables) == sorted(expected)
    assert ("marts", "v_contacts") in {
        (s, n) for s, n in _rows(served, "select schema_name, table_name from duckdb_tables()")
    }
    for name, rows in expected.items():
        assert _scan(served, f'marts."{name}"') == rows, name


def test_published_file_holds_only_marts_and_history(working: Path) -> None:
    _execute(working, "create table main.scratch as select 1 as x")  # e.g. a dbt leftover
    schemas = {schema for schema, _ in _relations(working)}
    assert {"raw", "staging", "intermediate", "seeds", "main"} <= schemas

    publish(working, "run-1", gate_passed=True)

    served = published_db(working)
    assert _relations(served) == {("marts", m) for m in _marts(working)} | HISTORY
    for served_table, source in [
        ("ops.rejects", "raw._rejects"),
        ("ops.loads", "raw._loads"),
        ("quality.runs", "quality.runs"),
        ("quality.results", "quality.results"),
    ]:
        assert sorted(_scan(served, served_table)) == sorted(_scan(working, source))
    assert _rows(served, "select count(*) from ops.rejects")[0][0] > 0


def test_rows_committed_only_to_the_wal_are_published(working: Path) -> None:
    before = _rows(working, "select count(*) from marts.customer_360")[0][0]
    _execute(
        working,
        "pragma disable_checkpoint_on_shutdown",
        "set wal_autocheckpoint = '1TB'",
        "delete from marts.customer_360 where hash(customer_key) % 2 = 0",
    )
    assert working.with_name(working.name + ".wal").exists()
    after = _rows(working, "select count(*) from marts.customer_360")[0][0]
    assert 0 < after < before

    publish(working, "run-1", gate_passed=True)

    assert _rows(published_db(working), "select count(*) from marts.customer_360")[0][0] == after


def test_failed_gate_keeps_the_previous_marts_and_updates_the_history(
    working: Path, tmp_path: Path
) -> None:
    publish(working, "run-good", gate_passed=True)
    served = published_db(working)
    good = tmp_path / "good.duckdb"
    shutil.copy(served, good)
    # The next build breaks a mart, adds one and its quality run is recorded.
    _execute(
        working,
        "delete from marts.customer_360 where hash(customer_key) % 2 = 0",
        "create table marts.mart_new as select 1 as x",
        "insert into quality.runs select * replace ('run-bad' as run_id, 'failed' as status) "
        "from quality.runs limit 1",
    )

    publication = publish(working, "run-bad", gate_passed=False)

    assert not publication.marts_updated and publication.marts_run_id == "run-good"
    assert _marts(served) == _marts(good) and "mart_new" not in _marts(served)
    for name in _marts(good):
        assert _scan(served, f'marts."{name}"') == _scan(good, f'marts."{name}"'), name
    assert ("run-bad", "failed") in _rows(served, "select run_id, status from quality.runs")
    assert _rows(
        served,
        "select run_id, gate_passed, marts_updated, marts_run_id from quality.publications "
        "order by published_at",
    ) == [("run-good", True, True, "run-good"), ("run-bad", False, False, "run-good")]


def test_reader_of_the_old_file_keeps_working_across_the_swap(working: Path) -> None:
    publish(working, "run-1", gate_passed=True)
    served = published_db(working)
    old_inode = served.stat().st_ino
    old_counts = _rows(
        served,
        "select (select count(*) from marts.customer_360), (select count(*) from marts.fct_orders)",
    )[0]
    reader = duckdb.connect()  # the way dashboards hold the file (dashboards/queries.py)
    try:
        reader.execute(f"attach '{served}' as wh (read_only)")
        assert (
            reader.execute("select count(*) from wh.marts.customer_360").fetchone()[0]
            == (old_counts[0])
        )
        _execute(
            working,
            "delete from marts.customer_360 where hash(customer_key) % 2 = 0",
            "delete from marts.fct_orders where hash(order_id) % 2 = 0",
        )

        publish(working, "run-2", gate_passed=True)

        assert served.stat().st_ino != old_inode
        # The held file still answers, with its own rows, for a table it had not read yet too.
        assert (
            reader.execute(
                "select (select count(*) from wh.marts.customer_360), "
                "(select count(*) from wh.marts.fct_orders)"
            ).fetchone()
            == old_counts
        )
    finally:
        reader.close()
    new_counts = _rows(
        served,
        "select (select count(*) from marts.customer_360), (select count(*) from marts.fct_orders)",
    )[0]
    assert new_counts[0] < old_counts[0] and new_counts[1] < old_counts[1]


def _leftovers(db: Path) -> list[str]:
    return sorted(p.name for p in db.parent.iterdir() if p.name.endswith((".tmp", ".tmp.wal")))


def test_the_gate_s_checks_read_the_file_while_it_is_copied(working: Path, tmp_path: Path) -> None:
    runs_before = _rows(working, "select count(*) from quality.runs")[0][0]
    seen: list[int] = []
    snapshot = start_snapshot(working)

    def before_record() -> None:
        # The pipeline's hook: the copy must be complete before the history is written.
        snapshot.wait()
        seen.append(_rows(snapshot.dest, "select count(*) from quality.runs")[0][0])

    run = run_quality(working, reports_dir=tmp_path / "reports", before_record=before_record)

    assert seen == [runs_before]  # the copy was made before this run was recorded
    publication = publish(working, run.run_id, run.passed, snapshot)

    served = published_db(working)
    assert publication.marts_updated and _leftovers(working) == []
    # The copy predates the run; the published history still has it, from the working file.
    assert (run.run_id,) in _rows(served, "select run_id from quality.runs")
    assert sorted(_scan(served, "quality.results")) == sorted(_scan(working, "quality.results"))
    for name in _marts(working):
        assert _scan(served, f'marts."{name}"') == _scan(working, f'marts."{name}"'), name


def test_the_pipeline_gate_publishes_its_own_run(working: Path, tmp_path: Path) -> None:
    gate = gate_and_publish(working, build_ok=True, reports_dir=tmp_path / "reports")

    assert gate.passed and gate.publication.marts_run_id == gate.quality_run.run_id
    assert gate.quality_seconds > 0 and gate.publish_seconds > 0
    served = published_db(working)
    assert (gate.quality_run.run_id,) in _rows(served, "select run_id from quality.runs")
    assert _relations(served) == {("marts", m) for m in _marts(working)} | HISTORY
    assert _leftovers(working) == []


def test_a_failed_gate_throws_the_copy_away(working: Path) -> None:
    publish(working, "run-good", gate_passed=True)
    served = published_db(working)
    good_counts = _rows(served, "select count(*) from marts.customer_360")
    _execute(working, "delete from marts.customer_360 where hash(customer_key) % 2 = 0")
    snapshot = start_snapshot(working)

    publication = publish(working, "run-bad", gate_passed=False, snapshot=snapshot)

    assert not publication.marts_updated and publication.marts_run_id == "run-good"
    assert _rows(served, "select count(*) from marts.customer_360") == good_counts
    assert not snapshot.dest.exists() and _leftovers(working) == []


def test_a_copy_that_fails_is_one_line_naming_the_files(working: Path, tmp_path: Path) -> None:
    snapshot = Snapshot.start(working, tmp_path / "no-such-dir" / "copy.tmp")

    with pytest.raises(UserError) as raised:
        publish(working, "run-1", gate_passed=True, snapshot=snapshot)

    message = str(raised.value)
    assert "\n" not in message and str(working) in message and "no-such-dir" in message
    assert not published_db(working).exists()

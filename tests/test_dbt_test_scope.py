"""Data tests with `where: __latest_write__` (macro get_where_subquery) check the rows their
incremental model wrote last, and only those: a bad row in the latest write fails them, a bad
row written by an earlier build does not, while the same tests over whole tables
(`data_tests_whole_tables`) still see it."""

from __future__ import annotations

import shutil
from pathlib import Path

import duckdb
import pytest

from crm.build import BuildResult, build

# One scoped test of each kind: a key (delete+insert on that key), per-row checks (set, null,
# an expression combined with another `where`) and the child side of a relationship whose
# parent never loses a key; in the facts and in staging.
SCOPED_TESTS = {
    "unique_stg_raw__campaign_events_event_id": (
        "insert into staging.stg_raw__campaign_events "
        "select * from staging.stg_raw__campaign_events where {rows} limit 1"
    ),
    "relationships_stg_raw__orders_contact_key__contact_key__ref_stg_raw__contacts_": (
        "update staging.stg_raw__orders set contact_key = 'crm:GONE' "
        "where order_id = (select min(order_id) from staging.stg_raw__orders where {rows})"
    ),
    "unique_fct_campaign_events_event_id": (
        "insert into marts.fct_campaign_events "
        "select * from marts.fct_campaign_events where {rows} limit 1"
    ),
    "accepted_values_fct_orders_order_status__completed__pending__cancelled__refunded": (
        "update marts.fct_orders set order_status = 'shipped' "
        "where order_id = (select min(order_id) from marts.fct_orders where {rows})"
    ),
    "not_null_fct_order_lines_product_id": (
        "update marts.fct_order_lines set product_id = null "
        "where order_line_id = (select min(order_line_id) from marts.fct_order_lines where {rows})"
    ),
    "relationships_fct_order_lines_order_id__order_id__ref_fct_orders_": (
        "update marts.fct_order_lines set order_id = 'ORDER-GONE' "
        "where order_line_id = (select max(order_line_id) from marts.fct_order_lines where {rows})"
    ),
    "expression_is_true_fct_tickets_first_response_business_minutes_first_response_minutes": (
        "update marts.fct_tickets set first_response_business_minutes = first_response_minutes + 1 "
        "where ticket_id = (select min(ticket_id) from marts.fct_tickets "
        "where {rows} and first_response_minutes is not null)"
    ),
}
WRITTEN = [
    "marts.fct_orders",
    "marts.fct_order_lines",
    "marts.fct_tickets",
    "marts.fct_campaign_events",
    "staging.stg_raw__orders",
    "staging.stg_raw__campaign_events",
]


def _execute(db: Path, sql: str) -> list[tuple]:
    con = duckdb.connect(str(db))
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


@pytest.fixture(scope="module")
def _day_built(_built_tiny: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """The tiny warehouse after a small day built incrementally: one new order with its lines,
    one new answered ticket and one new campaign event, loaded a day after everything else.
    Returns the warehouse and the day build's `_dbt_updated_at` stamp (its start)."""
    db = tmp_path_factory.mktemp("scoped_day") / "crm.duckdb"
    shutil.copy(_built_tiny, db)
    new_load = "'inc-1' as _load_id, _loaded_at + interval 1 day as _loaded_at"
    _execute(
        db,
        f"""
        create temp table picked as
        select order_id from raw.orders where status = 'completed'
            and order_id in (select order_id from raw.order_lines)
        order by order_id limit 1;
        insert into raw.orders
        select * replace ('INC-O1' as order_id, {new_load})
        from raw.orders where order_id = (select order_id from picked)
        order by updated_at desc limit 1;
        insert into raw.order_lines
        select * replace ('INC-L' || line_number as order_line_id, 'INC-O1' as order_id, {new_load})
        from raw.order_lines where order_id = (select order_id from picked);
        insert into raw.tickets
        select * replace ('INC-T1' as ticket_id, {new_load})
        from raw.tickets
        where first_response_at > created_at and ticket_id in (
            select ticket_id from marts.fct_tickets where first_response_minutes is not null
        )
        order by ticket_id, updated_at desc limit 1;
        insert into raw.campaign_events
        select * replace ('INC-E1' as event_id, {new_load})
        from raw.campaign_events
        where event_id in (select event_id from marts.fct_campaign_events)
        order by event_id limit 1;
        """,
    )
    day = build(db, target_path=db.parent / "target", unit_tests=False)
    assert day.success, day.summary
    stamp = str(_execute(db, "select max(_dbt_updated_at) from marts.fct_orders")[0][0])
    for table in WRITTEN:
        # The day wrote some rows of every table and left others from the first build.
        written, older = _execute(
            db,
            f"select count(*) filter (_dbt_updated_at = '{stamp}'), "
            f"count(*) filter (_dbt_updated_at <> '{stamp}') from {table}",
        )[0]
        assert written > 0 and older > 0, table
    return db, stamp


def _planted(day_built: tuple[Path, str], tmp_path: Path, in_latest_write: bool) -> Path:
    """A copy of the built day with every SCOPED_TESTS bad row planted in, or outside, the
    latest write."""
    db = tmp_path / "crm.duckdb"
    shutil.copy(day_built[0], db)
    operator = "=" if in_latest_write else "<>"
    rows = f"_dbt_updated_at {operator} '{day_built[1]}'"
    for sql in SCOPED_TESTS.values():
        _execute(db, sql.format(rows=rows))
    return db


def _run_tests(db: Path, tmp_path: Path, dbt_vars: dict | None = None) -> dict[str, str]:
    """Status of each test of SCOPED_TESTS, staging's and the facts' in two `dbt build`s
    selecting only them: in one, a failing staging test would skip the facts' tests."""
    statuses: dict[str, str] = {}
    for layer in ("stg_", "fct_"):
        result: BuildResult = build(
            db,
            select=sorted(t for t in SCOPED_TESTS if f"_{layer}" in t),
            target_path=tmp_path / "target",
            unit_tests=False,
            dbt_vars=dbt_vars,
        )
        statuses |= {r.name: r.status for r in result.results}
    assert set(statuses) == set(SCOPED_TESTS)
    return statuses


def test_scoped_tests_fail_on_a_bad_row_of_the_latest_write(
    _day_built: tuple[Path, str], tmp_path: Path
):
    db = _planted(_day_built, tmp_path, in_latest_write=True)
    assert _run_tests(db, tmp_path) == dict.fromkeys(SCOPED_TESTS, "fail")


def test_scoped_tests_leave_rows_of_earlier_writes_to_the_whole_table_run(
    _day_built: tuple[Path, str], tmp_path: Path
):
    db = _planted(_day_built, tmp_path, in_latest_write=False)
    assert _run_tests(db, tmp_path) == dict.fromkeys(SCOPED_TESTS, "pass")
    whole = _run_tests(db, tmp_path, dbt_vars={"data_tests_whole_tables": True})
    assert whole == dict.fromkeys(SCOPED_TESTS, "fail")

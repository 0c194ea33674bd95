"""The dbt warehouse core: sources in sync with the contracts, `crm build` and its failure
summary, facts reconciled with an independent pandas computation over the raw layer, and
incremental runs that rewrite only new or changed rows yet equal a full rebuild."""

from __future__ import annotations

import hashlib
import re
import shutil
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

import duckdb
import pandas as pd
import pytest
import yaml
from conftest import TINY_AS_OF, TINY_SEED
from fixtures.identity_edits import link, linker_key, two_persons

from crm.build import build, default_target_path
from crm.cli import main
from crm.dbt_sources import SOURCES_PATH, render_sources
from crm.errors import UserError
from crm.settings import DBT_PROJECT_DIR
from generator import generate_increment
from ingestion import ingest
from ingestion.settings import MEMORY_LIMIT_ENV, SETTINGS_PATH, load_settings

SEEDS = DBT_PROJECT_DIR / "seeds"
FACTS = {
    "fct_orders": "order_id",
    "fct_order_lines": "order_line_id",
    "fct_tickets": "ticket_id",
    "fct_campaign_events": "event_id",
}


def _query(db: Path, sql: str) -> pd.DataFrame:
    con = duckdb.connect(str(db), read_only=True)
    try:
        return con.execute(sql).df()
    finally:
        con.close()


def _execute(db: Path, sql: str) -> None:
    con = duckdb.connect(str(db))
    try:
        con.execute(sql)
    finally:
        con.close()


def _table(db: Path, name: str, key: str) -> pd.DataFrame:
    frame = _query(
        db,
        "select * exclude (_load_id, _loaded_at, _previous_customer_key, _dbt_invocation_id, "
        f"_dbt_updated_at) from marts.{name}",
    )
    return frame.sort_values(key).reset_index(drop=True)


# The rows staged, without the stamp of the build that wrote them (a full refresh restamps).
STAGED_ORDERS = "select * exclude (_dbt_updated_at) from staging.stg_raw__orders order by order_id"


def _rows_written(db: Path, result, model: str) -> int:
    """Rows of `model` that the build `result` wrote (facts stamp _dbt_invocation_id)."""
    assert result.invocation_id, result.summary
    return int(
        _query(
            db,
            f"select count(*) as n from marts.{model} "
            f"where _dbt_invocation_id = '{result.invocation_id}'",
        )["n"].iloc[0]
    )


# -- sources ------------------------------------------------------------------------------


def test_sources_file_is_in_sync_with_contracts():
    committed = SOURCES_PATH.read_text(encoding="utf-8")
    assert committed == render_sources(), (
        "dbt_project/models/staging/_raw__sources.yml is stale: run `python -m crm.dbt_sources`"
    )


def test_sources_tag_every_pii_column():
    from ingestion.contracts import load_contracts

    text = render_sources()
    for entity in load_contracts().ordered():
        for column in entity.columns:
            block = text.split(f"- name: {column.name}\n", 1)[1].split("- name:", 1)[0]
            assert ("pii: true" in block) == column.pii, f"{entity.name}.{column.name}"


# -- build API and CLI ----------------------------------------------------------------------


def test_build_refuses_a_warehouse_without_raw_layer(tmp_path: Path):
    db = tmp_path / "empty.duckdb"
    duckdb.connect(str(db)).close()
    with pytest.raises(UserError, match="no raw layer"):
        build(db)


def test_cli_build_reports_a_missing_warehouse_in_one_line(tmp_path: Path, capsys):
    code = main(["build", "--db", str(tmp_path / "missing.duckdb")])
    err = capsys.readouterr().err.strip()
    assert code == 2
    assert len(err.splitlines()) == 1
    assert "missing.duckdb" in err and "crm ingest" in err


def test_built_warehouse_publishes_the_interface_tables(built_db: Path):
    expected = {
        "marts.customer_identities": [
            "customer_key",
            "source_system",
            "source_contact_id",
            "match_rule",
        ],
        "marts.fct_orders": ["order_id", "customer_key", "net_revenue", "is_revenue", "order_date"],
        "marts.fct_tickets": ["first_response_business_minutes", "is_sla_breached", "is_one_touch"],
        "intermediate.int_contacts_unified": [
            "customer_key",
            "source_priority",
            "email_normalized",
            "phone_normalized",
        ],
    }
    for table, columns in expected.items():
        frame = _query(built_db, f"select * from {table}")
        assert len(frame) > 0, table
        assert set(columns) <= set(frame.columns), table


def test_build_summary_names_the_failing_test(built_db: Path, tmp_path: Path):
    _execute(
        built_db,
        """
        insert into raw.orders
        select * replace (
            'ORDER-BAD' as order_id, 'shipped' as status, _loaded_at + interval 1 day as _loaded_at
        )
        from raw.orders limit 1
        """,
    )
    result = build(
        built_db, select=["stg_raw__orders", "fct_orders"], target_path=tmp_path / "target"
    )
    assert not result.success
    assert "accepted_values_fct_orders_order_status" in result.summary
    assert "fail" in result.summary
    assert result.failures and all(f.failed for f in result.failures)


# -- facts against an independent computation -------------------------------------------------


def _fx_rates() -> pd.DataFrame:
    fx = pd.read_csv(SEEDS / "fx_rates.csv", dtype={"cny_per_unit": str})
    fx["cny_per_unit"] = fx["cny_per_unit"].map(Decimal)
    fx["month"] = fx["rate_month"].str[:7]
    return fx.set_index(["currency", "month"])["cny_per_unit"]


def test_order_revenue_equals_pandas_over_raw_orders(built_db: Path):
    raw = _query(built_db, "select * from raw.orders")
    latest = (
        raw.sort_values(["updated_at", "_loaded_at", "_source_row"])
        .groupby("order_id", as_index=False)
        .last()
    )
    # Reporting month in Asia/Shanghai: UTC + 8 hours, no daylight saving.
    month = (latest["ordered_at"] + pd.Timedelta(hours=8)).dt.strftime("%Y-%m")
    rates = _fx_rates()
    rate = [rates[(c.strip().upper(), m)] for c, m in zip(latest["currency"], month, strict=True)]
    cents = Decimal("0.01")
    gross = [
        (Decimal(str(a)) * r).quantize(cents, rounding=ROUND_HALF_UP)
        for a, r in zip(latest["total_amount"], rate, strict=True)
    ]
    expected = pd.DataFrame(
        {
            "order_id": latest["order_id"].str.strip(),
            "gross": gross,
            "completed": latest["status"].str.strip().str.lower() == "completed",
        }
    )
    actual = _query(built_db, "select order_id, gross_revenue, net_revenue from marts.fct_orders")
    merged = expected.merge(actual, on="order_id", how="outer", indicator=True)
    assert (merged["_merge"] == "both").all(), "orders lost or invented"
    as_cents = merged["gross_revenue"].map(lambda v: Decimal(str(v)).quantize(cents))
    assert (merged["gross"] == as_cents).all()
    net_expected = sum(g for g, c in zip(merged["gross"], merged["completed"], strict=True) if c)
    assert Decimal(str(merged["net_revenue"].sum())).quantize(cents) == net_expected


def _business_minutes(start: datetime, end: datetime, holidays: dict) -> int:
    """Working seconds between two UTC instants (09:00-18:00 Shanghai on working days)."""
    local_start, local_end = start + pd.Timedelta(hours=8), end + pd.Timedelta(hours=8)
    seconds = 0.0
    day = local_start.normalize()
    while day <= local_end:
        working = holidays.get(day.date(), day.weekday() < 5)
        if working:
            window_start = max(local_start, day + pd.Timedelta(hours=9))
            window_end = min(local_end, day + pd.Timedelta(hours=18))
            seconds += max(0.0, (window_end - window_start).total_seconds())
        day += pd.Timedelta(days=1)
    return int(seconds // 60)


def test_ticket_business_minutes_equal_a_python_calendar(built_db: Path):
    holidays_csv = pd.read_csv(SEEDS / "cn_holidays.csv", parse_dates=["holiday_date"])
    holidays = dict(
        zip(holidays_csv["holiday_date"].dt.date, holidays_csv["is_working_day"], strict=True)
    )
    tickets = _query(
        built_db,
        """
        select ticket_id, created_at, first_response_at, resolved_at,
               first_response_minutes, first_response_business_minutes,
               resolution_business_minutes
        from marts.fct_tickets
        """,
    )
    responded = tickets[tickets["first_response_at"].notna()]
    assert len(responded) > 20
    for row in responded.itertuples():
        assert row.first_response_business_minutes == _business_minutes(
            row.created_at, row.first_response_at, holidays
        ), row.ticket_id
        calendar = int((row.first_response_at - row.created_at).total_seconds() // 60)
        assert row.first_response_minutes == calendar, row.ticket_id
    resolved = tickets[tickets["resolved_at"].notna()]
    for row in resolved.head(200).itertuples():
        assert row.resolution_business_minutes == _business_minutes(
            row.created_at, row.resolved_at, holidays
        ), row.ticket_id


# -- incremental ---------------------------------------------------------------------------


def test_incremental_run_rewrites_only_changed_rows_and_equals_full_refresh(
    built_db: Path, tmp_path: Path
):
    before = _table(built_db, "fct_orders", "order_id")
    staged_before = _query(built_db, STAGED_ORDERS)
    pending, stale = _query(
        built_db,
        "select order_id from marts.fct_orders where order_status <> 'completed' "
        "order by order_id limit 2",
    )["order_id"].tolist()
    # A day of new data: a status change (new version) of one order, one new order, and a
    # late copy of an *older* version of another order, which must not replace its newer one.
    _execute(
        built_db,
        f"""
        insert into raw.orders
        select * replace (
            'completed' as status,
            updated_at + interval 1 day as updated_at,
            'inc-1' as _load_id,
            _loaded_at + interval 1 day as _loaded_at)
        from raw.orders where order_id = '{pending}'
        order by updated_at desc limit 1;
        insert into raw.orders
        select * replace (
            'INC-NEW-1' as order_id,
            'inc-1' as _load_id,
            _loaded_at + interval 1 day as _loaded_at)
        from raw.orders where status = 'completed' limit 1;
        insert into raw.orders
        select * replace (
            'completed' as status,
            updated_at - interval 1 day as updated_at,
            'inc-1' as _load_id,
            _loaded_at + interval 1 day as _loaded_at)
        from raw.orders where order_id = '{stale}'
        order by updated_at desc limit 1;
        """,
    )
    target = tmp_path / "target"
    incremental = build(built_db, select=["stg_raw__orders", "fct_orders"], target_path=target)
    assert incremental.success, incremental.summary
    # Staging took the incremental path: only keys with a row loaded since its last build.
    model = Path("crm_analytics", "models", "staging", "stg_raw__orders.sql")
    executed_sql = (target / "run" / model).read_text(encoding="utf-8").lower()
    compiled_sql = (target / "compiled" / model).read_text(encoding="utf-8").lower()
    assert "delete from" in executed_sql and "new_versions._loaded_at >" in compiled_sql
    staged_after = _query(built_db, STAGED_ORDERS)
    assert len(staged_after) == len(staged_before) + 1
    kept = staged_after.set_index("order_id").loc[stale]
    assert kept["order_status"] == staged_before.set_index("order_id").loc[stale, "order_status"]
    assert _rows_written(built_db, incremental, "fct_orders") == 2

    after = _table(built_db, "fct_orders", "order_id")
    assert len(after) == len(before) + 1
    changed = after.set_index("order_id").loc[pending]
    assert changed["order_status"] == "completed" and changed["is_revenue"]
    untouched = before[before["order_id"] != pending].set_index("order_id")
    pd.testing.assert_frame_equal(
        after.set_index("order_id").loc[untouched.index], untouched, check_like=True
    )

    rebuilt = tmp_path / "rebuilt.duckdb"
    shutil.copy(built_db, rebuilt)
    full = build(
        rebuilt, select=["stg_raw__orders", "fct_orders"], full_refresh=True, target_path=target
    )
    assert full.success, full.summary
    assert _rows_written(rebuilt, full, "fct_orders") == len(after)
    pd.testing.assert_frame_equal(_table(rebuilt, "fct_orders", "order_id"), after)
    restaged = _query(rebuilt, STAGED_ORDERS)
    pd.testing.assert_frame_equal(restaged, staged_after)


def test_identity_merge_moves_old_facts_to_the_merged_person(built_db: Path, tmp_path: Path):
    # Two buyers who are different persons; a new contact carrying the email of one and the
    # phone of the other links them (transitive closure), so both persons' old orders must
    # move to one customer_key on an incremental run.
    pair = two_persons(built_db)
    old_orders = _query(
        built_db,
        f"""
        select order_id from marts.fct_orders
        where customer_key in ('{pair.key_a}', '{pair.key_b}')
        """,
    )["order_id"].tolist()
    link(built_db, pair)
    result = build(
        built_db, select=["+fct_orders", "+customer_identities"], target_path=tmp_path / "target"
    )
    assert result.success, result.summary

    linker = linker_key(built_db)
    order_list = ", ".join(f"'{o}'" for o in old_orders)
    keys = _query(
        built_db,
        f"select distinct customer_key from marts.fct_orders where order_id in ({order_list})",
    )["customer_key"].tolist()
    assert keys == [linker]
    stale = _query(
        built_db,
        """
        select count(*) as n
        from marts.fct_orders as o
        inner join intermediate.int_contacts_unified as c
            on o.contact_source_system = c.source_system
            and o.contact_source_id = c.source_contact_id
        where o.customer_key <> c.customer_key
        """,
    )["n"].iloc[0]
    assert stale == 0


def _sequenced_touch_days(events: pd.DataFrame) -> pd.DataFrame:
    """Each person's distinct days per campaign and event type with the day before it."""
    days = (
        events.dropna(subset=["customer_key"])[
            ["campaign_id", "event_type", "customer_key", "event_date"]
        ]
        .drop_duplicates()
        .sort_values(["campaign_id", "event_type", "customer_key", "event_date"])
    )
    person = days.groupby(["campaign_id", "event_type", "customer_key"])["event_date"]
    days["previous_event_date"] = person.shift(1)
    return days.reset_index(drop=True)


def test_campaign_touch_days_of_a_merged_away_person_are_deleted(built_db: Path, tmp_path: Path):
    # Two persons with campaign events, linked by a new contact (email of one, phone of the
    # other): the merged person keeps one key, so the other key's events all move away and an
    # incremental build must delete that key's touch days, not only rewrite the survivor's.
    pair = two_persons(built_db, "fct_campaign_events")
    pair_keys = f"('{pair.key_a}', '{pair.key_b}')"
    before = _query(
        built_db,
        f"select count(*) as n from intermediate.int_campaign_touch_days "
        f"where customer_key in {pair_keys}",
    )["n"].iloc[0]
    link(built_db, pair)
    result = build(built_db, select=["+int_campaign_touch_days"], target_path=tmp_path / "t")
    assert result.success, result.summary
    executed = (
        (
            tmp_path
            / "t"
            / "run"
            / "crm_analytics"
            / "models"
            / "intermediate"
            / "int_campaign_touch_days.sql"
        )
        .read_text(encoding="utf-8")
        .lower()
    )
    assert "delete from" in executed  # the incremental path, not a rebuild

    events = _query(built_db, "select * from marts.fct_campaign_events")
    departed = {pair.key_a, pair.key_b} - set(events["customer_key"])
    assert before > 0 and departed, "the merge must leave a key without events"
    touch_days = _query(
        built_db,
        "select campaign_id, event_type, customer_key, event_date, previous_event_date "
        "from intermediate.int_campaign_touch_days",
    )
    assert not set(touch_days["customer_key"]) & departed
    key = ["campaign_id", "event_type", "customer_key", "event_date"]
    pd.testing.assert_frame_equal(
        touch_days.sort_values(key).reset_index(drop=True),
        _sequenced_touch_days(events),
        check_dtype=False,
    )


def test_timeline_day_rewrites_only_the_entries_of_rewritten_fact_rows(
    built_db: Path, tmp_path: Path
):
    # One day: two persons merged by a new contact (one of their keys vanishes), one campaign
    # renamed and another re-delivered unchanged. The timeline must write exactly the entries
    # of the fact rows this run wrote plus every entry of the renamed campaign, move the
    # merged persons' entries, and equal a full rebuild.
    pair = two_persons(built_db)
    renamed, redelivered = _query(
        built_db,
        "select campaign_id from marts.fct_campaign_events "
        "group by campaign_id order by count(*) desc, campaign_id limit 2",
    )["campaign_id"].tolist()
    link(built_db, pair)
    _execute(
        built_db,
        f"""
        insert into raw.campaigns
        select * replace (
            case when campaign_id = '{renamed}' then campaign_name || ' (renamed)'
                else campaign_name end as campaign_name,
            spend + 1 as spend,
            updated_at + interval 1 day as updated_at,
            'inc-1' as _load_id,
            _loaded_at + interval 1 day as _loaded_at)
        from raw.campaigns
        where campaign_id in ('{renamed}', '{redelivered}')
        qualify row_number() over (partition by campaign_id order by updated_at desc) = 1
        """,
    )
    entries_before = _query(built_db, "select * from marts.mart_customer_timeline")
    result = build(
        built_db,
        select=["+mart_customer_timeline", "+customer_identities"],
        target_path=tmp_path / "target",
        unit_tests=False,
    )
    assert result.success, result.summary

    # Facts stamp the rows they wrote with the run's start, as the timeline does.
    written = _query(
        built_db,
        f"""
        with stamp as (select max(_dbt_updated_at) as at from marts.fct_campaign_events)
        select
            (select count(*) from marts.fct_orders, stamp where _dbt_updated_at = stamp.at)
            + (select count(*) from marts.fct_tickets, stamp where _dbt_updated_at = stamp.at)
            + (select count(*) from marts.fct_campaign_events, stamp
               where _dbt_updated_at = stamp.at or campaign_id = '{renamed}') as expected,
            (select count(*) from marts.mart_customer_timeline, stamp
             where _dbt_updated_at = stamp.at) as timeline,
            (select count(*) from marts.fct_campaign_events, stamp
             where _dbt_updated_at = stamp.at and campaign_id = '{redelivered}') as redelivered,
            (select count(*) from marts.mart_customer_timeline, stamp
             where _dbt_updated_at = stamp.at and reference = '{redelivered}') as redelivered_now
        """,
    ).iloc[0]
    assert 0 < written.timeline < len(entries_before)
    assert written.timeline == written.expected
    assert written.redelivered_now == written.redelivered

    linker = linker_key(built_db)
    timeline = _query(built_db, "select * from marts.mart_customer_timeline")
    moved = entries_before[entries_before["customer_key"].isin([pair.key_a, pair.key_b])]
    assert len(moved) > 0
    now = timeline.set_index(["kind", "entry_id"]).loc[
        list(zip(moved["kind"], moved["entry_id"], strict=True))
    ]
    assert set(now["customer_key"]) == {linker}
    vanished = {pair.key_a, pair.key_b} - {linker}
    assert vanished and not timeline["customer_key"].isin(vanished).any()
    name = _query(
        built_db, f"select campaign_name from marts.dim_campaigns where campaign_id = '{renamed}'"
    )["campaign_name"].iloc[0]
    assert name.endswith(" (renamed)")
    details = timeline.loc[timeline["reference"] == renamed, "detail"]
    assert len(details) > 0 and details.str.startswith(f"{name} · ").all()

    rebuilt = tmp_path / "rebuilt.duckdb"
    shutil.copy(built_db, rebuilt)
    full = build(
        rebuilt,
        select=["mart_customer_timeline"],
        full_refresh=True,
        target_path=tmp_path / "full",
        unit_tests=False,
    )
    assert full.success, full.summary
    pd.testing.assert_frame_equal(
        _mart(built_db, "mart_customer_timeline"), _mart(rebuilt, "mart_customer_timeline")
    )


def test_docs_generate_writes_one_offline_page(built_db: Path, tmp_path: Path):
    result = build(built_db, select=["dim_campaigns"], docs=True, target_path=tmp_path / "t")
    assert result.success, result.summary
    assert result.docs_path is not None and result.docs_path.name == "static_index.html"
    page = result.docs_path.read_text(encoding="utf-8")
    assert "fct_tickets" in page and "customer_identities" in page


def test_build_creates_missing_relations_before_unit_tests(built_db: Path, tmp_path: Path):
    # As if int_contacts_resolved were a model added since the last build: the unit tests of
    # the facts read it, so build() must create it (empty) before dbt runs them.
    _execute(built_db, "drop table intermediate.int_contacts_resolved")
    result = build(built_db, target_path=tmp_path / "target")
    assert result.success, result.summary
    unit_tests = [r for r in result.results if r.resource_type == "unit_test"]
    assert any(r.name.startswith("fct_orders::") for r in unit_tests)
    assert all(r.status == "pass" for r in unit_tests)
    rows = _query(built_db, "select count(*) as n from intermediate.int_contacts_resolved")
    assert rows["n"].iloc[0] > 0


def test_first_build_creates_incremental_models_without_the_incremental_path(
    _built_tiny: Path,
):
    # build() creates every relation empty for the unit tests, then drops the incremental
    # ones: a first build must `create table as`, not delete+insert every row into an empty
    # table (several times slower at scale).
    run_dir = default_target_path(_built_tiny) / "run" / "crm_analytics" / "models"
    for model in ("staging/stg_raw__orders.sql", "marts/core/fct_order_lines.sql"):
        executed = (run_dir / model).read_text(encoding="utf-8").lower()
        assert re.search(r"create\s+table", executed), model
        assert "delete from" not in executed, model


def test_dbt_profile_defaults_to_the_pipelines_memory_limit():
    # dbt run by hand (without `crm build` setting the variable) keeps the same bound.
    limit = load_settings(SETTINGS_PATH).memory_limit
    profile = (DBT_PROJECT_DIR / "profiles.yml").read_text(encoding="utf-8")
    assert f"env_var('{MEMORY_LIMIT_ENV}', '{limit}')" in profile


def test_build_without_unit_tests_runs_the_data_tests_only(built_db: Path, tmp_path: Path):
    result = build(built_db, select=["fct_tickets"], target_path=tmp_path / "t", unit_tests=False)
    assert result.success, result.summary
    kinds = {r.resource_type for r in result.results}
    assert "unit_test" not in kinds and {"model", "test"} <= kinds


# Columns that differ between any two builds by design: who wrote a fact row, when, and the
# key it had before; and the CLV model (refitted on its own schedule, tested in test_clv_*).
_BUILD_DEPENDENT = {
    "_dbt_invocation_id",
    "_dbt_updated_at",
    "_previous_customer_key",
    "churn_risk",
    "p_alive",
    "p_no_purchase_12m",
    "predicted_purchases_12m",
    "predicted_clv_12m",
}


def _mart(db: Path, name: str, schema: str = "marts") -> pd.DataFrame:
    frame = _query(db, f"select * from {schema}.{name}")
    frame = frame.drop(columns=[c for c in frame.columns if c in _BUILD_DEPENDENT])
    return frame.sort_values(list(frame.columns)).reset_index(drop=True)


def test_incremental_day_equals_a_full_refresh_for_every_mart(built_db: Path, tmp_path: Path):
    # A generated day after the tiny export's as-of (new contacts, orders, versions, events),
    # loaded and built incrementally, must give the marts a full refresh of the same raw
    # layer gives, while the facts rewrite only that day's rows.
    increment = tmp_path / "increment"
    summary = generate_increment(increment, scale="tiny", seed=TINY_SEED, day=1, as_of=TINY_AS_OF)
    assert summary.rows > 0
    ingest(increment, built_db)
    orders_before = _query(built_db, "select count(*) as n from marts.fct_orders")["n"].iloc[0]
    day = build(built_db, target_path=tmp_path / "day", unit_tests=False)
    assert day.success, day.summary
    assert 0 < _rows_written(built_db, day, "fct_orders") < orders_before

    rebuilt = tmp_path / "rebuilt.duckdb"
    shutil.copy(built_db, rebuilt)
    full = build(rebuilt, full_refresh=True, target_path=tmp_path / "full", unit_tests=False)
    assert full.success, full.summary
    marts = _query(
        rebuilt,
        "select table_name from information_schema.tables where table_schema = 'marts' "
        "and table_name not like 'mart_clv_%' order by 1",
    )["table_name"].tolist()
    assert {"mart_customer_timeline", "customer_360", "fct_orders"} <= set(marts)
    for name in marts:
        pd.testing.assert_frame_equal(
            _mart(built_db, name), _mart(rebuilt, name), check_exact=False, rtol=1e-9, obj=name
        )


def _order_days(db: Path) -> dict[str, pd.DataFrame]:
    """The per-person incremental models and the mart built on them, without bookkeeping."""
    tables = {
        "intermediate.int_customer_order_days_sequenced": ["customer_key", "order_date"],
        "marts.mart_customer_order_days": ["customer_key", "order_date"],
        "marts.fct_order_attributions": ["order_id"],
    }
    frames = {}
    for name, key in tables.items():
        frame = _query(db, f"select * from {name}")
        frame = frame.drop(columns=[c for c in frame.columns if c in _BUILD_DEPENDENT])
        frames[name] = frame.sort_values(key).reset_index(drop=True)
    return frames


def test_a_person_left_without_orders_loses_their_order_days_and_attributions(
    built_db: Path, tmp_path: Path
):
    # A new contact with the email of one buyer and the phone of another makes them one
    # person: at least one of the two keys keeps no order. And a one-order buyer's order is
    # refunded: their key keeps no completed order, the order no attribution. An incremental
    # build must drop those rows (delete+insert alone only deletes keys it writes again).
    pair = two_persons(built_db, "fct_orders", "f.is_revenue")
    refunded = _query(
        built_db,
        f"""
        select order_id, customer_key from marts.fct_orders
        where is_revenue and customer_key not in ('{pair.key_a}', '{pair.key_b}')
        qualify count(*) over (partition by customer_key) = 1
        order by order_id
        limit 1
        """,
    ).iloc[0]
    link(built_db, pair)
    _execute(
        built_db,
        f"""
        insert into raw.orders
        select * replace (
            'refunded' as status,
            updated_at + interval 1 day as updated_at,
            'inc-1' as _load_id,
            _loaded_at + interval 1 day as _loaded_at)
        from raw.orders where order_id = '{refunded.order_id}'
        order by updated_at desc limit 1;
        """,
    )
    before = _order_days(built_db)
    day = build(built_db, target_path=tmp_path / "day", unit_tests=False)
    assert day.success, day.summary
    after = _order_days(built_db)

    merged = {linker_key(built_db)}
    emptied = ({pair.key_a, pair.key_b} - merged) | {refunded.customer_key}
    assert len(emptied) >= 2
    for name in (
        "intermediate.int_customer_order_days_sequenced",
        "marts.mart_customer_order_days",
    ):
        assert emptied <= set(before[name]["customer_key"]), name
        assert not emptied & set(after[name]["customer_key"]), name
    attributions = "marts.fct_order_attributions"
    assert refunded.order_id in set(before[attributions]["order_id"])
    assert refunded.order_id not in set(after[attributions]["order_id"])
    assert not emptied & set(after[attributions]["customer_key"])

    rebuilt = tmp_path / "rebuilt.duckdb"
    shutil.copy(built_db, rebuilt)
    full = build(rebuilt, full_refresh=True, target_path=tmp_path / "full", unit_tests=False)
    assert full.success, full.summary
    for name, frame in _order_days(rebuilt).items():
        pd.testing.assert_frame_equal(after[name], frame, obj=name)


def _assert_equals_a_full_refresh(db: Path, workdir: Path) -> None:
    workdir.mkdir()
    rebuilt = workdir / "rebuilt.duckdb"
    shutil.copy(db, rebuilt)
    full = build(rebuilt, full_refresh=True, target_path=workdir / "full", unit_tests=False)
    assert full.success, full.summary
    relations = _query(
        rebuilt,
        "select table_schema, table_name from information_schema.tables "
        "where (table_schema = 'marts' and table_name not like 'mart_clv_%') "
        "or table_name in ('int_contacts_resolved', 'int_contacts_unified') order by 1, 2",
    ).itertuples(index=False)
    for schema, name in relations:
        pd.testing.assert_frame_equal(
            _mart(db, name, schema),
            _mart(rebuilt, name, schema),
            check_exact=False,
            rtol=1e-9,
            obj=f"{schema}.{name}",
        )


def _fact_keys(db: Path) -> dict[str, pd.DataFrame]:
    return {
        fact: _query(db, f"select {key} as id, customer_key from marts.{fact}").set_index("id")
        for fact, key in FACTS.items()
    }


def _assert_facts_rewrote_only_moved_rows(db: Path, result, before: dict[str, pd.DataFrame]) -> int:
    """Every fact row whose customer_key changed was rewritten with its old key as
    `_previous_customer_key`, and no other row was (the day brings no fact data)."""
    moved_total = 0
    after = _fact_keys(db)
    for fact, key in FACTS.items():
        joined = before[fact].merge(
            after[fact], left_index=True, right_index=True, suffixes=("_before", "")
        )
        assert len(joined) == len(before[fact]) == len(after[fact]), fact
        moved = joined[
            joined["customer_key_before"].fillna("") != joined["customer_key"].fillna("")
        ]
        written = _query(
            db,
            f"select {key} as id, _previous_customer_key from marts.{fact} "
            f"where _dbt_invocation_id = '{result.invocation_id}'",
        ).set_index("id")
        assert sorted(written.index) == sorted(moved.index), fact
        previous = written["_previous_customer_key"].reindex(moved.index)
        assert previous.fillna("").tolist() == moved["customer_key_before"].fillna("").tolist()
        moved_total += len(moved)
    return moved_total


def test_identity_merge_and_split_rekey_only_moved_rows_and_equal_a_full_refresh(
    built_db: Path, tmp_path: Path
):
    # Day 1: a new contact carries the email of one buyer and the phone of another, merging
    # two persons (the larger key vanishes). Day 2: a new version of a contact drops the only
    # value that tied it to its person, splitting that person in two. Each day, built
    # incrementally, must equal a full refresh, and the facts must rewrite exactly the rows
    # whose person changed (the days bring no fact data).
    pair = two_persons(built_db)
    link(built_db, pair)
    before = _fact_keys(built_db)
    merge_day = build(built_db, target_path=tmp_path / "day1", unit_tests=False)
    assert merge_day.success, merge_day.summary
    merged = linker_key(built_db)
    assert merged in (pair.key_a, pair.key_b)
    vanished = pair.key_b if merged == pair.key_a else pair.key_a
    for relation in ("marts.customer_identities", "marts.customer_360", "marts.fct_orders"):
        rows = _query(
            built_db, f"select count(*) as n from {relation} where customer_key = '{vanished}'"
        )
        assert rows["n"].iloc[0] == 0, relation
    assert _assert_facts_rewrote_only_moved_rows(built_db, merge_day, before) > 0
    _assert_equals_a_full_refresh(built_db, tmp_path / "merge")

    # The email-only member with the most orders of a two-contact person.
    member = _query(
        built_db,
        """
        with pairs as (
            select customer_key from intermediate.int_contacts_unified
            group by customer_key having count(*) = 2
        )
        select c.source_system, c.source_contact_id
        from intermediate.int_contacts_unified as c
        inner join pairs on pairs.customer_key = c.customer_key
        inner join marts.fct_orders as o
            on o.contact_source_system = c.source_system
            and o.contact_source_id = c.source_contact_id
        where c.match_rule = 'email'
        group by c.source_system, c.source_contact_id
        order by count(*) desc, c.source_system, c.source_contact_id
        limit 1
        """,
    ).iloc[0]
    _execute(
        built_db,
        f"""
        insert into raw.contacts
        select * replace (
            'split-{member.source_contact_id}@example.org' as email,
            null as phone,
            updated_at + interval 1 day as updated_at,
            'inc-2' as _load_id,
            (select max(_loaded_at) from raw.contacts) + interval 1 day as _loaded_at)
        from raw.contacts
        where source_system = '{member.source_system}'
            and source_contact_id = '{member.source_contact_id}'
        order by updated_at desc
        limit 1
        """,
    )
    before = _fact_keys(built_db)
    split_day = build(built_db, target_path=tmp_path / "day2", unit_tests=False)
    assert split_day.success, split_day.summary
    own_key = hashlib.md5(f"{member.source_system}:{member.source_contact_id}".encode()).hexdigest()
    orders = _query(
        built_db,
        "select distinct customer_key from marts.fct_orders "
        f"where contact_source_system = '{member.source_system}' "
        f"and contact_source_id = '{member.source_contact_id}'",
    )["customer_key"].tolist()
    assert orders == [own_key]
    assert _assert_facts_rewrote_only_moved_rows(built_db, split_day, before) > 0
    _assert_equals_a_full_refresh(built_db, tmp_path / "split")


def _persons_of(db: Path, contact_ids: list[str]) -> pd.DataFrame:
    ids = ", ".join(f"'web:{contact_id}'" for contact_id in contact_ids)
    return _query(
        db,
        "select resolved.contact_key, resolved.customer_key, contacts.phone_normalized "
        "from intermediate.int_contacts_resolved as resolved "
        "inner join staging.stg_raw__contacts as contacts "
        "on contacts.contact_key = resolved.contact_key "
        f"where resolved.contact_key in ({ids})",
    )


def test_a_contact_leaving_an_overshared_value_links_its_other_holders(
    built_db: Path, tmp_path: Path
):
    # Day 1: one contact more than `identity_max_contacts_per_value` allows share a phone, so
    # it links nobody. Day 2: one of them drops the phone, which falls under the cap and makes
    # the others one person, although none of them was ever in the leaver's person: the
    # incremental resolution can only find them through the value the leaver held before,
    # and must still equal a full refresh.
    project = yaml.safe_load((DBT_PROJECT_DIR / "dbt_project.yml").read_text(encoding="utf-8"))
    cap = project["vars"]["identity_max_contacts_per_value"]
    holders = [f"SHARED-{i}" for i in range(cap + 1)]
    _execute(
        built_db,
        f"""
        insert into raw.contacts
        select template.* replace (
            'web' as source_system, 'SHARED-' || holder.i as source_contact_id,
            'shared-' || holder.i || '@example.org' as email, '13700004242' as phone,
            'inc-1' as _load_id,
            (select max(_loaded_at) from raw.contacts) + interval 1 day as _loaded_at)
        from (select * from raw.contacts limit 1) as template
        cross join range({cap + 1}) as holder(i)
        """,
    )
    over_cap_day = build(built_db, target_path=tmp_path / "day1", unit_tests=False)
    assert over_cap_day.success, over_cap_day.summary
    persons = _persons_of(built_db, holders)
    assert len(persons) == cap + 1 and persons["phone_normalized"].nunique() == 1
    assert persons["phone_normalized"].notna().all()
    assert persons["customer_key"].nunique() == cap + 1

    _execute(
        built_db,
        """
        insert into raw.contacts
        select * replace (
            null as phone,
            updated_at + interval 1 day as updated_at,
            'inc-2' as _load_id,
            (select max(_loaded_at) from raw.contacts) + interval 1 day as _loaded_at)
        from raw.contacts
        where source_system = 'web' and source_contact_id = 'SHARED-0'
        """,
    )
    under_cap_day = build(built_db, target_path=tmp_path / "day2", unit_tests=False)
    assert under_cap_day.success, under_cap_day.summary
    persons = _persons_of(built_db, holders[1:])
    assert persons["customer_key"].nunique() == 1
    _assert_equals_a_full_refresh(built_db, tmp_path / "full")

"""customer_360's incremental per-person aggregates (int_customer_rollup): a daily run
rebuilds only the persons whose contacts or facts changed, drops a person whose rows all
moved to another, and leaves customer_360 equal to a full refresh."""

from __future__ import annotations

import shutil
from pathlib import Path

import duckdb
import pandas as pd
from fixtures.identity_edits import link, two_persons

from crm.build import build

# Differ between two builds by design: when a row was written, and the CLV model's scores
# (refitted on its own schedule).
_BUILD_DEPENDENT = [
    "_dbt_updated_at",
    "churn_risk",
    "p_alive",
    "p_no_purchase_12m",
    "predicted_purchases_12m",
    "predicted_clv_12m",
]


def _query(db: Path, sql: str) -> pd.DataFrame:
    with duckdb.connect(str(db), read_only=True) as con:
        return con.execute(sql).df()


def _execute(db: Path, sql: str) -> None:
    with duckdb.connect(str(db)) as con:
        con.execute(sql)


def _sorted(db: Path, relation: str) -> pd.DataFrame:
    frame = _query(db, f"select * from {relation}")
    frame = frame.drop(columns=[c for c in frame.columns if c in _BUILD_DEPENDENT])
    return frame.sort_values("customer_key").reset_index(drop=True)


def test_a_merge_drops_the_person_left_without_rows_and_equals_a_full_refresh(
    built_db: Path, tmp_path: Path
):
    # Two buyers, one with an email and one with a phone, and a third person known by one
    # contact and nothing else changed about them.
    pair = two_persons(built_db)
    single = _query(
        built_db,
        f"""
        select customer_key, any_value(source_system) as source_system,
               any_value(source_contact_id) as source_contact_id
        from intermediate.int_contacts_unified
        where customer_key not in ('{pair.key_a}', '{pair.key_b}')
        group by customer_key
        having count(*) = 1
        order by customer_key
        limit 1
        """,
    ).iloc[0]
    # A new contact carrying A's email and B's phone merges the two persons; a new version
    # of the single person's contact renames them.
    link(built_db, pair)
    _execute(
        built_db,
        f"""
        insert into raw.contacts
        select * replace (
            'Renamed Person' as full_name,
            updated_at + interval 1 day as updated_at,
            'inc-1' as _load_id, _loaded_at + interval 1 day as _loaded_at)
        from raw.contacts
        where source_system = '{single.source_system}'
            and source_contact_id = '{single.source_contact_id}'
        order by updated_at desc
        limit 1;
        """,
    )
    day = build(built_db, select=["+customer_360"], target_path=tmp_path / "day", unit_tests=False)
    assert day.success, day.summary

    merged = _query(
        built_db,
        "select customer_key from intermediate.int_contacts_unified "
        "where source_system = 'web' and source_contact_id = 'INC-LINK-1'",
    )["customer_key"].iloc[0]
    vanished = {pair.key_a, pair.key_b} - {merged}
    assert vanished, "the merge kept both keys"
    for relation in ("intermediate.int_customer_rollup", "marts.customer_360"):
        keys = set(_query(built_db, f"select customer_key from {relation}")["customer_key"])
        assert merged in keys and not vanished & keys, relation

    # Only the merged and the renamed person were rebuilt.
    rebuilt_keys = _query(
        built_db,
        "select customer_key from intermediate.int_customer_rollup "
        "where _dbt_updated_at = (select max(_dbt_updated_at) "
        "from intermediate.int_customer_rollup)",
    )["customer_key"]
    assert set(rebuilt_keys) == {merged, single.customer_key}
    renamed = _query(
        built_db,
        f"select full_name from marts.customer_360 where customer_key = '{single.customer_key}'",
    )["full_name"].iloc[0]
    assert renamed == "Renamed Person"

    full_db = tmp_path / "full.duckdb"
    shutil.copy(built_db, full_db)
    full = build(
        full_db,
        select=["+customer_360"],
        full_refresh=True,
        target_path=tmp_path / "full",
        unit_tests=False,
    )
    assert full.success, full.summary
    for relation in ("intermediate.int_customer_rollup", "marts.customer_360"):
        pd.testing.assert_frame_equal(
            _sorted(built_db, relation), _sorted(full_db, relation), obj=relation
        )

"""The buffered duckdb dialect: GX expectations through it see the real data (GX #11579)."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

pytest.importorskip("great_expectations")


@pytest.fixture(scope="module")
def emails_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """1,000 rows; every 10th email missing, every 7th (not 10th) malformed: counts by hand."""
    db = tmp_path_factory.mktemp("dialect") / "wh.duckdb"
    con = duckdb.connect(str(db))
    con.execute(
        """
        create schema raw;
        create table raw.people as
        select i as person_id,
               case when i % 10 = 0 then null
                    when i % 7 = 0 then 'broken@@mail'
                    else 'p' || i || '@example.com' end as email
        from range(1000) as t(i)
        """
    )
    con.close()
    return db


def _batch(url: str, teach: bool = False):
    import great_expectations as gx

    from quality.dialect import teach_gx

    context = gx.get_context(mode="ephemeral")
    source = context.data_sources.add_sql(name="wh", connection_string=url)
    asset = source.add_table_asset(name="people", table_name="people", schema_name="raw")
    if teach:
        teach_gx(source.get_execution_engine())
    return asset.add_batch_definition_whole_table("all").get_batch()


def _expected_counts() -> tuple[int, int]:
    rows = range(1000)
    missing = sum(1 for i in rows if i % 10 == 0)
    malformed = sum(1 for i in rows if i % 10 != 0 and i % 7 == 0)
    return missing, malformed


def test_buffered_dialect_returns_observed_values(emails_db: Path) -> None:
    import great_expectations as gx

    from quality.dialect import connection_url

    batch = _batch(connection_url(str(emails_db)), teach=True)
    missing, malformed = _expected_counts()

    rows = batch.validate(gx.expectations.ExpectTableRowCountToBeBetween(min_value=1))
    assert rows.success and rows.result["observed_value"] == 1000

    not_null = batch.validate(
        gx.expectations.ExpectColumnValuesToNotBeNull(column="email"), result_format="SUMMARY"
    )
    assert not not_null.success
    assert not_null.result["unexpected_count"] == missing

    regex = batch.validate(
        gx.expectations.ExpectColumnValuesToMatchRegex(
            column="email", regex=r"^[^@\s]+@[^@\s]+\.[^@\s.]+$"
        ),
        result_format="SUMMARY",
    )
    assert regex.result["unexpected_count"] == malformed
    assert set(regex.result["partial_unexpected_list"]) == {"broken@@mail"}

    unique = batch.validate(gx.expectations.ExpectColumnValuesToBeUnique(column="person_id"))
    assert unique.success and unique.result["unexpected_count"] == 0


def test_plain_duckdb_engine_loses_the_metric_rows(emails_db: Path) -> None:
    """Documents the upstream bug the dialect exists for: same expectation, no observed value.
    If this starts passing, duckdb-engine/GX fixed it and quality/dialect.py can go."""
    import great_expectations as gx

    batch = _batch(f"duckdb:///{emails_db}?access_mode=read_only")
    result = batch.validate(gx.expectations.ExpectTableRowCountToBeBetween(min_value=1))
    assert not result.success
    assert "observed_value" not in result.result


def test_buffered_connection_is_read_only(emails_db: Path) -> None:
    import sqlalchemy as sa

    from quality.dialect import connection_url

    engine = sa.create_engine(connection_url(str(emails_db)))
    try:
        with engine.connect() as con, pytest.raises(sa.exc.DBAPIError, match="read-only"):
            con.execute(sa.text("create table raw.scratch (x integer)"))
    finally:
        engine.dispose()

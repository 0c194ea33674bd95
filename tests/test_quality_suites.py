"""Suite files: contract checks are derived from ingestion/contracts.yml, not repeated."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pytest
import yaml

from crm.errors import UserError
from ingestion.contracts import load_contracts
from quality.suites import SUITES_DIR, dbt_vars, load_suites

NOW = datetime(2026, 11, 22, 12, 0, 0)


@pytest.fixture(scope="module")
def suites():
    return {s.name: s for s in load_suites(now=NOW)}


def test_every_contract_rule_becomes_a_check(suites) -> None:
    contracts = load_contracts()
    for entity in contracts.entities.values():
        suite = suites[f"raw_{entity.name}"]
        checks = {c.check_id: c for c in suite.checks}
        prefix = suite.name
        for col in entity.columns:
            if col.required:
                assert checks[f"{prefix}.{col.name}.not_null"].severity == "critical"
            if col.accepted_values:
                check = checks[f"{prefix}.{col.name}.accepted_values"]
                assert check.kwargs["value_set"] == list(col.accepted_values)
            if col.min is not None or col.max is not None:
                check = checks[f"{prefix}.{col.name}.bounds"]
                assert check.kwargs.get("min_value") == col.min
                assert check.kwargs.get("max_value") == col.max
            if col.not_future:
                bound = checks[f"{prefix}.{col.name}.not_future"].kwargs["max_value"]
                assert bound == "2026-11-23 12:00:00"  # NOW + the contract's 1 day tolerance
        key = checks[f"{prefix}.natural_key.unique"].column
        expected = [
            *entity.natural_key,
            *([entity.version_column] if entity.version_column else []),
        ]
        assert key == ", ".join(expected)
        for ref in entity.references:
            query = checks[f"{prefix}.references.{ref.entity}"].kwargs["unexpected_rows_query"]
            assert f"raw.{ref.entity}" in query and "{batch}" in query


def test_currency_is_the_critical_accepted_value(suites) -> None:
    checks = {c.check_id: c for c in suites["raw_orders"].checks}
    assert checks["raw_orders.currency.accepted_values"].severity == "critical"
    assert checks["raw_orders.status.accepted_values"].severity == "warning"


def test_every_check_is_auditable(suites) -> None:
    ids = [c.check_id for s in suites.values() for c in s.checks]
    assert len(ids) == len(set(ids))
    for suite in suites.values():
        assert suite.description
        for check in suite.checks:
            assert check.severity in ("critical", "warning")
            assert len(check.description.split()) >= 3, check.check_id
            assert check.check_id.startswith(suite.name + ".")


def test_dbt_vars_are_substituted(suites) -> None:
    query = next(
        c.kwargs["unexpected_rows_query"]
        for c in suites["marts_fct_orders"].checks
        if c.check_id.endswith("reconciles_with_raw")
    )
    assert "${var:" not in query
    assert f"'{dbt_vars()['reporting_timezone']}'" in query
    assert f"'{dbt_vars()['reporting_currency']}'" in query


def test_a_broken_suite_file_is_one_clear_error(tmp_path: Path) -> None:
    (tmp_path / "_contract_rules.yml").write_text(
        (SUITES_DIR / "_contract_rules.yml").read_text(encoding="utf-8"), encoding="utf-8"
    )
    spec = {
        "suite": "raw_things",
        "asset": {"table": "raw.things"},
        "expectations": [
            {
                "check": "x.not_null",
                "type": "expect_column_values_to_not_be_null",
                "kwargs": {"column": "x"},
                "severity": "fatal",
                "description": "x is set.",
            }
        ],
    }
    (tmp_path / "raw_things.yml").write_text(yaml.safe_dump(spec), encoding="utf-8")
    with pytest.raises(UserError, match=r"raw_things\.yml: x\.not_null: severity"):
        load_suites(tmp_path)

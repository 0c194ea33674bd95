"""Runs the suites through Great Expectations Core, inside DuckDB, read-only.

One GX file project per reports directory (`<reports>/gx/`) keeps every validation result, so
the Data Docs index lists every run an auditor may ask about. Each part of the plan
(quality/scope.py: a suite's checks over its whole table, or over its pending rows) becomes a
GX expectation suite bound to one table or query asset of a SQL datasource that reaches the
warehouse through the buffered dialect (quality/dialect.py); each is validated in turn (timed
per suite), then the run's Data Docs pages are built once.
"""

from __future__ import annotations

import gc
import json
import logging
import os
import time
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from quality.dialect import connection_url, teach_gx
from quality.expectations import UnexpectedRowCount
from quality.samples import attach_samples, sample_of
from quality.scope import Part
from quality.suites import CUSTOM_SQL

DATASOURCE = "warehouse"
SITE = "local_site"
# Counts and observed values, no unexpected values: those are fetched for the failed checks only
# (quality/samples.py).
RESULT_FORMAT = {"result_format": "SUMMARY", "partial_unexpected_count": 0}


@dataclass(frozen=True)
class CheckOutcome:
    """What one expectation found, in the shape of a `quality.results` row."""

    suite: str
    check_id: str
    expectation_type: str
    column: str | None
    severity: str
    description: str
    success: bool
    observed_value: str | None
    element_count: int | None
    unexpected_count: int | None
    unexpected_percent: float | None
    unexpected_sample: str | None
    kwargs: str
    exception: str | None
    coverage: str  # what the check saw: the whole table, or which new loads and rows


def _quiet_gx() -> None:
    # GX would post usage analytics (no network here) and log per-metric progress bars.
    os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
    logging.getLogger("great_expectations").setLevel(logging.ERROR)


def _context(project_dir: Path, docs_dir: Path) -> Any:
    import great_expectations as gx
    from great_expectations.data_context.types.base import ProgressBarsConfig

    context = gx.get_context(mode="file", project_root_dir=str(project_dir))
    context.variables.progress_bars = ProgressBarsConfig(globally=False)
    if context.variables.config_variables_file_path:
        # GX re-reads and parses uncommitted/config_variables.yml on every read of a context
        # variable (some 500 per run: each store lookup asks for its store's name), about a
        # second per run. The gate uses no config variables; the context must be reopened
        # for the change to reach its configuration providers.
        context.variables.config_variables_file_path = None
        context.variables.save()
        context = gx.get_context(mode="file", project_root_dir=str(project_dir))
    else:
        context.variables.save()
    site = {
        "class_name": "SiteBuilder",
        "show_how_to_buttons": False,
        "store_backend": {
            "class_name": "TupleFilesystemStoreBackend",
            "base_directory": str(docs_dir),
        },
        "site_index_builder": {"class_name": "DefaultSiteIndexBuilder"},
    }
    if SITE in (context.get_site_names() or []):
        context.update_data_docs_site(SITE, site)
    else:
        context.add_data_docs_site(SITE, site)
    return context


def _expectation(check: Any, coverage: str) -> Any:
    from great_expectations.expectations.registry import get_expectation_impl

    # A custom-SQL check counts its rows; its sample is fetched only if it fails (samples.py).
    impl = (
        UnexpectedRowCount
        if check.expectation_type == CUSTOM_SQL
        else get_expectation_impl(check.expectation_type)
    )
    return impl(
        **check.kwargs,
        severity=check.severity,
        # Data Docs show the description: the auditor reads there what the check covered.
        description=f"{check.description} Covered: {coverage}.",
        meta={"check": check.check_id, "origin": check.origin, "coverage": coverage},
    )


def _to_json(value: Any) -> str | None:
    if value is None:
        return None
    return json.dumps(value, default=str, ensure_ascii=False)


def _outcome(part: Part, check: Any, result: Any) -> CheckOutcome:
    payload = dict(result.result or {})
    exception = None
    info = result.exception_info or {}
    if info.get("raised_exception"):
        exception = info.get("exception_message")
    else:
        # Metric failures are reported per metric; keep the first message.
        for value in info.values():
            if isinstance(value, dict) and value.get("exception_message"):
                exception = value["exception_message"]
                break
    sample = sample_of(result)
    if check.expectation_type == CUSTOM_SQL:
        unexpected = payload.get("observed_value")
        observed = payload.get("observed_value")
        observed_text = None if observed is None else f"{observed} unexpected rows"
        element_count = None
        percent = None
    else:
        unexpected = payload.get("unexpected_count")
        element_count = payload.get("element_count")
        percent = payload.get("unexpected_percent")
        observed = payload.get("observed_value")
        if observed is not None:
            observed_text = _to_json(observed)
        elif unexpected is not None:
            observed_text = f"{unexpected} of {element_count} unexpected"
        else:
            observed_text = None
    return CheckOutcome(
        **_identity(part, check),
        success=bool(result.success) and exception is None,
        observed_value=observed_text,
        element_count=element_count,
        unexpected_count=unexpected,
        unexpected_percent=percent,
        unexpected_sample=_to_json(sample) if sample else None,
        exception=exception,
    )


def _identity(part: Part, check: Any) -> dict[str, Any]:
    """The fields of an outcome that say which check it is and what it saw, whatever its
    result."""
    return {
        "suite": part.suite.name,
        "check_id": check.check_id,
        "expectation_type": check.expectation_type,
        "column": check.column,
        "severity": check.severity,
        "description": check.description,
        "kwargs": _to_json(check.kwargs) or "{}",
        "coverage": part.coverage.describe(),
    }


def _unreachable(part: Part, check: Any, message: str) -> CheckOutcome:
    return CheckOutcome(
        **_identity(part, check),
        success=False,
        observed_value=None,
        element_count=None,
        unexpected_count=None,
        unexpected_percent=None,
        unexpected_sample=None,
        exception=message,
    )


def _close_engines(db_path: Path) -> None:
    """Close every SQLAlchemy engine GX opened on the warehouse.

    DuckDB refuses a read-write connection while a read-only instance of the file is alive in
    the process, and GX builds engines inside its datasource objects (one to test the
    connection, one to validate) without a handle to close them.
    """
    import sqlalchemy

    gc.collect()
    for obj in gc.get_objects():
        if isinstance(obj, sqlalchemy.Engine) and obj.url.database == str(db_path):
            obj.dispose()
    gc.collect()


def validate(
    db_path: Path,
    parts: list[Part],
    project_dir: Path,
    docs_dir: Path,
    run_name: str,
    timings: dict[str, float],
) -> list[CheckOutcome]:
    """Validate every part against the warehouse file; build the Data Docs pages.

    Records in `timings` the seconds spent validating (in all, and per suite as
    `validate_seconds.<suite>`) and building the docs."""
    _quiet_gx()
    import great_expectations as gx
    from great_expectations.core.run_identifier import RunIdentifier
    from great_expectations.data_context.types.resource_identifiers import (
        ExpectationSuiteIdentifier,
        ValidationResultIdentifier,
    )
    from great_expectations.datasource.fluent.interfaces import TestConnectionError

    project_dir.mkdir(parents=True, exist_ok=True)
    context = _context(project_dir, docs_dir)
    datasource = context.data_sources.add_or_update_sql(
        name=DATASOURCE, connection_string=connection_url(str(db_path), read_only=True)
    )
    definitions = []
    by_suite: dict[str, tuple[Part, dict[str, Any], Any]] = {}
    unreachable: list[CheckOutcome] = []
    for part in parts:
        try:
            if part.table:
                schema, _, table = part.table.rpartition(".")
                with warnings.catch_warnings():
                    # GX would have the schema in the connection; one datasource spans raw,
                    # marts and quality, so each asset names its own.
                    warnings.filterwarnings("ignore", "`schema_name` is deprecated")
                    asset = datasource.add_table_asset(
                        name=part.name, table_name=table, schema_name=schema or None
                    )
            else:
                asset = datasource.add_query_asset(name=part.name, query=part.query)
        except TestConnectionError as exc:
            # A missing table (e.g. marts before the first build) fails every check on it.
            unreachable += [_unreachable(part, check, str(exc)) for check in part.checks]
            continue
        batch = asset.add_batch_definition_whole_table("all rows")
        coverage = part.coverage.describe()
        gx_suite = gx.ExpectationSuite(
            name=part.name,
            expectations=[_expectation(c, coverage) for c in part.checks],
            meta={
                "description": part.suite.description,
                "layer": part.suite.layer,
                "coverage": coverage,
            },
        )
        gx_suite = context.suites.add_or_update(gx_suite)
        definitions.append(
            context.validation_definitions.add_or_update(
                gx.ValidationDefinition(name=part.name, data=batch, suite=gx_suite)
            )
        )
        by_suite[part.name] = (part, {c.check_id: c for c in part.checks}, batch)
    teach_gx(datasource.get_execution_engine())
    run_id = RunIdentifier(run_name=run_name)
    results: dict[Any, Any] = {}
    try:
        started, cpu_started = time.perf_counter(), time.process_time()
        # Each definition runs on its own (what GX's checkpoint would do, minus its stored
        # configuration) so that every suite's seconds are known.
        for definition in definitions:
            part, _, batch = by_suite[definition.name]
            part_started = time.perf_counter()
            suite_result = definition.run(result_format=RESULT_FORMAT, run_id=run_id)
            key = ValidationResultIdentifier(
                expectation_suite_identifier=ExpectationSuiteIdentifier(name=definition.name),
                run_id=run_id,
                batch_identifier=suite_result.batch_id,
            )
            if attach_samples(batch, suite_result):
                # The run stored the result before its samples existed.
                context.validation_results_store.set(key, suite_result)
            results[key] = suite_result
            suite_seconds = f"validate_seconds.{part.suite.name}"
            timings[suite_seconds] = (
                timings.get(suite_seconds, 0.0) + time.perf_counter() - part_started
            )
        timings["validate_seconds"] = time.perf_counter() - started
        timings["validate_cpu_seconds"] = time.process_time() - cpu_started
    finally:
        _close_engines(db_path)
    started = time.perf_counter()
    # One build for the whole run. GX's UpdateDataDocsAction rebuilds the index once per
    # validation result, which costs more than the validation itself.
    context.build_data_docs(
        site_names=[SITE],
        resource_identifiers=[
            *results,
            *(ExpectationSuiteIdentifier(name=name) for name in by_suite),
        ],
    )
    timings["data_docs_seconds"] = time.perf_counter() - started
    outcomes = unreachable
    for suite_result in results.values():
        part, checks, _ = by_suite[suite_result.suite_name]
        for expectation_result in suite_result.results:
            check = checks[expectation_result.expectation_config.meta["check"]]
            outcomes.append(_outcome(part, check, expectation_result))
    return outcomes

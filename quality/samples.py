"""Samples of the offending values or rows of the checks that failed, fetched through GX.

The gate validates with `partial_unexpected_count: 0`: every expectation still computes
its counts and observed value, but none runs the extra query that lists unexpected values
(for a uniqueness check that is a second window over the whole table), and custom-SQL checks
only count their rows (quality/expectations.py). On a healthy warehouse nothing is fetched.
For each check that failed, this module re-runs it on the same batch with a result format
that returns up to SAMPLE_SIZE unexpected values (column checks), or the stock
`UnexpectedRowsExpectation` over its query limited to SAMPLE_SIZE rows (custom SQL), and
copies the sample into the validation's result, which is then stored again so the Data Docs
show it too.
"""

from __future__ import annotations

from typing import Any

from quality.expectations import UnexpectedRowCount
from quality.suites import UNIQUE_COLUMN

SAMPLE_SIZE = 20
# The column-check fields that carry the sample in a SUMMARY result.
_SAMPLE_FIELDS = ("partial_unexpected_list", "partial_unexpected_counts")
# What the uniqueness sampler adds to a failed proportion check: how many rows are duplicates.
_COUNT_FIELDS = ("element_count", "unexpected_count", "unexpected_percent")


def needs_sample(result: Any) -> bool:
    """A failed check that ran: an exception leaves nothing to sample."""
    return not result.success and not (result.exception_info or {}).get("raised_exception")


def _is_custom_sql(result: Any) -> bool:
    return result.expectation_config.type == UnexpectedRowCount.expectation_type


def _row_sampler(config: Any) -> Any:
    from great_expectations.expectations import UnexpectedRowsExpectation

    query = config.kwargs["unexpected_rows_query"]
    return UnexpectedRowsExpectation(
        unexpected_rows_query=f"select * from ({query}) as unexpected limit {SAMPLE_SIZE}",
        meta=config.meta,
    )


def _value_sampler(config: Any) -> Any:
    if config.type == UNIQUE_COLUMN:
        # The proportion has no unexpected values of its own: the stock uniqueness
        # expectation on the same column counts and lists the duplicates.
        from great_expectations.expectations import ExpectColumnValuesToBeUnique

        return ExpectColumnValuesToBeUnique(column=config.kwargs["column"], meta=config.meta)
    expectation = config.to_domain_obj()
    # A copy for a throwaway suite: GX refuses an expectation that names its stored suite's id.
    expectation.id = None
    return expectation


def _validate(batch_definition: Any, name: str, expectations: list, result_format: dict) -> dict:
    """Results by check id of `expectations` run on a fresh batch of `batch_definition`."""
    import great_expectations as gx

    if not expectations:
        return {}
    suite = gx.ExpectationSuite(name=name, expectations=expectations)
    results = batch_definition.get_batch().validate(suite, result_format=result_format)
    return {r.expectation_config.meta["check"]: r for r in results.results}


def attach_samples(batch_definition: Any, suite_result: Any) -> bool:
    """Give every failed expectation of `suite_result` its sample; True if any changed."""
    failed = [r for r in suite_result.results if needs_sample(r)]
    if not failed:
        return False
    custom = [r for r in failed if _is_custom_sql(r)]
    columns = [r for r in failed if not _is_custom_sql(r)]
    name = f"{suite_result.suite_name}.samples"
    rows = _validate(
        batch_definition,
        name,
        [_row_sampler(r.expectation_config) for r in custom],
        {"result_format": "COMPLETE"},
    )
    values = _validate(
        batch_definition,
        name,
        [_value_sampler(r.expectation_config) for r in columns],
        {"result_format": "SUMMARY", "partial_unexpected_count": SAMPLE_SIZE},
    )
    for result in custom:
        sample = rows[result.expectation_config.meta["check"]].result.get("details") or {}
        result.result["details"] = {"unexpected_rows": sample.get("unexpected_rows", [])}
    for result in columns:
        sample = values[result.expectation_config.meta["check"]].result
        fields = _SAMPLE_FIELDS
        if result.expectation_config.type == UNIQUE_COLUMN:
            fields += _COUNT_FIELDS
        result.result.update({k: sample[k] for k in fields if k in sample})
    return True


def sample_of(result: Any) -> list | None:
    """The sample attached to a result (None for a check that passed)."""
    payload = result.result or {}
    if _is_custom_sql(result):
        return (payload.get("details") or {}).get("unexpected_rows")
    return payload.get("partial_unexpected_list")

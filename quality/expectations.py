"""The GX expectation a suite's custom-SQL check runs as during validation.

GX's `UnexpectedRowsExpectation` depends on two metrics: the query's row count and its rows
(`unexpected_rows_query.table`), whatever the result format, so every custom-SQL check ran its
query twice, and the reconciliation and referential queries are the costliest the gate has.
Success only needs the count. `UnexpectedRowCount` is the same expectation (same query, same
`{batch}` substitution, success when the query returns no rows, observed value = that count)
minus the rows metric; quality/samples.py fetches the offending rows of a *failed* check
afterwards, through the stock expectation over the query limited to a sample.
"""

from __future__ import annotations

from typing import Any, ClassVar

from great_expectations.expectations import UnexpectedRowsExpectation

ROW_COUNT_METRIC = "unexpected_rows_query.row_count"


class UnexpectedRowCount(UnexpectedRowsExpectation):
    """Succeeds when `unexpected_rows_query` returns no rows; observes how many it returns."""

    metric_dependencies: ClassVar[tuple[str, ...]] = (ROW_COUNT_METRIC,)

    def _validate(
        self,
        metrics: dict,
        runtime_configuration: dict | None = None,
        execution_engine: Any = None,
    ) -> dict[str, Any]:
        count = metrics[ROW_COUNT_METRIC]
        return {"success": count == 0, "result": {"observed_value": count}}

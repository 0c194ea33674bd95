"""The quality gate as the dashboards see it: did the latest run pass, and which checks failed."""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

# quality.runs.status is passed | warned | failed; only a failed run holds a build back.
FAILED_STATUSES = frozenset({"failed", "error"})


@dataclass(frozen=True)
class GateStatus:
    run_id: str
    started_at: object
    passed: bool
    failing_checks: tuple[str, ...]


def latest_status(runs: pd.DataFrame, results_of_latest: pd.DataFrame) -> GateStatus | None:
    """`runs` newest first (quality.runs), `results_of_latest` the latest run's results."""
    if runs.empty:
        return None
    latest = runs.iloc[0]
    passed = str(latest.get("status", "")).lower() not in FAILED_STATUSES
    failing = _failing(results_of_latest, critical_only=True)
    return GateStatus(str(latest["run_id"]), latest.get("started_at"), passed, failing)


def _failing(results: pd.DataFrame, critical_only: bool) -> tuple[str, ...]:
    if results.empty or "success" not in results.columns:
        return ()
    failed = results[~results["success"].astype(bool)]
    if critical_only and "severity" in failed.columns:
        failed = failed[failed["severity"].astype(str).str.lower() == "critical"]
    return tuple(sorted({check_name(row) for row in failed.to_dict("records")}))


def check_name(row: dict) -> str:
    """`suite: check(column)` from a quality.results row."""
    check = row.get("check_id") or row.get("expectation_type") or "?"
    name = f"{row['suite']}: {check}" if row.get("suite") else str(check)
    column = row.get("column_name")
    return f"{name}({column})" if column is not None and not pd.isna(column) else name

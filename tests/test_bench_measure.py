"""A failing stage is recorded with its one-line error; the suite is never brought down."""

from __future__ import annotations

from pathlib import Path

from bench.measure import run_stage
from bench.targets import Target


def test_failing_stage_is_recorded_not_raised(tmp_path: Path):
    missing = tmp_path / "no-exports-here"
    result = run_stage(
        "ingest", {"data_dir": str(missing), "db": str(tmp_path / "w.duckdb")}, tmp_path / "logs"
    )
    assert not result.ok
    assert "UserError" in result.error and "no-exports-here" in result.error
    assert result.cpu_seconds > 0
    assert Path(result.log).exists()


def test_target_bounds_read_both_ways():
    upper = Target("x", "x", "s", max=10)
    lower = Target("y", "y", "×", min=0.7)
    assert upper.met(10) and not upper.met(10.5)
    assert lower.met(0.7) and not lower.met(0.69)
    assert upper.met(None) is None

"""A failing stage is recorded with its one-line error; the suite is never brought down."""

from __future__ import annotations

from pathlib import Path

from bench import figures
from bench.machine import steal_percent
from bench.measure import Measurement, run_stage
from bench.report import write_json
from bench.targets import Target, load_targets


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


def test_steal_is_the_stolen_share_of_the_cpu_time_between_two_readings():
    assert steal_percent((100, 10_000), (400, 11_000)) == 30.0
    assert steal_percent((100, 10_000), (100, 11_000)) == 0.0
    # No time passed, or no /proc/stat: not measured rather than a division by zero.
    assert steal_percent((100, 10_000), (100, 10_000)) is None
    assert steal_percent(None, (100, 10_000)) is None


def _stage(name: str, steal: float | None) -> Measurement:
    return Measurement(name, True, 1.0, 1.2, 1.0, 10.0, cpu_steal_percent=steal)


def test_a_run_with_a_stage_above_the_steal_limit_is_marked_not_valid():
    quiet = {"ingest": _stage("ingest", 0.4), "gate": _stage("gate", 2.0)}
    found = figures.compute(quiet, {}, max_steal_percent=5)
    assert found.values["valid"] is True
    assert found.values["max_cpu_steal_percent"] == 2.0
    assert not any(n.startswith("NOT VALID") for n in found.notes)

    stolen = {**quiet, "dbt_build": _stage("dbt_build", 23.5)}
    found = figures.compute(stolen, {}, max_steal_percent=5)
    assert found.values["valid"] is False
    assert found.values["max_cpu_steal_stage"] == "dbt_build"
    assert found.notes[0].startswith("NOT VALID") and "dbt_build (23.5 %)" in found.notes[0]


def test_only_the_figures_timed_on_a_stolen_stage_are_not_valid():
    stages = {name: _stage(name, 30.0 if name == "gate" else 1.0) for name in figures.PIPELINE}
    found = figures.compute(stages, {}, max_steal_percent=5)
    verdicts = {t["figure"]: t["valid"] for t in figures.check_targets(found.values)}
    assert found.values["stolen_stages"] == ["gate"]
    # the gate is part of the full run, and so of the incremental day's denominator
    assert verdicts["quality_ratio"] is False
    assert verdicts["full_pipeline_seconds"] is False
    assert verdicts["incremental_share"] is False
    assert verdicts["ingestion_rate_ratio"] is True
    assert verdicts["dbt_overhead_ratio"] is True
    assert verdicts["peak_rss_gb"] is True
    assert "quality_ratio" in found.notes[0] and "ingestion_rate_ratio" not in found.notes[0]


def test_every_target_names_the_stages_it_is_timed_on():
    _, targets = load_targets()
    assert {t.figure for t in targets} == set(figures.FIGURE_STAGES)


def test_a_second_run_on_the_same_day_does_not_overwrite_the_first(tmp_path: Path):
    first = write_json({"scale": "large", "started_at": "2026-11-23T03:51:02+00:00"}, tmp_path)
    second = write_json({"scale": "large", "started_at": "2026-11-23T04:56:42+00:00"}, tmp_path)
    assert first.name == "large-2026-11-23.json"
    assert second.name == "large-2026-11-23T0456.json"
    assert "03:51" in first.read_text(encoding="utf-8")

"""The benchmark suite end to end at the tiny scale: every stage and baseline runs in its own
process and lands in the JSON and the Markdown table. Timings are never asserted, only that
each was measured."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bench.report import append_markdown, write_json
from bench.suite import run_suite
from bench.targets import load_targets

STAGES = (
    "generate",
    "generate_increment",
    "ingest",
    "plain_ctas",
    "dbt_build",
    "dbt_direct",
    "gate",
    "quality_sql_pass",
    "dashboards",
    "clv_fit",
    "incremental_day",
    "unchanged_day",
)
BASELINES = ("plain_ctas_seconds", "dbt_direct_seconds", "quality_sql_pass_seconds")


@pytest.fixture(scope="module")
def tiny_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict, Path, Path]:
    root = tmp_path_factory.mktemp("bench")
    document = run_suite("tiny", seed=7, cache_dir=root / "cache", work_dir=root / "work")
    path = write_json(document, root / "results")
    docs = root / "benchmarks.md"
    docs.write_text("# Benchmarks\n", encoding="utf-8")
    append_markdown(document, docs)
    return document, path, docs


def test_every_stage_ran_in_its_own_measured_process(tiny_run):
    document, _, _ = tiny_run
    assert document["errors"] == []
    for name in STAGES:
        stage = document["stages"][name]
        assert stage["ok"], f"{name}: {stage['error']}"
        assert stage["seconds"] > 0, name
        assert stage["cpu_seconds"] > 0, name
        assert stage["peak_rss_mb"] > 0, name
        # The child's own timing excludes its start-up, so it never exceeds the process's.
        assert stage["process_seconds"] >= stage["seconds"], name
        assert 0 <= stage["cpu_steal_percent"] <= 100, name
    assert document["figures"]["valid"] in (True, False)


def test_each_ratio_has_its_baseline_from_the_same_run(tiny_run):
    document, _, _ = tiny_run
    figures = document["figures"]
    for name in BASELINES:
        assert figures[name] > 0, name
    assert set(document["baselines"].values()) >= set(BASELINES)
    # The dbt replay rebuilt every table with dbt's row counts: the baseline did the same work.
    assert document["stages"]["dbt_direct"]["details"]["row_count_mismatches"] == []
    assert document["stages"]["dbt_direct"]["details"]["models"] > 0
    assert 0 < figures["increment_row_share"] < 1
    # The unchanged day re-delivers the increment's files: ingestion skips them all.
    assert document["stages"]["incremental_day"]["details"]["rows_read"] > 0
    assert document["stages"]["unchanged_day"]["details"]["rows_read"] == 0
    assert figures["unchanged_share"] > 0
    # The host's speed, from the plain CTAS of the same run.
    plain = document["stages"]["plain_ctas"]["seconds"]
    assert figures["full_pipeline_plain_ctas_multiple"] == pytest.approx(
        figures["full_pipeline_seconds"] / plain, rel=1e-2
    )
    assert any(n.startswith("host speed:") for n in document["notes"])
    # The gate stage is the pipeline's: checks, then what is left of the publication.
    gate = document["stages"]["gate"]["details"]
    assert gate["published"]["gate_passed"] and gate["published"]["marts_tables"] > 0
    assert figures["quality_seconds"] > 0 and figures["publish_seconds"] > 0
    assert figures["quality_seconds"] + figures["publish_seconds"] <= figures["gate_seconds"]
    # The day's fixed cost is itemised from the build's own nodes.
    build = document["stages"]["unchanged_day"]["details"]["build"]
    tests = build["by_resource_type"]["test"]["nodes"]
    assert 0 < build["quick_tests"]["nodes"] <= tests
    assert figures["unchanged_quick_tests"] == build["quick_tests"]["nodes"]
    assert figures["unchanged_dbt_outside_nodes_seconds"] > 0
    assert any(n.startswith("fixed cost of a day with no new rows") for n in document["notes"])


def test_every_target_is_checked_against_a_measured_figure(tiny_run):
    document, _, _ = tiny_run
    _, targets = load_targets()
    checked = {t["figure"]: t for t in document["targets"]}
    assert set(checked) == {t.figure for t in targets}
    for figure, target in checked.items():
        assert target["value"] is not None and target["value"] > 0, figure
        assert target["met"] in (True, False), figure


def test_results_json_and_table_are_written(tiny_run):
    document, path, docs = tiny_run
    assert path.name == f"tiny-{document['started_at'][:10]}.json"
    stored = json.loads(path.read_text(encoding="utf-8"))
    assert stored["scale"] == "tiny"
    assert stored["machine"]["cores"] >= 1
    assert stored["machine"]["memory_gb"] > 0
    assert stored["machine"]["versions"]["duckdb"]
    assert stored["machine"]["versions"]["dbt-core"]
    table = docs.read_text(encoding="utf-8")
    assert "## Pipeline benchmark run: `tiny`" in table
    assert "not measured" not in table
    assert "FAILED" not in table
    # The table names the file written (here a temporary directory, not bench/results).
    assert f"JSON: `{path.resolve()}`" in table


def test_a_new_increment_window_keeps_the_cached_base(tiny_run, tmp_path: Path):
    # Changing increment_days regenerates the increment only: the base export (minutes at
    # large) and its files stay as they are.
    from bench.dataset import MARKER, ensure_dataset

    document, _, _ = tiny_run
    cache = tmp_path / "cache"
    dataset, generated = ensure_dataset("tiny", 7, 1, cache, tmp_path / "logs")
    assert [m.stage for m in generated] == ["generate", "generate_increment"]
    base_files = {p.name: p.stat().st_mtime_ns for p in dataset.base_dir.iterdir()}
    again, regenerated = ensure_dataset("tiny", 7, 2, cache, tmp_path / "logs")
    assert [m.stage for m in regenerated] == ["generate_increment"]
    assert {p.name: p.stat().st_mtime_ns for p in again.base_dir.iterdir()} == base_files
    stored = json.loads((cache / "tiny-7" / MARKER).read_text(encoding="utf-8"))
    assert stored["increment_days"] == 2
    assert again.info["increment"]["rows"] > dataset.info["increment"]["rows"]
    assert document["dataset"]["base"]["rows"] == stored["base"]["rows"]

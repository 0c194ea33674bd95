"""The measured stages: each runs in its own child process (see measure.py) and returns a
JSON-ready dict of details. They call the other workstreams' library functions, as the
pipeline does; none of them times itself except where a sub-step's time is a figure."""

from __future__ import annotations

import json
import time
from datetime import date
from pathlib import Path
from typing import Any


def generate(out_dir: str, scale: str, seed: int) -> dict[str, Any]:
    from generator import generate as generate_base

    summary = generate_base(Path(out_dir), scale=scale, seed=seed)
    return _summary(summary)


def generate_increment(out_dir: str, scale: str, seed: int, days: int, as_of: str) -> dict:
    """`days` days after as_of as one increment (files `*_inc001.*`)."""
    from generator import generate_increment as one_day

    if days == 1:
        return _summary(one_day(Path(out_dir), scale, seed, 1, date.fromisoformat(as_of)))
    # generate_increment writes one day per call and re-simulates the whole world each time;
    # a window of several days is the same export path with a wider window, in one simulation.
    from generator.config import DAY, make_settings, params
    from generator.render import Window
    from generator.run import _export

    horizon = params()["horizon_days"]
    if not 1 <= days <= horizon:
        raise ValueError(f"increment_days {days} is outside 1..{horizon}")
    settings = make_settings(scale, seed, 0.01, date.fromisoformat(as_of))
    window = Window(settings.cutoff, settings.cutoff + days * DAY, "_inc001")
    return _summary(_export(settings, Path(out_dir), window, None, 1))


def _summary(summary) -> dict[str, Any]:
    return {
        "as_of": summary.as_of.isoformat(),
        "rows": summary.rows,
        "files": {f.file: f.rows for f in summary.files},
        "generator_seconds": round(summary.seconds, 3),
    }


def ingest(data_dir: str, db: str) -> dict[str, Any]:
    from ingestion import IngestFailed
    from ingestion import ingest as ingest_dir

    error = None
    try:
        report = ingest_dir(Path(data_dir), Path(db))
    except IngestFailed as exc:  # the other files are loaded, as in the pipeline
        report, error = exc.report, str(exc)
    return {
        "rows_read": report.rows_read,
        "rows_loaded": report.rows_loaded,
        "rows_rejected": report.rows_rejected,
        "files": [
            {
                "file": f.file,
                "entity": f.entity,
                "status": f.status,
                "rows_read": f.rows_read,
                "seconds": round(f.seconds, 3),
            }
            for f in report.files
        ],
        "error": error,
    }


def plain_ctas(data_dir: str, work_dir: str) -> dict[str, Any]:
    """`CREATE TABLE AS SELECT * FROM read_csv/read_parquet/read_json(file)` of every file DuckDB
    reads itself, each into a fresh database (the ingestion benchmark's baseline)."""
    from ingestion.benchmark import _time_baseline
    from ingestion.contracts import load_contracts
    from ingestion.loader import discover
    from ingestion.mapping import load_mapping

    contracts = load_contracts()
    planned = discover(Path(data_dir), load_mapping(None, contracts), contracts)
    work = Path(work_dir)
    work.mkdir(parents=True, exist_ok=True)
    seconds = {f.name: _time_baseline(f.path, f.source, work) for f in planned}
    (work / "baseline.duckdb").unlink(missing_ok=True)
    return {"files": {name: None if s is None else round(s, 3) for name, s in seconds.items()}}


def dbt_build(db: str, target_path: str, log_path: str) -> dict[str, Any]:
    from crm.build import build

    # As the pipeline (`crm run`) builds: without the unit tests.
    result = build(
        Path(db), target_path=Path(target_path), log_path=Path(log_path), unit_tests=False
    )
    return _build_details(result)


# A data test that runs this fast scanned next to nothing: its time is dbt's per-node cost
# (compile, connection, bookkeeping), the part of a daily build no model change removes.
QUICK_TEST_SECONDS = 0.2


def _build_details(result) -> dict[str, Any]:
    by_type: dict[str, dict[str, float]] = {}
    quick: list[float] = []
    for r in result.results:
        entry = by_type.setdefault(r.resource_type, {"nodes": 0, "execution_seconds": 0.0})
        entry["nodes"] += 1
        entry["execution_seconds"] = round(entry["execution_seconds"] + r.execution_time, 3)
        if r.resource_type == "test" and r.execution_time < QUICK_TEST_SECONDS:
            quick.append(r.execution_time)
    from bench.dbt_direct import python_models

    python = python_models(result.target_path)
    invocation = None
    if result.target_path and (result.target_path / "run_results.json").exists():
        document = json.loads((result.target_path / "run_results.json").read_text("utf-8"))
        invocation = document.get("elapsed_time")
    return {
        "success": result.success,
        "summary": result.summary.splitlines()[0] if result.summary else "",
        "failures": [f"{r.resource_type} {r.name}: {r.message}"[:200] for r in result.failures],
        "elapsed_seconds": round(result.elapsed_seconds, 3),
        "invocation_elapsed_seconds": invocation,
        "by_resource_type": by_type,
        "quick_tests": {
            "under_seconds": QUICK_TEST_SECONDS,
            "nodes": len(quick),
            "execution_seconds": round(sum(quick), 3),
        },
        "python_model_seconds": {
            r.name: r.execution_time for r in result.results if r.unique_id in python
        },
        "slowest": sorted(
            ((r.name, round(r.execution_time, 2)) for r in result.results),
            key=lambda item: -item[1],
        )[:8],
    }


def dbt_direct(raw_copy: str, built_db: str, target_path: str) -> dict[str, Any]:
    from bench.dbt_direct import replay

    return replay(Path(raw_copy), Path(built_db), Path(target_path))


def _quality_details(run) -> dict[str, Any]:
    return {
        "run_id": run.run_id,
        "status": run.status,
        # full on a first run; incremental on a later day (per-row checks see new loads only)
        "mode": run.mode,
        "passed": run.passed,
        "checks": len(run.outcomes),
        "critical_failures": [o.check_id for o in run.critical_failures][:20],
        "warnings": len(run.warnings),
        "timings": {k: round(v, 3) for k, v in run.timings.items()},
    }


def _published(publication) -> dict[str, Any]:
    return {
        "path": str(publication.path),
        "gate_passed": publication.gate_passed,
        "marts_updated": publication.marts_updated,
        "marts_tables": len(publication.marts_tables),
    }


def gate(db: str, reports_dir: str, build_ok: bool = True) -> dict[str, Any]:
    """The pipeline's quality gate and publication (`crm.pipeline.gate_and_publish`): the
    publication's file copy runs while the checks do."""
    from crm.pipeline import gate_and_publish

    done = gate_and_publish(Path(db), build_ok, Path(reports_dir))
    return {
        **_quality_details(done.quality_run),
        "step_seconds": {
            "quality": round(done.quality_seconds, 3),
            "publish": round(done.publish_seconds, 3),
        },
        "published": _published(done.publication),
    }


def quality_sql_pass(db: str) -> dict[str, Any]:
    from quality.benchmark import sql_pass
    from quality.suites import load_suites

    suites = load_suites()
    seconds, statements = sql_pass(Path(db), suites)
    return {
        "sql_pass_seconds": round(seconds, 3),
        "statements": statements,
        "checks": sum(len(s.checks) for s in suites),
    }


def publish(db: str, run_id: str, gate: bool) -> dict[str, Any]:
    from crm.publish import publish as publish_file

    return _published(publish_file(Path(db), run_id, gate))


def dashboards(published: str, repeats: int) -> dict[str, Any]:
    """Every page rendered with default filters (the dashboards' own benchmark); every query
    DuckDB answered comes back through its query log, for the p50/p95 over all pages."""
    import statistics
    from dataclasses import asdict

    from dashboards import benchmark

    query_ms: list[float] = []
    pages = benchmark.measure(Path(published), repeats, query_log=query_ms)
    if not query_ms:
        raise RuntimeError("the pages sent no query to DuckDB")
    return {
        "queries": len(query_ms),
        "query_p50_ms": round(statistics.median(query_ms), 1),
        "query_p95_ms": round(benchmark.p95(query_ms), 1),
        "query_max_ms": round(max(query_ms), 1),
        "pages": [asdict(p) for p in pages],
    }


def clv_fit(db: str) -> dict[str, Any]:
    """BG/NBD + Gamma-Gamma on the completed orders of `marts.fct_orders`, as the dbt Python
    model fits them (`clv.warehouse.fit_run`, which times summary + fit)."""
    import duckdb

    from clv.warehouse import completed_orders, fit_run

    con = duckdb.connect(db, read_only=True)
    try:
        started = time.perf_counter()
        orders = completed_orders(con.table("marts.fct_orders"))
        read_seconds = time.perf_counter() - started
    finally:
        con.close()
    run = fit_run(orders).iloc[0]
    return {
        "orders_read_seconds": round(read_seconds, 3),
        "fit_seconds": round(float(run["fit_seconds"]), 3),
        "customers": int(run["customers_used"]),
        "repeat_customers": int(run["repeat_customers_used"]),
        "orders": int(run["orders_used"]),
        "converged": bool(run["is_bgnbd_converged"] and run["is_gamma_gamma_converged"]),
    }


def incremental_day(
    data_dir: str, db: str, target_path: str, log_path: str, reports_dir: str
) -> dict[str, Any]:
    """The daily run on an already built warehouse: ingest the increment, build (incremental
    facts merge the new rows), quality gate and publication as the pipeline runs them (the
    file copy during the checks); each step timed, publish = what is left after the checks."""
    steps: dict[str, float] = {}
    started = time.perf_counter()
    loaded = ingest(data_dir, db)
    steps["ingest"] = time.perf_counter() - started
    started = time.perf_counter()
    built = dbt_build(db, target_path, log_path)
    steps["dbt_build"] = time.perf_counter() - started
    checked = gate(db, reports_dir, built["success"])
    steps.update(checked["step_seconds"])
    return {
        "step_seconds": {k: round(v, 3) for k, v in steps.items()},
        "rows_read": loaded["rows_read"],
        "ingest_error": loaded["error"],
        "build": {
            k: built[k]
            for k in (
                "success",
                "summary",
                "failures",
                "slowest",
                "invocation_elapsed_seconds",
                "by_resource_type",
                "quick_tests",
            )
        },
        "quality_status": checked["status"],
        "quality_mode": checked["mode"],
        "published": checked["published"],
    }

"""`run_pipeline`: ingest → build → quality → publish, the path `crm run` and `make demo` take.

The gate: the marts reach the published file only when the dbt build succeeded and no
critical expectation failed. Otherwise the published file keeps the last good marts and
still receives the quality history, so dashboards can name the checks that failed.

After a successful build the byte copy a passed gate publishes from is made while the checks
run: both only read the working file, the copy is mostly disk and the checks mostly CPU, so a
daily run waits for the longer of the two instead of their sum (docs/benchmarks.md). A failed
gate throws the copy away.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from crm.publish import Publication, publish, start_snapshot
from quality import QualityRun, run_quality


@dataclass
class Gate:
    quality_run: QualityRun
    publication: Publication
    quality_seconds: float  # the checks and the history write
    publish_seconds: float  # after them: what was left of the copy, then the assembly

    @property
    def passed(self) -> bool:
        return self.publication.gate_passed


def gate_and_publish(db_path: Path, build_ok: bool, reports_dir: Path | None = None) -> Gate:
    """The quality gate over the working warehouse, then its publication (crm.publish)."""
    started = time.perf_counter()
    snapshot = start_snapshot(db_path) if build_ok else None
    try:
        run = run_quality(
            db_path, reports_dir=reports_dir, before_record=snapshot.wait if snapshot else None
        )
    except BaseException:
        if snapshot is not None:
            snapshot.discard()
        raise
    checked = time.perf_counter()
    publication = publish(db_path, run.run_id, build_ok and run.passed, snapshot)
    return Gate(run, publication, checked - started, time.perf_counter() - checked)


@dataclass
class PipelineResult:
    published: bool  # the marts of this run are what dashboards now read
    summary: str
    ingest_report: Any
    build_result: Any
    quality_run: QualityRun
    publication: Publication

    @property
    def published_path(self) -> Path:
        return self.publication.path


def run_pipeline(data_dir: Path, db_path: Path, reports_dir: Path | None = None) -> PipelineResult:
    """Run the whole pipeline on the exports in `data_dir` into the warehouse `db_path`."""
    from crm.build import build
    from ingestion import IngestFailed, ingest

    data_dir, db_path = Path(data_dir), Path(db_path)
    lines: list[str] = []
    try:
        report = ingest(data_dir, db_path)
    except IngestFailed as exc:
        # The other files are loaded; the ledger check holds the marts back.
        report = exc.report
        lines.append(f"ingest: {exc}")
    else:
        lines.append(
            f"ingest: {report.rows_loaded} rows loaded, {report.rows_rejected} rejected "
            f"(kept in raw._rejects)"
        )
    # Unit tests prove the code on fixed rows: `make test` and `crm build` run them, the
    # pipeline does not (dbt's own advice for production runs).
    built = build(db_path, unit_tests=False)
    lines.append(built.summary.splitlines()[0] if built.summary else f"build: {built.success}")
    gate = gate_and_publish(db_path, built.success, reports_dir)
    run, publication = gate.quality_run, gate.publication
    lines.append(
        f"quality: {run.status} ({len(run.outcomes)} checks, "
        f"{len(run.critical_failures)} critical failed, {len(run.warnings)} warnings)"
    )
    lines += [
        f"  critical: {o.check_id}: {o.exception or o.observed_value}"
        for o in run.critical_failures[:10]
    ]
    if gate.passed:
        lines.append(f"published: {len(publication.marts_tables)} marts → {publication.path}")
    else:
        reason = "dbt build failed" if not built.success else "critical checks failed"
        kept = publication.marts_run_id or "none yet"
        lines.append(
            f"NOT published ({reason}): dashboards keep the marts of run {kept}; "
            f"quality history updated in {publication.path}"
        )
    return PipelineResult(gate.passed, "\n".join(lines), report, built, run, publication)

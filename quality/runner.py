"""`run_quality`: every suite through GX, history into the warehouse, Data Docs on disk."""

from __future__ import annotations

import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from crm.errors import UserError
from crm.settings import PROJECT_ROOT
from quality import data_docs, history, scope
from quality.suites import SUITES_DIR, load_suites
from quality.validation import CheckOutcome, validate


@dataclass
class QualityRun:
    run_id: str
    started_at: datetime
    finished_at: datetime
    outcomes: list[CheckOutcome]
    data_docs_index: Path
    offline_gaps: list[str] = field(default_factory=list)
    timings: dict[str, float] = field(default_factory=dict)
    mode: str = "full"  # full: every check over whole tables; incremental: see quality/scope.py

    @property
    def critical_failures(self) -> list[CheckOutcome]:
        return [o for o in self.outcomes if not o.success and o.severity == "critical"]

    @property
    def warnings(self) -> list[CheckOutcome]:
        return [o for o in self.outcomes if not o.success and o.severity != "critical"]

    @property
    def passed(self) -> bool:
        """The gate: no critical expectation failed."""
        return not self.critical_failures

    @property
    def status(self) -> str:
        if self.critical_failures:
            return "failed"
        return "warned" if self.warnings else "passed"


def reports_dir_for(db_path: Path) -> Path:
    """Where the Data Docs of a warehouse go.

    The project's own warehouse (warehouse/*.duckdb) reports to `reports/` at the project root,
    the path the README links; any other warehouse (tests, private runs) reports beside its
    file, so runs never overwrite each other's reports.
    """
    if db_path.parent == PROJECT_ROOT / "warehouse":
        return PROJECT_ROOT / "reports"
    return db_path.parent / "reports"


def _run_id(now: datetime) -> str:
    return f"{now:%Y%m%dT%H%M%SZ}-{secrets.token_hex(3)}"


def run_quality(
    db_path: Path,
    reports_dir: Path | None = None,
    suites_dir: Path = SUITES_DIR,
    layers: tuple[str, ...] = (),
    full: bool = False,
    before_record: Callable[[], None] | None = None,
) -> QualityRun:
    """Validate the warehouse, append the run to `quality.runs`/`quality.results`, build the
    Data Docs under `<reports>/data_docs/`. Raises nothing for failed checks: the caller reads
    `.passed`.

    Per-row and key checks of raw suites see only the loads no passed run covered
    (quality/scope.py); `full=True` runs every check over whole tables. `before_record` is
    called between the checks, which only read the file, and the history write: the pipeline
    waits there for its background copy of the file (crm.pipeline)."""
    import great_expectations as gx

    db_path = Path(db_path)
    if not db_path.is_file():
        raise UserError(f"{db_path}: no such warehouse file")
    reports_dir = reports_dir or reports_dir_for(db_path)
    docs_dir = reports_dir / "data_docs"
    started = datetime.now(UTC).replace(tzinfo=None)
    run_id = _run_id(started)
    suites = load_suites(suites_dir, now=started, layers=layers)
    timings: dict[str, float] = {}
    plan = scope.plan(db_path, suites, full=full)
    outcomes = validate(db_path, plan.parts, reports_dir, docs_dir, run_id, timings)
    gaps = data_docs.localise_site(docs_dir)
    finished = datetime.now(UTC).replace(tzinfo=None)
    run = QualityRun(
        run_id, started, finished, outcomes, docs_dir / "index.html", gaps, timings, plan.mode
    )
    if before_record is not None:
        before_record()
    history.record_run(
        db_path,
        {
            "run_id": run_id,
            "started_at": started,
            "finished_at": finished,
            "status": run.status,
            "checks": len(outcomes),
            "passed": sum(o.success for o in outcomes),
            "failed_critical": len(run.critical_failures),
            "failed_warning": len(run.warnings),
            "gx_version": gx.__version__,
            "data_docs_path": str(run.data_docs_index),
            "mode": run.mode,
        },
        outcomes,
        plan.settlements,
    )
    return run

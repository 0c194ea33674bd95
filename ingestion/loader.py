"""`ingest()`: land every export file of a directory in schema raw, one transaction per file.

Per file: checksum (a file already loaded is skipped), a committed `running` ledger row, then
in one transaction: stage -> type and check -> duplicates -> references -> insert rows and
rejects -> ledger row `loaded`. Any failure rolls the transaction back and marks the ledger
row `failed`; a process killed mid-file leaves `running`, which the next run marks failed.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import logging
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

import duckdb
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn, TransferSpeedColumn

from crm.errors import UserError
from ingestion import ledger
from ingestion.contracts import Contracts, load_contracts
from ingestion.mapping import Mapping, Source, load_mapping
from ingestion.readers import FileProblem, Staged, stage_file
from ingestion.report import FileResult, IngestReport
from ingestion.settings import MEMORY_LIMIT_ENV, SETTINGS_PATH, load_settings
from ingestion.sqltext import ident
from ingestion.validation import ColumnPlan, find_late_rejects, plan_columns, type_and_check

log = logging.getLogger(__name__)


class IngestFailed(UserError):
    """One or more files could not be loaded; the others were. Carries the run's report."""

    def __init__(self, message: str, report: IngestReport) -> None:
        super().__init__(message)
        self.report = report


@dataclass(frozen=True)
class PlannedFile:
    source: Source
    path: Path
    name: str  # relative to the ingested directory, as recorded in lineage and the ledger


def discover(source_dir: Path, mapping: Mapping, contracts: Contracts) -> list[PlannedFile]:
    """Files matching the mapping, parents before children (contract load order), then in
    mapping order and by name, so increments load after the files they follow."""
    claimed: dict[Path, Source] = {}
    planned = []
    for source in mapping.sources:
        paths = sorted({p for pattern in source.files for p in source_dir.glob(pattern)})
        for path in paths:
            if not path.is_file():
                continue
            if path in claimed:
                raise UserError(
                    f"{path}: matched by two mapping sources, {claimed[path].name!r} and "
                    f"{source.name!r}; narrow their globs in {mapping.path}"
                )
            claimed[path] = source
            planned.append(PlannedFile(source, path, path.relative_to(source_dir).as_posix()))
    order = {s.name: i for i, s in enumerate(mapping.sources)}
    planned.sort(
        key=lambda f: (contracts[f.source.entity].load_order, order[f.source.name], f.name)
    )
    return planned


def connect(db_path: Path) -> duckdb.DuckDBPyConnection:
    try:
        db_path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise UserError(f"{db_path}: cannot create its directory ({exc.strerror})") from None
    try:
        con = duckdb.connect(str(db_path))
    except duckdb.IOException as exc:
        if "lock" in str(exc).lower():
            raise UserError(f"{db_path}: warehouse is in use by another process") from None
        raise UserError(f"{db_path}: cannot open warehouse ({str(exc).splitlines()[0]})") from None
    except duckdb.Error as exc:
        raise UserError(f"{db_path}: cannot open warehouse ({str(exc).splitlines()[0]})") from None
    try:
        load_settings().apply(con)
    except duckdb.Error as exc:  # e.g. a memory limit DuckDB cannot parse
        con.close()
        raise UserError(
            f"DuckDB settings ({SETTINGS_PATH} or ${MEMORY_LIMIT_ENV}): {str(exc).splitlines()[0]}"
        ) from None
    con.execute("SET TimeZone = 'UTC'")
    con.execute("SET enable_progress_bar = false")  # ours is per file, on stderr only if asked
    return con


def _load_in_transaction(
    con: duckdb.DuckDBPyConnection,
    planned: PlannedFile,
    contracts: Contracts,
    load_id: str,
    loaded_at: dt.datetime,
) -> FileResult:
    source = planned.source
    contract = contracts[source.entity]
    staged = stage_file(con, planned.path, source)
    # JSON Lines know their columns only from records: with no readable record there is no
    # evidence of a wrong export, only garbled lines to reject (or nothing at all).
    require = not (source.format == "jsonl" and staged.rows == 0)
    plan = plan_columns(contract, source, staged.columns, require=require, types=staged.types)
    # Every row carries its record number from here on, so no statement needs to keep file
    # order; letting both threads write raw in any order saves a tenth of the insert.
    con.execute("SET preserve_insertion_order = false")
    # Staging touched only temp tables; from here on everything is one transaction.
    con.execute("BEGIN TRANSACTION")
    log.info("checking %s (%d records staged)", planned.name, staged.rows + staged.garbled)
    type_and_check(con, contract, source, plan, loaded_at, contracts.future_tolerance)
    late = find_late_rejects(con, contract, contracts)

    cols = ", ".join(ident(c) for c in contract.column_names)
    # Anti-join only when something was found late: most files of a clean export have nothing.
    not_late = (
        " AND NOT EXISTS (SELECT 1 FROM _late AS l WHERE l._source_row = t._source_row)"
        if late
        else ""
    )
    loaded = con.execute(
        f"""
        INSERT INTO raw.{ident(contract.name)}
            ({cols}, _load_id, _source_file, _source_row, _loaded_at, _extra)
        SELECT {cols}, ?, ?, _source_row, ?, _extra FROM _typed AS t
        WHERE _reason IS NULL{not_late}
        """,
        [load_id, planned.name, loaded_at],
    ).fetchone()[0]
    rejected = _insert_rejects(
        con, contract.name, plan, staged, late, [load_id, planned.name, loaded_at]
    )
    read = staged.rows + staged.garbled
    if loaded + rejected != read:  # the lossless guarantee; a bug if it ever fails
        raise RuntimeError(f"{planned.name}: read {read} rows but kept {loaded} + {rejected}")
    return FileResult(
        load_id=load_id,
        source=source.name,
        entity=contract.name,
        file=planned.name,
        status="loaded",
        rows_read=read,
        rows_loaded=loaded,
        rows_rejected=rejected,
        extra_columns=plan.extra,
        missing_columns=plan.missing,
    )


def _insert_rejects(
    con: duckdb.DuckDBPyConnection,
    entity: str,
    plan: ColumnPlan,
    staged: Staged,
    late: int,
    where: list,
) -> int:
    """Write the file's rejects (`where` = load id, file, rejected_at) and return how many.
    The record text is looked up in `_stage` for the rejected rows only, and not at all when
    every row passed (the lookup scans the whole stage)."""
    rejected = 0
    reasons = "SELECT _source_row, _reason FROM _typed WHERE _reason IS NOT NULL"
    if late:
        reasons += " UNION ALL SELECT _source_row, _reason FROM _late"
    if late or con.execute(f"SELECT count(*) FROM ({reasons})").fetchone()[0]:
        rejected += con.execute(
            f"""
            INSERT INTO raw._rejects
            SELECT $1, $2, $3, r._source_row, {plan.record(staged.columns, "s")}, r._reason,
                   split_part(r._reason, ':', 1), $4
            FROM ({reasons}) AS r JOIN _stage AS s ON s._source_row = r._source_row
            """,
            [entity, *where],
        ).fetchone()[0]
    if staged.garbled:
        rejected += con.execute(
            """
            INSERT INTO raw._rejects
            SELECT $1, $2, $3, _source_row, record, 'garbled_line: ' || detail, 'garbled_line', $4
            FROM _garbled
            """,
            [entity, *where],
        ).fetchone()[0]
    return rejected


def load_file(
    con: duckdb.DuckDBPyConnection, planned: PlannedFile, contracts: Contracts, run_id: str
) -> FileResult:
    """Load one file atomically and record it in the ledger (see module docstring)."""
    began = time.perf_counter()
    load_id = uuid.uuid4().hex
    source = planned.source
    started = ledger.utc_now()
    common = dict(
        _load_id=load_id, run_id=run_id, entity=source.entity, source=source.name,
        file=planned.name, started_at=started,
    )  # fmt: skip
    try:
        checksum = ledger.sha256(planned.path)
        size = planned.path.stat().st_size
    except OSError as exc:
        message = f"cannot be read ({exc.strerror or exc})"
        ledger.start(con, **common, checksum="", status="failed", error=message,
                     finished_at=started)  # fmt: skip
        return FileResult(
            load_id, source.name, source.entity, planned.name, "failed", error=message
        )
    common |= {"checksum": checksum, "bytes": size}
    prior = ledger.already_loaded(con, source.entity, checksum)
    if prior is not None:
        note = f"same content as {prior}, already loaded"
        ledger.start(
            con, **common, status="skipped_duplicate_file", error=note, finished_at=started
        )
        return FileResult(
            load_id, source.name, source.entity, planned.name, "skipped_duplicate_file", error=note
        )
    ledger.start(con, **common, status="running")
    log.info("loading %s as %s (load %s)", planned.name, source.entity, load_id)
    try:
        result = _load_in_transaction(con, planned, contracts, load_id, started)
        ledger.finish(
            con,
            load_id,
            status="loaded",
            rows_read=result.rows_read,
            rows_loaded=result.rows_loaded,
            rows_rejected=result.rows_rejected,
            extra_columns=", ".join(result.extra_columns) or None,
            missing_columns=", ".join(result.missing_columns) or None,
            finished_at=ledger.utc_now(),
        )
        con.execute("COMMIT")
    except (FileProblem, OSError, UnicodeError) as exc:
        _rollback(con)
        message = str(exc) if isinstance(exc, FileProblem) else f"cannot be read ({exc})"
        ledger.finish(con, load_id, status="failed", error=message, finished_at=ledger.utc_now())
        log.info("failed %s: %s", planned.name, message)
        return FileResult(
            load_id, source.name, source.entity, planned.name, "failed", error=message,
            seconds=time.perf_counter() - began,
        )  # fmt: skip
    except BaseException as exc:
        _rollback(con)
        ledger.finish(
            con, load_id, status="failed", error=f"{type(exc).__name__}: {exc}"[:500],
            finished_at=ledger.utc_now(),
        )  # fmt: skip
        raise
    return dataclasses.replace(result, seconds=time.perf_counter() - began)


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return 0  # load_file reports the unreadable file


def _rollback(con: duckdb.DuckDBPyConnection) -> None:
    """Undo the file's transaction, if it got as far as opening one."""
    # A failure before BEGIN leaves nothing to undo.
    with contextlib.suppress(duckdb.TransactionException):
        con.execute("ROLLBACK")


def _progress(enabled: bool, console: Console | None) -> Progress:
    """A bar over the bytes of all files, on a terminal only (logs get the summary table)."""
    console = console or Console(stderr=True)
    return Progress(
        TextColumn("[bold]ingest[/bold] {task.description}"),
        BarColumn(),
        TransferSpeedColumn(),
        TimeElapsedColumn(),
        console=console,
        disable=not (enabled and console.is_terminal),
        transient=True,
    )


def ingest(
    source_dir: Path,
    db_path: Path,
    mapping: Path | None = None,
    progress: bool = False,
    console: Console | None = None,
) -> IngestReport:
    """Ingest every file of `source_dir` that `mapping` (default: ingestion/mappings/default.yml)
    describes into `raw.*` of the DuckDB file `db_path`.

    Returns the run's report. Raises UserError when the directory, the mapping or the warehouse
    is unusable, and `IngestFailed` (a UserError carrying the report) after loading everything
    else when some file could not be loaded. Rejected rows never fail a run.
    """
    began = time.perf_counter()
    source_dir, db_path = Path(source_dir), Path(db_path)
    if not source_dir.is_dir():
        raise UserError(f"{source_dir}: no such directory")
    contracts = load_contracts()
    chosen = load_mapping(mapping, contracts)
    planned = discover(source_dir, chosen, contracts)
    if not planned:
        globs = ", ".join(g for s in chosen.sources for g in s.files)
        raise UserError(f"{source_dir}: no file matches mapping {chosen.path.name} ({globs})")
    run_id = ledger.utc_now().strftime("%Y%m%dT%H%M%S") + "-" + uuid.uuid4().hex[:6]
    report = IngestReport(run_id=run_id, source_dir=str(source_dir), db_path=str(db_path))
    con = connect(db_path)
    try:
        ledger.ensure_schema(con, contracts)
        ledger.close_interrupted(con)
        sizes = [_size(f.path) for f in planned]
        with _progress(progress, console) as bar:
            task = bar.add_task("", total=sum(sizes))
            for f, size in zip(planned, sizes, strict=True):
                bar.update(task, description=f.name)
                report.files.append(load_file(con, f, contracts, run_id))
                bar.advance(task, size)
        ids = [f.load_id for f in report.files]
        report.reject_codes = dict(
            con.execute(
                "SELECT reason_code, count(*) FROM raw._rejects WHERE list_contains(?, _load_id) "
                "GROUP BY 1",
                [ids],
            ).fetchall()
        )
    finally:
        con.close()
    report.seconds = time.perf_counter() - began
    if report.failed:
        first = report.failed[0]
        others = len(report.failed) - 1
        more = f" (and {others} more failed file(s))" if others else ""
        raise IngestFailed(f"{source_dir / first.file}: {first.error}{more}", report)
    return report

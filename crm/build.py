"""Runs the dbt project (`dbt build`) against a warehouse file and summarises what failed.

dbt runs as a subprocess of the venv's own `dbt`: each run gets a clean process that closes
the DuckDB file on exit (so the file can be copied or swapped right after), and several builds
of different warehouses can run side by side, which dbtRunner in one process cannot.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from crm.errors import UserError
from crm.settings import DB_ENV, DBT_PROJECT_DIR, duckdb_memory_limit
from ingestion.settings import MEMORY_LIMIT_ENV

# Statuses dbt writes in run_results.json for nodes that did not pass.
_FAILED = {"error", "fail", "runtime error"}
_SUMMARY_LIMIT = 20

# Two builds of one warehouse in one process would fight over DuckDB's single writer lock.
_BUILD_LOCKS: dict[Path, threading.Lock] = {}
_LOCKS_GUARD = threading.Lock()


@dataclass(frozen=True)
class NodeResult:
    """One node of a dbt invocation as run_results.json reports it."""

    unique_id: str
    resource_type: str
    name: str
    status: str
    message: str
    execution_time: float
    rows_affected: int | None = None

    @property
    def failed(self) -> bool:
        return self.status in _FAILED


@dataclass
class BuildResult:
    """Outcome of `build()`: `.success`, a one-paragraph `.summary`, and every node's result."""

    success: bool
    summary: str
    results: list[NodeResult] = field(default_factory=list)
    elapsed_seconds: float = 0.0
    target_path: Path | None = None
    docs_path: Path | None = None
    # Facts stamp the rows a run wrote with it (column _dbt_invocation_id).
    invocation_id: str | None = None

    @property
    def failures(self) -> list[NodeResult]:
        return [r for r in self.results if r.failed]

    @property
    def warnings(self) -> list[NodeResult]:
        return [r for r in self.results if r.status == "warn"]


def default_target_path(db_path: Path) -> Path:
    """dbt's target directory for one warehouse: beside the file, so builds of different
    warehouses never share (and corrupt) each other's partial-parse state."""
    return db_path.parent / f"{db_path.stem}.dbt" / "target"


def _dbt_executable() -> str:
    candidate = Path(sys.executable).with_name("dbt")
    return str(candidate) if candidate.exists() else "dbt"


def _lock_for(db_path: Path) -> threading.Lock:
    with _LOCKS_GUARD:
        return _BUILD_LOCKS.setdefault(db_path, threading.Lock())


def _existing_relations(db_path: Path) -> set[tuple[str, str]]:
    """(schema, name) of every table and view in the warehouse, after checking that it holds
    the raw layer (one-line error otherwise)."""
    if not db_path.exists():
        raise UserError(f"{db_path}: no such warehouse (run `crm ingest` first)")
    try:
        con = duckdb.connect(str(db_path), read_only=True)
    except duckdb.Error as exc:
        raise UserError(f"{db_path}: cannot open the warehouse: {exc}") from None
    try:
        rows = con.execute(
            "select table_schema, table_name from information_schema.tables "
            "where table_catalog = current_database()"
        ).fetchall()
    finally:
        con.close()
    relations = {(schema.lower(), name.lower()) for schema, name in rows}
    if not any(schema == "raw" for schema, _ in relations):
        raise UserError(f"{db_path}: no raw layer (schema raw is empty; run `crm ingest` first)")
    return relations


def _missing_nodes(
    target_path: Path, relations: set[tuple[str, str]], scope: set[str] | None = None
) -> dict[str, dict]:
    """Models and seeds of the freshly parsed manifest that have no relation in the
    warehouse yet, by name; with `scope` (unique ids), only those nodes and the ones they
    read."""
    manifest_file = target_path / "manifest.json"
    nodes = json.loads(manifest_file.read_text(encoding="utf-8")).get("nodes", {})
    if scope is not None:
        scope = scope | {
            parent
            for uid in scope
            for parent in nodes.get(uid, {}).get("depends_on", {}).get("nodes", [])
        }
    missing = {}
    for unique_id, node in nodes.items():
        if node.get("resource_type") not in ("model", "seed"):
            continue
        if scope is not None and unique_id not in scope:
            continue
        if node.get("config", {}).get("materialized") == "ephemeral":
            continue
        name = (node.get("alias") or node["name"]).lower()
        if (str(node.get("schema", "")).lower(), name) not in relations:
            missing[node["name"]] = node
    return missing


def _incremental_relations(nodes: list[dict]) -> list[tuple[str, str]]:
    """(schema, name) of the incremental models among manifest `nodes`."""
    return [
        (str(node["schema"]), str(node.get("alias") or node["name"]))
        for node in nodes
        if node.get("resource_type") == "model"
        and node.get("config", {}).get("materialized") == "incremental"
    ]


def _drop(db_path: Path, relations: list[tuple[str, str]]) -> None:
    if not relations:
        return
    con = duckdb.connect(str(db_path))
    try:
        for schema, name in relations:
            con.execute(f'drop table if exists "{schema}"."{name}"')
    finally:
        con.close()


def _selected(
    select: list[str], common: list[str], env: dict[str, str], target_path: Path, log_path: Path
) -> set[str] | None:
    """Unique ids of the models and seeds a `--select` picks (None when dbt cannot list them;
    the build then reports the selection error itself)."""
    args = ["--quiet", "ls", "--select", *select, "--resource-type", "model"]
    args += ["--resource-type", "seed", "--output", "json", "--output-keys", "unique_id"]
    completed, _, _ = _invoke([*args, *common], env, target_path, log_path)
    if completed.returncode != 0:
        return None
    lines = [line for line in completed.stdout.splitlines() if line.startswith("{")]
    return {json.loads(line)["unique_id"] for line in lines}


def _node_name(unique_id: str) -> str:
    """Readable name of a node: tests carry a hash after their name, unit tests their model
    before it (`unit_test.<project>.<model>.<test>`)."""
    parts = unique_id.split(".")
    if parts[0] == "test" and len(parts) >= 4:
        return parts[2]
    if parts[0] == "unit_test" and len(parts) >= 4:
        return f"{parts[2]}::{parts[3]}"
    return parts[-1]


def _read_results(target_path: Path) -> tuple[list[NodeResult], str | None]:
    """Node results and the invocation id of the last dbt run in `target_path`."""
    results_file = target_path / "run_results.json"
    if not results_file.exists():
        return [], None
    document = json.loads(results_file.read_text(encoding="utf-8"))
    invocation_id = (document.get("metadata") or {}).get("invocation_id")
    results = []
    for item in document.get("results", []):
        unique_id = item.get("unique_id", "")
        adapter_response = item.get("adapter_response") or {}
        results.append(
            NodeResult(
                unique_id=unique_id,
                resource_type=unique_id.split(".", 1)[0],
                name=_node_name(unique_id),
                status=str(item.get("status", "")),
                message=" ".join(str(item.get("message") or "").split()),
                execution_time=float(item.get("execution_time") or 0.0),
                rows_affected=adapter_response.get("rows_affected"),
            )
        )
    return results, invocation_id


def _error_lines(output: str) -> str:
    """The lines of dbt's console output that explain a failure before any node ran."""
    lines = [line.strip() for line in output.splitlines()]
    picked = [line for line in lines if "Error" in line or "error" in line]
    tail = picked or [line for line in lines if line][-5:]
    return " | ".join(tail[:8])


def _invoke(args: list[str], env: dict[str, str], target_path: Path, log_path: Path):
    command = [
        _dbt_executable(),
        *args,
        "--project-dir",
        str(DBT_PROJECT_DIR),
        "--profiles-dir",
        str(DBT_PROJECT_DIR),
        "--target-path",
        str(target_path),
        "--log-path",
        str(log_path),
    ]
    results_file = target_path / "run_results.json"
    results_file.unlink(missing_ok=True)
    completed = subprocess.run(
        command, cwd=DBT_PROJECT_DIR, env=env, capture_output=True, text=True, check=False
    )
    results, invocation_id = _read_results(target_path)
    return completed, results, invocation_id


def _summarise(verb: str, results: list[NodeResult], returncode: int, output: str) -> str:
    failures = [r for r in results if r.failed]
    warnings = [r for r in results if r.status == "warn"]
    passed = len(results) - len(failures) - len(warnings)
    head = f"dbt {verb}: {passed} passed, {len(warnings)} warned, {len(failures)} failed"
    if returncode != 0 and not failures:
        return f"{head}; dbt exited {returncode}: {_error_lines(output)}"
    if not failures:
        return head
    details = [f"{r.resource_type} {r.name} ({r.status}): {r.message}" for r in failures]
    more = len(details) - _SUMMARY_LIMIT
    shown = details[:_SUMMARY_LIMIT] + ([f"... and {more} more"] if more > 0 else [])
    return head + "\n" + "\n".join(f"  - {line}" for line in shown)


def build(
    db_path: Path,
    select: list[str] | None = None,
    full_refresh: bool = False,
    target_path: Path | None = None,
    log_path: Path | None = None,
    docs: bool = False,
    dbt_vars: dict | None = None,
    exclude: list[str] | None = None,
    unit_tests: bool = True,
) -> BuildResult:
    """`dbt build` of the project against the warehouse `db_path` (which must hold the raw
    layer). Models and seeds without a relation yet (all of them on a warehouse never built)
    are first created empty (`dbt build --empty`): dbt unit tests need their inputs to exist.
    `unit_tests=False` leaves the unit tests (and so that pre-pass) out, as production runs
    do: their inputs are fixed rows, so they prove the code, not the data.
    `docs=True` also writes the self-contained `static_index.html` (dbt docs, offline)."""
    db_path = Path(db_path).expanduser().resolve()
    target_path = Path(target_path) if target_path else default_target_path(db_path)
    log_path = Path(log_path) if log_path else target_path.parent / "logs"
    target_path.mkdir(parents=True, exist_ok=True)
    log_path.mkdir(parents=True, exist_ok=True)

    with _lock_for(db_path):
        relations = _existing_relations(db_path)
        env = {
            **os.environ,
            DB_ENV: str(db_path),
            MEMORY_LIMIT_ENV: duckdb_memory_limit(),
            "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
            "DBT_USE_COLORS": "false",
        }
        common: list[str] = []
        if dbt_vars:
            common += ["--vars", json.dumps(dbt_vars)]
        started = time.perf_counter()

        # The manifest is read only to find a selection or the relations unit tests need;
        # a production run (no selection, no unit tests) lets `dbt build` parse it once.
        if select or unit_tests:
            parsed, _, _ = _invoke(["parse", *common], env, target_path, log_path)
            if parsed.returncode != 0:
                return BuildResult(
                    success=False,
                    summary="dbt parse failed: " + _error_lines(parsed.stdout + parsed.stderr),
                    elapsed_seconds=time.perf_counter() - started,
                    target_path=target_path,
                )
        # dbt unit tests need the relations they read to exist: create the missing ones
        # empty first (on a warehouse never built, all of them). A partial build only needs
        # its own nodes and what they read: the rest of the project may not be buildable here.
        scope = _selected(select, common, env, target_path, log_path) if select else None
        missing = _missing_nodes(target_path, relations, scope) if unit_tests else {}
        if missing:
            empty = ["build", "--empty", "--resource-type", "model", "--resource-type", "seed"]
            empty += ["--select", *sorted(missing)]
            completed, results, _ = _invoke([*empty, *common], env, target_path, log_path)
            if completed.returncode != 0:
                output = completed.stdout + completed.stderr
                return BuildResult(
                    success=False,
                    summary="creating empty relations failed: "
                    + _summarise("build --empty", results, completed.returncode, output),
                    results=results,
                    elapsed_seconds=time.perf_counter() - started,
                    target_path=target_path,
                )
            # Left empty, an incremental model's first build would take the incremental path
            # (a temp table, then delete+insert of every row), several times slower at scale
            # than the `create table as` dbt runs when the relation is missing. By the time
            # they run, the unit tests find it built: dbt builds parents first.
            _drop(db_path, _incremental_relations(list(missing.values())))

        args = ["build", *common]
        if select:
            # A partial build runs only the tests it can satisfy: those whose every parent is
            # selected or upstream of the selection. dbt's default (eager) would also run, say,
            # a KPI mart's reconciliation against a freshly rebuilt fact while the mart itself
            # is stale, and report a failure that is not one.
            args += ["--select", *select, "--indirect-selection", "buildable"]
        if exclude:
            args += ["--exclude", *exclude]
        if not unit_tests:
            args += ["--exclude-resource-type", "unit_test"]
        if full_refresh:
            args.append("--full-refresh")
        completed, results, invocation_id = _invoke(args, env, target_path, log_path)
        output = completed.stdout + completed.stderr
        success = completed.returncode == 0 and not any(r.failed for r in results)
        summary = _summarise("build", results, completed.returncode, output)

        docs_path = None
        if docs and success:
            docs_args = ["docs", "generate", "--static", *common]
            docs_run, _, _ = _invoke(docs_args, env, target_path, log_path)
            if docs_run.returncode != 0:
                success = False
                summary += "\ndbt docs generate failed: " + _error_lines(
                    docs_run.stdout + docs_run.stderr
                )
            else:
                docs_path = target_path / "static_index.html"

        return BuildResult(
            success=success,
            summary=summary,
            results=results,
            elapsed_seconds=time.perf_counter() - started,
            target_path=target_path,
            docs_path=docs_path,
            invocation_id=invocation_id,
        )

"""dbt's floor: the SQL dbt compiled in a build, executed directly in DuckDB, in DAG order.

Reads the build's `manifest.json` (graph, materialisations, relations) and `run_results.json`
(the code compiled in that run) from its target path, and replays on a copy of the warehouse
as ingested (same file name, so the compiled `"<catalog>"."schema"."table"` names resolve):
- SQL models: `create or replace view|table <schema>.<alias> as <compiled code>`;
- incremental models: dbt's build first creates every relation empty (`dbt build --empty`),
  so their compiled code joins the (empty) target; the replay creates the same empty table
  first, untimed;
- data tests: `select count(*) from (<compiled test>)`, as dbt counts failures;
- seeds and Python models (the CLV fit, timed on its own as the `clv_fit` stage) are not SQL:
  their tables are copied from the built warehouse, untimed, so downstream models find them.
Unit tests have no SQL equivalent and are left out; the suite subtracts their dbt time.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import duckdb

_RUN_NODE = ("model", "seed")


def _load(target_path: Path) -> tuple[dict, dict[str, str]]:
    manifest = json.loads((target_path / "manifest.json").read_text(encoding="utf-8"))
    results = json.loads((target_path / "run_results.json").read_text(encoding="utf-8"))
    compiled = {
        r["unique_id"]: r.get("compiled_code") or ""
        for r in results["results"]
        if r.get("status") not in ("skipped", "error", "runtime error")
    }
    return manifest, compiled


def python_models(target_path: Path | None) -> set[str]:
    if target_path is None or not (target_path / "manifest.json").exists():
        return set()
    manifest = json.loads((target_path / "manifest.json").read_text(encoding="utf-8"))
    return {uid for uid, n in manifest["nodes"].items() if n.get("language") == "python"}


def _dag_order(nodes: dict[str, dict], selected: set[str]) -> list[str]:
    """Topological order of `selected` by their dependencies (Kahn), ties by name."""
    parents = {
        uid: {p for p in nodes[uid]["depends_on"].get("nodes", []) if p in selected}
        for uid in selected
    }
    order: list[str] = []
    ready = sorted(uid for uid, ps in parents.items() if not ps)
    while ready:
        uid = ready.pop(0)
        order.append(uid)
        for child, ps in parents.items():
            if uid in ps:
                ps.discard(uid)
                if not ps and child not in order and child not in ready:
                    ready.append(child)
        ready.sort()
    if len(order) != len(selected):
        raise RuntimeError("the manifest's model graph has a cycle")
    return order


def _relation(node: dict) -> str:
    return f'"{node["schema"]}"."{node["alias"]}"'


def built_of(node: dict) -> str:
    return f"bench_built.{_relation(node)}"


def _count(con: duckdb.DuckDBPyConnection, relation: str) -> int:
    row = con.execute(f"select count(*) from {relation}").fetchone()
    return int(row[0]) if row else 0


def replay(raw_copy: Path, built_db: Path, target_path: Path) -> dict[str, Any]:
    manifest, compiled = _load(target_path)
    nodes = manifest["nodes"]
    runnable = {
        uid
        for uid, n in nodes.items()
        if n["resource_type"] in _RUN_NODE
        and uid in compiled
        and n["config"].get("materialized") != "ephemeral"
    }
    tests = [uid for uid, n in nodes.items() if n["resource_type"] == "test" and uid in compiled]
    catalog = next(iter(nodes[u]["database"] for u in runnable), None)
    if catalog != raw_copy.stem:
        raise RuntimeError(f"{raw_copy.name}: the copy must be named {catalog}.duckdb")

    con = duckdb.connect(str(raw_copy))
    timed = untimed = 0.0
    model_seconds: dict[str, float] = {}
    try:
        con.execute("SET enable_progress_bar = false")
        con.execute(f"ATTACH '{built_db}' AS bench_built (READ_ONLY)")
        for schema in sorted({nodes[u]["schema"] for u in runnable}):
            con.execute(f'create schema if not exists "{schema}"')
        for uid in _dag_order(nodes, runnable):
            node = nodes[uid]
            relation = _relation(node)
            built = built_of(node)
            started = time.perf_counter()
            if node["resource_type"] == "seed" or node.get("language") == "python":
                con.execute(f"create or replace table {relation} as select * from {built}")
                untimed += time.perf_counter() - started
                continue
            kind = node["config"].get("materialized")
            if kind == "incremental":
                con.execute(f"create or replace table {relation} as from {built} limit 0")
                untimed += time.perf_counter() - started
                started = time.perf_counter()
            verb = "view" if kind == "view" else "table"
            con.execute(f"create or replace {verb} {relation} as {compiled[uid]}")
            model_seconds[node["name"]] = time.perf_counter() - started
            timed += model_seconds[node["name"]]
        # The replay must have done dbt's work: every table holds as many rows as dbt built.
        mismatches = [
            f"{node['name']}: {got} rows here, {want} in the dbt build"
            for uid in runnable
            if (node := nodes[uid])["config"].get("materialized") in ("table", "incremental")
            and (got := _count(con, _relation(node))) != (want := _count(con, built_of(node)))
        ]
        tests_seconds = 0.0
        for uid in tests:
            started = time.perf_counter()
            con.execute(f"select count(*) from ({compiled[uid]}) as dbt_internal_test").fetchone()
            tests_seconds += time.perf_counter() - started
    finally:
        con.close()
    slowest = sorted(model_seconds.items(), key=lambda item: -item[1])[:8]
    return {
        "models": len(model_seconds),
        "tests": len(tests),
        "models_seconds": round(timed, 3),
        "tests_seconds": round(tests_seconds, 3),
        "direct_seconds": round(timed + tests_seconds, 3),
        "copied_seconds": round(untimed, 3),
        "slowest": [(name, round(s, 2)) for name, s in slowest],
        "row_count_mismatches": mismatches,
    }

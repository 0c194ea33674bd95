"""The run's JSON (`bench/results/<scale>-<date>.json`) and its readable Markdown table."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from crm.settings import PROJECT_ROOT


def write_json(document: dict[str, Any], results_dir: Path) -> Path:
    """Writes the run's JSON into `results_dir` (`<scale>-<date>.json`, or
    `<scale>-<date>T<HHMM>.json` when that exists) and records where in the document, so that
    its Markdown table names the file actually written."""
    results_dir.mkdir(parents=True, exist_ok=True)
    path = results_dir / f"{document['scale']}-{document['started_at'][:10]}.json"
    if path.exists():
        # A second run on the same day keeps the first's figures (the docs may cite them).
        started = document["started_at"]
        path = path.with_name(
            f"{document['scale']}-{started[:10]}T{started[11:13]}{started[14:16]}.json"
        )
    document["results_file"] = _shown(path)
    path.write_text(json.dumps(document, indent=2, default=str) + "\n", encoding="utf-8")
    return path


def _shown(path: Path) -> str:
    """`path` relative to the project when it lies inside it (as the docs link it)."""
    resolved = path.resolve()
    return (
        str(resolved.relative_to(PROJECT_ROOT))
        if resolved.is_relative_to(PROJECT_ROOT)
        else str(resolved)
    )


def _s(value: float | None, unit: str = "s", digits: int = 1) -> str:
    return "—" if value is None else f"{value:,.{digits}f} {unit}"


def _stage(document: dict, name: str) -> str:
    """`wall s / CPU s / peak RSS MB` of one stage, or its error."""
    m = document["stages"].get(name)
    if m is None:
        return "not run"
    if not m["ok"]:
        return f"FAILED ({m['error'][:120]})"
    cell = f"{m['seconds']:,.1f} s / {m['cpu_seconds']:,.1f} s CPU / {m['peak_rss_mb']:,.0f} MB"
    steal = m.get("cpu_steal_percent")
    return cell + (f" ({steal:g} % steal)" if steal else "")


def _steal(v: dict) -> str:
    if v.get("max_cpu_steal_percent") is None:
        return "not measured"
    stolen = v["stolen_stages"]
    verdict = f", **not valid: {', '.join(stolen)}**" if stolen else ""
    return f"at most {v['max_cpu_steal_percent']:g} % ({v['max_cpu_steal_stage']}){verdict}"


def _met(target: dict | None) -> str:
    if target is None:
        return ""
    met = {True: "yes", False: "**no**", None: "not measured"}[target["met"]]
    return met if target["valid"] else f"{met} (not valid: CPU steal)"


def markdown(document: dict[str, Any]) -> str:
    v = document["figures"]
    targets = {t["figure"]: t for t in document["targets"]}
    machine = document["machine"]
    dataset = document.get("dataset") or {}
    base = dataset.get("base") or {}

    def target(figure: str) -> str:
        t = targets.get(figure)
        return f"{t['target']} {t['unit']}" if t else ""

    def verdict(figure: str) -> tuple[str, str]:
        """The target and whether it was met: the last two cells of a judged row."""
        return target(figure), _met(targets.get(figure))

    def stage_row(label: str, stage: str, baseline_label: str, baseline: str) -> tuple:
        """A stage's wall / CPU / RSS beside its baseline's (its ratio has a row of its own)."""
        return (
            label,
            _stage(document, stage),
            f"{baseline_label}: {_stage(document, baseline)}",
            "",
            "",
            "",
        )

    def ratio(figure: str, unit: str = "×") -> str:
        cpu = v.get(f"{figure}_cpu")
        return _s(v.get(figure), unit, 2) + ("" if cpu is None else f" (CPU {cpu:.2f}×)")

    rows = [
        stage_row("ingestion (all files)", "ingest", "plain CTAS", "plain_ctas"),
        (
            "ingestion rate, files DuckDB reads itself",
            f"{v.get('ingest_rows_per_second') or 0:,} rows/s",
            f"{v.get('plain_ctas_rows_per_second') or 0:,} rows/s",
            ratio("ingestion_rate_ratio"),
            *verdict("ingestion_rate_ratio"),
        ),
        stage_row("dbt build", "dbt_build", "compiled SQL direct", "dbt_direct"),
        (
            "dbt build, same work as the replay",
            _s(v.get("dbt_comparable_seconds")),
            _s(v.get("dbt_direct_seconds")),
            ratio("dbt_overhead_ratio"),
            *verdict("dbt_overhead_ratio"),
        ),
        stage_row(
            "quality gate and publication (the file copy during the checks)",
            "gate",
            "one SQL pass",
            "quality_sql_pass",
        ),
        (
            "quality: GX validation vs SQL pass",
            _s(v.get("quality_validate_seconds")),
            _s(v.get("quality_sql_pass_seconds")),
            ratio("quality_ratio"),
            *verdict("quality_ratio"),
        ),
        (
            "of which: the checks; publication after them",
            f"{_s(v.get('quality_seconds'))}; {_s(v.get('publish_seconds'))}",
            "",
            "",
            "",
            "",
        ),
        (
            "full pipeline (ingest + build + gate and publication)",
            _s(v.get("full_pipeline_seconds")) + f" ({_s(v.get('full_pipeline_cpu_seconds'))} CPU)",
            # Not judged: the host's speed, so runs on faster or slower hosts compare.
            f"plain CTAS {_s((document['stages'].get('plain_ctas') or {}).get('seconds'))}",
            ratio("full_pipeline_plain_ctas_multiple"),
            *verdict("full_pipeline_seconds"),
        ),
        (
            f"incremental run ({document['config']['increment_days']} days, "
            f"{(v.get('increment_row_share') or 0) * 100:.2f} % new rows)",
            _stage(document, "incremental_day"),
            f"full run {_s(v.get('full_pipeline_seconds'))}",
            ratio("incremental_share"),
            *verdict("incremental_share"),
        ),
        (
            "day with no new rows (same exports re-delivered): the daily run's fixed cost",
            _stage(document, "unchanged_day"),
            f"full run {_s(v.get('full_pipeline_seconds'))}",
            ratio("unchanged_share"),
            "",
            "",
        ),
        (
            "dashboard queries, every page, default filters",
            f"p50 {_s(v.get('dashboard_query_p50_ms'), 'ms', 0)}, "
            f"p95 {_s(v.get('dashboard_query_p95_ms'), 'ms', 0)} (slowest page: "
            f"{v.get('dashboard_worst_page')}, p95 "
            f"{_s(v.get('dashboard_worst_page_p95_ms'), 'ms', 0)})",
            _stage(document, "dashboards"),
            "",
            *verdict("dashboard_query_p95_ms"),
        ),
        (
            "CLV fit (BG/NBD + Gamma-Gamma)",
            _s(v.get("clv_fit_seconds"), "s", 2),
            _stage(document, "clv_fit"),
            "",
            *verdict("clv_fit_seconds"),
        ),
        (
            f"peak RSS of any stage ({v.get('peak_rss_stage')})",
            _s(v.get("peak_rss_gb"), "GB", 2),
            "",
            "",
            *verdict("peak_rss_gb"),
        ),
    ]
    lines = [
        f"## Pipeline benchmark run: `{document['scale']}`, {document['started_at'][:16]} UTC",
        "",
        f"`crm bench --scale {document['scale']} --seed {document['seed']}` · "
        f"{machine['cores']} cores, {machine['memory_gb']} GB RAM, Python {machine['python']}, "
        f"duckdb {machine['versions'].get('duckdb')}, dbt-core "
        f"{machine['versions'].get('dbt-core')}, dbt-duckdb "
        f"{machine['versions'].get('dbt-duckdb')} · load average "
        f"{machine['load_average_before'][0]} before, {machine['load_average_after'][0]} after "
        f"· CPU steal {_steal(v)} "
        f"· {base.get('rows', 0):,} generated rows (as of {dataset.get('as_of')}) · "
        f"JSON: `{document.get('results_file', 'not written')}`",
        "",
        "Stage cells: wall / CPU incl. child processes / peak RSS, each stage in its own process."
        f" Targets are stated for `{document['targets'][0]['applies_to_scale']}`"
        if document["targets"]
        else "",
        "",
        "| what | figure | baseline (same run) | ratio | target | met? |",
        "|---|---|---|---:|---|---|",
        *(f"| {' | '.join(row)} |" for row in rows),
    ]
    if document["errors"]:
        lines += ["", "Errors:"]
        lines += [f"- `{e['stage']}`: {e['error'][:300]}" for e in document["errors"]]
    if document["notes"]:
        lines += ["", "Notes:"]
        lines += [f"- {n}" for n in document["notes"]]
    return "\n".join(lines) + "\n"


def append_markdown(document: dict[str, Any], docs_file: Path) -> None:
    with docs_file.open("a", encoding="utf-8") as sink:
        sink.write("\n" + markdown(document))

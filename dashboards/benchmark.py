"""Page render and query timings of the dashboards on a published file, default filters.

Each page is rendered server-side by Streamlit's AppTest (the whole script: queries, frames,
Plotly figures) with the query cache cleared before every run, so every render pays for its
queries; the connection stays cached, as in a served app. Every query the page sends to DuckDB
is timed by wrapping `warehouse.fetch`. A warm render (results cached) is timed as well.

    python -m dashboards.benchmark PATH/TO/crm.published.duckdb [--repeats 5] [--json OUT]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path

from dashboards import warehouse

APP = Path(__file__).with_name("app.py")


@dataclass
class PageTiming:
    page: str
    renders: int
    render_p50_s: float
    render_p95_s: float
    warm_render_p50_s: float
    queries_per_render: int
    query_p50_ms: float
    query_p95_ms: float
    query_max_ms: float


def p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]


def _common_name_prefix(published: Path) -> str:
    identity = warehouse.identify(published)
    con = warehouse.connect(identity)
    try:
        frame = warehouse.fetch(
            con,
            "select left(full_name, 1) as prefix from wh.marts.customer_360 "
            "where full_name is not null group by 1 order by count(*) desc limit 1",
        )
    finally:
        con.close()
    return str(frame.iloc[0]["prefix"]) if not frame.empty else "a"


def measure(
    published: Path, repeats: int = 5, query_log: list[float] | None = None
) -> list[PageTiming]:
    """Per-page render and query timings; `query_log`, when given, also receives the duration
    (ms) of every query DuckDB answered during the measurement."""
    import streamlit as st
    from streamlit.testing.v1 import AppTest

    from dashboards.navigation import PAGES

    os.environ["CRM_PUBLISHED_DB"] = str(published)
    query_ms: list[float] = []
    original = warehouse.fetch

    def timed_fetch(con, sql, params=None):
        started = time.perf_counter()
        try:
            return original(con, sql, params)
        finally:
            elapsed = (time.perf_counter() - started) * 1000
            query_ms.append(elapsed)
            if query_log is not None:
                query_log.append(elapsed)

    warehouse.fetch = timed_fetch
    try:
        search = _common_name_prefix(published)
        at = AppTest.from_file(str(APP), default_timeout=600)
        at.run()  # opens the connection and fills the sidebar once, like a first visit
        timings = []
        for name, _ in PAGES:
            renders, queries, counts = [], [], []
            for _ in range(repeats):
                st.cache_data.clear()
                query_ms.clear()
                started = time.perf_counter()
                at.switch_page(f"views/{name}.py")
                if name == "customer_360":
                    # a broad search (the most common first character of a name), as a user would
                    at.session_state["c360_search"] = search
                at.run()
                renders.append(time.perf_counter() - started)
                if at.exception:
                    raise RuntimeError(f"{name}: {at.exception[0].value}")
                queries.extend(query_ms)
                counts.append(len(query_ms))
            warm = []
            for _ in range(repeats):
                started = time.perf_counter()
                at.run()
                warm.append(time.perf_counter() - started)
            timings.append(
                PageTiming(
                    page=name,
                    renders=repeats,
                    render_p50_s=round(statistics.median(renders), 3),
                    render_p95_s=round(p95(renders), 3),
                    warm_render_p50_s=round(statistics.median(warm), 3),
                    queries_per_render=max(counts),
                    query_p50_ms=round(statistics.median(queries), 1) if queries else 0.0,
                    query_p95_ms=round(p95(queries), 1) if queries else 0.0,
                    query_max_ms=round(max(queries), 1) if queries else 0.0,
                )
            )
        return timings
    finally:
        warehouse.fetch = original


def table(timings: list[PageTiming]) -> str:
    lines = [
        "| page | render p50 (s) | render p95 (s) | warm render p50 (s) | queries/render "
        "| query p50 (ms) | query p95 (ms) | query max (ms) |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for t in timings:
        lines.append(
            f"| {t.page} | {t.render_p50_s:.3f} | {t.render_p95_s:.3f} | "
            f"{t.warm_render_p50_s:.3f} | {t.queries_per_render} | {t.query_p50_ms:.1f} | "
            f"{t.query_p95_ms:.1f} | {t.query_max_ms:.1f} |"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("published", type=Path, help="a published DuckDB file")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--json", type=Path, default=None, help="also write the figures here")
    args = parser.parse_args(argv)
    if not args.published.is_file():
        print(f"{args.published}: no such published file", file=sys.stderr)
        return 2
    timings = measure(args.published.resolve(), args.repeats)
    print(table(timings))
    if args.json:
        args.json.write_text(json.dumps([asdict(t) for t in timings], indent=2), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())

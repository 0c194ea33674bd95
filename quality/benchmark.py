"""The gate's cost against its floor: every suite through GX vs one SQL pass computing the same
metrics, measured in the same process on the same warehouse file.

The SQL pass is what a hand-written checker would run: per suite, one aggregate query over its
table computing every column metric (null, set, bounds, regex and duplicate counts), plus the
count of each custom-SQL check's query. Usage:

    python -m quality.benchmark WAREHOUSE.duckdb [--repeat N]
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

import duckdb

from quality.scope import plan
from quality.suites import CUSTOM_SQL, UNIQUE_COLUMN, Check, Suite, load_suites


def _literal(value: object) -> str:
    if isinstance(value, str):
        return "'" + value.replace("'", "''") + "'"
    return str(value)


def _aggregate(check: Check) -> str | None:
    """The check's unexpected count as one aggregate over the suite's relation."""
    kw = check.kwargs
    col = f'"{kw["column"]}"' if "column" in kw else None
    kind = check.expectation_type
    if kind == "expect_column_values_to_not_be_null":
        return f"count(*) filter (where {col} is null)"
    if kind == "expect_column_values_to_be_in_set":
        values = ", ".join(_literal(v) for v in kw["value_set"])
        return f"count(*) filter (where {col} not in ({values}))"
    if kind == "expect_column_values_to_be_between":
        parts = []
        if "min_value" in kw:
            parts.append(f"{col} < {_literal(kw['min_value'])}")
        if "max_value" in kw:
            parts.append(f"{col} > {_literal(kw['max_value'])}")
        return f"count(*) filter (where {' or '.join(parts)})"
    if kind == "expect_column_values_to_match_regex":
        return f"count(*) filter (where not regexp_matches({col}, {_literal(kw['regex'])}))"
    if kind == UNIQUE_COLUMN:
        return f"count({col}) - count(distinct {col})"
    return None


def _separate_query(suite: Suite, check: Check) -> str:
    if check.expectation_type == CUSTOM_SQL:
        inner = check.kwargs["unexpected_rows_query"].replace("{batch}", suite.relation)
        return f"select count(*) from ({inner}) as unexpected"
    if check.expectation_type == "expect_compound_columns_to_be_unique":
        cols = ", ".join(f'"{c}"' for c in check.kwargs["column_list"])
        return (
            f"select coalesce(sum(n), 0) from (select count(*) as n from {suite.relation} "
            f"as t group by {cols} having count(*) > 1) as d"
        )
    raise ValueError(f"no SQL equivalent for {check.expectation_type}")


def sql_pass(db_path: Path, suites: list[Suite]) -> tuple[float, int]:
    """Seconds for the single SQL pass, and the number of statements it took."""
    con = duckdb.connect(str(db_path), read_only=True)
    con.execute("set enable_progress_bar = false")
    try:
        started = time.perf_counter()
        statements = 0
        for suite in suites:
            aggregates = [a for a in map(_aggregate, suite.checks) if a]
            if aggregates:
                con.execute(
                    f"select count(*), {', '.join(aggregates)} from {suite.relation} as t"
                ).fetchall()
                statements += 1
            for check in suite.checks:
                if _aggregate(check) is None:
                    con.execute(_separate_query(suite, check)).fetchall()
                    statements += 1
        return time.perf_counter() - started, statements
    finally:
        con.close()


def benchmark(db_path: Path, repeat: int = 1) -> dict:
    """Best-of-`repeat` seconds of GX validation and of the SQL pass, and their ratio."""
    from quality.validation import validate

    suites = load_suites()
    gx_times, sql_times, gx_cpu, sql_cpu, statements = [], [], [], [], 0
    with tempfile.TemporaryDirectory(prefix="quality-bench-") as scratch:
        for _ in range(repeat):
            timings: dict[str, float] = {}
            parts = plan(db_path, suites, full=True).parts
            validate(db_path, parts, Path(scratch), Path(scratch) / "docs", "bench", timings)
            gx_times.append(timings["validate_seconds"])
            gx_cpu.append(timings["validate_cpu_seconds"])
            cpu_started = time.process_time()
            seconds, statements = sql_pass(db_path, suites)
            sql_cpu.append(time.process_time() - cpu_started)
            sql_times.append(seconds)
    checks = sum(len(s.checks) for s in suites)
    return {
        "checks": checks,
        "suites": len(suites),
        "gx_validate_seconds": round(min(gx_times), 2),
        "sql_pass_seconds": round(min(sql_times), 2),
        "sql_statements": statements,
        "ratio": round(min(gx_times) / min(sql_times), 2),
        # CPU of every thread of the process (DuckDB's included): less sensitive than wall
        # time to the other work on a shared machine.
        "gx_validate_cpu_seconds": round(min(gx_cpu), 2),
        "sql_pass_cpu_seconds": round(min(sql_cpu), 2),
        "cpu_ratio": round(min(gx_cpu) / min(sql_cpu), 2),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("db", type=Path)
    parser.add_argument("--repeat", type=int, default=1)
    args = parser.parse_args()
    print(json.dumps(benchmark(args.db.resolve(), args.repeat)))


if __name__ == "__main__":
    main()

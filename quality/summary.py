"""The one-screen terminal summary of a quality run."""

from __future__ import annotations

from collections import defaultdict

from rich.console import Console
from rich.table import Table

from quality.runner import QualityRun

MAX_FAILURES_SHOWN = 12


def render(run: QualityRun, console: Console | None = None) -> None:
    console = console or Console()
    per_suite: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0, 0])
    for o in run.outcomes:
        row = per_suite[o.suite]
        row[0] += 1
        row[1] += o.success
        row[2] += (not o.success) and o.severity == "critical"
        row[3] += (not o.success) and o.severity != "critical"
    table = Table(title=f"Quality run {run.run_id}", title_justify="left")
    for name, justify in (
        ("suite", "left"),
        ("checks", "right"),
        ("passed", "right"),
        ("critical failed", "right"),
        ("warnings", "right"),
    ):
        table.add_column(name, justify=justify)
    for suite, (checks, passed, critical, warning) in sorted(per_suite.items()):
        table.add_row(
            suite,
            str(checks),
            str(passed),
            f"[bold red]{critical}[/]" if critical else "0",
            f"[yellow]{warning}[/]" if warning else "0",
        )
    console.print(table)
    failures = run.critical_failures + run.warnings
    for o in failures[:MAX_FAILURES_SHOWN]:
        colour = "red" if o.severity == "critical" else "yellow"
        found = (o.exception or "").strip().splitlines()[0][:160] if o.exception else None
        found = found or o.observed_value or "failed"
        console.print(f"[{colour}]{o.severity:>8}[/] {o.check_id}: {found}")
    if len(failures) > MAX_FAILURES_SHOWN:
        console.print(f"… and {len(failures) - MAX_FAILURES_SHOWN} more (see quality.results)")
    verdict = {
        "passed": "[bold green]PASSED[/]",
        "warned": "[bold yellow]PASSED with warnings[/]",
        "failed": "[bold red]FAILED[/] (critical checks failed)",
    }[run.status]
    console.print(f"{verdict}  Data Docs: {run.data_docs_index}")
    if run.offline_gaps:
        console.print(f"[yellow]Data Docs still load from the network:[/] {run.offline_gaps}")

"""The one-screen terminal summary of a quality run."""

from __future__ import annotations

from collections import Counter, defaultdict

from rich.console import Console
from rich.table import Table

from quality.runner import QualityRun
from quality.validation import CheckOutcome

MAX_FAILURES_SHOWN = 12


def _failure_lines(failures: list[CheckOutcome]) -> list[str]:
    """One line per failed check; the checks of a suite that could not run share one line."""

    def key(o: CheckOutcome) -> tuple[str, str, str]:
        if o.exception:
            return (o.severity, o.suite, o.exception.strip().splitlines()[0])
        return (o.severity, o.check_id, o.observed_value or "failed")

    counts = Counter(key(o) for o in failures)
    lines = []
    for severity, name, found in dict.fromkeys(key(o) for o in failures):
        colour = "red" if severity == "critical" else "yellow"
        many = counts[(severity, name, found)]
        label = f"{name} ({many} checks)" if many > 1 else name
        lines.append(f"[{colour}]{severity:>8}[/] {label}: {found}")
    return lines


def _coverage(checks_by_coverage: dict[str, int]) -> str:
    """What a suite's checks saw; how many checks saw what when its checks differ."""
    if len(checks_by_coverage) == 1:
        return next(iter(checks_by_coverage))
    return "; ".join(f"{n} checks: {text}" for text, n in checks_by_coverage.items())


def _seconds(seconds: float | None) -> str:
    # A suite whose table is missing never reached GX, so it has no time.
    return "" if seconds is None else f"{seconds:.1f}"


def render(run: QualityRun, console: Console | None = None) -> None:
    console = console or Console()
    per_suite: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0, 0])
    covered: dict[str, dict[str, int]] = defaultdict(Counter)
    for o in run.outcomes:
        covered[o.suite][o.coverage] += 1
        row = per_suite[o.suite]
        row[0] += 1
        row[1] += o.success
        row[2] += (not o.success) and o.severity == "critical"
        row[3] += (not o.success) and o.severity != "critical"
    table = Table(title=f"Quality run {run.run_id} ({run.mode})", title_justify="left")
    for name, justify in (
        ("suite", "left"),
        ("checks", "right"),
        ("passed", "right"),
        ("critical failed", "right"),
        ("warnings", "right"),
        ("covered", "left"),
        ("seconds", "right"),
    ):
        table.add_column(name, justify=justify)
    for suite, (checks, passed, critical, warning) in sorted(per_suite.items()):
        table.add_row(
            suite,
            str(checks),
            str(passed),
            f"[bold red]{critical}[/]" if critical else "0",
            f"[yellow]{warning}[/]" if warning else "0",
            _coverage(covered[suite]),
            _seconds(run.timings.get(f"validate_seconds.{suite}")),
        )
    console.print(table)
    lines = _failure_lines(run.critical_failures + run.warnings)
    for line in lines[:MAX_FAILURES_SHOWN]:
        console.print(line, no_wrap=True, overflow="ellipsis")
    if len(lines) > MAX_FAILURES_SHOWN:
        console.print(f"… and {len(lines) - MAX_FAILURES_SHOWN} more (see quality.results)")
    verdict = {
        "passed": "[bold green]PASSED[/]",
        "warned": "[bold yellow]PASSED with warnings[/]",
        "failed": "[bold red]FAILED[/] (critical checks failed)",
    }[run.status]
    console.print(f"{verdict}  Data Docs: {run.data_docs_index}")
    if run.offline_gaps:
        console.print(f"[yellow]Data Docs still load from the network:[/] {run.offline_gaps}")

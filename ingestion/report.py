"""What one ingestion run did, per file, and its rendering as a summary table."""

from __future__ import annotations

from dataclasses import dataclass, field

from rich.console import Console
from rich.table import Table


@dataclass(frozen=True)
class FileResult:
    load_id: str
    source: str
    entity: str
    file: str  # relative to the ingested directory
    status: str  # loaded | failed | skipped_duplicate_file
    rows_read: int = 0
    rows_loaded: int = 0
    rows_rejected: int = 0
    error: str | None = None
    extra_columns: tuple[str, ...] = ()
    missing_columns: tuple[str, ...] = ()
    seconds: float = 0.0


@dataclass
class IngestReport:
    run_id: str
    source_dir: str
    db_path: str
    files: list[FileResult] = field(default_factory=list)
    reject_codes: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0

    @property
    def rows_read(self) -> int:
        return sum(f.rows_read for f in self.files)

    @property
    def rows_loaded(self) -> int:
        return sum(f.rows_loaded for f in self.files)

    @property
    def rows_rejected(self) -> int:
        return sum(f.rows_rejected for f in self.files)

    @property
    def failed(self) -> list[FileResult]:
        return [f for f in self.files if f.status == "failed"]

    @property
    def drift(self) -> list[FileResult]:
        return [f for f in self.files if f.extra_columns]

    def render(self, console: Console) -> None:
        table = Table(title=f"Ingestion run {self.run_id}", title_justify="left")
        for name in ("entity", "file", "status"):
            table.add_column(name, no_wrap=True)
        for name in ("read", "loaded", "rejected"):
            table.add_column(name, justify="right", no_wrap=True)
        notes = []
        for f in self.files:
            if f.status == "failed":
                notes.append(f"[red]{f.file}: {f.error}[/red]")
            if f.extra_columns:
                extra = ", ".join(f.extra_columns)
                notes.append(f"{f.file}: schema drift, unknown column(s) kept in _extra: {extra}")
            style = {"failed": "red", "skipped_duplicate_file": "dim"}.get(f.status, "")
            status = (
                "skipped (already loaded)" if f.status == "skipped_duplicate_file" else f.status
            )
            table.add_row(
                f.entity, f.file, status, f"{f.rows_read:,}", f"{f.rows_loaded:,}",
                f"{f.rows_rejected:,}", style=style,
            )  # fmt: skip
        console.print(table)
        for note in notes:
            console.print(note, highlight=False)
        rate = self.rows_read / self.seconds if self.seconds > 0 else 0.0
        console.print(
            f"{len(self.files)} file(s): {self.rows_read:,} rows read, "
            f"{self.rows_loaded:,} loaded, "
            f"{self.rows_rejected:,} rejected in {self.seconds:.1f} s ({rate:,.0f} rows/s)"
        )
        if self.reject_codes:
            codes = ", ".join(f"{code} {n:,}" for code, n in sorted(self.reject_codes.items()))
            console.print(f"Rejects by reason (see raw._rejects): {codes}")

"""An export file before it is written: its text columns plus what faults may be planted where."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pyarrow as pa

# Column kinds: how a value is written in typed formats (JSON literals, Parquet, XLSX cells).
STR, INT, MONEY, BOOL, TS, DATE = "str", "int", "money", "bool", "ts", "date"


@dataclass
class FaultRules:
    required: list[str] = field(default_factory=list)
    email: str | None = None
    amounts: list[str] = field(default_factory=list)
    csat: str | None = None
    not_future: list[str] = field(default_factory=list)
    dated: list[str] = field(default_factory=list)
    references: list[str] = field(default_factory=list)


@dataclass
class FileFrame:
    name: str
    fmt: str  # csv | jsonl | parquet | xlsx
    columns: dict[str, pa.Array]  # header → text (null = empty / missing)
    kinds: dict[str, str]
    rules: FaultRules
    encoding: str = "utf-8"
    ts_style: str = "iso"
    avoid: np.ndarray | None = None  # rows other files refer to: planted faults avoid them
    garbled: dict[int, str] = field(default_factory=dict)  # final row index → garbled text

    @property
    def rows(self) -> int:
        return len(next(iter(self.columns.values())))

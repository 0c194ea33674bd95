"""Planted faults: a share `fault_rate` of each file's records gets exactly one fault of a type
that makes sense for that file, visible in that very record. Each fault is listed in
`_truth/faults.csv` by file and 1-based data-record number."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from generator.config import DAY, Settings, params
from generator.frames import DATE, TS, FileFrame
from generator.text import SHANGHAI_OFFSET

FAULTS = (
    "missing_required",
    "malformed_email",
    "negative_amount",
    "csat_out_of_range",
    "future_date",
    "unparseable_date",
    "duplicate_row",
    "orphan_reference",
    "garbled_line",
)
TEXT_FORMATS = ("csv", "jsonl")


@dataclass(frozen=True)
class Fault:
    file: str
    source_row: int
    fault: str


def applicable(frame: FileFrame) -> list[str]:
    r = frame.rules
    kinds = {
        "missing_required": bool(r.required),
        "malformed_email": r.email is not None and frame.columns[r.email].null_count < frame.rows,
        "negative_amount": bool(r.amounts),
        "csat_out_of_range": r.csat is not None,
        "future_date": bool(r.not_future),
        "unparseable_date": bool(r.dated),
        "duplicate_row": frame.rows >= 2,
        "orphan_reference": bool(r.references),
        "garbled_line": frame.fmt in TEXT_FORMATS,
    }
    return [f for f in FAULTS if kinds[f]]


def plant(frame: FileFrame, s: Settings, at: int, force_each: bool) -> list[Fault]:
    """Plant faults in `frame` (in place) and return them. `at` is the export time: future
    dates are years after it. With `force_each`, every applicable type occurs at least once."""
    n = frame.rows
    types = applicable(frame)
    if s.fault_rate <= 0 or n < 4 or not types:
        return []
    rng = s.rng(f"faults:{frame.name}")
    count = int(rng.binomial(n, s.fault_rate))
    if force_each:
        count = max(count, len(types))
    count = min(count, n // 3)
    kinds = list(types) if force_each else []
    kinds += list(rng.choice(types, count - len(kinds))) if count > len(kinds) else []
    kinds = kinds[:count]

    preferred = np.ones(n, bool) if frame.avoid is None else ~frame.avoid
    used = np.zeros(n, dtype=bool)
    chosen: dict[str, np.ndarray] = {}
    for kind in types:
        want = kinds.count(kind)
        ok = _eligible(frame, kind) & ~used
        rows = _sample(np.nonzero(ok & preferred)[0], want, rng)
        if len(rows) < want:
            rest = np.nonzero(ok & ~preferred)[0]
            rows = np.concatenate([rows, _sample(rest, want - len(rows), rng)])
        used[rows] = True
        chosen[kind] = np.sort(rows)

    edits: dict[str, dict[int, str | None]] = {}
    planted: list[tuple[int, str]] = []  # (row before duplicates are inserted, fault)
    for kind, rows in chosen.items():
        if kind in ("duplicate_row", "garbled_line"):
            continue
        for row in rows.tolist():
            col, value = _fault_value(frame, kind, row, at, rng)
            edits.setdefault(col, {})[row] = value
            planted.append((row, kind))
    for col, changes in edits.items():
        rows = sorted(changes)
        mask = np.zeros(n, dtype=bool)
        mask[rows] = True
        frame.columns[col] = pc.replace_with_mask(
            frame.columns[col], pa.array(mask), pa.array([changes[r] for r in rows], pa.string())
        )

    # Insert the duplicates a few records after their originals; renumber everything.
    copies = chosen.get("duplicate_row", np.zeros(0, np.int64)).astype(np.int64)
    after = np.minimum(copies + rng.integers(1, 30, len(copies)), n - 1)
    all_keys = np.concatenate([np.arange(n, dtype=np.float64), after + 0.5])
    order = np.argsort(all_keys, kind="stable")
    take = np.concatenate([np.arange(n), copies])[order]
    position = np.empty(len(take), dtype=np.int64)
    position[order] = np.arange(len(take))
    if len(copies):
        order_idx = pa.array(take)
        for name in list(frame.columns):  # one column at a time: bounded extra memory
            frame.columns[name] = frame.columns[name].take(order_idx)
        if frame.avoid is not None:
            frame.avoid = frame.avoid[take]
    faults = [Fault(frame.name, int(position[r]) + 1, k) for r, k in planted]
    faults += [
        Fault(frame.name, int(position[n + i]) + 1, "duplicate_row") for i in range(len(copies))
    ]
    for r in chosen.get("garbled_line", np.zeros(0, np.int64)).tolist():
        final = int(position[r])
        frame.garbled[final] = ""  # the writer truncates this record's text
        faults.append(Fault(frame.name, final + 1, "garbled_line"))
    return sorted(faults, key=lambda f: f.source_row)


def _sample(pool: np.ndarray, k: int, rng: np.random.Generator) -> np.ndarray:
    if k <= 0 or len(pool) == 0:
        return np.zeros(0, dtype=np.int64)
    if k >= len(pool):
        return pool
    picked: np.ndarray = np.zeros(0, dtype=np.int64)
    while len(picked) < k:
        draw = rng.integers(0, len(pool), 2 * k)
        picked = np.unique(np.concatenate([picked, draw]))
    return pool[rng.permutation(picked)[:k]]


def _present(frame: FileFrame, col: str) -> np.ndarray:
    return pc.is_valid(frame.columns[col]).to_numpy(zero_copy_only=False)


def _eligible(frame: FileFrame, kind: str) -> np.ndarray:
    r = frame.rules
    n = frame.rows
    if kind == "malformed_email":
        return _present(frame, r.email)
    if kind == "negative_amount":
        return np.logical_or.reduce([_present(frame, c) for c in r.amounts])
    if kind in ("future_date", "unparseable_date"):
        cols = r.not_future if kind == "future_date" else r.dated
        return np.logical_or.reduce([_present(frame, c) for c in cols])
    return np.ones(n, dtype=bool)


def _get(frame: FileFrame, col: str, row: int) -> str | None:
    return frame.columns[col][row].as_py()


def _pick_present(frame: FileFrame, cols: list[str], row: int, rng) -> str:
    present = [c for c in cols if _get(frame, c, row) is not None]
    return present[int(rng.integers(0, len(present)))]


def _fault_value(
    frame: FileFrame, kind: str, row: int, at: int, rng: np.random.Generator
) -> tuple[str, str | None]:
    r = frame.rules
    if kind == "missing_required":
        return r.required[int(rng.integers(0, len(r.required)))], None
    if kind == "malformed_email":
        email = _get(frame, r.email, row).strip()
        local, _, domain = email.partition("@")
        variants = [f"{local}@@{domain}", f"{local}{domain}", f"{local}@{domain.split('.')[0]}"]
        return r.email, variants[int(rng.integers(0, len(variants)))]
    if kind == "negative_amount":
        col = _pick_present(frame, r.amounts, row, rng)
        value = _get(frame, col, row)
        return col, ("-" + value if value.strip("0.") else "-10.00")
    if kind == "csat_out_of_range":
        return r.csat, str(rng.choice([0, 6, 7, 10, -1]))
    if kind == "future_date":
        col = _pick_present(frame, r.not_future, row, rng)
        lo, hi = params()["faults"]["future_years"]
        when = datetime(1970, 1, 1) + timedelta(seconds=at + int(rng.uniform(lo, hi) * 365 * DAY))
        if frame.kinds[col] == DATE:
            return col, when.strftime("%Y-%m-%d")
        if frame.ts_style == "cn_local":
            return col, (when + timedelta(seconds=SHANGHAI_OFFSET)).strftime("%Y/%m/%d %H:%M:%S")
        return col, when.strftime("%Y-%m-%dT%H:%M:%SZ")
    if kind == "unparseable_date":
        col = _pick_present(frame, r.dated, row, rng)
        return col, _garble_date(_get(frame, col, row), frame.kinds[col], rng)
    if kind == "orphan_reference":
        col = r.references[int(rng.integers(0, len(r.references)))]
        return col, _orphan(_get(frame, col, row))
    raise ValueError(kind)


def _garble_date(value: str, kind: str, rng) -> str:
    """Keep the shape of the value but make it impossible: month 13, day 32 or hour 25, or
    a phrase where a date should be."""
    choice = int(rng.integers(0, 4))
    if choice == 3:
        return "下周一" if "/" in value else "next monday"
    sep = "/" if "/" in value else "-"
    date_part = value[:10]
    y, m, d = date_part.split(sep)
    rest = value[10:]
    if choice == 0:
        m = "13"
    elif choice == 1:
        d = "32"
    elif kind == TS and len(rest) >= 3:
        rest = rest[0] + "25" + rest[3:]
    else:
        d = "00"
    return f"{y}{sep}{m}{sep}{d}{rest}"


def _orphan(value: str) -> str:
    """An id of the same shape that no record has: the first digit of its number becomes 9
    (ids count up from 1 and never get that far at any scale)."""
    digits_at = next(i for i, ch in enumerate(value) if ch.isdigit())
    if value.startswith("8860"):  # POS member numbers carry a fixed numeric prefix
        digits_at = 4
    return value[:digits_at] + "9" + value[digits_at + 1 :]

"""Read an analyst's transaction file (CSV or Parquet) for `crm clv fit`, with one-line errors."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from crm.errors import UserError

READERS = {".csv": "csv", ".parquet": "parquet", ".pq": "parquet"}


def read_transactions(
    path: Path, customer_col: str, date_col: str, amount_col: str
) -> pd.DataFrame:
    """The three columns of `path`, dates parsed, amounts numeric; UserError on bad input."""
    path = Path(path)
    if not path.is_file():
        raise UserError(f"{path}: no such file")
    kind = READERS.get(path.suffix.lower())
    if kind is None:
        raise UserError(f"{path}: unsupported file type {path.suffix!r} (use .csv or .parquet)")
    columns = [customer_col, date_col, amount_col]
    try:
        if kind == "csv":
            header = pd.read_csv(path, nrows=0).columns
            _require(path, columns, header)
            frame = pd.read_csv(path, usecols=columns, dtype={customer_col: str})
        else:
            import pyarrow.parquet as pq

            _require(path, columns, pq.read_schema(path).names)
            frame = pd.read_parquet(path, columns=columns)
    except UserError:
        raise
    except (ValueError, OSError, UnicodeDecodeError) as exc:
        raise UserError(f"{path}: cannot read as {kind}: {exc}") from exc
    if frame.empty:
        raise UserError(f"{path}: no transactions")
    _reject_missing(path, frame, columns)
    frame[date_col] = _parse_dates(path, frame[date_col], date_col)
    frame[amount_col] = _parse_amounts(path, frame[amount_col], amount_col)
    return frame


def _require(path: Path, wanted: list[str], present) -> None:
    missing = [c for c in wanted if c not in set(present)]
    if missing:
        raise UserError(
            f"{path}: missing column(s) {', '.join(missing)}; found {', '.join(map(str, present))}"
        )


def _reject_missing(path: Path, frame: pd.DataFrame, columns: list[str]) -> None:
    for column in columns:
        empty = frame[column].isna()
        if empty.any():
            row = int(empty.to_numpy().argmax()) + 1
            raise UserError(
                f"{path}: column {column!r} is empty in {int(empty.sum())} row(s), "
                f"first at data row {row}"
            )


def _first_bad(values: pd.Series, bad: pd.Series) -> str:
    position = int(bad.to_numpy().argmax())
    return f"first at data row {position + 1}: {values.iloc[position]!r}"


def _parse_dates(path: Path, values: pd.Series, column: str) -> pd.Series:
    if pd.api.types.is_datetime64_any_dtype(values):
        return values
    # Offsets are honoured and everything lands in UTC; naive times are taken as UTC.
    parsed = pd.to_datetime(values.astype(str), errors="coerce", format="mixed", utc=True)
    bad = parsed.isna()
    if bad.any():
        raise UserError(
            f"{path}: column {column!r} has {int(bad.sum())} unparseable date(s), "
            f"{_first_bad(values, bad)}"
        )
    return parsed


def _parse_amounts(path: Path, values: pd.Series, column: str) -> pd.Series:
    parsed = pd.to_numeric(values, errors="coerce")
    bad = parsed.isna()
    if bad.any():
        raise UserError(
            f"{path}: column {column!r} has {int(bad.sum())} non-numeric amount(s), "
            f"{_first_bad(values, bad)}"
        )
    return parsed.astype(float)

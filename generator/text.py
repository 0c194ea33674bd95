"""Vectorised rendering of values as export text (pyarrow string arrays): ids, timestamps,
money, booleans. No per-row Python."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

NO_TS = np.iinfo(np.int64).min  # missing timestamp in an int64 epoch-seconds column
DAY = 86_400
SHANGHAI_OFFSET = 8 * 3600

_CLOCK: dict[str, pa.Array] = {}


def concat(*parts: pa.Array | str) -> pa.Array:
    """Element-wise concatenation; a null part makes the result null."""
    return pc.binary_join_element_wise(*parts, "")


def vocab_take(values: list[str] | pa.Array, idx: np.ndarray) -> pa.Array:
    arr = values if isinstance(values, pa.Array) else pa.array(values, pa.string())
    return arr.take(pa.array(np.asarray(idx, dtype=np.int64)))


def ids(prefix: str, numbers: np.ndarray, width: int) -> pa.Array:
    digits = pc.utf8_lpad(pa.array(np.asarray(numbers, np.int64)).cast(pa.string()), width, "0")
    return concat(prefix, digits)


def _clock(sep: str) -> pa.Array:
    """'HH:MM:SS' for every second of a day."""
    if sep not in _CLOCK:
        sec = np.arange(DAY)
        h, m, s = sec // 3600, sec // 60 % 60, sec % 60
        _CLOCK[sep] = pa.array(
            [f"{a:02d}{sep}{b:02d}{sep}{c:02d}" for a, b, c in zip(h, m, s, strict=True)]
        )
    return _CLOCK[sep]


def _days(day_numbers: np.ndarray, sep: str) -> tuple[pa.Array, int]:
    lo, hi = int(day_numbers.min()), int(day_numbers.max())
    span = np.arange(lo, hi + 1).astype("datetime64[D]")
    text = np.datetime_as_string(span, unit="D")
    if sep != "-":
        text = np.char.replace(text, "-", sep)
    return pa.array(text.tolist(), pa.string()), lo


def timestamps(seconds: np.ndarray, style: str = "iso") -> pa.Array:
    """Epoch seconds → text. `iso`: 2025-03-01T08:30:00Z (UTC); `cn_local`: 2025/03/01 16:30:00
    (Asia/Shanghai, as Chinese Excel exports write it). NO_TS → null."""
    seconds = np.asarray(seconds, dtype=np.int64)
    missing = seconds == NO_TS
    if len(seconds) == 0 or missing.all():
        return pa.nulls(len(seconds), pa.string())
    local = np.where(missing, seconds[~missing][0], seconds)
    if style == "cn_local":
        local = local + SHANGHAI_OFFSET
    day = local // DAY
    day_text, lo = _days(day, "/" if style == "cn_local" else "-")
    parts = [
        day_text.take(pa.array(day - lo)),
        " " if style == "cn_local" else "T",
        _clock(":").take(pa.array(local % DAY)),
    ]
    if style == "iso":
        parts.append("Z")
    out = concat(*parts)
    if missing.any():
        out = pc.if_else(pa.array(missing), pa.scalar(None, pa.string()), out)
    return out


def dates(seconds: np.ndarray) -> pa.Array:
    seconds = np.asarray(seconds, dtype=np.int64)
    if len(seconds) == 0:
        return pa.array([], pa.string())
    day = seconds // DAY
    day_text, lo = _days(day, "-")
    return day_text.take(pa.array(day - lo))


def money(cents: np.ndarray) -> pa.Array:
    """Integer cents → '1234.50' (exact, no float rounding)."""
    cents = np.asarray(cents, dtype=np.int64)
    whole = pa.array(np.abs(cents) // 100).cast(pa.string())
    frac = pc.utf8_lpad(pa.array(np.abs(cents) % 100).cast(pa.string()), 2, "0")
    sign = pc.if_else(pa.array(cents < 0), "-", "")
    return concat(sign, whole, ".", frac)


def integers(values: np.ndarray, missing: np.ndarray | None = None) -> pa.Array:
    arr = pa.array(np.asarray(values, dtype=np.int64)).cast(pa.string())
    if missing is not None and missing.any():
        arr = pc.if_else(pa.array(missing), pa.scalar(None, pa.string()), arr)
    return arr


def booleans(values: np.ndarray, true: str = "true", false: str = "false") -> pa.Array:
    return pc.if_else(pa.array(np.asarray(values, dtype=bool)), true, false)


def null_where(arr: pa.Array, mask: np.ndarray) -> pa.Array:
    if not mask.any():
        return arr
    return pc.if_else(pa.array(mask), pa.scalar(None, arr.type), arr)


def unique_numbers(n: int, modulus: int, salt: int) -> np.ndarray:
    """n distinct pseudo-random numbers below `modulus` (an affine permutation of 0..n-1), so
    different persons never draw the same email number or phone number."""
    if n > modulus:
        raise ValueError("more numbers requested than the modulus holds")
    mult = 2_654_435_761 % modulus
    while np.gcd(mult, modulus) != 1:
        mult += 1
    i = np.arange(n, dtype=np.int64)
    return (i * mult + salt % modulus) % modulus

"""Translations (i18n.yml) and number/date formats for English and Chinese.

Pages never hold display strings: they call `t(key)` and the `fmt_*` helpers with the session's
language, so every label, title and number switches together.
"""

from __future__ import annotations

import math
from datetime import date
from functools import cache
from pathlib import Path

import pandas as pd
import yaml

CATALOG_FILE = Path(__file__).with_name("i18n.yml")
CURRENCY_SYMBOL = {"CNY": "¥"}

# Compact units: Chinese groups by 10^4 (万) and 10^8 (亿), English by thousands.
_COMPACT = {
    "en": ((1e9, "B"), (1e6, "M"), (1e3, "K")),
    "zh": ((1e8, "亿"), (1e4, "万")),
}
# d3-format strings and date formats that Plotly applies on the client.
PLOTLY_MONTH_FORMAT = {"en": "%b %Y", "zh": "%Y年%m月"}


@cache
def catalog() -> dict[str, dict[str, str]]:
    return yaml.safe_load(CATALOG_FILE.read_text(encoding="utf-8"))


def t(key: str, lang: str, **values: object) -> str:
    """The text for `key` in `lang`; `{name}` placeholders are filled from `values`."""
    text = catalog()[key][lang]
    return text.format(**values) if values else text


def label(value: object, lang: str) -> str:
    """A data value (segment, channel, status...) shown in the language if the catalog has it."""
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return "—"
    entry = catalog().get(f"value.{value}")
    return entry[lang] if entry else str(value)


def column_label(column: str, lang: str) -> str:
    """A table header: translated when the catalog knows the column, else its name as is."""
    entry = catalog().get(f"col.{column}")
    return entry[lang] if entry else column


def _missing(value: float | None) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def fmt_number(value: float | None, lang: str, digits: int = 0) -> str:
    if _missing(value):
        return "—"
    return f"{value:,.{digits}f}"


def fmt_compact(value: float | None, lang: str) -> str:
    """`12345678` → `12.35M` (en) / `1234.57万` (zh)."""
    if _missing(value):
        return "—"
    for size, unit in _COMPACT[lang]:
        if abs(value) >= size:
            return f"{value / size:,.2f}{unit}"
    return f"{value:,.0f}"


def fmt_money(value: float | None, lang: str, currency: str = "CNY", compact: bool = True) -> str:
    if _missing(value):
        return "—"
    symbol = CURRENCY_SYMBOL.get(currency, f"{currency} ")
    sign = "-" if value < 0 else ""
    body = fmt_compact(abs(value), lang) if compact else f"{abs(value):,.2f}"
    return f"{sign}{symbol}{body}"


def fmt_percent(value: float | None, lang: str, digits: int = 1) -> str:
    if _missing(value):
        return "—"
    return f"{value * 100:.{digits}f}%"


def fmt_ratio(value: float | None, lang: str) -> str:
    if _missing(value):
        return "—"
    return f"{value:.2f}" + ("倍" if lang == "zh" else "×")


def fmt_date(value: date | None, lang: str) -> str:
    if value is None or pd.isna(value):
        return "—"
    return f"{value.year}年{value.month}月{value.day}日" if lang == "zh" else value.isoformat()


def fmt_duration(minutes: float | None, lang: str) -> str:
    """Minutes under an hour, hours above: `42 min` / `3.5 h` (`42 分钟` / `3.5 小时`)."""
    if _missing(minutes):
        return "—"
    if abs(minutes) < 60:
        return f"{minutes:,.0f} " + ("分钟" if lang == "zh" else "min")
    return f"{minutes / 60:,.1f} " + ("小时" if lang == "zh" else "h")

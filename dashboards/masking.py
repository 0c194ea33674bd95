"""Masking of personal data (names, emails, phones) for display.

Masking happens on the way to the screen; queries and search still use the real values, so a
user can find a customer by email without the page ever printing it.
"""

from __future__ import annotations

import re

import pandas as pd

_DIGITS = re.compile(r"\d")
_CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")
MASK = "*"


def mask_email(value: str | None) -> str | None:
    """`zhang.wei@example.com` → `z***@example.com`."""
    if value is None or pd.isna(value) or value == "":
        return value
    local, sep, domain = str(value).strip().partition("@")
    if not sep:
        return mask_text(local)
    return f"{local[:1]}***@{domain}"


def mask_phone(value: str | None) -> str | None:
    """`+86 138-1234-5678` → `+86 138****5678`: country code, first three and last four digits."""
    if value is None or pd.isna(value) or value == "":
        return value
    digits = "".join(_DIGITS.findall(str(value)))
    prefix = ""
    if str(value).strip().startswith("+") or (digits.startswith("86") and len(digits) == 13):
        code_len = 2 if digits.startswith("86") else 1
        prefix, digits = f"+{digits[:code_len]} ", digits[code_len:]
    if len(digits) <= 7:
        return prefix + MASK * len(digits[:-2]) + digits[-2:]
    return f"{prefix}{digits[:3]}{MASK * (len(digits) - 7)}{digits[-4:]}"


def mask_name(value: str | None) -> str | None:
    """`张小明` → `张**`; `Wei Zhang` → `W** Z****`: the first character of each word kept."""
    if value is None or pd.isna(value) or value == "":
        return value
    return mask_text(str(value))


def mask_text(text: str) -> str:
    if _CJK.search(text):
        return text[:1] + MASK * (len(text) - 1)
    return " ".join(word[:1] + MASK * (len(word) - 1) for word in text.split())


MASKERS = {"full_name": mask_name, "email": mask_email, "phone": mask_phone}


def mask_frame(frame: pd.DataFrame, full: bool) -> pd.DataFrame:
    """Masks every PII column present (by name); `full` is the operator's privileged mode."""
    if full:
        return frame
    present = [column for column in MASKERS if column in frame.columns]
    if not present:
        return frame
    masked = frame.copy()
    for column in present:
        masked[column] = masked[column].map(MASKERS[column], na_action="ignore")
    return masked

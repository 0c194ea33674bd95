"""Operator configuration: versioned defaults in config.yml, overridden by an operator file or env.

The privileged PII mode is only ever read from here, never from widgets or query parameters.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from crm.errors import UserError
from crm.settings import PROJECT_ROOT

DEFAULTS_FILE = Path(__file__).with_name("config.yml")
CONFIG_ENV = "CRM_DASHBOARD_CONFIG"
LANG_ENV = "CRM_DASHBOARD_LANG"
PII_ENV = "CRM_DASHBOARD_PII"
LANGUAGES = ("en", "zh")
PII_MODES = ("masked", "full")


@dataclass(frozen=True)
class DashboardConfig:
    default_language: str
    pii_full: bool
    cache_ttl_seconds: int
    default_months: int
    data_docs_path: Path
    at_risk_value_tiers: tuple[str, ...]
    at_risk_churn_risk: tuple[str, ...]
    at_risk_limit: int
    clv_histogram_bins: int
    search_limit: int
    timeline_limit: int
    duration_histogram_bins: int


def _merge(base: dict[str, Any], override: dict[str, Any]) -> dict[str, Any]:
    merged = dict(base)
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = _merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def _read_yaml(path: Path) -> dict[str, Any]:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except FileNotFoundError as exc:
        raise UserError(f"{path}: dashboard configuration file not found") from exc
    except yaml.YAMLError as exc:
        raise UserError(f"{path}: not valid YAML ({exc.__class__.__name__})") from exc
    if not isinstance(data, dict):
        raise UserError(f"{path}: dashboard configuration must be a mapping")
    return data


def load_config(environ: dict[str, str] | None = None) -> DashboardConfig:
    env = os.environ if environ is None else environ
    raw = _read_yaml(DEFAULTS_FILE)
    if env.get(CONFIG_ENV):
        raw = _merge(raw, _read_yaml(Path(env[CONFIG_ENV]).expanduser()))
    language = env.get(LANG_ENV) or raw["default_language"]
    if language not in LANGUAGES:
        raise UserError(f"dashboard language {language!r} unknown; use one of {LANGUAGES}")
    pii_mode = env.get(PII_ENV) or raw["pii"]["mode"]
    if pii_mode not in PII_MODES:
        raise UserError(f"dashboard PII mode {pii_mode!r} unknown; use one of {PII_MODES}")
    docs = Path(raw["data_docs_path"])
    customers, c360 = raw["customers"], raw["customer_360"]
    return DashboardConfig(
        default_language=language,
        pii_full=pii_mode == "full",
        cache_ttl_seconds=int(raw["cache_ttl_seconds"]),
        default_months=int(raw["default_months"]),
        data_docs_path=docs if docs.is_absolute() else PROJECT_ROOT / docs,
        at_risk_value_tiers=tuple(customers["at_risk_value_tiers"]),
        at_risk_churn_risk=tuple(customers["at_risk_churn_risk"]),
        at_risk_limit=int(customers["at_risk_limit"]),
        clv_histogram_bins=int(customers["clv_histogram_bins"]),
        search_limit=int(c360["search_limit"]),
        timeline_limit=int(c360["timeline_limit"]),
        duration_histogram_bins=int(raw["service"]["duration_histogram_bins"]),
    )

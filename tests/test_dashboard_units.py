"""The dashboards' building blocks on their own: masking, operator config, translations,
query parameters, the gate reading and the `crm dashboard` command."""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path

import pandas as pd
import pytest

from crm.cli import main as crm_main
from crm.commands.dashboard import streamlit_command, streamlit_env
from crm.errors import UserError
from crm.settings import published_db, resolve_db
from dashboards import gate, queries
from dashboards.config import load_config
from dashboards.i18n import catalog, fmt_duration, fmt_money, fmt_percent
from dashboards.masking import mask_email, mask_frame, mask_name, mask_phone

DASHBOARDS = Path(__file__).resolve().parent.parent / "dashboards"


@pytest.mark.parametrize(
    ("raw", "masked"),
    [
        ("zhang.wei@example.com", "z***@example.com"),
        ("Z@qq.com", "Z***@qq.com"),
    ],
)
def test_email_keeps_first_letter_and_domain(raw: str, masked: str) -> None:
    assert mask_email(raw) == masked


@pytest.mark.parametrize(
    ("raw", "masked"),
    [
        ("+86 138 1234 1234", "+86 138****1234"),
        ("+86-138-0000-5678", "+86 138****5678"),
        ("8613912345678", "+86 139****5678"),
        ("13812345678", "138****5678"),
        ("+1 415 555 0199", "+1 415***0199"),
    ],
)
def test_phone_keeps_country_code_prefix_and_last_four(raw: str, masked: str) -> None:
    assert mask_phone(raw) == masked


def test_names_keep_only_each_words_first_character() -> None:
    assert mask_name("张小明") == "张**"
    assert mask_name("Wei Zhang") == "W** Z****"


def test_mask_frame_masks_pii_columns_unless_privileged() -> None:
    frame = pd.DataFrame(
        {
            "full_name": ["王伟", None],
            "email": ["a.b@c.cn", None],
            "phone": ["+86 13800001111", None],
            "region": ["华东", "华北"],
        }
    )
    masked = mask_frame(frame, full=False)
    assert masked["full_name"].tolist()[0] == "王*"
    assert masked["email"].tolist()[0] == "a***@c.cn"
    assert masked["phone"].tolist()[0] == "+86 138****1111"
    assert masked["region"].tolist() == ["华东", "华北"]
    assert frame["email"].tolist()[0] == "a.b@c.cn"  # the source frame is untouched
    assert mask_frame(frame, full=True) is frame


def test_config_defaults_are_masked_and_english() -> None:
    config = load_config({})
    assert not config.pii_full
    assert config.default_language == "en"


def test_operator_file_and_env_turn_on_privileged_mode(tmp_path: Path) -> None:
    operator = tmp_path / "operator.yml"
    operator.write_text("default_language: zh\npii: {mode: full}\n", encoding="utf-8")
    config = load_config({"CRM_DASHBOARD_CONFIG": str(operator)})
    assert config.pii_full and config.default_language == "zh"
    assert load_config({"CRM_DASHBOARD_PII": "full"}).pii_full
    assert not load_config(
        {"CRM_DASHBOARD_CONFIG": str(operator), "CRM_DASHBOARD_PII": "masked"}
    ).pii_full


@pytest.mark.parametrize(
    "env",
    [
        {"CRM_DASHBOARD_PII": "everything"},
        {"CRM_DASHBOARD_LANG": "fr"},
        {"CRM_DASHBOARD_CONFIG": "/nonexistent/operator.yml"},
    ],
)
def test_bad_operator_settings_are_one_line_user_errors(env: dict[str, str]) -> None:
    with pytest.raises(UserError):
        load_config(env)


def test_every_catalog_entry_has_english_and_chinese() -> None:
    incomplete = [key for key, entry in catalog().items() if set(entry) != {"en", "zh"}]
    assert not incomplete
    untranslated = [
        k
        for k, e in catalog().items()
        if e["zh"] == e["en"] and re.search("[a-z]{4}", e["en"]) and not k.startswith("value.")
    ]
    assert not untranslated, untranslated


def test_every_literal_key_used_by_the_code_is_in_the_catalog() -> None:
    used = set()
    for path in DASHBOARDS.rglob("*.py"):
        used |= set(re.findall(r"""\bt\(\s*["']([a-z0-9_.]+)["']""", path.read_text("utf-8")))
    assert used, "no t() calls found"
    assert used - set(catalog()) == set()


def test_number_formats_follow_the_language() -> None:
    assert fmt_money(12_345_678, "en") == "¥12.35M"
    assert fmt_money(12_345_678, "zh") == "¥1,234.57万"
    assert fmt_money(312_345_678, "zh") == "¥3.12亿"
    assert fmt_percent(0.1234, "zh") == "12.3%"
    assert fmt_duration(42, "en") == "42 min"
    assert fmt_duration(210, "zh") == "3.5 小时"
    assert fmt_money(None, "en") == "—"


def test_user_input_travels_only_as_parameters() -> None:
    f = queries.Filters(
        date(2024, 1, 1),
        date(2024, 6, 30),
        regions=("华东'; drop",),
        channels=("x",),
        segments=("Can't Lose",),
    )
    text = "o'hara%_\\ or 1=1"
    query = queries.search_customers(f, text, 10)
    for value in (text, "华东", "Can't Lose", "2024-01-01"):
        assert value not in query.sql
    params = query.param_dict
    assert params["exact"] == text.strip()
    assert params["regions"] == ["华东'; drop"] and params["segments"] == ["Can't Lose"]
    assert params["pattern"] == "%o'hara\\%\\_\\\\ or 1=1%"
    # DuckDB rejects unused named parameters: only the referenced ones are passed
    assert set(params) == set(re.findall(r"\$([a-z_]+)", query.sql))


def test_previous_period_has_the_same_length_and_ends_the_day_before() -> None:
    f = queries.Filters(date(2024, 3, 1), date(2024, 3, 31))
    before = f.previous()
    assert before.end == date(2024, 2, 29)
    assert (before.end - before.start) == (f.end - f.start)


def test_gate_reads_failed_runs_and_names_only_critical_checks() -> None:
    runs = pd.DataFrame(
        {
            "run_id": ["r2", "r1"],
            "status": ["failed", "passed"],
            "started_at": ["2024-01-02", "2024-01-01"],
        }
    )
    results = pd.DataFrame(
        {
            "suite": ["raw_orders", "raw_tickets", "raw_orders"],
            "check_id": ["amount_min", "csat_range", "id_unique"],
            "column_name": ["total_amount", "csat_score", None],
            "severity": ["critical", "warning", "critical"],
            "success": [False, False, True],
        }
    )
    status = gate.latest_status(runs, results)
    assert status.run_id == "r2" and not status.passed
    assert status.failing_checks == ("raw_orders: amount_min(total_amount)",)
    warned = gate.latest_status(runs.assign(status=["warned", "passed"]), results)
    assert warned.passed
    assert gate.latest_status(runs.iloc[0:0], results) is None


def test_dashboard_command_serves_the_published_twin_of_db(tmp_path: Path) -> None:
    env = streamlit_env(str(tmp_path / "w.duckdb"), None)
    assert env["CRM_PUBLISHED_DB"] == str(published_db(resolve_db(str(tmp_path / "w.duckdb"))))
    command = streamlit_command(8600)
    assert command[1:4] == ["-m", "streamlit", "run"]
    assert command[4].endswith("dashboards/app.py")
    assert "--server.port=8600" in command and "--client.showErrorDetails=none" in command
    assert "--server.headless=true" in command


def test_dashboard_command_rejects_bad_input_in_one_line(tmp_path: Path, capsys) -> None:
    assert crm_main(["dashboard", "--port", "70000"]) == 2
    assert crm_main(["dashboard", "--config", str(tmp_path / "missing.yml")]) == 2
    errors = capsys.readouterr().err.strip().splitlines()
    assert len(errors) == 2 and all(line.startswith("crm dashboard: error:") for line in errors)

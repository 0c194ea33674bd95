"""The KPI marts' documentation and settings stay in step with their SQL.

Reads the project files only (no warehouse): every mart column is typed and described in the
models YAML under an enforced contract, person-identifying columns are tagged for masking,
every KPI column is listed in docs/metrics.md, and every KPI var the SQL reads is set once in
dbt_project.yml.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DBT = PROJECT_ROOT / "dbt_project"
KPI_FOLDERS = [DBT / "models" / "marts" / "customer", DBT / "models" / "marts" / "kpi"]
PII_COLUMNS = {"full_name", "email", "phone"}
# Keys and labels that are dimensions rather than KPIs, and build bookkeeping; everything else
# must be in metrics.md.
DIMENSIONS = {
    "customer_key", "order_id", "campaign_id", "campaign_name", "channel", "category", "agent",
    "region", "currency", "report_month", "cohort_month", "activity_month", "lead_month",
    "ticket_month", "acquisition_channel", "acquisition_campaign_id", "start_date", "end_date",
    "company", "country", "city", "owner", "order_date", "ordered_at", "net_revenue",
    "last_touch_at", "first_touch_at", "is_attributed", "has_orders", "has_unsubscribed",
    "first_order_date", "last_order_date", "first_seen_at", "_dbt_updated_at",
}  # fmt: skip


def _models() -> dict[str, dict]:
    models = {}
    for folder in KPI_FOLDERS:
        for path in folder.glob("_*__models.yml"):
            for model in yaml.safe_load(path.read_text())["models"]:
                models[model["name"]] = model
    return models


def test_every_kpi_model_has_sql_and_yaml():
    sql = {p.stem for folder in KPI_FOLDERS for p in folder.glob("*.sql")}
    assert sql == set(_models())
    assert {"customer_360", "mart_kpi_monthly", "mart_funnel"} <= sql


@pytest.mark.parametrize("name", sorted(_models()))
def test_contract_types_and_describes_every_column(name):
    # dbt's enforced contract checks these names and types against the SQL at build time
    model = _models()[name]
    assert model["config"]["contract"]["enforced"] is True
    for column in model["columns"]:
        assert column.get("data_type"), f"{name}.{column['name']} has no data_type"
        assert column.get("description", "").strip(), f"{name}.{column['name']} undocumented"


def test_pii_columns_are_tagged_for_masking():
    columns = {c["name"]: c for c in _models()["customer_360"]["columns"]}
    for name in PII_COLUMNS:
        assert columns[name]["config"]["meta"]["pii"] is True
    tagged = {n for n, c in columns.items() if c.get("config", {}).get("meta", {}).get("pii")}
    assert tagged == PII_COLUMNS


def test_metrics_doc_lists_every_kpi_column():
    doc = (PROJECT_ROOT / "docs" / "metrics.md").read_text()
    missing = [
        f"{name}.{column['name']}"
        for name, model in _models().items()
        for column in model["columns"]
        if column["name"] not in DIMENSIONS
        and not re.search(rf"(?<![\w]){re.escape(column['name'])}(?![\w])", doc)
    ]
    assert not missing, f"docs/metrics.md does not list: {missing}"


def test_every_kpi_var_is_set_once_in_dbt_project():
    settings = yaml.safe_load((DBT / "dbt_project.yml").read_text())["vars"]
    sources = [p for folder in KPI_FOLDERS for p in folder.glob("*.sql")]
    sources += list((DBT / "macros" / "kpi").glob("*.sql"))
    used = {
        name
        for path in sources
        for name in re.findall(r"var\(\s*['\"](\w+)['\"]", path.read_text())
    }
    assert {"kpi_active_window_days", "attribution_window_days"} <= used
    assert not used - set(settings), f"vars read but not set: {sorted(used - set(settings))}"
    raw = (DBT / "dbt_project.yml").read_text()
    for name in used:
        assert len(re.findall(rf"^\s+{name}:", raw, flags=re.MULTILINE)) == 1, name

"""The headline KPIs of the marts, recomputed with pandas straight from the generated exports.

An independent path: nothing here reads the raw, staging or intermediate layers or reuses the
project's SQL. The exports are read as files, and the documented rules are applied by hand:

* drop every record `_truth/faults.csv` lists (by file and 1-based data-record number), then
  the cascades ingestion applies — orders, tickets and campaign events whose contact (or
  campaign) has no valid record left;
* keep the latest version of each order, ticket and campaign by `updated_at`;
* convert amounts with the FX rates the generator used, as `_truth/params.json` records them
  (month of ordered_at in Asia/Shanghai; campaign spend at the month of its start date),
  rounded to cents per record;
* months and dates in the reporting time zone (Asia/Shanghai); as-of = latest order date;
* persons from the generator's truth `_truth/contact_person.csv`, not from the warehouse's
  identity resolution.

Tolerances. Order, revenue and ticket figures do not depend on who is who, so they must match
to the cent (0.01 per compared figure) or to float precision. Figures counted in persons use
the truth persons here and the resolved `customer_key` in the marts; identity resolution is
held to pairwise precision ≥ 0.99 and recall ≥ 0.97, so a few contacts may be split or merged
differently: those figures are compared within 3 % (relative; at least 2 persons for a
single month's new customers) or 3 points (rates). Measured at tiny/small: buyers 422 vs
423 / 8 969 vs 8 992, active 157 vs 157 / 3 744 vs 3 753, last-touch revenue −0.4 % / −0.1 %.
"""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

import duckdb
import pandas as pd
import pytest

PROJECT_ROOT = Path(__file__).resolve().parent.parent
REPORTING_TZ = "Asia/Shanghai"
ACTIVE_WINDOW_DAYS = 90
ATTRIBUTION_WINDOW = pd.Timedelta(days=30)
TOUCH_EVENTS = {"open", "click", "conversion"}
CENTS = 0.01
PERSON_TOLERANCE = 0.03

CONTACT_FILES = {
    # file, source_system, encoding, id column
    "crm": ("crm_contacts.csv", "utf-8", "source_contact_id"),
    "web": ("web_signups.jsonl", "utf-8", "source_contact_id"),
    "pos": ("pos_members.csv", "gb18030", "会员编号"),
    "email_list": ("email_list.csv", "utf-8-sig", "source_contact_id"),
}


# --- reading the exports -----------------------------------------------------------------


def _faulty_rows(data_dir: Path) -> dict[str, set[int]]:
    faults = pd.read_csv(data_dir / "_truth" / "faults.csv", dtype={"source_row": int})
    return {f: set(rows) for f, rows in faults.groupby("file")["source_row"]}


def _data_lines(path: Path, encoding: str, skip: set[int]) -> tuple[str | None, list[str]]:
    """Header (None for JSONL) and the data lines whose 1-based record number is not in skip.
    The generator writes no embedded newlines, so one line is one record."""
    lines = path.read_text(encoding=encoding).split("\n")
    header = None if path.suffix == ".jsonl" else lines.pop(0)
    kept = [line.rstrip("\r") for n, line in enumerate(lines, start=1) if n not in skip]
    return header, [line for line in kept if line.strip()]


def _read_records(data_dir: Path, name: str, skip: dict[str, set[int]], encoding="utf-8"):
    header, lines = _data_lines(data_dir / name, encoding, skip.get(name, set()))
    if header is None:
        return pd.DataFrame([json.loads(line) for line in lines])
    reader = csv.DictReader(io.StringIO("\n".join([header, *lines])))
    return pd.DataFrame(list(reader)).replace({"": None})


def _utc(series: pd.Series) -> pd.Series:
    return pd.to_datetime(series, utc=True, format="ISO8601")


def _local(series: pd.Series) -> pd.Series:
    return series.dt.tz_convert(REPORTING_TZ)


def _month(series: pd.Series) -> pd.Series:
    """First day of the reporting-time-zone month of a UTC timestamp, as a date."""
    local = _local(series)
    return pd.to_datetime(local.dt.strftime("%Y-%m-01")).dt.date


def _latest(frame: pd.DataFrame, key: str) -> pd.DataFrame:
    frame = frame.assign(_version=_utc(frame["updated_at"]))
    return frame.sort_values([key, "_version"]).drop_duplicates(key, keep="last")


@dataclass
class Exports:
    orders: pd.DataFrame  # latest valid version of every order, all statuses
    tickets: pd.DataFrame
    events: pd.DataFrame
    campaigns: pd.DataFrame

    @property
    def completed(self) -> pd.DataFrame:
        return self.orders[self.orders["status"] == "completed"]


def _to_cny(amount, currency: str, month: str, rates: dict) -> float:
    """Amount × rate rounded to cents half away from zero, as money is (not binary floats)."""
    rate = Decimal(1) if currency == "CNY" else Decimal(str(rates[currency][month]))
    return float((Decimal(str(amount)) * rate).quantize(Decimal("0.01"), ROUND_HALF_UP))


def _generator_rates(data_dir: Path) -> dict:
    params = json.loads((data_dir / "_truth" / "params.json").read_text())
    return params["fx_rates_to_cny"]["rates"]


def _load_exports(data_dir: Path, rates: dict) -> Exports:
    skip = _faulty_rows(data_dir)
    persons = pd.read_csv(data_dir / "_truth" / "contact_person.csv", dtype=str)

    valid_contacts = set()
    for system, (name, encoding, id_column) in CONTACT_FILES.items():
        records = _read_records(data_dir, name, skip, encoding)
        valid_contacts |= {(system, str(cid)) for cid in records[id_column]}
    person_of = {
        (row.source_system, row.source_contact_id): row.person_id
        for row in persons.itertuples()
        if (row.source_system, row.source_contact_id) in valid_contacts
    }

    def with_person(frame: pd.DataFrame) -> pd.DataFrame:
        keys = list(zip(frame["contact_source_system"], frame["contact_source_id"], strict=True))
        frame = frame.assign(person_id=[person_of.get(k) for k in keys])
        return frame[frame["person_id"].notna()]  # cascade: contact rejected → record orphaned

    campaigns = _latest(
        pd.read_excel(data_dir / "campaigns.xlsx", sheet_name="campaigns", engine="calamine")
        .assign(_row=lambda f: range(1, len(f) + 1))
        .pipe(lambda f: f[~f["_row"].isin(skip.get("campaigns.xlsx", set()))])
        .astype({"campaign_id": str}),
        "campaign_id",
    )
    campaigns["spend_cny"] = [
        _to_cny(row.spend, row.currency, str(row.start_date)[:7], rates)
        for row in campaigns.itertuples()
    ]

    orders = with_person(_latest(_read_records(data_dir, "orders.csv", skip), "order_id"))
    orders["ordered_at"] = _utc(orders["ordered_at"])
    orders["order_month"] = _month(orders["ordered_at"])
    orders["order_date"] = _local(orders["ordered_at"]).dt.date
    fx_month = _local(orders["ordered_at"]).dt.strftime("%Y-%m")
    orders["revenue"] = [
        _to_cny(amount, currency, month, rates)
        for amount, currency, month in zip(
            orders["total_amount"], orders["currency"], fx_month, strict=True
        )
    ]

    tickets = with_person(_latest(_read_records(data_dir, "tickets.jsonl", skip), "ticket_id"))
    tickets["created_at"] = _utc(tickets["created_at"])
    tickets["ticket_month"] = _month(tickets["created_at"])
    response = _utc(tickets["first_response_at"]) - tickets["created_at"]
    tickets["first_response_minutes"] = (response.dt.total_seconds() // 60).astype("Float64")

    events = with_person(_read_records(data_dir, "campaign_events.csv", skip))
    events = events[events["campaign_id"].isin(set(campaigns["campaign_id"]))]
    events["occurred_at"] = _utc(events["occurred_at"])

    return Exports(orders=orders, tickets=tickets, events=events, campaigns=campaigns)


# --- fixtures ----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def exports(tiny_data: Path) -> Exports:
    """The exports with amounts converted at the rates the generator used."""
    return _load_exports(tiny_data, _generator_rates(tiny_data))


@pytest.fixture(scope="module")
def marts(_built_tiny: Path) -> dict[str, pd.DataFrame]:
    """The KPI marts of the tiny warehouse built from the same exports (read-only)."""
    names = [
        "customer_360",
        "mart_kpi_monthly",
        "mart_retention_cohorts",
        "mart_service_csat",
        "mart_campaign_performance",
    ]
    with duckdb.connect(str(_built_tiny), read_only=True) as con:
        return {name: con.execute(f"select * from marts.{name}").df() for name in names}


def _monthly_all(marts: dict[str, pd.DataFrame]) -> pd.DataFrame:
    monthly = marts["mart_kpi_monthly"]
    monthly = monthly[monthly["region"] == "ALL"].copy()
    monthly["report_month"] = pd.to_datetime(monthly["report_month"]).dt.date
    return monthly.set_index("report_month").sort_index()


def _close(actual: float, expected: float, relative: float) -> bool:
    return abs(actual - expected) <= relative * max(abs(expected), 1)


# --- figures that do not depend on identity resolution: exact --------------------------


def test_total_net_revenue_matches_completed_orders_in_cny(exports, marts):
    completed = exports.completed
    expected = sum(completed["revenue"])
    assert expected > 0
    assert float(marts["customer_360"]["net_revenue"].sum()) == pytest.approx(expected, abs=CENTS)
    assert float(_monthly_all(marts)["revenue"].sum()) == pytest.approx(expected, abs=CENTS)
    cohorts = marts["mart_retention_cohorts"]
    assert float(cohorts["revenue"].sum()) == pytest.approx(expected, abs=CENTS)


def test_monthly_orders_match_per_reporting_month(exports, marts):
    orders = exports.completed.groupby("order_month")["order_id"].count()
    monthly = _monthly_all(marts)
    assert set(orders.index) <= set(monthly.index)
    for month, count in orders.items():
        assert int(monthly.at[month, "orders"]) == count, month
    months_without_orders = monthly.index.difference(orders.index)
    assert (monthly.loc[months_without_orders, "orders"] == 0).all()


def test_monthly_revenue_and_aov_match_per_reporting_month(exports, marts):
    by_month = exports.completed.groupby("order_month").agg(
        revenue=("revenue", "sum"), orders=("order_id", "count")
    )
    monthly = _monthly_all(marts)
    for month, row in by_month.iterrows():
        assert float(monthly.at[month, "revenue"]) == pytest.approx(row.revenue, abs=CENTS), month
        aov = float(monthly.at[month, "average_order_value"])
        assert aov == pytest.approx(row.revenue / row.orders, abs=CENTS), month


def test_monthly_csat_and_median_first_response_match_tickets(exports, marts):
    tickets = exports.tickets
    monthly = _monthly_all(marts)
    service = marts["mart_service_csat"]
    service_all = service[(service["channel"] == "ALL") & (service["agent"] == "ALL")].copy()
    service_all["ticket_month"] = pd.to_datetime(service_all["ticket_month"]).dt.date
    service_all = service_all.set_index("ticket_month")
    for month, group in tickets.groupby("ticket_month"):
        scores = pd.to_numeric(group["csat_score"]).dropna()
        expected_csat = (scores >= 4).mean() if len(scores) else None
        median_frt = group["first_response_minutes"].dropna().median()
        assert int(monthly.at[month, "tickets"]) == len(group), month
        assert int(service_all.at[month, "tickets"]) == len(group), month
        if expected_csat is None:
            assert pd.isna(monthly.at[month, "csat_rate"])
        else:
            assert monthly.at[month, "csat_rate"] == pytest.approx(expected_csat), month
            assert service_all.at[month, "csat_rate"] == pytest.approx(expected_csat), month
        assert monthly.at[month, "median_first_response_minutes"] == pytest.approx(median_frt)
        assert service_all.at[month, "first_response_minutes_p50"] == pytest.approx(median_frt)


def test_campaign_spend_matches_campaign_export_in_cny(exports, marts):
    campaigns = exports.campaigns
    performance = marts["mart_campaign_performance"].set_index("campaign_id")
    assert set(performance.index) == set(campaigns["campaign_id"])
    assert (campaigns["currency"] != "CNY").any()
    for row in campaigns.itertuples():
        actual = float(performance.at[row.campaign_id, "spend"])
        assert actual == pytest.approx(row.spend_cny, abs=CENTS), row.campaign_id


# --- figures counted in persons: within the identity-resolution tolerance ----------------


def test_customers_with_orders_match_truth_persons(exports, marts):
    expected = exports.completed["person_id"].nunique()
    customers = marts["customer_360"]
    assert _close(int(customers["has_orders"].sum()), expected, PERSON_TOLERANCE)
    cohorts = marts["mart_retention_cohorts"]
    first_months = cohorts[cohorts["months_since_first_order"] == 0]
    assert int(first_months["cohort_size"].sum()) == int(customers["has_orders"].sum())
    assert _close(int(_monthly_all(marts)["new_customers"].sum()), expected, PERSON_TOLERANCE)


def test_new_customers_per_month_follow_first_orders(exports, marts):
    first_months = exports.completed.groupby("person_id")["order_month"].min()
    expected = first_months.value_counts()
    monthly = _monthly_all(marts)
    for month, count in expected.items():
        actual = int(monthly.at[month, "new_customers"])
        assert abs(actual - count) <= max(2, PERSON_TOLERANCE * count), month


def test_active_customers_at_as_of_date(exports, marts):
    as_of = exports.orders["order_date"].max()
    last_order = exports.completed.groupby("person_id")["order_date"].max()
    expected = int(((as_of - last_order).map(lambda d: d.days) < ACTIVE_WINDOW_DAYS).sum())
    assert expected > 0
    assert _close(int(marts["customer_360"]["is_active"].sum()), expected, PERSON_TOLERANCE)


def test_first_month_retention_of_all_cohorts(exports, marts):
    completed = exports.completed
    cohort = completed.groupby("person_id")["order_month"].min().rename("cohort_month")
    activity = completed.join(cohort, on="person_id")
    months_since = (
        pd.to_datetime(activity["order_month"]).dt.to_period("M")
        - pd.to_datetime(activity["cohort_month"]).dt.to_period("M")
    ).map(lambda offset: offset.n)
    retained = activity[months_since == 1]["person_id"].nunique()
    as_of_month = pd.Timestamp(exports.orders["order_date"].max()).to_period("M")
    eligible = cohort[pd.to_datetime(cohort).dt.to_period("M") < as_of_month]
    expected = retained / len(eligible)

    cohorts = marts["mart_retention_cohorts"]
    month_one = cohorts[cohorts["months_since_first_order"] == 1]
    actual = month_one["active_customers"].sum() / month_one["cohort_size"].sum()
    assert actual == pytest.approx(expected, abs=PERSON_TOLERANCE)


def test_last_touch_attributed_revenue_within_window(exports, marts):
    touches = exports.events[exports.events["event_type"].isin(TOUCH_EVENTS)]
    touches_by_person = {p: g.sort_values("occurred_at") for p, g in touches.groupby("person_id")}
    attributed = 0.0
    for order in exports.completed.itertuples():
        own = touches_by_person.get(order.person_id)
        if own is None:
            continue
        in_window = own[
            (own["occurred_at"] <= order.ordered_at)
            & (own["occurred_at"] >= order.ordered_at - ATTRIBUTION_WINDOW)
        ]
        if len(in_window):
            attributed += order.revenue
    assert attributed > 0
    actual = float(marts["mart_campaign_performance"]["last_touch_revenue"].sum())
    assert _close(actual, attributed, PERSON_TOLERANCE)

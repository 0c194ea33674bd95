"""The dashboards driven through Streamlit's AppTest against a real published DuckDB file.

Shown numbers are checked against an independent computation: the published tables read into
pandas and aggregated there (not the dashboards' SQL run twice).
"""

from __future__ import annotations

import base64
import json
import os
import re
import shutil
from datetime import date
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from dashboards.i18n import column_label, fmt_money, fmt_number, fmt_percent, t
from dashboards.navigation import PAGES

APP = Path(__file__).resolve().parent.parent / "dashboards" / "app.py"
EMAIL_MASKED = re.compile(r"^.\*\*\*@[^@]+$")


# --- helpers -------------------------------------------------------------------------------


def read_tables(published: Path) -> dict[str, pd.DataFrame]:
    con = duckdb.connect(str(published), read_only=True)
    try:
        return {
            name: con.execute(f"select * from marts.{name}").df()
            for name in ("fct_orders", "customer_360", "fct_tickets", "fct_campaign_events")
        }
    finally:
        con.close()


@pytest.fixture(scope="module")
def marts(dashboard_published: Path) -> dict[str, pd.DataFrame]:
    return read_tables(dashboard_published)


@pytest.fixture
def app(dashboard_published: Path, monkeypatch: pytest.MonkeyPatch):
    def start(published: Path = dashboard_published, **env: str) -> AppTest:
        monkeypatch.setenv("CRM_PUBLISHED_DB", str(published))
        monkeypatch.setenv("CRM_DASHBOARD_LANG", env.pop("lang", "en"))
        monkeypatch.delenv("CRM_DASHBOARD_PII", raising=False)
        monkeypatch.delenv("CRM_DASHBOARD_CONFIG", raising=False)
        for key, value in env.items():
            monkeypatch.setenv(key, value)
        at = AppTest.from_file(str(APP), default_timeout=120)
        at.run()
        assert not at.exception, at.exception
        return at

    return start


def goto(at: AppTest, page: str) -> AppTest:
    at.switch_page(f"views/{page}.py").run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def period(at: AppTest) -> tuple[date, date]:
    return tuple(at.date_input(key="filter_dates").value)


def frame_with(at: AppTest, column: str) -> pd.DataFrame:
    """The shown table that has the (translated) column."""
    for element in at.dataframe:
        if column in element.value.columns:
            return element.value
    raise AssertionError(
        f"no table with column {column!r}: {[list(d.value.columns) for d in at.dataframe]}"
    )


def metric(at: AppTest, label: str) -> str:
    values = [m.value for m in at.metric if m.label == label]
    assert values, f"no metric {label!r}: {[m.label for m in at.metric]}"
    return values[0]


def decode(values) -> np.ndarray:
    """Plotly 7 encodes numeric arrays as {"dtype", "bdata"} in the figure JSON."""
    if isinstance(values, dict) and "bdata" in values:
        return np.frombuffer(base64.b64decode(values["bdata"]), dtype=np.dtype(values["dtype"]))
    return np.asarray(values)


def charts(at: AppTest) -> list[dict]:
    return [json.loads(chart.proto.spec) for chart in at.get("plotly_chart")]


def in_period(frame: pd.DataFrame, column: str, start: date, end: date) -> pd.DataFrame:
    days = pd.to_datetime(frame[column]).dt.date
    return frame[(days >= start) & (days <= end)]


def people(marts, regions=(), channels=(), segments=()) -> set[str]:
    c360 = marts["customer_360"]
    keep = pd.Series(True, index=c360.index)
    if regions:
        keep &= c360["region"].isin(regions)
    if channels:
        keep &= c360["acquisition_channel"].isin(channels)
    if segments:
        keep &= c360["rfm_segment"].isin(segments)
    return set(c360.loc[keep, "customer_key"])


def busiest(marts, column: str) -> str:
    return marts["customer_360"][column].value_counts().index[0]


# --- every page ----------------------------------------------------------------------------


@pytest.mark.parametrize("page", [name for name, _ in PAGES])
def test_page_renders_with_titled_charts_and_no_error(app, page: str) -> None:
    at = goto(app(), page)
    assert [title.value for title in at.title] == [t(f"page.{page}", "en")]
    assert not at.error, [e.value for e in at.error]
    missing = [i.value for i in at.info if "Not available" in i.value]
    assert not missing, missing
    for spec in charts(at):
        layout = spec["layout"]
        assert layout["title"]["text"], f"{page}: a chart without a title"
        if spec["data"][0]["type"] not in ("treemap", "funnel", "heatmap"):
            assert layout["xaxis"]["title"]["text"] and layout["yaxis"]["title"]["text"], page
    # every table has its CSV download right under it
    assert len(at.get("download_button")) == len(at.dataframe)


# --- filters move numbers to what the data says --------------------------------------------


def test_overview_revenue_follows_the_region_filter(app, marts) -> None:
    at = app()
    start, end = period(at)
    orders = in_period(marts["fct_orders"], "order_date", start, end)
    orders = orders[orders["is_revenue"]]
    assert metric(at, t("kpi.revenue", "en")) == fmt_money(float(orders["net_revenue"].sum()), "en")
    monthly = frame_with(at, column_label("revenue", "en"))
    assert monthly[column_label("revenue", "en")].sum() == pytest.approx(
        float(orders["net_revenue"].sum()), abs=0.05
    )

    region = busiest(marts, "region")
    at.multiselect(key="filter_regions").set_value([region]).run()
    chosen = orders[orders["customer_key"].isin(people(marts, regions=[region]))]
    expected = float(chosen["net_revenue"].sum())
    assert 0 < expected < float(orders["net_revenue"].sum())
    assert metric(at, t("kpi.revenue", "en")) == fmt_money(expected, "en")
    assert metric(at, t("kpi.active_customers", "en")) == fmt_number(
        chosen["customer_key"].nunique(), "en"
    )
    revenue_chart = next(
        s for s in charts(at) if s["layout"]["title"]["text"] == t("overview.chart.revenue", "en")
    )
    assert decode(revenue_chart["data"][0]["y"]).sum() == pytest.approx(expected, abs=0.05)


def test_date_range_change_moves_the_overview(app, marts) -> None:
    at = app()
    _, end = period(at)
    new_start = date(end.year, end.month, 1)
    at.date_input(key="filter_dates").set_value((new_start, end)).run()
    orders = in_period(marts["fct_orders"], "order_date", new_start, end)
    orders = orders[orders["is_revenue"]]
    assert metric(at, t("kpi.revenue", "en")) == fmt_money(float(orders["net_revenue"].sum()), "en")
    assert metric(at, t("kpi.active_customers", "en")) == fmt_number(
        orders["customer_key"].nunique(), "en"
    )


def test_customers_segments_follow_the_segment_filter(app, marts) -> None:
    at = goto(app(), "customers")
    start, end = period(at)
    segment = busiest(marts, "rfm_segment")
    at.multiselect(key="filter_segments").set_value([segment]).run()
    orders = in_period(marts["fct_orders"], "order_date", start, end)
    buyers = set(orders.loc[orders["is_revenue"], "customer_key"]) & people(
        marts, segments=[segment]
    )
    table = frame_with(at, column_label("rfm_segment", "en"))
    assert list(table[column_label("customers", "en")]) == [len(buyers)]


def test_retention_repeat_rate_follows_the_channel_filter(app, marts) -> None:
    at = goto(app(), "retention")
    start, end = period(at)
    channel = busiest(marts, "acquisition_channel")
    at.multiselect(key="filter_channels").set_value([channel]).run()
    orders = in_period(marts["fct_orders"], "order_date", start, end)
    orders = orders[
        orders["is_revenue"] & orders["customer_key"].isin(people(marts, channels=[channel]))
    ]
    per_buyer = orders.groupby("customer_key").size()
    assert metric(at, t("kpi.buyers", "en")) == fmt_number(len(per_buyer), "en")
    assert metric(at, t("kpi.repeat_purchase_rate", "en")) == fmt_percent(
        (per_buyer >= 2).mean(), "en"
    )


def test_funnel_counts_follow_the_region_filter(app, marts) -> None:
    at = goto(app(), "funnel")
    start, end = period(at)
    region = busiest(marts, "region")
    at.multiselect(key="filter_regions").set_value([region]).run()
    c360 = marts["customer_360"]
    leads = in_period(c360[c360["lead_at"].notna()], "lead_at", start, end)
    leads = leads[leads["region"] == region]
    table = frame_with(at, column_label("acquisition_channel", "en"))
    assert table[column_label("reached_lead", "en")].sum() == len(leads)
    assert table[column_label("reached_customer", "en")].sum() == leads["customer_at"].notna().sum()
    funnel = next(s for s in charts(at) if s["data"][0]["type"] == "funnel")
    assert decode(funnel["data"][0]["x"])[0] == len(leads)


def test_service_tickets_and_csat_follow_the_region_filter(app, marts) -> None:
    at = goto(app(), "service")
    start, end = period(at)
    region = busiest(marts, "region")
    at.multiselect(key="filter_regions").set_value([region]).run()
    tickets = in_period(marts["fct_tickets"], "created_date", start, end)
    tickets = tickets[tickets["customer_key"].isin(people(marts, regions=[region]))]
    answered = tickets[tickets["has_csat"]]
    assert metric(at, t("kpi.tickets", "en")) == fmt_number(len(tickets), "en")
    assert metric(at, t("kpi.csat", "en")) == fmt_percent(
        (answered["csat_score"] >= 4).mean(), "en"
    )
    by_agent = frame_with(at, column_label("agent", "en"))
    assert by_agent[column_label("tickets", "en")].sum() == len(tickets)


def test_campaign_engagement_follows_the_segment_filter(app, marts) -> None:
    at = goto(app(), "campaigns")
    start, end = period(at)
    segment = busiest(marts, "rfm_segment")
    at.multiselect(key="filter_segments").set_value([segment]).run()
    events = in_period(marts["fct_campaign_events"], "event_date", start, end)
    events = events[events["customer_key"].isin(people(marts, segments=[segment]))]
    people_per = events.groupby(["campaign_id", "event_type"])["customer_key"].nunique()
    table = frame_with(at, column_label("sent", "en")).set_index(column_label("campaign_id", "en"))
    for kind, column in (("sent", "sent"), ("click", "clicked"), ("open", "opened")):
        expected = (
            people_per.xs(kind, level="event_type")
            if kind in set(events["event_type"])
            else pd.Series(dtype=int)
        )
        shown = table[column_label(column, "en")]
        assert shown[shown > 0].sort_index().to_dict() == expected.sort_index().to_dict(), kind


# --- customer 360, masking and the privileged mode -----------------------------------------


def _a_customer_with_email(marts) -> pd.Series:
    c360 = marts["customer_360"]
    return c360[c360["email"].notna() & c360["full_name"].notna()].iloc[0]


def test_customer_search_by_email_shows_the_person_masked(app, marts) -> None:
    person = _a_customer_with_email(marts)
    at = goto(app(), "customer_360")
    at.text_input(key="c360_search").set_value(person["email"]).run()
    assert not at.exception
    found = frame_with(at, column_label("email", "en"))
    assert person["customer_key"] in set(found[column_label("customer_key", "en")])
    assert all(EMAIL_MASKED.match(e) for e in found[column_label("email", "en")].dropna())
    assert person["email"] not in " ".join(m.value for m in [*at.markdown, *at.caption])
    identities = frame_with(at, column_label("source_contact_id", "en"))
    assert len(identities) >= 1


def test_privileged_mode_from_operator_config_shows_full_values(app, marts, tmp_path) -> None:
    person = _a_customer_with_email(marts)
    operator = tmp_path / "operator.yml"
    operator.write_text("pii:\n  mode: full\n", encoding="utf-8")
    at = goto(app(CRM_DASHBOARD_CONFIG=str(operator)), "customer_360")
    at.text_input(key="c360_search").set_value(person["email"]).run()
    found = frame_with(at, column_label("email", "en"))
    assert person["email"] in set(found[column_label("email", "en")])


def test_at_risk_list_masks_every_email_and_phone_by_default(app) -> None:
    at = goto(app(), "customers")
    table = frame_with(at, column_label("phone", "en"))
    emails = table[column_label("email", "en")].dropna()
    phones = table[column_label("phone", "en")].dropna()
    assert all(EMAIL_MASKED.match(e) for e in emails)
    # country code, then at most the first three and last four digits of the number
    assert all("*" in p and sum(ch.isdigit() for ch in p) <= 9 for p in phones)


def test_search_text_is_a_parameter_not_sql(app) -> None:
    at = goto(app(), "customer_360")
    at.text_input(key="c360_search").set_value("x' or 1=1; drop table marts.fct_orders; --").run()
    assert not at.exception
    assert [w.value for w in at.warning] == [t("c360.no_match", "en")]


# --- language, empty state, failed gate, new publications -----------------------------------


def test_chinese_switch_translates_titles_labels_and_numbers(app, marts) -> None:
    at = app()
    at.radio(key="lang").set_value("zh").run()
    assert [x.value for x in at.title] == [t("page.overview", "zh")]
    start, end = period(at)
    orders = in_period(marts["fct_orders"], "order_date", start, end)
    revenue = float(orders.loc[orders["is_revenue"], "net_revenue"].sum())
    shown = metric(at, t("kpi.revenue", "zh"))
    assert shown == fmt_money(revenue, "zh")
    assert ("万" in shown or "亿" in shown) == (revenue >= 1e4)
    assert t("filters.regions", "zh") in [m.label for m in at.multiselect]
    assert all(
        spec["layout"]["title"]["text"] != t("overview.chart.revenue", "en") for spec in charts(at)
    )


def test_default_language_comes_from_operator_setting(app) -> None:
    at = app(lang="zh")
    assert at.radio(key="lang").value == "zh"
    assert [x.value for x in at.title] == [t("page.overview", "zh")]


def test_no_warehouse_shows_how_to_build_one(app, tmp_path) -> None:
    at = app(published=tmp_path / "nothing.published.duckdb")
    assert [x.value for x in at.title] == [t("empty.title", "en")]
    assert "make demo" in " ".join(m.value for m in [*at.markdown, *at.code])
    assert not at.error


def test_failed_gate_banner_names_the_failing_checks_and_keeps_the_marts(
    app, failed_gate_published, marts
) -> None:
    at = app(published=failed_gate_published)
    banners = [e.value for e in at.error]
    assert len(banners) == 1
    assert "run-failed-test" in banners[0] and "email_not_null" in banners[0]
    assert "csat_in_range" not in banners[0]  # a warning does not hold a build back
    start, end = period(at)
    orders = in_period(marts["fct_orders"], "order_date", start, end)
    revenue = float(orders.loc[orders["is_revenue"], "net_revenue"].sum())
    assert metric(at, t("kpi.revenue", "en")) == fmt_money(revenue, "en")
    failing = frame_with(goto(at, "data_quality"), column_label("check_id", "en"))
    assert {"email_not_null", "csat_in_range"} <= set(failing[column_label("check_id", "en")])


def test_a_new_publication_is_picked_up_by_a_running_app(app, dashboard_published, tmp_path):
    """Publication swaps the file (os.replace → new inode); the open app must follow it."""
    serving = tmp_path / "crm.published.duckdb"
    shutil.copy(dashboard_published, serving)
    at = app(published=serving)
    before = metric(at, t("kpi.revenue", "en"))
    start, end = period(at)

    rebuilt = tmp_path / "rebuild.duckdb"
    shutil.copy(dashboard_published, rebuilt)
    con = duckdb.connect(str(rebuilt))
    con.execute("update marts.fct_orders set net_revenue = net_revenue * 2")
    # the tile reads the order-days mart, which a rebuild changes together with the facts
    con.execute("update marts.mart_customer_order_days set net_revenue = net_revenue * 2")
    expected = con.execute(
        "select sum(net_revenue) from marts.fct_orders where is_revenue "
        "and order_date between ? and ?",
        [start, end],
    ).fetchone()[0]
    con.close()
    os.replace(rebuilt, serving)
    at.run()
    after = metric(at, t("kpi.revenue", "en"))
    assert after == fmt_money(float(expected), "en") and after != before

"""Overview: headline KPIs against the previous period, and their monthly trends."""

import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from dashboards.components import change, chart, kpi, requires, table
from dashboards.context import current
from dashboards.i18n import fmt_money, fmt_number, fmt_percent, fmt_ratio, t
from dashboards.queries import (
    CAMPAIGNS,
    ORDER_DAYS,
    TICKETS,
    csat_trend,
    overview_kpis,
    revenue_trend,
)

ctx = current()
lang, f = ctx.lang, ctx.filters
st.title(t("page.overview", lang))
st.caption(
    t(
        "overview.caption",
        lang,
        start=f.start,
        end=f.end,
        prev_start=f.previous().start,
        prev_end=f.previous().end,
    )
)

if (
    requires(ctx, ORDER_DAYS, "net_revenue", "previous_order_date", "predicted_clv_12m")
    and requires(ctx, TICKETS, "csat_score", "has_csat", "created_date")
    and requires(ctx, CAMPAIGNS, "spend_reporting")
):
    now = ctx.frame(overview_kpis(f)).iloc[0]
    before = ctx.frame(overview_kpis(f.previous())).iloc[0]

    def cac(row):
        # Blended CAC: marketing spend cannot be split by region, channel or segment.
        if f.customer_filtered or not row["new_customers"]:
            return None
        return float(row["marketing_spend"] or 0) / row["new_customers"]

    def ltv_cac(row):
        value = cac(row)
        return None if not value or pd.isna(row["avg_clv"]) else float(row["avg_clv"]) / value

    def delta(cur, prev):
        rel = change(cur, prev)
        return None if rel is None else fmt_percent(rel, lang)

    tiles = [
        ("kpi.revenue", fmt_money(now["revenue"], lang), delta(now["revenue"], before["revenue"])),
        (
            "kpi.active_customers",
            fmt_number(now["active_customers"], lang),
            delta(now["active_customers"], before["active_customers"]),
        ),
        (
            "kpi.new_customers",
            fmt_number(now["new_customers"], lang),
            delta(now["new_customers"], before["new_customers"]),
        ),
        (
            "kpi.retention",
            fmt_percent(now["retention"], lang),
            delta(now["retention"], before["retention"]),
        ),
        ("kpi.avg_clv", fmt_money(now["avg_clv"], lang), delta(now["avg_clv"], before["avg_clv"])),
        ("kpi.csat", fmt_percent(now["csat"], lang), delta(now["csat"], before["csat"])),
        ("kpi.cac", fmt_money(cac(now), lang), delta(cac(now), cac(before))),
        ("kpi.ltv_cac", fmt_ratio(ltv_cac(now), lang), delta(ltv_cac(now), ltv_cac(before))),
    ]
    for row_start in (0, 4):
        columns = st.columns(4)
        for column, (key, value, change_text) in zip(
            columns, tiles[row_start : row_start + 4], strict=True
        ):
            inverse = key == "kpi.cac"
            kpi(column, t(key, lang), value, change_text, t(f"{key}.help", lang), inverse)
    if f.customer_filtered:
        st.caption(t("overview.cac_filtered", lang))

    trend = ctx.frame(revenue_trend(f))
    left, right = st.columns(2)
    with left:
        fig = go.Figure(
            go.Bar(
                x=trend["month"],
                y=trend["revenue"],
                name=t("kpi.revenue", lang),
                hovertemplate="%{x|%Y-%m}: ¥%{y:,.0f}<extra></extra>",
            )
        )
        chart(
            ctx,
            fig,
            "overview.chart.revenue",
            "axis.month",
            "axis.revenue_cny",
            "overview_revenue",
            monthly=True,
        )
    with right:
        fig = go.Figure(
            go.Scatter(
                x=trend["month"],
                y=trend["active_customers"],
                mode="lines+markers",
                name=t("kpi.active_customers", lang),
            )
        )
        chart(
            ctx,
            fig,
            "overview.chart.active",
            "axis.month",
            "axis.customers",
            "overview_active",
            monthly=True,
        )
    service = ctx.frame(csat_trend(f))
    fig = go.Figure(
        go.Scatter(
            x=service["month"],
            y=service["csat"] * 100,
            mode="lines+markers",
            name=t("kpi.csat", lang),
        )
    )
    chart(
        ctx,
        fig,
        "overview.chart.csat",
        "axis.month",
        "axis.csat_pct",
        "overview_csat",
        monthly=True,
    )
    table(
        ctx,
        trend.merge(service, on="month", how="outer"),
        "overview_monthly",
        formats={"revenue": "money", "csat": "percent", "sla_breach_rate": "percent"},
    )

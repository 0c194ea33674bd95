"""Service & CSAT: CSAT trend, first-response and resolution distributions (business hours),
SLA breach, by channel, category and agent."""

import plotly.graph_objects as go
import streamlit as st

from dashboards.components import chart, kpi, requires, table
from dashboards.context import current
from dashboards.i18n import fmt_duration, fmt_number, fmt_percent, label, t
from dashboards.queries import (
    TICKETS,
    csat_trend,
    duration_histogram,
    service_breakdown,
    service_kpis,
)

ctx = current()
lang, f, cfg = ctx.lang, ctx.filters, ctx.config
st.title(t("page.service", lang))
st.caption(t("service.caption", lang, start=f.start, end=f.end))

NEEDED = (
    "csat_score",
    "has_csat",
    "created_date",
    "first_response_business_minutes",
    "resolution_business_minutes",
    "is_sla_breached",
    "is_reopened",
    "is_one_touch",
    "channel",
    "category",
    "agent",
)
if requires(ctx, TICKETS, *NEEDED):
    k = ctx.frame(service_kpis(f)).iloc[0]
    tiles = [
        ("kpi.tickets", fmt_number(k["tickets"], lang)),
        ("kpi.csat", fmt_percent(k["csat"], lang)),
        ("kpi.median_frt", fmt_duration(k["median_frt_minutes"], lang)),
        ("kpi.median_resolution", fmt_duration(k["median_resolution_minutes"], lang)),
        ("kpi.sla_breach_rate", fmt_percent(k["sla_breach_rate"], lang)),
        ("kpi.reopen_rate", fmt_percent(k["reopen_rate"], lang)),
        ("kpi.one_touch_rate", fmt_percent(k["one_touch_rate"], lang)),
        ("kpi.response_rate", fmt_percent(k["response_rate"], lang)),
    ]
    for row_start in (0, 4):
        for column, (key, value) in zip(
            st.columns(4), tiles[row_start : row_start + 4], strict=True
        ):
            kpi(column, t(key, lang), value, help_text=t(f"{key}.help", lang))

    trend = ctx.frame(csat_trend(f))
    fig = go.Figure()
    fig.add_scatter(
        x=trend["month"], y=trend["csat"] * 100, mode="lines+markers", name=t("kpi.csat", lang)
    )
    fig.add_scatter(
        x=trend["month"],
        y=trend["sla_breach_rate"] * 100,
        mode="lines+markers",
        name=t("kpi.sla_breach_rate", lang),
    )
    chart(
        ctx, fig, "service.chart.trend", "axis.month", "axis.percent", "service_trend", monthly=True
    )

    left, right = st.columns(2)
    for column, metric, title_key in (
        (left, "first_response_business_minutes", "service.chart.frt"),
        (right, "resolution_business_minutes", "service.chart.resolution"),
    ):
        with column:
            hist = ctx.frame(duration_histogram(f, metric, cfg.duration_histogram_bins))
            fig = go.Figure(
                go.Bar(
                    x=hist["hours_from"] + hist["width"] / 2,
                    y=hist["tickets"],
                    width=hist["width"],
                    hovertemplate="%{x}h: %{y:,}<extra></extra>",
                )
            )
            chart(ctx, fig, title_key, "axis.business_hours", "axis.tickets", metric)

    for dimension in ("channel", "category", "agent"):
        st.subheader(t(f"service.by_{dimension}", lang))
        frame = ctx.frame(service_breakdown(f, dimension))
        if dimension != "agent":
            fig = go.Figure(
                go.Bar(
                    x=frame[dimension].map(lambda v: label(v, lang)),
                    y=frame["sla_breach_rate"] * 100,
                )
            )
            chart(
                ctx,
                fig,
                f"service.chart.sla_{dimension}",
                f"axis.{dimension}",
                "axis.sla_breach_pct",
                f"service_sla_{dimension}",
            )
        table(
            ctx,
            frame,
            f"service_by_{dimension}",
            formats={
                "csat": "percent",
                "sla_breach_rate": "percent",
                "reopen_rate": "percent",
                "median_frt_minutes": "number",
                "median_resolution_hours": "number",
            },
            translate_values=(dimension,),
        )

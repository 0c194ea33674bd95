"""Campaigns: engagement of the filtered people, spend, ROI and CAC, first- vs last-touch
attribution (the attribution figures come from the KPI mart at campaign grain)."""

import plotly.graph_objects as go
import streamlit as st

from dashboards.components import chart, requires, table
from dashboards.context import current
from dashboards.i18n import t
from dashboards.queries import (
    CAMPAIGN_PERF,
    CAMPAIGN_REACH,
    CAMPAIGNS,
    campaign_engagement,
    campaign_performance,
)

ctx = current()
lang, f = ctx.lang, ctx.filters
st.title(t("page.campaigns", lang))
st.caption(t("campaigns.caption", lang, start=f.start, end=f.end))

RATES = ("delivery_rate", "open_rate", "click_rate", "unsubscribe_rate", "bounce_rate")
if requires(ctx, CAMPAIGN_REACH, "event_type", "event_date", "previous_event_date") and requires(
    ctx, CAMPAIGNS, "campaign_name", "spend_reporting", "start_date"
):
    engagement = ctx.frame(campaign_engagement(f))
    top = engagement[engagement["delivered"] > 0].nlargest(15, "delivered")
    fig = go.Figure()
    for rate in ("open_rate", "click_rate"):
        # Ids on the axis: campaign names repeat across years and would stack into one bar.
        fig.add_bar(
            x=top["campaign_id"],
            y=top[rate] * 100,
            name=t(f"col.{rate}", lang),
            hovertext=top["campaign_name"],
        )
    chart(
        ctx,
        fig,
        "campaigns.chart.engagement",
        "axis.campaign",
        "axis.percent",
        "campaigns_engagement",
    )
    table(
        ctx,
        engagement,
        "campaign_engagement",
        formats={"spend": "money"} | {rate: "percent" for rate in RATES},
    )

    st.subheader(t("campaigns.attribution", lang))
    st.caption(t("campaigns.attribution.caption", lang))
    if requires(ctx, CAMPAIGN_PERF, "campaign_id"):
        columns = ctx.tables[CAMPAIGN_PERF.removeprefix("wh.")]
        perf = ctx.frame(campaign_performance(f, columns))
        first, last = "first_touch_revenue", "last_touch_revenue"
        if {first, last, "campaign_name"} <= set(perf.columns):
            fig = go.Figure()
            for column in (first, last):
                fig.add_bar(
                    x=perf["campaign_id"],
                    y=perf[column],
                    hovertext=perf["campaign_name"],
                    name=t(f"col.{column}", lang),
                )
            chart(
                ctx,
                fig,
                "campaigns.chart.attribution",
                "axis.campaign",
                "axis.revenue_cny",
                "campaigns_attribution",
            )
        if {"roi", "campaign_name"} <= set(perf.columns):
            fig = go.Figure(
                go.Bar(x=perf["campaign_id"], y=perf["roi"] * 100, hovertext=perf["campaign_name"])
            )
            chart(ctx, fig, "campaigns.chart.roi", "axis.campaign", "axis.roi_pct", "campaigns_roi")
        table(
            ctx,
            perf,
            "campaign_performance",
            formats={
                "spend": "money",
                first: "money",
                last: "money",
                "customer_acquisition_cost": "money",
                "roi": "percent",
            },
        )

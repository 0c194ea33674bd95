"""Customers & value: RFM segments, value tiers, predicted CLV and churn risk, and the list of
valuable customers the model sees leaving (exportable)."""

import plotly.express as px
import plotly.graph_objects as go
import streamlit as st

from dashboards.components import chart, requires, table
from dashboards.context import current
from dashboards.i18n import label, t
from dashboards.queries import (
    C360,
    ORDER_DAYS,
    clv_histogram,
    customers_at_risk,
    segment_summary,
    value_tier_summary,
)

ctx = current()
lang, f, cfg = ctx.lang, ctx.filters, ctx.config
st.title(t("page.customers", lang))
st.caption(t("customers.caption", lang, start=f.start, end=f.end))

if requires(
    ctx, C360, "rfm_segment", "value_tier", "net_revenue", "orders", "p_no_purchase_12m"
) and requires(
    ctx,
    ORDER_DAYS,
    "order_date",
    "previous_order_date",
    "value_tier",
    "churn_risk",
    "customer_net_revenue",
    "predicted_clv_12m",
):
    segments = ctx.frame(segment_summary(f))
    left, right = st.columns([3, 2])
    with left:
        fig = px.treemap(
            segments.assign(segment=segments["rfm_segment"].map(lambda v: label(v, lang))),
            path=["segment"],
            values="customers",
            color="avg_predicted_clv",
            color_continuous_scale="Blues",
        )
        fig.update_traces(texttemplate="%{label}<br>%{value:,}", root_color="white")
        fig.update_coloraxes(colorbar_title_text=t("axis.avg_clv_cny", lang))
        chart(ctx, fig, "customers.chart.segments", "axis.none", "axis.none", "customers_segments")
    with right:
        tiers = ctx.frame(value_tier_summary(f))
        fig = go.Figure()
        for risk in ("low", "medium", "high"):
            part = tiers[tiers["churn_risk"] == risk]
            fig.add_bar(
                x=part["value_tier"].map(lambda v: label(v, lang)),
                y=part["customers"],
                name=label(risk, lang),
            )
        order = [label(v, lang) for v in ("core", "potential", "ordinary")]
        fig.update_layout(barmode="stack")
        fig.update_xaxes(categoryorder="array", categoryarray=order)
        chart(
            ctx,
            fig,
            "customers.chart.tiers",
            "axis.value_tier",
            "axis.customers",
            "customers_tiers",
        )
    table(
        ctx,
        segments,
        "rfm_segments",
        formats={"net_revenue": "money", "avg_predicted_clv": "money"},
        translate_values=("rfm_segment",),
    )

    histogram = ctx.frame(clv_histogram(f, cfg.clv_histogram_bins))
    fig = go.Figure(
        go.Bar(
            x=histogram["bin_start"] + histogram["width"] / 2,
            y=histogram["customers"],
            width=histogram["width"],
            hovertemplate="¥%{x:,.0f}: %{y:,}<extra></extra>",
        )
    )
    chart(
        ctx, fig, "customers.chart.clv", "axis.predicted_clv_cny", "axis.customers", "customers_clv"
    )

    st.subheader(t("customers.at_risk", lang))
    st.caption(
        t(
            "customers.at_risk.caption",
            lang,
            tiers=", ".join(label(v, lang) for v in cfg.at_risk_value_tiers),
            risks=", ".join(label(v, lang) for v in cfg.at_risk_churn_risk),
            limit=cfg.at_risk_limit,
        )
    )
    at_risk = ctx.frame(
        customers_at_risk(f, cfg.at_risk_value_tiers, cfg.at_risk_churn_risk, cfg.at_risk_limit)
    )
    table(
        ctx,
        at_risk,
        "customers_at_risk",
        formats={
            "net_revenue": "money",
            "predicted_clv_12m": "money",
            "p_no_purchase_12m": "percent",
        },
        translate_values=("rfm_segment", "value_tier", "churn_risk"),
    )

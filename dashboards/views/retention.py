"""Retention: first-order cohorts (customer and revenue retention) and repeat purchase."""

import plotly.graph_objects as go
import streamlit as st

from dashboards.components import chart, kpi, requires, table
from dashboards.context import current
from dashboards.i18n import fmt_number, fmt_percent, t
from dashboards.queries import ORDER_DAYS, repeat_purchase, retention_cohorts

ctx = current()
lang, f = ctx.lang, ctx.filters
st.title(t("page.retention", lang))
st.caption(t("retention.caption", lang, start=f.start, end=f.end))


def heatmap(cohorts, value: str, title_key: str, key: str) -> None:
    grid = cohorts.pivot(index="cohort_month", columns="months_since", values=value)
    months = [m.strftime("%Y-%m") for m in grid.index]
    fig = go.Figure(
        go.Heatmap(
            z=grid.to_numpy() * 100,
            x=list(grid.columns),
            y=months,
            colorscale="Blues",
            zmin=0,
            zmax=100,
            texttemplate="%{z:.0f}",
            hovertemplate="%{y} +%{x}: %{z:.1f}%<extra></extra>",
            colorbar={"title": {"text": "%"}},
        )
    )
    fig.update_yaxes(autorange="reversed", type="category")
    chart(ctx, fig, title_key, "axis.months_since_first", "axis.cohort_month", key)


if requires(ctx, ORDER_DAYS, "net_revenue", "order_date", "first_order_date", "next_order_date"):
    repeat = ctx.frame(repeat_purchase(f)).iloc[0]
    columns = st.columns(3)
    kpi(columns[0], t("kpi.buyers", lang), fmt_number(repeat["buyers"], lang))
    kpi(columns[1], t("kpi.repeat_buyers", lang), fmt_number(repeat["repeat_buyers"], lang))
    kpi(
        columns[2],
        t("kpi.repeat_purchase_rate", lang),
        fmt_percent(repeat["repeat_purchase_rate"], lang),
        help_text=t("kpi.repeat_purchase_rate.help", lang),
    )
    cohorts = ctx.frame(retention_cohorts(f))
    if cohorts.empty:
        st.info(t("notice.no_rows", lang))
    else:
        heatmap(cohorts, "customer_retention", "retention.chart.customers", "retention_customers")
        heatmap(cohorts, "revenue_retention", "retention.chart.revenue", "retention_revenue")
    table(
        ctx,
        cohorts,
        "retention_cohorts",
        formats={
            "revenue": "money",
            "customer_retention": "percent",
            "revenue_retention": "percent",
        },
    )

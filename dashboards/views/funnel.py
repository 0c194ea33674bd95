"""Funnel: lifecycle stages reached by the leads of the period, stage conversion and the median
days between stages, overall and by acquisition channel and campaign."""

from itertools import pairwise

import plotly.graph_objects as go
import streamlit as st

from dashboards.components import chart, requires, table
from dashboards.context import current
from dashboards.i18n import fmt_number, label, t
from dashboards.queries import (
    C360,
    STAGES,
    funnel_by_campaign,
    funnel_by_channel,
    funnel_overall,
)

ctx = current()
lang, f = ctx.lang, ctx.filters
st.title(t("page.funnel", lang))
st.caption(t("funnel.caption", lang, start=f.start, end=f.end))


def with_conversion(frame):
    """Adds stage-to-stage and overall conversion next to the counts."""
    out = frame.copy()
    for before, after in pairwise(STAGES):
        out[f"conversion_{before}_to_{after}"] = out[f"reached_{after}"] / out[
            f"reached_{before}"
        ].where(out[f"reached_{before}"] > 0)
    out["conversion_overall"] = out["reached_customer"] / out["reached_lead"].where(
        out["reached_lead"] > 0
    )
    return out


def formats(frame):
    return {c: "percent" for c in frame.columns if c.startswith("conversion_")} | {
        c: "number" for c in frame.columns if c.startswith("median_days")
    }


if requires(
    ctx,
    C360,
    *(f"{stage}_at" for stage in STAGES),
    "acquisition_channel",
    "acquisition_campaign_id",
):
    overall = with_conversion(ctx.frame(funnel_overall(f))).iloc[0]
    counts = [int(overall[f"reached_{stage}"]) for stage in STAGES]
    stage_names = [label(stage, lang) for stage in STAGES]
    left, right = st.columns(2)
    with left:
        fig = go.Figure(go.Funnel(y=stage_names, x=counts, textinfo="value+percent initial"))
        chart(ctx, fig, "funnel.chart.stages", "axis.contacts", "axis.stage", "funnel_stages")
    with right:
        pairs = list(pairwise(STAGES))
        days = [overall[f"median_days_{a}_to_{b}"] for a, b in pairs]
        fig = go.Figure(
            go.Bar(
                x=[f"{label(a, lang)}→{label(b, lang)}" for a, b in pairs],
                y=days,
                text=[fmt_number(d, lang, 1) for d in days],
                textposition="outside",
            )
        )
        chart(ctx, fig, "funnel.chart.days", "axis.stage_transition", "axis.days", "funnel_days")
    st.metric(
        t("kpi.sales_cycle", lang),
        t("unit.days", lang, n=fmt_number(overall["median_days_lead_to_customer"], lang, 1)),
        help=t("kpi.sales_cycle.help", lang),
        border=True,
    )

    for title_key, query, name in (
        ("funnel.by_channel", funnel_by_channel, "funnel_by_channel"),
        ("funnel.by_campaign", funnel_by_campaign, "funnel_by_campaign"),
    ):
        st.subheader(t(title_key, lang))
        frame = with_conversion(ctx.frame(query(f)))
        table(ctx, frame, name, formats=formats(frame), translate_values=("acquisition_channel",))

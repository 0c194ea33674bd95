"""Customer 360: search by name, email, phone or id; profile, identities across sources and a
timeline of orders, tickets and campaign touches. The search text is a query parameter only."""

import pandas as pd
import plotly.express as px
import streamlit as st

from dashboards.components import chart, kpi, requires, table
from dashboards.context import current
from dashboards.i18n import fmt_date, fmt_money, fmt_number, fmt_percent, label, t
from dashboards.masking import mask_frame
from dashboards.queries import (
    C360,
    IDENTITIES,
    TIMELINE,
    customer_identities,
    customer_profile,
    customer_timeline,
    search_customers,
)


def _as_date(value):
    return None if value is None or pd.isna(value) else pd.Timestamp(value).date()


ctx = current()
lang, f, cfg = ctx.lang, ctx.filters, ctx.config
st.title(t("page.customer_360", lang))
st.caption(t("c360.caption", lang))

if requires(ctx, C360, "full_name", "email", "phone") and requires(
    ctx, IDENTITIES, "source_contact_id"
):
    text = st.text_input(
        t("c360.search", lang), key="c360_search", placeholder=t("c360.search.placeholder", lang)
    )
    if not text.strip():
        st.info(t("c360.search.hint", lang))
        st.stop()
    found = ctx.frame(search_customers(f, text, cfg.search_limit))
    if found.empty:
        st.warning(t("c360.no_match", lang))
        st.stop()
    table(
        ctx,
        found,
        "customer_search",
        formats={"net_revenue": "money"},
        translate_values=("rfm_segment", "value_tier"),
    )
    shown = mask_frame(found, cfg.pii_full)
    names = dict(zip(shown["customer_key"], shown["full_name"].fillna(""), strict=True))
    key = st.selectbox(
        t("c360.pick", lang),
        list(names),
        key="c360_pick",
        format_func=lambda k: f"{names[k]} · {k}",
    )

    profile = mask_frame(ctx.frame(customer_profile(key)), cfg.pii_full).iloc[0]
    st.subheader(f"{profile['full_name'] or key}")
    st.caption(
        " · ".join(
            str(v) for v in (profile.get("email"), profile.get("phone"), profile.get("region")) if v
        )
    )
    columns = st.columns(4)
    kpi(columns[0], t("col.orders", lang), fmt_number(profile.get("orders"), lang))
    kpi(columns[1], t("col.net_revenue", lang), fmt_money(profile.get("net_revenue"), lang))
    kpi(
        columns[2],
        t("col.predicted_clv_12m", lang),
        fmt_money(profile.get("predicted_clv_12m"), lang),
    )
    # churn risk is banded on P(no purchase in 12 months), so the tile shows that, not P(alive)
    kpi(
        columns[3],
        t("col.p_no_purchase_12m", lang),
        fmt_percent(profile.get("p_no_purchase_12m"), lang),
    )
    facts = {
        t("col.rfm_segment", lang): label(profile.get("rfm_segment"), lang),
        t("col.value_tier", lang): label(profile.get("value_tier"), lang),
        t("col.churn_risk", lang): label(profile.get("churn_risk"), lang),
        t("col.acquisition_channel", lang): label(profile.get("acquisition_channel"), lang),
        t("col.lifecycle_stage", lang): label(profile.get("lifecycle_stage"), lang),
        t("col.last_order_date", lang): fmt_date(_as_date(profile.get("last_order_date")), lang),
    }
    st.markdown("  \n".join(f"**{k}:** {v}" for k, v in facts.items()))

    st.subheader(t("c360.identities", lang))
    table(
        ctx,
        ctx.frame(customer_identities(key)),
        "customer_identities",
        translate_values=("match_rule",),
    )

    st.subheader(t("c360.timeline", lang))
    if requires(ctx, TIMELINE, "customer_key", "occurred_at", "kind"):
        timeline = ctx.frame(customer_timeline(key, cfg.timeline_limit))
        if not timeline.empty:
            fig = px.scatter(
                timeline.assign(kind=timeline["kind"].map(lambda v: label(v, lang))),
                x="occurred_at",
                y="kind",
                color="kind",
                hover_data=["reference", "detail"],
            )
            fig.update_traces(marker={"size": 11})
            chart(
                ctx, fig, "c360.chart.timeline", "axis.time_utc", "axis.event_kind", "c360_timeline"
            )
        table(
            ctx,
            timeline,
            "customer_timeline",
            formats={"amount": "money"},
            translate_values=("kind",),
        )

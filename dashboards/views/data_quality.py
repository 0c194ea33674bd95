"""Data quality: the latest quality run, its failing checks, the trend over runs, rejected rows by
reason, and where the GX Data Docs are. Covers every load: the global filters do not apply."""

from pathlib import Path

import plotly.graph_objects as go
import streamlit as st

from dashboards import gate
from dashboards.components import chart, kpi, requires, table
from dashboards.context import current
from dashboards.i18n import fmt_number, label, t
from dashboards.queries import (
    LOADS,
    REJECTS,
    RESULTS,
    RUNS,
    loads,
    quality_results,
    quality_runs,
    quality_trend,
    rejects_by_reason,
)

ctx = current()
lang, cfg = ctx.lang, ctx.config
st.title(t("page.data_quality", lang))
st.caption(t("dq.caption", lang))
docs = cfg.data_docs_path

if requires(ctx, RUNS, "run_id", "started_at", "status") and requires(
    ctx, RESULTS, "run_id", "success", "severity"
):
    runs = ctx.frame(quality_runs())
    if runs.empty:
        st.info(t("dq.no_runs", lang))
    else:
        latest = runs.iloc[0]
        results = ctx.frame(quality_results(str(latest["run_id"])))
        status = gate.latest_status(runs, results)
        failed = results[~results["success"].astype(bool)] if "success" in results else results[:0]
        columns = st.columns([2, 3, 1, 1])  # status and run id need room; counts do not
        kpi(
            columns[0],
            t("dq.latest_status", lang),
            label(str(latest["status"]), lang),
        )
        kpi(columns[1], t("dq.latest_run", lang), str(latest["run_id"]))
        kpi(columns[2], t("dq.checks", lang), fmt_number(len(results), lang))
        kpi(columns[3], t("dq.failing", lang), fmt_number(len(failed), lang))
        st.caption(t("dq.started", lang, when=str(latest["started_at"])[:19]))
        # The run records where `crm quality` wrote its Data Docs; config is the fallback.
        if isinstance(latest.get("data_docs_path"), str) and latest["data_docs_path"]:
            docs = Path(latest["data_docs_path"])

        st.subheader(t("dq.failing_checks", lang))
        if failed.empty:
            st.success(t("dq.all_passed", lang))
        else:
            table(ctx, failed, "quality_failing_checks", translate_values=("severity",))

        st.subheader(t("dq.trend", lang))
        trend = ctx.frame(quality_trend())
        fig = go.Figure()
        for column in ("failed_critical", "failed_warning"):
            fig.add_scatter(
                x=trend["started_at"],
                y=trend[column],
                mode="lines+markers",
                name=t(f"col.{column}", lang),
            )
        chart(ctx, fig, "dq.chart.trend", "axis.run_time_utc", "axis.failed_checks", "dq_trend")
        table(ctx, runs, "quality_runs", translate_values=("status",))

if requires(ctx, REJECTS, "entity", "reason"):
    st.subheader(t("dq.rejects", lang))
    rejects = ctx.frame(rejects_by_reason())
    if not rejects.empty:
        fig = go.Figure()
        for entity, part in rejects.groupby("entity"):
            fig.add_bar(x=part["reason"], y=part["rows_rejected"], name=str(entity))
        fig.update_layout(barmode="stack")
        chart(ctx, fig, "dq.chart.rejects", "axis.reason", "axis.rows", "dq_rejects")
    table(ctx, rejects, "rejects_by_reason")

if requires(ctx, LOADS, "started_at"):
    st.subheader(t("dq.loads", lang))
    table(ctx, ctx.frame(loads()), "loads", translate_values=("status",))

st.subheader(t("dq.data_docs", lang))
if docs.exists():
    st.markdown(t("dq.data_docs.at", lang, path=docs, url=docs.as_uri()))
else:
    st.info(t("dq.data_docs.missing", lang, path=docs))

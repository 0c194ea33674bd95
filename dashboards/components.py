"""Building blocks every page composes: KPI tiles, titled Plotly charts, tables with a CSV
download, and the notice shown when the published marts lack what a section needs."""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from dashboards.context import PageContext
from dashboards.i18n import PLOTLY_MONTH_FORMAT, column_label, label, t
from dashboards.masking import mask_frame

# Streamlit's predefined number formats for table columns, by the kind of value they hold.
COLUMN_FORMATS = {"money": "localized", "percent": "percent", "number": "localized"}
ROUNDING = {"money": 2, "number": 1}


def requires(ctx: PageContext, table: str, *columns: str) -> bool:
    """False (and a notice naming what is missing) when the marts cannot feed a section."""
    missing = ctx.missing(table, *columns)
    if missing:
        st.info(t("notice.missing", ctx.lang, what=", ".join(missing)))
    return not missing


def kpi(
    column: st.delta_generator.DeltaGenerator,
    title: str,
    value: str,
    delta: str | None = None,
    help_text: str | None = None,
    inverse: bool = False,
) -> None:
    column.metric(
        title,
        value,
        delta=delta,
        delta_color="inverse" if inverse else "normal",
        help=help_text,
        border=True,
    )


def change(current: float | None, previous: float | None) -> float | None:
    """Relative change against the previous period; None when it has no base."""
    if current is None or previous is None or pd.isna(current) or pd.isna(previous):
        return None
    if previous == 0:
        return None
    return (current - previous) / abs(previous)


def chart(
    ctx: PageContext,
    fig: go.Figure,
    title_key: str,
    x_key: str,
    y_key: str,
    key: str,
    monthly: bool = False,
) -> None:
    """A Plotly chart with a translated title and axis titles (units are part of the keys)."""
    lang = ctx.lang
    fig.update_layout(
        title={"text": t(title_key, lang)},
        xaxis_title=t(x_key, lang),
        yaxis_title=t(y_key, lang),
        margin={"l": 10, "r": 10, "t": 50, "b": 10},
        legend_title_text="",
        height=360,
    )
    if monthly:
        fig.update_xaxes(tickformat=PLOTLY_MONTH_FORMAT[lang])
    st.plotly_chart(fig, key=key, config={"displaylogo": False})


def table(
    ctx: PageContext,
    frame: pd.DataFrame,
    name: str,
    formats: dict[str, str] | None = None,
    translate_values: tuple[str, ...] = (),
    height: int | str = "auto",
) -> pd.DataFrame:
    """Shows `frame` with translated headers (PII masked unless the operator allows it) and a
    CSV download of exactly what is shown. Returns the displayed frame."""
    lang = ctx.lang
    shown = mask_frame(frame, ctx.config.pii_full)
    for column, kind in (formats or {}).items():
        # Fixed decimals per kind, so the table and its CSV read alike (cents, one-decimal days).
        if column in shown.columns and kind in ROUNDING:
            shown[column] = shown[column].astype("float64").round(ROUNDING[kind])
    for column in shown.columns:
        # Dates travel as midnight timestamps; show them as dates.
        values = shown[column]
        if (
            pd.api.types.is_datetime64_any_dtype(values)
            and (values.dropna().dt.normalize() == values.dropna()).all()
        ):
            shown[column] = values.dt.date
    for column in translate_values:
        if column in shown.columns:
            shown[column] = shown[column].map(lambda v: label(v, lang), na_action="ignore")
    config = {
        column_label(column, lang): st.column_config.NumberColumn(format=COLUMN_FORMATS[kind])
        for column, kind in (formats or {}).items()
        if column in shown.columns
    }
    shown = shown.rename(columns={c: column_label(c, lang) for c in shown.columns})
    st.dataframe(
        shown,
        hide_index=True,
        column_config=config,
        height=height,
        key=f"{name}_table",
        placeholder="—",
    )
    st.download_button(
        t("action.download_csv", lang),
        data=shown.to_csv(index=False).encode("utf-8-sig"),  # BOM: Excel opens Chinese correctly
        file_name=f"{name}.csv",
        mime="text/csv",
        key=f"{name}_csv",
        icon=":material/download:",
        on_click="ignore",
    )
    return shown

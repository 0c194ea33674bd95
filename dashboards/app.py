"""Entry script of the leadership dashboards (`crm dashboard` runs it with `streamlit run`).

It resolves the published file, draws the sidebar (language and global filters), shows the
quality-gate banner, and hands a PageContext to the selected page. No page ever shows a
traceback: errors are logged server-side and told in one line.
"""

from __future__ import annotations

import logging
from datetime import date
from pathlib import Path

import duckdb
import pandas as pd
import streamlit as st

from dashboards import context, data, gate, queries
from dashboards.config import LANGUAGES, DashboardConfig, load_config
from dashboards.i18n import label, t
from dashboards.navigation import PAGES, PAGES_DIR
from dashboards.warehouse import identify, published_path

LANGUAGE_NAMES = {"en": "English", "zh": "中文"}
log = logging.getLogger("crm.dashboards")


def _language(config: DashboardConfig) -> str:
    return st.sidebar.radio(
        "Language / 语言",
        LANGUAGES,
        index=LANGUAGES.index(config.default_language),
        format_func=LANGUAGE_NAMES.__getitem__,
        horizontal=True,
        key="lang",
    )


def _default_range(bounds: pd.DataFrame, months: int) -> tuple[date, date]:
    """The last `months` complete calendar months of data (a partial last month would read as
    a collapse in every monthly trend); the data's own span when it is shorter."""
    first, last = bounds.iloc[0]["first_date"], bounds.iloc[0]["last_date"]
    if pd.isna(last):
        today = date.today()
        return today, today
    first, last = pd.Timestamp(first), pd.Timestamp(last)
    end = last if last.is_month_end else last.replace(day=1) - pd.Timedelta(days=1)
    start = (end + pd.Timedelta(days=1)) - pd.DateOffset(months=months)
    if end < first:
        return first.date(), last.date()
    return max(start, first).date(), end.date()


def _filters(identity, tables, config: DashboardConfig, lang: str) -> queries.Filters:
    sidebar = st.sidebar
    sidebar.header(t("filters.title", lang))
    bounds = data.frame(identity, queries.date_bounds())
    default = _default_range(bounds, config.default_months)
    picked = sidebar.date_input(
        t("filters.date_range", lang), value=default, key="filter_dates", format="YYYY-MM-DD"
    )
    # While a user is choosing the second date the widget returns one date; keep the default.
    start, end = picked if isinstance(picked, tuple | list) and len(picked) == 2 else default
    chosen: dict[str, tuple[str, ...]] = {}
    has_c360 = "marts.customer_360" in tables
    for name, column in queries.FILTER_COLUMNS.items():
        options: list[str] = []
        if has_c360 and column in tables["marts.customer_360"]:
            options = data.frame(identity, queries.filter_options(name))["value"].tolist()
        chosen[name] = tuple(
            sidebar.multiselect(
                t(f"filters.{name}", lang),
                options,
                format_func=lambda v: label(v, lang),
                placeholder=t("filters.all", lang),
                key=f"filter_{name}",
            )
        )
    return queries.Filters(start, end, **chosen)


def _gate_banner(identity, tables, lang: str) -> None:
    if "quality.runs" not in tables or "quality.results" not in tables:
        return
    runs = data.frame(identity, queries.quality_runs())
    if runs.empty:
        return
    results = data.frame(identity, queries.quality_results(str(runs.iloc[0]["run_id"])))
    status = gate.latest_status(runs, results)
    if status is None or status.passed:
        return
    published = t("gate.no_good_build", lang)
    if "quality.publications" in tables:
        query = queries.last_good_publication(tables["quality.publications"])
        pub = data.frame(identity, query)
        if not pub.empty:
            published = t("gate.published_at", lang, when=str(pub.iloc[0]["published_at"])[:16])
    checks = ", ".join(status.failing_checks) or t("gate.no_details", lang)
    st.error(
        t("gate.failed", lang, run=status.run_id, checks=checks) + " " + published,
        icon=":material/gpp_bad:",
    )


def _empty_state(lang: str, path: Path, reason: str) -> None:
    st.session_state["_empty_reason"] = (str(path), reason)
    page = st.Page(PAGES_DIR / "no_warehouse.py", title=t("empty.title", lang), default=True)
    st.navigation([page], position="hidden").run()


def main() -> None:
    st.set_page_config(page_title="CRM", page_icon=":material/insights:", layout="wide")
    try:
        config = load_config()
    except Exception as exc:  # a bad operator file must still not show a traceback
        st.error(f"Dashboard configuration: {exc}")
        return
    lang = _language(config)
    path = published_path()
    identity = identify(path)
    if identity is None:
        _empty_state(lang, path, "missing")
        return
    try:
        tables = data.tables(identity)
    except duckdb.Error as exc:
        log.warning("cannot open %s: %s", path, exc)
        _empty_state(lang, path, "unreadable")
        return
    if "marts.fct_orders" not in tables:
        # e.g. the very first gate failed: nothing to show yet, but say which checks failed
        _gate_banner(identity, tables, lang)
        _empty_state(lang, path, "no_marts")
        return
    pages = [
        st.Page(
            PAGES_DIR / f"{name}.py",
            title=t(f"page.{name}", lang),
            icon=icon,
            url_path=name,
            default=(name == "overview"),
        )
        for name, icon in PAGES
    ]
    selected = st.navigation(pages)
    try:
        filters = _filters(identity, tables, config, lang)
        st.sidebar.caption(t("sidebar.published", lang, file=path.name))
        _gate_banner(identity, tables, lang)
        context.publish(context.PageContext(identity, tables, filters, lang, config))
        selected.run()
    except Exception:
        log.exception("page %s failed", selected.title)
        st.error(t("error.page", lang), icon=":material/error:")


if __name__ == "__main__":  # streamlit runs the entry script as __main__
    main()

"""What the entry script hands each page: the published file, the filters and the language."""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd
import streamlit as st

from dashboards import data
from dashboards.config import DashboardConfig
from dashboards.queries import Filters, Query
from dashboards.warehouse import FileIdentity

_KEY = "_dashboard_context"


@dataclass(frozen=True)
class PageContext:
    identity: FileIdentity
    tables: dict[str, frozenset[str]]
    filters: Filters
    lang: str
    config: DashboardConfig

    def frame(self, query: Query) -> pd.DataFrame:
        return data.frame(self.identity, query)

    def missing(self, table: str, *columns: str) -> list[str]:
        """What of `table(columns)` the published file lacks (empty when all is there)."""
        present = self.tables.get(table.removeprefix("wh."))
        if present is None:
            return [table.removeprefix("wh.")]
        return [f"{table.removeprefix('wh.')}.{c}" for c in columns if c not in present]


def publish(ctx: PageContext) -> None:
    st.session_state[_KEY] = ctx


def current() -> PageContext:
    return st.session_state[_KEY]

"""The Streamlit caching layer over warehouse.py: one read-only connection per published file
identity (closed when evicted), and query results cached per (identity, SQL, parameters)."""

from __future__ import annotations

import duckdb
import pandas as pd
import streamlit as st

from dashboards import warehouse
from dashboards.queries import Query
from dashboards.warehouse import FileIdentity


def _close(con: duckdb.DuckDBPyConnection) -> None:
    con.close()


# A new publication has a new inode (os.replace), so it gets a fresh connection; the entry of the
# replaced file is evicted after a few swaps and its connection closed.
@st.cache_resource(max_entries=3, on_release=_close, show_spinner=False)
def _connection(identity: FileIdentity) -> duckdb.DuckDBPyConnection:
    return warehouse.connect(identity)


@st.cache_data(max_entries=2048, show_spinner=False)
def _frame(identity: FileIdentity, sql: str, params: tuple) -> pd.DataFrame:
    return warehouse.fetch(_connection(identity), sql, dict(params))


@st.cache_data(max_entries=8, show_spinner=False)
def tables(identity: FileIdentity) -> dict[str, frozenset[str]]:
    return warehouse.columns_by_table(_connection(identity))


def frame(identity: FileIdentity, query: Query) -> pd.DataFrame:
    return _frame(identity, query.sql, query.params)

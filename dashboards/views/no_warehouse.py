"""Empty state: nothing published yet (or unreadable); says how to build a warehouse."""

import streamlit as st

from dashboards.i18n import t

lang = st.session_state.get("lang", "en")
path, reason = st.session_state.get("_empty_reason", ("", "missing"))
st.title(t("empty.title", lang))
st.info(t(f"empty.{reason}", lang, path=path), icon=":material/database:")
st.markdown(t("empty.how", lang))
st.code("make demo\n# or, on your own exports:\ncrm run path/to/exports/", language="bash")

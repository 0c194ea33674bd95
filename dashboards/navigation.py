"""The dashboard's pages: one script each in views/, in navigation order (the first is default)."""

from pathlib import Path

# Not `pages/`: Streamlit treats a `pages/` folder beside the entry script as a legacy multipage
# app and routes URLs straight to its scripts, bypassing st.navigation and the entry script.
PAGES_DIR = Path(__file__).with_name("views")
PAGES = (
    ("overview", ":material/monitoring:"),
    ("customers", ":material/diamond:"),
    ("retention", ":material/event_repeat:"),
    ("funnel", ":material/filter_alt:"),
    ("service", ":material/support_agent:"),
    ("campaigns", ":material/campaign:"),
    ("customer_360", ":material/person_search:"),
    ("data_quality", ":material/fact_check:"),
)

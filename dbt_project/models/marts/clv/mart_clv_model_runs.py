"""Append a BG/NBD + Gamma-Gamma fit to the run history when a refit is due (clv/refit.py)."""

from dbt.flags import get_flags

from clv import warehouse


def model(dbt, session):
    history = session.sql(f"select * from {dbt.this}").df() if dbt.is_incremental else None
    # `full_refresh: false` keeps the history through --full-refresh, which then forces a refit.
    # The flag is read at run time: a meta value rendered from `flags` would be parsed once and
    # kept by dbt's partial parsing, which only tracks vars, profile and project changes.
    forced = str(dbt.config.meta_get("force_refit")).lower() == "true" or get_flags().FULL_REFRESH
    run = warehouse.scheduled_fit(
        dbt.ref("fct_orders"),
        history,
        # A direct argument: dbt finds meta_get calls statically, not inside `x or y` here.
        dbt.config.meta_get("as_of_date"),
        int(dbt.config.meta_get("refit_days")),
        bool(forced),
    )
    return warehouse.typed(run, "mart_clv_model_runs")

"""Per-customer RFM summaries (frequency, recency, T, mean repeat value) from transactions.

Conventions of the BG/NBD literature: the first purchase is the customer's birth and is not a
repeat purchase; purchases on the same calendar day are one purchase (their amounts summed);
frequency counts the later days with a purchase, recency is the time from birth to the last
purchase, T the time from birth to the cut-off. monetary_value is the mean value of the repeat
purchase days (NaN when there is none), which is what the Gamma-Gamma model describes.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from clv.config import DAYS_PER_UNIT

SUMMARY_COLUMNS = ("frequency", "recency", "T", "monetary_value")


def _purchase_days(
    df: pd.DataFrame, customer_col: str, date_col: str, amount_col: str | None
) -> pd.DataFrame:
    """One row per customer and calendar day, amounts summed."""
    days = pd.to_datetime(df[date_col]).dt.normalize()
    if days.dt.tz is not None:
        days = days.dt.tz_localize(None)
    amounts = (
        pd.to_numeric(df[amount_col]).astype(float) if amount_col else pd.Series(0.0, df.index)
    )
    frame = pd.DataFrame({"customer": df[customer_col].to_numpy(), "day": days, "amount": amounts})
    return frame.groupby(["customer", "day"], sort=False, as_index=False)["amount"].sum()


def _as_day(value) -> pd.Timestamp:
    stamp = pd.Timestamp(value)
    if stamp.tz is not None:
        stamp = stamp.tz_localize(None)
    return stamp.normalize()


def summary_from_transactions(
    df: pd.DataFrame,
    customer_col: str,
    date_col: str,
    amount_col: str | None = None,
    cutoff=None,
    time_unit: str = "week",
) -> pd.DataFrame:
    """Summaries at `cutoff` (inclusive; default: the latest purchase day) in `time_unit`s.

    Purchases after the cut-off are ignored; customers born after it are absent. Returns one
    row per customer, indexed by the customer column, with columns frequency, recency, T and
    monetary_value (NaN without repeat purchases, or everywhere when `amount_col` is None).
    """
    if time_unit not in DAYS_PER_UNIT:
        raise ValueError(f"time_unit must be one of {sorted(DAYS_PER_UNIT)}, not {time_unit!r}")
    daily = _purchase_days(df, customer_col, date_col, amount_col)
    end = daily["day"].max() if cutoff is None else _as_day(cutoff)
    daily = daily[daily["day"] <= end]
    birth = daily.groupby("customer", sort=True)["day"].transform("min")
    repeat = daily["day"] > birth
    by_customer = daily.groupby("customer", sort=True)
    first = by_customer["day"].min()
    last = by_customer["day"].max()
    unit = pd.Timedelta(days=DAYS_PER_UNIT[time_unit])
    summary = pd.DataFrame(
        {
            "frequency": (by_customer.size() - 1).astype(np.int64),
            "recency": (last - first) / unit,
            "T": (end - first) / unit,
            "monetary_value": daily["amount"].where(repeat).groupby(daily["customer"]).mean()
            if amount_col
            else np.nan,
        }
    )
    summary.index.name = customer_col
    summary.attrs["cutoff"] = end.date().isoformat()
    return summary


def holdout_purchases(
    df: pd.DataFrame, customer_col: str, date_col: str, cutoff, end=None
) -> pd.Series:
    """Purchase days per customer in (cutoff, end]: the out-of-sample count the BG/NBD predicts."""
    daily = _purchase_days(df, customer_col, date_col, None)
    start = _as_day(cutoff)
    stop = daily["day"].max() if end is None else _as_day(end)
    window = daily[(daily["day"] > start) & (daily["day"] <= stop)]
    return window.groupby("customer").size().rename("holdout_purchases")

"""Marketing campaigns and the events they cause per contact: sends through delivery, opens,
clicks, unsubscribes and bounces, and conversions shortly before some orders."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from generator.config import DAY, Settings, params, reference
from generator.contacts import SYSTEMS, Contacts
from generator.persons import Persons, geography
from generator.purchases import FxTable, Orders
from generator.text import SHANGHAI_OFFSET, concat, ids, vocab_take

EVENT_TYPES = ("sent", "delivered", "open", "click", "unsubscribe", "bounce", "conversion")
MESSAGING = ("email", "sms", "wechat")
CHANNEL_LABEL = {
    "email": "邮件",
    "sms": "短信",
    "wechat": "微信",
    "paid_search": "搜索广告",
    "social": "社交媒体",
    "display": "展示广告",
}


@dataclass
class Campaigns:
    n: int
    campaign_id: pa.Array
    name: pa.Array
    channel: np.ndarray  # index into params marketing.channel
    start_at: np.ndarray  # 00:00 Asia/Shanghai of the start date, epoch seconds
    end_at: np.ndarray  # 00:00 Asia/Shanghai of the day after the end date
    currency: np.ndarray  # index into FxTable.currencies
    budget_cents: np.ndarray
    spend_share: np.ndarray  # share of the budget spent by the end


@dataclass
class Events:
    n: int
    campaign: np.ndarray
    contact: np.ndarray
    event_type: np.ndarray
    occurred_at: np.ndarray


def channel_names() -> list[str]:
    return list(params()["marketing"]["channel"])


def simulate_campaigns(s: Settings, fx: FxTable) -> Campaigns:
    rng = s.rng("campaigns")
    mk = params()["marketing"]
    names = channel_names()
    n = s.campaigns
    w = np.array(list(mk["channel"].values()), dtype=float)
    channel = rng.choice(len(names), n, p=w / w.sum())
    lo, hi = mk["duration_days"]
    first_day = (s.start + SHANGHAI_OFFSET) // DAY - 20
    last_day = (s.horizon_end + SHANGHAI_OFFSET) // DAY - 3
    start_day = np.sort(rng.integers(first_day, last_day, n))
    days = rng.integers(lo, hi + 1, n)
    start_at = start_day * DAY - SHANGHAI_OFFSET
    end_at = (start_day + days) * DAY - SHANGHAI_OFFSET
    themes = reference()["campaign_themes"]
    local = (start_at + SHANGHAI_OFFSET).astype("datetime64[s]")
    month = local.astype("datetime64[M]").astype(np.int64) % 12 + 1
    theme = np.zeros(n, dtype=np.int64)
    for k in range(n):  # a seasonal theme when one runs that month, else an evergreen one
        fits = [i for i, t in enumerate(themes) if t[1] in (0, month[k])]
        theme[k] = fits[int(rng.integers(0, len(fits)))]
    year_text = pa.array(np.datetime_as_string(local.astype("datetime64[Y]"), unit="Y").tolist())
    label = vocab_take([CHANNEL_LABEL[x] for x in names], channel)
    name = concat(year_text, " ", vocab_take([t[0] for t in themes], theme), " - ", label)
    foreign = rng.random(n) < mk["foreign_currency_share"]
    currency = np.where(foreign, fx.currencies.index("USD"), 0)
    budget_cny = rng.lognormal(
        mk["budget_cny_lognormal"]["mean"], mk["budget_cny_lognormal"]["sigma"], n
    )
    rate = fx.rates[currency, fx.month_index(start_at)]
    budget = (np.round(budget_cny / rate / 100) * 100 * 100).astype(np.int64)  # whole hundreds
    return Campaigns(
        n=n,
        campaign_id=ids("CMP", np.arange(1, n + 1), 5),
        name=name,
        channel=channel,
        start_at=start_at,
        end_at=end_at,
        currency=currency,
        budget_cents=budget,
        spend_share=rng.uniform(0.72, 1.06, n),
    )


def _eligible(channel: str, p: Persons, c: Contacts) -> np.ndarray:
    geo = geography()
    cn = np.isin(np.array(geo.codes), ["CN", "HK"])[p.country[c.person]]
    if channel == "email":
        return c.consent & c.has_email
    if channel == "sms":
        return c.consent & c.has_phone & cn
    if channel == "wechat":
        return c.consent & cn & (c.system != SYSTEMS.index("email_list"))
    return np.ones(c.n, dtype=bool)


def simulate_events(
    s: Settings, p: Persons, c: Contacts, o: Orders, cp: Campaigns
) -> tuple[Events, np.ndarray]:
    """Events, and per contact the campaign that acquired it (-1 if none)."""
    rng = s.rng("events")
    mk = params()["marketing"]
    names = channel_names()
    parts: list[tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]] = []

    def add(campaign, contact, etype, at):
        # compact dtypes: tens of millions of events at the large scale
        parts.append(
            (
                np.broadcast_to(campaign, at.shape).astype(np.int32),
                contact.astype(np.int32),
                np.full(len(at), EVENT_TYPES.index(etype), dtype=np.int8),
                at.astype(np.int64),
            )
        )

    reachable = {ch: _eligible(ch, p, c) for ch in names}
    for k in range(cp.n):
        ch = names[cp.channel[k]]
        ok = reachable[ch] & (c.created_at < cp.start_at[k])
        if ch in MESSAGING:
            aud = np.nonzero(ok & (rng.random(c.n) < s.audience_share))[0]
            m = len(aud)
            sent = cp.start_at[k] + 10 * 3600 + rng.integers(0, 2 * 3600, m)
            add(k, aud, "sent", sent)
            deliv = rng.random(m) < mk["delivered"]
            d_at = sent + rng.integers(5, 120, m)
            add(k, aud[deliv], "delivered", d_at[deliv])
            add(k, aud[~deliv], "bounce", (sent + rng.integers(10, 600, m))[~deliv])
            if mk["open"][ch] > 0:
                opened = deliv & (rng.random(m) < mk["open"][ch])
                o_at = d_at + rng.exponential(6 * 3600, m).astype(np.int64) + 30
                add(k, aud[opened], "open", o_at[opened])
            else:
                opened, o_at = deliv, d_at
            clicked = opened & (rng.random(m) < mk["click"][ch])
            c_at = o_at + rng.exponential(600, m).astype(np.int64) + 5
            add(k, aud[clicked], "click", c_at[clicked])
            unsub = deliv & (rng.random(m) < mk["unsubscribe"])
            add(k, aud[unsub], "unsubscribe", (o_at + rng.integers(20, 3600, m))[unsub])
            conv = clicked & (rng.random(m) < mk["conversion_after_click"])
            add(
                k,
                aud[conv],
                "conversion",
                (c_at + rng.exponential(2 * 3600, m).astype(np.int64) + 60)[conv],
            )
        else:
            aud = np.nonzero(ok & (rng.random(c.n) < mk["ad_clicks_per_contact"]))[0]
            m = len(aud)
            c_at = cp.start_at[k] + (rng.random(m) * (cp.end_at[k] - cp.start_at[k])).astype(
                np.int64
            )
            add(k, aud, "click", c_at)
            conv = rng.random(m) < mk["conversion_after_click"]
            add(k, aud[conv], "conversion", (c_at + rng.integers(60, 7200, m))[conv])

    _attributed(s, o, cp, names, rng, add)
    campaign = np.concatenate([x[0] for x in parts])
    contact = np.concatenate([x[1] for x in parts])
    etype = np.concatenate([x[2] for x in parts])
    at = np.concatenate([x[3] for x in parts])
    # Nothing before the contact exists or the campaign starts (touch chains are back-dated).
    keep = (at < s.horizon_end) & (at >= c.created_at[contact]) & (at >= cp.start_at[campaign])
    order = np.lexsort((etype[keep], at[keep]))
    events = Events(
        n=int(keep.sum()),
        campaign=campaign[keep][order],
        contact=contact[keep][order],
        event_type=etype[keep][order],
        occurred_at=at[keep][order],
    )
    return events, _acquisition_campaigns(c, cp, names, rng)


def _attributed(s, o: Orders, cp: Campaigns, names, rng, add) -> None:
    """A share of completed orders is preceded by a full touch chain of a messaging campaign
    running at the time, ending in a conversion minutes before the order."""
    mk = params()["marketing"]
    want = o.simulated & (rng.random(o.n) < mk["attributed_orders"])
    assigned = np.full(o.n, -1)
    for k in rng.permutation(cp.n):
        if names[cp.channel[k]] not in MESSAGING:
            continue
        hit = (
            want & (assigned < 0) & (o.ordered_at >= cp.start_at[k]) & (o.ordered_at < cp.end_at[k])
        )
        assigned[hit] = k
    idx = np.nonzero(assigned >= 0)[0]
    m = len(idx)
    k = assigned[idx]
    contact = o.contact[idx]
    conv = o.ordered_at[idx] - rng.integers(60, 1800, m)
    click = conv - rng.integers(60, 3600, m)
    opened = click - rng.integers(30, 1800, m)
    deliv = opened - rng.integers(600, DAY, m)
    sent = deliv - rng.integers(5, 120, m)
    has_open = np.array([mk["open"][names[cp.channel[x]]] > 0 for x in k], dtype=bool)
    add(k, contact, "sent", sent)
    add(k, contact, "delivered", deliv)
    add(k[has_open], contact[has_open], "open", opened[has_open])
    add(k, contact, "click", click)
    add(k, contact, "conversion", conv)


def _acquisition_campaigns(c: Contacts, cp: Campaigns, names, rng) -> np.ndarray:
    """Contacts acquired through a campaign channel while a campaign of that channel ran."""
    acquired = np.full(c.n, -1)
    by_channel = {
        name: pc.equal(c.acquisition_channel, name).to_numpy(zero_copy_only=False) for name in names
    }
    for k in rng.permutation(cp.n):
        name = names[cp.channel[k]]
        if name in ("sms", "display"):
            continue
        match = by_channel[name]
        hit = (
            match
            & (acquired < 0)
            & (c.created_at >= cp.start_at[k])
            & (c.created_at < cp.end_at[k])
            & (rng.random(c.n) < 0.7)
        )
        acquired[hit] = k
    return acquired

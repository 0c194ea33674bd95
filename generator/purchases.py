"""Orders and their lines. Repeat purchasing follows BG/NBD (Poisson purchases at a per-customer
weekly rate λ ~ Gamma(r, α); after each repeat purchase the customer drops out with probability
p ~ Beta(a, b)); order values follow Gamma-Gamma in CNY. Every simulated purchase is a completed
order; cancelled, refunded and abandoned (pending) orders are extra orders on top."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa

from generator.config import DAY, Settings, params, reference
from generator.contacts import SYSTEMS, Contacts
from generator.persons import Persons, geography
from generator.text import NO_TS, SHANGHAI_OFFSET, ids

FX_SEED = Path(__file__).resolve().parent.parent / "dbt_project" / "seeds" / "fx_rates.csv"

WEEK = 7 * DAY
CHANNELS = ("online", "store", "partner")
ORDER_SYSTEM = {"online": "shop", "store": "pos", "partner": "partner"}
STATUSES = ("completed", "pending", "cancelled", "refunded")
# Contact systems an order refers to, in order of preference, per sales channel.
CONTACT_PREFERENCE = {
    "online": ("web", "crm", "email_list", "pos"),
    "store": ("pos", "crm", "web", "email_list"),
    "partner": ("crm", "web", "email_list", "pos"),
}


@dataclass
class FxTable:
    currencies: list[str]  # index 0 is CNY
    months: list[str]  # 'YYYY-MM' (Asia/Shanghai calendar)
    first_month: np.datetime64
    rates: np.ndarray  # [currency, month] CNY per unit, rounded as published

    def as_dict(self) -> dict[str, dict[str, float]]:
        return {
            c: {m: float(self.rates[i, j]) for j, m in enumerate(self.months)}
            for i, c in enumerate(self.currencies)
            if c != "CNY"
        }

    def month_index(self, seconds: np.ndarray) -> np.ndarray:
        local = (seconds + SHANGHAI_OFFSET).astype("datetime64[s]").astype("datetime64[M]")
        return (local - self.first_month).astype(np.int64)


@dataclass
class Orders:
    n: int
    order_id: pa.Array
    person: np.ndarray
    contact: np.ndarray  # index into Contacts
    channel: np.ndarray  # index into CHANNELS
    currency: np.ndarray  # index into FxTable.currencies
    total_cents: np.ndarray  # in the order currency
    value_cny: np.ndarray  # Gamma-Gamma draw (float CNY) for completed orders
    ordered_at: np.ndarray
    final_status: np.ndarray  # index into STATUSES
    final_at: np.ndarray  # updated_at of the final version
    interim_status: np.ndarray  # index into STATUSES or -1 when the order has one version
    both_versions: np.ndarray  # export the interim version too once final (two-version orders)
    simulated: np.ndarray  # a BG/NBD purchase (True) or an extra order (False)


@dataclass
class Lines:
    n: int
    order: np.ndarray  # index into Orders
    line_number: np.ndarray
    product: np.ndarray  # index into reference products
    quantity: np.ndarray
    unit_cents: np.ndarray
    discount_cents: np.ndarray


def fx_table(s: Settings) -> FxTable:
    """The company's monthly FX table, read from the dbt seed that converts amounts downstream.

    One table for both sides, so the warehouse converts generated amounts back exactly.
    """
    first = np.datetime64(s.start + SHANGHAI_OFFSET, "s").astype("datetime64[M]")
    last = np.datetime64(s.horizon_end + SHANGHAI_OFFSET, "s").astype("datetime64[M]")
    months = np.arange(first, last + 1)
    seed = FX_SEED.read_text(encoding="utf-8").splitlines()
    published: dict[tuple[str, str], float] = {}
    for row in seed[1:]:
        month, currency, rate = row.split(",")
        published[(currency, month[:7])] = float(rate)
    currencies = ["CNY", *params()["purchasing"]["fx_currencies"]]
    rates = np.ones((len(currencies), len(months)))
    for i, cur in enumerate(currencies):
        for j, month in enumerate(months):
            if (cur, str(month)) not in published:
                raise ValueError(
                    f"{FX_SEED}: no {cur} rate for {month}; extend the FX seed to cover the "
                    "generated period"
                )
            rates[i, j] = published[(cur, str(month))]
    return FxTable(currencies, [str(m) for m in months], first, rates)


def _bgnbd(s: Settings, p: Persons, rng: np.random.Generator):
    """Repeat purchase times of every buyer up to the horizon end."""
    bg = params()["purchasing"]["bgnbd"]
    buyers = np.nonzero((p.first_order_at != NO_TS) & (p.first_order_at < s.horizon_end))[0]
    k = len(buyers)
    lam = rng.gamma(bg["r"], 1 / bg["alpha"], k)  # purchases per week
    drop = rng.beta(bg["a"], bg["b"], k)
    life = rng.geometric(drop)  # repeats made before dropping out
    t0 = p.first_order_at[buyers]
    span = (s.horizon_end - t0) / WEEK
    m = rng.poisson(lam * span)  # Poisson arrivals while alive
    n_rep = np.minimum(life, m)
    total = int(m.sum())
    group = np.repeat(np.arange(k), m)
    u = rng.random(total)
    order = np.argsort(group + u * 0.999999, kind="stable")  # sort uniforms within a buyer
    u = u[order]
    start = np.repeat(np.cumsum(m) - m, m)
    rank = np.arange(total) - start
    keep = rank < n_rep[group]
    g, u = group[keep], u[keep]
    rep_at = t0[g] + (u * span[g] * WEEK).astype(np.int64) + 1
    person = np.concatenate([buyers, buyers[g]])
    at = np.concatenate([t0, rep_at])
    truth = {"buyers": int(k), "repeat_purchases": int(keep.sum())}
    return person, at, truth


def simulate_orders(
    s: Settings, p: Persons, c: Contacts, fx: FxTable
) -> tuple[Orders, Lines, dict]:
    rng = s.rng("orders")
    pu = params()["purchasing"]
    geo = geography()
    person, at, truth = _bgnbd(s, p, rng)
    n_sim = len(person)

    # Gamma-Gamma: ν per customer, order value ~ Gamma(p, rate ν).
    gg = pu["gamma_gamma"]
    nu = rng.gamma(gg["q"], 1 / gg["gamma"], p.n)
    value = rng.gamma(gg["p"], 1 / nu[person])

    # Extra orders (not part of the purchase process) from random buyers during their life.
    extras = []
    for status in ("cancelled", "refunded", "pending"):
        k = rng.binomial(n_sim, pu["extra_orders"][status])
        pick = rng.integers(0, n_sim, k)
        who = person[pick]
        life_start = p.first_order_at[who]
        when = life_start + (rng.random(k) * (s.horizon_end - life_start)).astype(np.int64)
        extras.append((status, who, when, rng.gamma(gg["p"], 1 / nu[who])))
    ex_person = np.concatenate([e[1] for e in extras])
    person = np.concatenate([person, ex_person])
    at = np.concatenate([at, *[e[2] for e in extras]])
    value = np.concatenate([value, *[e[3] for e in extras]])
    final = np.concatenate(
        [np.zeros(n_sim, np.int64)]
        + [
            np.full(len(e[1]), STATUSES.index("cancelled" if e[0] == "pending" else e[0]))
            for e in extras
        ]
    )
    interim = np.concatenate(
        [np.full(n_sim, -1)]
        + [
            np.full(len(e[1]), STATUSES.index("completed" if e[0] == "refunded" else "pending"))
            for e in extras
        ]
    )
    kind = np.concatenate(
        [np.zeros(n_sim, np.int64)] + [np.full(len(e[1]), i + 1) for i, e in enumerate(extras)]
    )
    simulated = kind == 0
    n = len(person)
    at = _diurnal(at, person, p, s, rng)

    # Final-version times: payment in minutes; cancellations within 2 days; refunds within a
    # month; abandoned (pending) orders auto-cancelled after `pending_days`.
    delay = (rng.random(n) * 600).astype(np.int64) + 30
    delay = np.where(kind == 1, (rng.random(n) * 2 * DAY).astype(np.int64) + 600, delay)
    delay = np.where(kind == 2, ((3 + rng.random(n) * 27) * DAY).astype(np.int64), delay)
    delay = np.where(kind == 3, pu["pending_days"] * DAY, delay)
    two = simulated & (rng.random(n) < pu["two_version_share"])
    interim = np.where(two, STATUSES.index("pending"), interim)
    delay = np.where(two, (3600 + rng.random(n) * 3 * DAY).astype(np.int64), delay)
    both = two.copy()

    # Channel and the contact the order refers to.
    has_pos = c.of_person[person, SYSTEMS.index("pos")] >= 0
    u = rng.random(n)
    with_pos = np.cumsum(list(pu["channel_with_pos"].values()))
    without = np.cumsum(list(pu["channel_without_pos"].values()))
    ch_with = np.array([CHANNELS.index(x) for x in pu["channel_with_pos"]])
    ch_without = np.array([CHANNELS.index(x) for x in pu["channel_without_pos"]])
    channel = np.where(
        has_pos,
        ch_with[np.minimum(np.searchsorted(with_pos, u * with_pos[-1]), len(ch_with) - 1)],
        ch_without[np.minimum(np.searchsorted(without, u * without[-1]), len(ch_without) - 1)],
    )
    contact = pick_contact(c, person, at, channel)

    # Currency per person (fixed), converted from CNY at the month's published rate.
    cur_of_person = np.zeros(p.n, dtype=np.int64)
    crng = s.rng("currency")
    for ci, options in enumerate(geo.currencies):
        sel = p.country == ci
        codes = [fx.currencies.index(x[0]) for x in options]
        w = np.array([x[1] for x in options], dtype=float)
        cur_of_person[sel] = np.array(codes)[crng.choice(len(codes), int(sel.sum()), p=w / w.sum())]
    currency = cur_of_person[person]
    value = np.maximum(value, pu["min_order_cny"])
    rate = fx.rates[currency, fx.month_index(at)]
    total = np.maximum(np.round(value / rate * 100).astype(np.int64), 100)

    order = np.argsort(at, kind="stable")
    orders = Orders(
        n=n,
        order_id=ids("SO", np.arange(1, n + 1), 9),
        person=person[order],
        contact=contact[order],
        channel=channel[order],
        currency=currency[order],
        total_cents=total[order],
        value_cny=value[order],
        ordered_at=at[order],
        final_status=final[order],
        final_at=at[order] + delay[order],
        interim_status=interim[order],
        both_versions=both[order],
        simulated=simulated[order],
    )
    lines = _lines(orders, fx, rng)
    truth["simulated_orders"] = n_sim
    return orders, lines, truth


def _diurnal(
    at: np.ndarray, person: np.ndarray, p: Persons, s: Settings, rng: np.random.Generator
) -> np.ndarray:
    """Move each later order to a local (Asia/Shanghai) hour of the same day drawn from the
    shopping rhythm; the first order stays where the funnel put it. Shifts stay within the day,
    so weekly purchase rates are unchanged."""
    hourly = np.array(params()["purchasing"]["order_hour_weights"], dtype=float)
    first = p.first_order_at[person]
    local_day = (at + SHANGHAI_OFFSET) // DAY
    hour = rng.choice(24, len(at), p=hourly / hourly.sum())
    moved = local_day * DAY + hour * 3600 + rng.integers(0, 3600, len(at)) - SHANGHAI_OFFSET
    moved = np.maximum(moved, first + 60)
    keep = (at == first) | (moved >= s.horizon_end)
    return np.where(keep, at, moved)


def pick_contact(
    c: Contacts, person: np.ndarray, at: np.ndarray, channel: np.ndarray
) -> np.ndarray:
    """The person's contact in the system matching the channel, if it existed at `at`; else the
    person's first contact."""
    recs = c.of_person[person]
    created = np.where(recs >= 0, c.created_at[np.maximum(recs, 0)], np.iinfo(np.int64).max)
    first = recs[np.arange(len(person)), created.argmin(axis=1)]
    chosen = np.full(len(person), -1, dtype=np.int64)
    for ch, prefs in CONTACT_PREFERENCE.items():
        sel = channel == CHANNELS.index(ch)
        for name in prefs:
            j = SYSTEMS.index(name)
            ok = sel & (chosen < 0) & (recs[:, j] >= 0) & (created[:, j] <= at)
            chosen[ok] = recs[ok, j]
    return np.where(chosen >= 0, chosen, first)


def _lines(o: Orders, fx: FxTable, rng: np.random.Generator) -> Lines:
    """1–5 lines per order whose amounts (quantity × unit price − discount) sum exactly to the
    order total. Products are picked near the price the line has to carry."""
    pu = params()["purchasing"]
    products = reference()["products"]
    price = np.array([x[3] for x in products], dtype=float)
    by_price = np.argsort(price)
    sorted_price = price[by_price]
    dist = pu["lines_per_order"]
    k = rng.choice(np.array(list(dist), dtype=np.int64), o.n, p=np.array(list(dist.values())))
    k = np.minimum(k, np.maximum(o.total_cents // 50, 1))
    order = np.repeat(np.arange(o.n), k)
    n = len(order)
    start = np.repeat(np.cumsum(k) - k, k)
    line_number = np.arange(n) - start + 1
    qdist = pu["quantity"]
    qty = rng.choice(np.array(list(qdist), dtype=np.int64), n, p=np.array(list(qdist.values())))
    weight = rng.gamma(2.0, 1.0, n)
    share = weight / np.bincount(order, weight)[order]
    total = o.total_cents[order]
    reserve = k[order]  # one cent per line so no line is empty
    alloc = np.floor(share * (total - reserve)).astype(np.int64) + 1
    last = line_number == k[order]
    rest = o.total_cents - np.bincount(order, alloc, minlength=o.n).astype(np.int64)
    alloc[last] += rest[order[last]]
    qty = np.minimum(qty, np.maximum(alloc // 100, 1))
    # Product whose list price (CNY) is near the line's unit value.
    rate = fx.rates[o.currency[order], fx.month_index(o.ordered_at[order])]
    unit_cny = alloc / 100 * rate / qty * rng.uniform(0.75, 1.3, n)
    pos = np.clip(np.searchsorted(sorted_price, unit_cny), 0, len(price) - 1)
    product = by_price[pos]
    discounted = rng.random(n) < pu["discounted_line_share"]
    disc_rate = np.where(discounted, rng.uniform(*pu["discount_rate"], n), 0.0)
    # A full-price line must divide evenly into its units: sell it as a single unit if not.
    qty = np.where(~discounted & (alloc % qty != 0), 1, qty)
    unit = np.ceil(alloc / (qty * (1 - disc_rate))).astype(np.int64)
    discount = qty * unit - alloc
    return Lines(
        n=n,
        order=order,
        line_number=line_number,
        product=product,
        quantity=qty,
        unit_cents=unit,
        discount_cents=discount,
    )

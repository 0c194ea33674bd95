"""Customer-service tickets: raised after orders (delivery, returns) or out of the blue, answered
within business hours (Mon–Fri 9:00–18:00 Asia/Shanghai), sometimes reopened, rated on ~30%."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from generator.config import DAY, Settings, params
from generator.contacts import Contacts
from generator.persons import Persons
from generator.purchases import CHANNELS, Orders, pick_contact

# Hour-of-day weights (local time) for when customers write in.
HOURLY = np.array(
    [1, 0.6, 0.4, 0.3, 0.3, 0.5, 1, 2, 4, 7, 8, 8, 6, 7, 8, 8, 7, 6, 5, 5, 6, 6, 4, 2], dtype=float
)


@dataclass
class Tickets:
    n: int
    person: np.ndarray
    contact: np.ndarray
    channel: np.ndarray  # index into params service.channel
    category: np.ndarray
    priority: np.ndarray
    agent: np.ndarray
    reopen: np.ndarray
    csat: np.ndarray  # 1–5, 0 when the customer does not answer the survey
    created_at: np.ndarray
    first_response_at: np.ndarray
    resolved_at: np.ndarray
    closed_at: np.ndarray


def _pick(rng: np.random.Generator, weights: dict, n: int) -> np.ndarray:
    w = np.array(list(weights.values()), dtype=float)
    return rng.choice(len(w), n, p=w / w.sum())


def next_business_time(t: np.ndarray) -> np.ndarray:
    """t itself when inside business hours, else the next opening (weekends skipped)."""
    bh = params()["service"]["business_hours"]
    off = bh["timezone_offset_hours"] * 3600
    local = t + off
    day = local // DAY
    tod = local % DAY
    dow = (day + 3) % 7  # 1970-01-01 was a Thursday; Monday = 0
    open_s, close_s = bh["start"] * 3600, bh["end"] * 3600
    inside = (dow < 5) & (tod >= open_s) & (tod < close_s)
    same_day = (dow < 5) & (tod < open_s)
    # days to add to reach the next weekday opening
    ahead = np.select([dow == 4, dow == 5, dow == 6], [3, 2, 1], 1)
    nxt = np.where(same_day, day, day + ahead)
    return np.where(inside, t, nxt * DAY + open_s - off)


def simulate_tickets(s: Settings, p: Persons, c: Contacts, o: Orders) -> Tickets:
    rng = s.rng("tickets")
    sv = params()["service"]
    # After orders: within days of the purchase.
    from_order = rng.random(o.n) < sv["tickets_per_order"]
    op = o.person[from_order]
    ot = o.ordered_at[from_order] + (rng.exponential(2.0, len(op)) * DAY).astype(np.int64) + 600
    # Out of the blue: Poisson over the person's life.
    years = np.maximum(s.horizon_end - p.born, 0) / (365 * DAY)
    k = rng.poisson(sv["tickets_per_person_year"] * years)
    pp = np.repeat(np.arange(p.n), k)
    pt = p.born[pp] + (rng.random(len(pp)) * (s.horizon_end - p.born[pp])).astype(np.int64)
    person = np.concatenate([op, pp])
    created = np.concatenate([ot, pt])
    # Customers write in during the day: redraw the local hour of day.
    hour = rng.choice(24, len(created), p=HOURLY / HOURLY.sum())
    off = sv["business_hours"]["timezone_offset_hours"] * 3600
    local_day = (created + off) // DAY
    created = local_day * DAY + hour * 3600 + rng.integers(0, 3600, len(created)) - off
    keep = created < s.horizon_end
    person, created = person[keep], created[keep]
    # Tickets reach customers through whichever system knows them (web first, as online);
    # never before that contact exists.
    contact = pick_contact(c, person, created, np.full(len(person), CHANNELS.index("online")))
    created = np.maximum(created, c.created_at[contact] + 60)
    keep = created < s.horizon_end
    person, created, contact = person[keep], created[keep], contact[keep]
    n = len(person)

    channel = _pick(rng, sv["channel"], n)
    category = _pick(rng, sv["category"], n)
    priority = _pick(rng, sv["priority"], n)
    names = list(sv["channel"])
    mean_fr = np.array([sv["first_response_minutes"][x] for x in names])[channel] * 60
    first = next_business_time(created) + rng.exponential(mean_fr).astype(np.int64) + 30
    mean_res = np.array(list(sv["resolution_hours"].values()))[priority] * 3600
    resolved = next_business_time(first + rng.exponential(mean_res).astype(np.int64) + 60)
    resolved += rng.integers(0, 2 * 3600, n)
    reopen_w = sv["reopen"]
    u = rng.random(n)
    reopen = np.where(u < reopen_w[2], 2, np.where(u < reopen_w[2] + reopen_w[1], 1, 0))
    resolved += (reopen * rng.exponential(30, n) * 3600).astype(np.int64)
    closed = resolved + 3 * DAY
    answered = rng.random(n) < sv["csat_share"]
    probs = np.array(sv["csat_probs"], dtype=float)
    worse = probs[::-1] * 0.6 + probs * 0.4
    slow = ((resolved - created) > 3 * DAY) | (reopen > 0)
    score = (
        np.where(
            slow, rng.choice(5, n, p=worse / worse.sum()), rng.choice(5, n, p=probs / probs.sum())
        )
        + 1
    )
    csat = np.where(answered, score, 0)
    agent = rng.integers(0, 1 << 20, n)

    order = np.argsort(created, kind="stable")
    return Tickets(
        n=n,
        person=person[order],
        contact=contact[order],
        channel=channel[order],
        category=category[order],
        priority=priority[order],
        agent=agent[order],
        reopen=reopen[order],
        csat=csat[order],
        created_at=created[order],
        first_response_at=first[order],
        resolved_at=resolved[order],
        closed_at=closed[order],
    )

"""Views of the world as export files: the base export at the end of the as-of day and the daily
increments after it. Each view is a window [lo, hi) of time; rows carry the state at `hi`."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from generator import text
from generator.config import DAY, params, reference
from generator.contacts import SYSTEMS
from generator.frames import BOOL, DATE, INT, MONEY, STR, TS, FaultRules, FileFrame
from generator.marketing import EVENT_TYPES, channel_names
from generator.persons import STAGES, geography
from generator.purchases import CHANNELS, ORDER_SYSTEM, STATUSES
from generator.text import NO_TS, SHANGHAI_OFFSET
from generator.world import World

NULL = pa.scalar(None, pa.string())

CONTACT_COLUMNS = [
    ("source_contact_id", STR),
    ("full_name", STR),
    ("email", STR),
    ("phone", STR),
    ("company", STR),
    ("country", STR),
    ("region", STR),
    ("city", STR),
    ("acquisition_channel", STR),
    ("acquisition_campaign_id", STR),
    ("owner", STR),
    ("marketing_consent", BOOL),
    ("lifecycle_stage", STR),
    ("lead_at", TS),
    ("mql_at", TS),
    ("sql_at", TS),
    ("opportunity_at", TS),
    ("customer_at", TS),
    ("created_at", TS),
    ("updated_at", TS),
]
# The marketing tool's list export: no phone, address, company or owner, but the synced
# lifecycle stage (a person may be known only there).
EMAIL_LIST_COLUMNS = [
    "source_contact_id",
    "email",
    "full_name",
    "country",
    "acquisition_channel",
    "acquisition_campaign_id",
    "marketing_consent",
    "lifecycle_stage",
    "lead_at",
    "mql_at",
    "sql_at",
    "opportunity_at",
    "customer_at",
    "created_at",
    "updated_at",
]
POS_HEADERS = {
    "source_contact_id": "会员编号",
    "full_name": "姓名",
    "phone": "手机号",
    "email": "邮箱",
    "company": "公司",
    "country": "国家",
    "region": "大区",
    "city": "城市",
    "acquisition_channel": "来源渠道",
    "acquisition_campaign_id": "来源活动",
    "owner": "负责人",
    "marketing_consent": "营销授权",
    "lifecycle_stage": "生命周期阶段",
    "lead_at": "线索时间",
    "mql_at": "MQL时间",
    "sql_at": "SQL时间",
    "opportunity_at": "商机时间",
    "customer_at": "成交时间",
    "created_at": "创建时间",
    "updated_at": "更新时间",
}
CONTACT_FILES = {
    "crm": ("crm_contacts", "csv"),
    "web": ("web_signups", "jsonl"),
    "pos": ("pos_members", "csv"),
    "email_list": ("email_list", "csv"),
}


@dataclass(frozen=True)
class Window:
    lo: int | None  # None: everything before hi (the base export)
    hi: int
    suffix: str  # '' for the base, '_inc001' for increment 1

    def new(self, at: np.ndarray) -> np.ndarray:
        return (at < self.hi) if self.lo is None else ((at >= self.lo) & (at < self.hi))

    def changed(self, at: np.ndarray) -> np.ndarray:
        """Something happened in the window to a record that existed before it."""
        if self.lo is None:
            return np.zeros(len(at), dtype=bool)
        return (at >= self.lo) & (at < self.hi)


def _ts(seconds: np.ndarray, style: str) -> pa.Array:
    return text.timestamps(seconds, style)


def _jitter(key: np.ndarray, span: int) -> np.ndarray:
    """A fixed pseudo-random offset per record (stable across exports)."""
    return (key.astype(np.int64) * 2_654_435_761) % max(span, 1)


def render_all(w: World, win: Window) -> Iterator[FileFrame]:
    """The export files of the window, rendered one at a time (so that only one large file's
    text is in memory at once)."""
    yield from contact_frames(w, win)
    yield campaign_frame(w, win)
    yield order_frame(w, win)
    yield line_frame(w, win)
    yield ticket_frame(w, win)
    yield event_frame(w, win)


# ---------------------------------------------------------------------------------- contacts


def _unsubscribed_at(w: World) -> np.ndarray:
    ev = w.events
    first = np.full(w.contacts.n, np.iinfo(np.int64).max)
    sel = ev.event_type == EVENT_TYPES.index("unsubscribe")
    np.minimum.at(first, ev.contact[sel], ev.occurred_at[sel])
    return first


def contact_frames(w: World, win: Window) -> list[FileFrame]:
    c, p = w.contacts, w.persons
    ref = reference()
    hi = win.hi
    stage_at = {"lead": p.born, **p.stage_at}
    person = c.person
    last_change = c.created_at.copy()
    for st in stage_at.values():
        at = st[person]
        last_change = np.where((at != NO_TS) & (at < hi), np.maximum(last_change, at), last_change)
    unsub = _unsubscribed_at(w)
    consent = c.consent & ~(unsub < hi)
    last_change = np.where(unsub < hi, np.maximum(last_change, unsub), last_change)
    rate = params()["increments"]["profile_updates_per_day"]
    touched = np.zeros(c.n, dtype=bool)
    if win.lo is not None:
        rng = w.settings.rng(f"profile_updates{win.suffix}")
        touched = (c.created_at < win.lo) & (rng.random(c.n) < rate)
        touch_at = win.lo + rng.integers(0, DAY, c.n)
        last_change = np.where(touched, np.maximum(last_change, touch_at), last_change)
    include = win.new(c.created_at) | (win.changed(last_change) & (c.created_at < hi))
    span = 5 * DAY if win.lo is None else 3600
    updated = np.minimum(last_change + _jitter(c.owner_idx, span), hi - 1)
    updated = np.maximum(updated, c.created_at)

    frames = []
    for j, system in enumerate(SYSTEMS):
        rows = np.nonzero(include & (c.system == j))[0]
        base, fmt = CONTACT_FILES[system]
        pr = person[rows]
        style = "cn_local" if system == "pos" else "iso"
        take = pa.array(rows)
        ptake = pa.array(pr)
        col: dict[str, pa.Array] = {}
        col["source_contact_id"] = c.contact_id.take(take)
        name = p.name.take(ptake)
        if system == "email_list":
            name = text.null_where(name, _jitter(c.owner_idx[rows], 10) < 3)
        col["full_name"] = name
        col["email"] = c.email.take(take)
        col["phone"] = c.phone.take(take)
        company = p.company.take(ptake)
        col["company"] = (
            company
            if system != "pos"
            else text.null_where(company, _jitter(c.owner_idx[rows], 10) < 7)
        )
        col["country"] = text.vocab_take(geography().codes, p.country[pr])
        col["region"] = p.region.take(ptake)
        col["city"] = p.city.take(ptake)
        col["acquisition_channel"] = c.acquisition_channel.take(take)
        acq = w.acquisition_campaign[rows]
        col["acquisition_campaign_id"] = text.null_where(
            w.campaigns.campaign_id.take(pa.array(np.maximum(acq, 0))), acq < 0
        )
        reps = ref["sales_reps"]
        col["owner"] = text.null_where(
            text.vocab_take(reps, c.owner_idx[rows] % len(reps)),
            np.full(len(rows), system != "crm"),
        )
        col["marketing_consent"] = text.booleans(
            consent[rows], *(("是", "否") if system == "pos" else ("true", "false"))
        )
        stage_name = np.full(len(rows), "lead", dtype=object)
        for st in STAGES:
            at = stage_at[st][pr]
            stage_name = np.where((at != NO_TS) & (at < hi), st, stage_name)
        col["lifecycle_stage"] = pa.array(stage_name.tolist(), pa.string())
        for st, key in zip(
            ["lead", *STAGES],
            ["lead_at", "mql_at", "sql_at", "opportunity_at", "customer_at"],
            strict=True,
        ):
            at = stage_at[st][pr]
            col[key] = _ts(np.where((at != NO_TS) & (at < hi), at, NO_TS), style)
        col["created_at"] = _ts(c.created_at[rows], style)
        col["updated_at"] = _ts(updated[rows], style)

        kinds = dict(CONTACT_COLUMNS)
        keep = EMAIL_LIST_COLUMNS if system == "email_list" else [k for k, _ in CONTACT_COLUMNS]
        col = {k: col[k] for k in keep}
        rules = FaultRules(
            required=["source_contact_id", "created_at", "updated_at"],
            email="email",
            not_future=[k for k in keep if kinds[k] == TS],
            dated=[k for k in keep if kinds[k] == TS],
        )
        if system == "pos":
            col = {POS_HEADERS[k]: v for k, v in col.items()}
            kinds = {POS_HEADERS[k]: kinds[k] for k in keep}
            rules = FaultRules(
                required=[POS_HEADERS[k] for k in rules.required],
                email=POS_HEADERS["email"],
                not_future=[POS_HEADERS[k] for k in rules.not_future],
                dated=[POS_HEADERS[k] for k in rules.dated],
            )
        else:
            kinds = {k: kinds[k] for k in keep}
        frames.append(
            FileFrame(
                name=f"{base}{win.suffix}.{fmt}",
                fmt=fmt,
                columns=col,
                kinds=kinds,
                rules=rules,
                encoding={"pos": "gb18030", "email_list": "utf-8-sig"}.get(system, "utf-8"),
                ts_style=style,
                avoid=_referenced(w)[rows],
            )
        )
    return frames


def _referenced(w: World) -> np.ndarray:
    """Contacts that orders, tickets or events refer to (a fault there would cascade)."""
    ref = np.zeros(w.contacts.n, dtype=bool)
    ref[w.orders.contact] = True
    ref[w.tickets.contact] = True
    ref[w.events.contact] = True
    return ref


def _contact_ref(w: World, contact: np.ndarray) -> tuple[pa.Array, pa.Array]:
    c = w.contacts
    return (text.vocab_take(list(SYSTEMS), c.system[contact]), c.contact_id.take(pa.array(contact)))


# --------------------------------------------------------------------------------- campaigns


def campaign_frame(w: World, win: Window) -> FileFrame:
    cp = w.campaigns
    hi = win.hi
    started = cp.start_at < hi
    active_in_window = (cp.start_at < hi) & (cp.end_at + DAY > (win.lo or 0))
    rows = np.nonzero(started if win.lo is None else active_in_window)[0]
    frac = np.clip((hi - cp.start_at) / (cp.end_at - cp.start_at), 0, 1)
    spend = np.round(cp.budget_cents * cp.spend_share * frac).astype(np.int64)
    ended = cp.end_at + DAY <= hi
    updated = np.where(
        ended,
        cp.end_at + DAY + _jitter(np.arange(cp.n), 6 * 3600),
        hi - 1 - _jitter(np.arange(cp.n), 6 * 3600),
    )
    updated = np.maximum(updated, cp.start_at)
    cols = {
        "campaign_id": cp.campaign_id.take(pa.array(rows)),
        "campaign_name": cp.name.take(pa.array(rows)),
        "channel": text.vocab_take(channel_names(), cp.channel[rows]),
        "start_date": text.dates(cp.start_at[rows] + SHANGHAI_OFFSET),
        "end_date": text.dates(cp.end_at[rows] + SHANGHAI_OFFSET - DAY),
        "budget": text.money(cp.budget_cents[rows]),
        "spend": text.money(spend[rows]),
        "currency": text.vocab_take(w.fx.currencies, cp.currency[rows]),
        "updated_at": _ts(updated[rows], "iso"),
    }
    kinds = {
        "campaign_id": STR,
        "campaign_name": STR,
        "channel": STR,
        "start_date": DATE,
        "end_date": DATE,
        "budget": MONEY,
        "spend": MONEY,
        "currency": STR,
        "updated_at": TS,
    }
    rules = FaultRules(
        required=[
            "campaign_id",
            "campaign_name",
            "channel",
            "start_date",
            "currency",
            "updated_at",
        ],
        amounts=["budget", "spend"],
        not_future=["updated_at"],
        dated=["start_date", "end_date", "updated_at"],
    )
    # Faults go to the campaigns with the fewest events, to keep orphaned events few.
    touches = np.bincount(w.events.campaign[w.events.occurred_at < hi], minlength=cp.n)[rows]
    avoid = touches > (np.quantile(touches, 0.25) if len(rows) else 0)
    return FileFrame(
        name=f"campaigns{win.suffix}.xlsx",
        fmt="xlsx",
        columns=cols,
        kinds=kinds,
        rules=rules,
        avoid=avoid,
    )


# ------------------------------------------------------------------------------------ orders


def order_frame(w: World, win: Window) -> FileFrame:
    o = w.orders
    hi = win.hi
    new = win.new(o.ordered_at)
    has_interim = o.interim_status >= 0
    final_done = (o.final_at < hi) | ~has_interim
    # Rows: (order, is_interim). New orders show their state at hi (both versions for the
    # two-version ones once final); older orders show up again when they reach their final state.
    final_rows = (new & final_done) | (win.changed(o.final_at) & has_interim & ~new)
    interim_rows = new & has_interim & (~final_done | o.both_versions)
    idx = np.concatenate([np.nonzero(interim_rows)[0], np.nonzero(final_rows)[0]])
    interim = np.concatenate([np.ones(interim_rows.sum(), bool), np.zeros(final_rows.sum(), bool)])
    order = np.lexsort((~interim, idx))
    idx, interim = idx[order], interim[order]
    status = np.where(interim, o.interim_status[idx], o.final_status[idx])
    updated = np.where(interim, o.ordered_at[idx] + 60, o.final_at[idx])
    sys_text, contact_id = _contact_ref(w, o.contact[idx])
    channel = np.array(CHANNELS)[o.channel[idx]]
    cols = {
        "order_id": o.order_id.take(pa.array(idx)),
        "source_system": pa.array([ORDER_SYSTEM[x] for x in CHANNELS]).take(
            pa.array(o.channel[idx])
        ),
        "contact_source_system": sys_text,
        "contact_source_id": contact_id,
        "status": text.vocab_take(list(STATUSES), status),
        "sales_channel": pa.array(channel.tolist(), pa.string()),
        "currency": text.vocab_take(w.fx.currencies, o.currency[idx]),
        "total_amount": text.money(o.total_cents[idx]),
        "ordered_at": _ts(o.ordered_at[idx], "iso"),
        "updated_at": _ts(updated, "iso"),
    }
    kinds = dict.fromkeys(cols, STR) | {"total_amount": MONEY, "ordered_at": TS, "updated_at": TS}
    rules = FaultRules(
        required=[
            "order_id",
            "contact_source_system",
            "contact_source_id",
            "status",
            "currency",
            "total_amount",
            "ordered_at",
            "updated_at",
        ],
        amounts=["total_amount"],
        not_future=["ordered_at", "updated_at"],
        dated=["ordered_at", "updated_at"],
        references=["contact_source_id"],
    )
    return FileFrame(
        name=f"orders{win.suffix}.csv",
        fmt="csv",
        columns=cols,
        kinds=kinds,
        rules=rules,
        avoid=has_interim[idx],
    )


def line_frame(w: World, win: Window) -> FileFrame:
    """Lines of the orders placed in the window (lines never change after the order)."""
    o, ln = w.orders, w.lines
    new = win.new(o.ordered_at)
    sel = np.nonzero(new[ln.order])[0]
    products = reference()["products"]
    prod = ln.product[sel]
    oid = o.order_id.take(pa.array(ln.order[sel]))
    number = ln.line_number[sel]
    lcols = {
        "order_line_id": text.concat(oid, "-", text.integers(number)),
        "order_id": oid,
        "line_number": text.integers(number),
        "product_id": text.vocab_take([x[0] for x in products], prod),
        "product_name": text.vocab_take([x[1] for x in products], prod),
        "category": text.vocab_take([x[2] for x in products], prod),
        "quantity": text.integers(ln.quantity[sel]),
        "unit_price": text.money(ln.unit_cents[sel]),
        "discount_amount": text.money(ln.discount_cents[sel]),
    }
    lkinds = dict.fromkeys(lcols, STR) | {
        "line_number": INT,
        "quantity": INT,
        "unit_price": MONEY,
        "discount_amount": MONEY,
    }
    lrules = FaultRules(
        required=["order_line_id", "order_id", "product_id", "quantity", "unit_price"],
        amounts=["unit_price", "discount_amount"],
        references=["order_id"],
    )
    return FileFrame(
        name=f"order_lines{win.suffix}.parquet",
        fmt="parquet",
        columns=lcols,
        kinds=lkinds,
        rules=lrules,
    )


# ----------------------------------------------------------------------------------- tickets


def ticket_frame(w: World, win: Window) -> FileFrame:
    t = w.tickets
    sv = params()["service"]
    hi = win.hi
    ms = [t.created_at, t.first_response_at, t.resolved_at, t.closed_at]
    last = np.max(np.stack([np.where(m < hi, m, NO_TS) for m in ms]), axis=0)
    rows = np.nonzero(win.new(t.created_at) | (win.changed(last) & (t.created_at < hi)))[0]
    first = t.first_response_at[rows]
    res = t.resolved_at[rows]
    closed = t.closed_at[rows]
    status = np.select([closed < hi, res < hi, first < hi], [3, 2, 1], 0)
    done = res < hi
    sys_text, contact_id = _contact_ref(w, t.contact[rows])
    agents = reference()["support_agents"]
    cols = {
        "ticket_id": text.ids("T", rows + 1, 8),
        "contact_source_system": sys_text,
        "contact_source_id": contact_id,
        "channel": text.vocab_take(list(sv["channel"]), t.channel[rows]),
        "category": text.vocab_take(list(sv["category"]), t.category[rows]),
        "priority": text.vocab_take(list(sv["priority"]), t.priority[rows]),
        "status": text.vocab_take(["open", "pending", "solved", "closed"], status),
        "agent": text.null_where(text.vocab_take(agents, t.agent[rows] % len(agents)), first >= hi),
        "reopen_count": text.integers(np.where(done, t.reopen[rows], 0)),
        "csat_score": text.integers(t.csat[rows], missing=~done | (t.csat[rows] == 0)),
        "created_at": _ts(t.created_at[rows], "iso"),
        "first_response_at": _ts(np.where(first < hi, first, NO_TS), "iso"),
        "resolved_at": _ts(np.where(done, res, NO_TS), "iso"),
        "updated_at": _ts(last[rows], "iso"),
    }
    kinds = dict.fromkeys(cols, STR) | {
        "reopen_count": INT,
        "csat_score": INT,
        "created_at": TS,
        "first_response_at": TS,
        "resolved_at": TS,
        "updated_at": TS,
    }
    ts_cols = ["created_at", "first_response_at", "resolved_at", "updated_at"]
    rules = FaultRules(
        required=[
            "ticket_id",
            "contact_source_system",
            "contact_source_id",
            "channel",
            "priority",
            "status",
            "created_at",
            "updated_at",
        ],
        csat="csat_score",
        not_future=ts_cols,
        dated=ts_cols,
        references=["contact_source_id"],
    )
    return FileFrame(
        name=f"tickets{win.suffix}.jsonl", fmt="jsonl", columns=cols, kinds=kinds, rules=rules
    )


# ----------------------------------------------------------------------------------- events


def event_frame(w: World, win: Window) -> FileFrame:
    ev = w.events
    rows = np.nonzero(win.new(ev.occurred_at))[0]
    sys_text, contact_id = _contact_ref(w, ev.contact[rows])
    cols = {
        "event_id": text.ids("EV", rows + 1, 10),
        "campaign_id": w.campaigns.campaign_id.take(pa.array(ev.campaign[rows])),
        "contact_source_system": sys_text,
        "contact_source_id": contact_id,
        "event_type": text.vocab_take(list(EVENT_TYPES), ev.event_type[rows]),
        "occurred_at": _ts(ev.occurred_at[rows], "iso"),
    }
    kinds = dict.fromkeys(cols, STR) | {"occurred_at": TS}
    rules = FaultRules(
        required=[
            "event_id",
            "campaign_id",
            "contact_source_system",
            "contact_source_id",
            "event_type",
            "occurred_at",
        ],
        not_future=["occurred_at"],
        dated=["occurred_at"],
        references=["campaign_id", "contact_source_id"],
    )
    return FileFrame(
        name=f"campaign_events{win.suffix}.csv", fmt="csv", columns=cols, kinds=kinds, rules=rules
    )


def contact_truth(w: World, win: Window) -> pa.Table:
    c = w.contacts
    rows = np.nonzero(win.new(c.created_at))[0]
    return pa.table(
        {
            "source_system": text.vocab_take(list(SYSTEMS), c.system[rows]),
            "source_contact_id": c.contact_id.take(pa.array(rows)),
            "person_id": w.persons.person_id.take(pa.array(c.person[rows])),
        }
    )

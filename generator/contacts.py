"""Source records of each person: 1–3 contacts in the crm, web, pos and email_list systems, each
with the email and phone written its own way (case, spaces, gmail dots; +86, dashes, 0086)."""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from generator.config import DAY, Settings, params
from generator.persons import Persons, geography
from generator.text import concat, ids, vocab_take

SYSTEMS = ("crm", "web", "pos", "email_list")
ACQUISITION = {
    "crm": {
        "event": 0.25,
        "partner": 0.2,
        "referral": 0.2,
        "direct": 0.15,
        "paid_search": 0.1,
        "organic_search": 0.1,
    },
    "web": {
        "organic_search": 0.3,
        "paid_search": 0.2,
        "social": 0.15,
        "direct": 0.12,
        "referral": 0.08,
        "wechat": 0.1,
        "email": 0.05,
    },
    "pos": {"store": 0.9, "wechat": 0.06, "referral": 0.04},
    "email_list": {"email": 0.4, "event": 0.2, "social": 0.2, "wechat": 0.2},
}
ID_FORMAT = {"crm": ("C", 8), "web": ("W", 9), "pos": ("8860", 8), "email_list": ("EL", 7)}


@dataclass
class Contacts:
    n: int
    person: np.ndarray  # index into Persons
    system: np.ndarray  # index into SYSTEMS
    contact_id: pa.Array
    created_at: np.ndarray
    has_email: np.ndarray
    uses_alt_email: np.ndarray
    has_phone: np.ndarray
    email: pa.Array  # as written in the source (null when absent)
    phone: pa.Array
    acquisition_channel: pa.Array
    consent: np.ndarray
    owner_idx: np.ndarray
    of_person: np.ndarray  # [person, system] → contact index or -1
    linkable_pairs: int
    same_person_pairs: int


def _systems(p: Persons, rng: np.random.Generator) -> np.ndarray:
    """Membership matrix person × system."""
    pp = params()["persons"]
    geo = geography()
    member = np.zeros((p.n, len(SYSTEMS)), dtype=bool)
    for j, name in enumerate(SYSTEMS):
        prob = np.where(p.b2b, pp["systems"][name]["b2b"], pp["systems"][name]["b2c"])
        member[:, j] = rng.random(p.n) < prob
    member[:, SYSTEMS.index("pos")] &= geo.stores[p.country]
    none = ~member.any(axis=1)
    member[none & p.b2b, 0] = True
    member[none & ~p.b2b, 1] = True
    # Cap the number of records: drop random memberships beyond the cap.
    cap = pp["max_records"]
    while True:
        over = member.sum(axis=1) > cap
        if not over.any():
            break
        drop = rng.integers(0, len(SYSTEMS), p.n)
        member[np.arange(p.n)[over], drop[over]] = False
    return member


def _split_email(email: pa.Array) -> tuple[pa.Array, pa.Array]:
    parts = pc.split_pattern(email, "@")
    return pc.list_element(parts, 0), pc.list_element(parts, 1)


def _email_variant(canonical: pa.Array, gmail: np.ndarray, rng: np.random.Generator) -> pa.Array:
    pp = params()["persons"]
    n = len(canonical)
    dots = gmail & (rng.random(n) < pp["gmail_dot_variants"])
    loc, dom = _split_email(canonical)
    has_dot = pc.match_substring(loc, ".").to_numpy(zero_copy_only=False)
    add_dot = pa.array(dots & ~has_dot)
    drop_dot = pa.array(dots & has_dot)
    out = pc.if_else(drop_dot, concat(pc.replace_substring(loc, ".", ""), "@", dom), canonical)
    # Gmail ignores dots: write them in (before the digits) or leave them out.
    dotted = concat(
        pc.replace_substring_regex(loc, r"([a-z])(\d)", r"\1.\2", max_replacements=1), "@", dom
    )
    out = pc.if_else(add_dot, dotted, out)
    case = rng.random(n) < pp["email_case_variants"]
    kind = rng.integers(0, 3, n)
    loc2, dom2 = _split_email(out)
    cased = pc.case_when(
        pc.make_struct(pa.array(kind == 0), pa.array(kind == 1)),
        pc.utf8_upper(out),
        concat(pc.utf8_capitalize(loc2), "@", dom2),
        concat(loc2, "@", pc.utf8_upper(dom2)),
    )
    out = pc.if_else(pa.array(case), cased, out)
    space = rng.random(n) < pp["email_space_variants"]
    side = rng.integers(0, 3, n)
    spaced = pc.case_when(
        pc.make_struct(pa.array(side == 0), pa.array(side == 1)),
        concat(" ", out),
        concat(out, " "),
        concat(" ", out, " "),
    )
    return pc.if_else(pa.array(space), spaced, out)


def phone_variant(
    cc: pa.Array, national: pa.Array, groups: np.ndarray, fmt: np.ndarray
) -> pa.Array:
    """Write a number the way people type it: +86 138 1234 5678, 138-1234-5678, 8613812345678,
    0086 138 1234 5678, 13812345678; abroad +1 415 555 0100, +14155550100, 001 415 555 0100."""
    geo = geography()
    out = pa.nulls(len(cc), pa.string())
    for g, layout in enumerate(geo.groups):
        sel = groups == g
        if not sel.any():
            continue
        bounds = np.cumsum([0, *layout])
        parts = [
            pc.utf8_slice_codeunits(national, int(a), int(b)) for a, b in itertools.pairwise(bounds)
        ]
        spaced = pc.binary_join_element_wise(*parts, " ")
        dashed = pc.binary_join_element_wise(*parts, "-")
        if g == 0:
            variants = [
                concat("+86 ", spaced),
                dashed,
                concat("86", national),
                concat("0086 ", spaced),
                national,
                concat("+86-", dashed),
                spaced,
            ]
        else:
            variants = [
                concat("+", cc, " ", spaced),
                concat("+", cc, national),
                concat("00", cc, " ", spaced),
                concat("+", cc, "-", dashed),
            ]
        k = fmt % len(variants)
        conds = pc.make_struct(*[pa.array(k == i) for i in range(len(variants) - 1)])
        chosen = pc.case_when(conds, *variants)
        out = pc.if_else(pa.array(sel), chosen, out)
    return out


def _connected(person_recs: list[np.ndarray], ekey: np.ndarray, phone: np.ndarray) -> np.ndarray:
    """Per person with 2–3 records: are all records linked through shared email/phone?"""

    def link(a, b):
        return ((ekey[a] == ekey[b]) & (ekey[a] > 0)) | (phone[a] & phone[b])

    a, b, c = person_recs
    two = c < 0
    ab = link(a, b)
    ac = np.where(two, False, link(a, np.maximum(c, 0)))
    bc = np.where(two, False, link(b, np.maximum(c, 0)))
    return np.where(two, ab, (ab.astype(int) + ac + bc) >= 2)


def _pair_stats(
    person_recs: list[np.ndarray], ekey: np.ndarray, phone: np.ndarray, multi: np.ndarray
) -> tuple[int, int]:
    """(linkable same-person pairs, all same-person pairs) through transitive closure."""
    a, b, c = (r[multi] for r in person_recs)

    def link(x, y):
        return ((ekey[x] == ekey[y]) & (ekey[x] > 0)) | (phone[x] & phone[y])

    two = c < 0
    cc = np.maximum(c, 0)
    ab, ac, bc = link(a, b), link(a, cc) & ~two, link(b, cc) & ~two
    links = ab.astype(int) + ac + bc
    # three records: all 3 pairs linkable if ≥2 links, else exactly the linked pair
    pairs_three = np.where(links >= 2, 3, links)
    linkable = np.where(two, ab.astype(int), pairs_three)
    total = np.where(two, 1, 3)
    return int(linkable.sum()), int(total.sum())


def simulate_contacts(s: Settings, p: Persons) -> Contacts:
    rng = s.rng("contacts")
    pp = params()["persons"]
    member = _systems(p, rng)
    counts = member.sum(axis=1)
    # The record the person started in: created at the lead date; the others join later.
    origin_score = rng.random((p.n, len(SYSTEMS))) * member
    origin = origin_score.argmax(axis=1)
    person, system = np.nonzero(member)
    n = len(person)
    is_origin = system == origin[person]
    later = p.born[person] + (rng.exponential(120, n) * DAY).astype(np.int64)
    pos_i = SYSTEMS.index("pos")
    first_order = p.first_order_at[person]
    store_member = (system == pos_i) & (first_order > 0)
    later = np.where(store_member, np.minimum(later, first_order), later)
    created = np.where(is_origin, p.born[person], later)

    # Which fields each record carries.
    sys_names = np.array(SYSTEMS)[system]
    e_p = np.array([pp["email_present"][x] for x in SYSTEMS])[system]
    ph_p = np.array([pp["phone_present"][x] for x in SYSTEMS])[system]
    has_email = rng.random(n) < e_p
    has_phone = rng.random(n) < ph_p
    neither = ~has_email & ~has_phone
    has_email |= neither & (system != pos_i)
    has_phone |= neither & (system == pos_i)
    alt = has_email & (rng.random(n) < pp["alternate_email"])
    ekey = np.where(has_email, np.where(alt, 2, 1), 0)

    of_person = np.full((p.n, len(SYSTEMS)), -1, dtype=np.int64)
    of_person[person, system] = np.arange(n)
    recs = np.sort(of_person, axis=1)[:, ::-1]  # present records first (descending indices)
    person_recs = [recs[:, 0], recs[:, 1], recs[:, 2]]
    multi = counts >= 2
    ok = np.ones(p.n, dtype=bool)
    ok[multi] = _connected([r[multi] for r in person_recs], ekey, has_phone)
    broken = np.nonzero(~ok)[0]
    keep = min(1.0, pp["unlinkable_share"] * multi.sum() / max(1, len(broken)))
    fix = broken[rng.random(len(broken)) >= keep]
    fix_rec = of_person[fix].ravel()
    fix_rec = fix_rec[fix_rec >= 0]
    has_email[fix_rec] = True
    alt[fix_rec] = False
    ekey = np.where(has_email, np.where(alt, 2, 1), 0)
    linkable, pairs = _pair_stats(person_recs, ekey, has_phone, multi)

    canonical = pc.if_else(
        pa.array(alt), p.alt_email.take(pa.array(person)), p.email.take(pa.array(person))
    )
    gmail = np.where(alt, p.alt_is_gmail[person], p.is_gmail[person])
    email = _email_variant(canonical, gmail, rng)
    email = pc.if_else(pa.array(has_email), email, pa.scalar(None, pa.string()))
    phone = phone_variant(
        p.phone_cc.take(pa.array(person)),
        p.phone_national.take(pa.array(person)),
        p.phone_groups[person],
        rng.integers(0, 1 << 20, n),
    )
    phone = pc.if_else(pa.array(has_phone), phone, pa.scalar(None, pa.string()))

    channel = pa.nulls(n, pa.string())
    for j, name in enumerate(SYSTEMS):
        opts = ACQUISITION[name]
        idx = rng.choice(len(opts), n, p=np.array(list(opts.values())) / sum(opts.values()))
        channel = pc.if_else(pa.array(system == j), vocab_take(list(opts), idx), channel)
    consent = np.where(sys_names == "email_list", rng.random(n) < 0.95, p.consent[person])
    owner_idx = rng.integers(0, 1 << 20, n)

    # Ids in creation order within each system, so newer contacts have larger ids.
    order = np.lexsort((np.arange(n), created, system))
    person, system, created = person[order], system[order], created[order]
    has_email, has_phone, alt = has_email[order], has_phone[order], alt[order]
    email, phone, channel = (
        email.take(pa.array(order)),
        phone.take(pa.array(order)),
        channel.take(pa.array(order)),
    )
    consent, owner_idx = consent[order], owner_idx[order]
    seq = np.zeros(n, dtype=np.int64)
    contact_id = pa.nulls(n, pa.string())
    for j, name in enumerate(SYSTEMS):
        sel = system == j
        seq[sel] = np.arange(1, sel.sum() + 1)
        prefix, width = ID_FORMAT[name]
        contact_id = pc.if_else(
            pa.array(sel),
            ids(
                prefix, seq * (7 if name == "web" else 1) + (100_000 if name == "web" else 0), width
            ),
            contact_id,
        )
    of_person[person, system] = np.arange(n)
    return Contacts(
        n=n,
        person=person,
        system=system,
        contact_id=contact_id,
        created_at=created,
        has_email=has_email,
        uses_alt_email=alt,
        has_phone=has_phone,
        email=email,
        phone=phone,
        acquisition_channel=channel,
        consent=consent,
        owner_idx=owner_idx,
        of_person=of_person,
        linkable_pairs=linkable,
        same_person_pairs=pairs,
    )

"""People behind the contacts: who they are, where they live, how they can be reached, and how
far they went in the lifecycle funnel (lead → MQL → SQL → opportunity → customer)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from generator.config import DAY, Settings, params, reference
from generator.text import NO_TS, concat, ids, unique_numbers, vocab_take

STAGES = ("mql", "sql", "opportunity", "customer")


@dataclass
class Persons:
    n: int
    born: np.ndarray  # lead_at, epoch seconds
    country: np.ndarray  # index into Geography.codes
    b2b: np.ndarray
    buyer: np.ndarray
    consent: np.ndarray
    name: pa.Array
    email: pa.Array  # canonical (lower-case) primary email
    alt_email: pa.Array  # second email (work / old), also unique to the person
    is_gmail: np.ndarray
    alt_is_gmail: np.ndarray
    phone_cc: pa.Array  # country calling code
    phone_national: pa.Array  # national significant number (digits)
    phone_groups: np.ndarray  # index into Geography.groups (how the number is grouped)
    region: pa.Array
    city: pa.Array
    company: pa.Array
    company_domain: pa.Array
    stage_at: dict[str, np.ndarray]  # mql/sql/opportunity/customer → epoch seconds or NO_TS
    first_order_at: np.ndarray  # BG/NBD birth for buyers, NO_TS otherwise

    @property
    def person_id(self) -> pa.Array:
        return ids("P", np.arange(1, self.n + 1), 7)


@dataclass(frozen=True)
class Geography:
    codes: list[str]
    stores: np.ndarray
    currencies: list[list[list]]
    groups: list[list[int]]  # digit grouping per phone plan (index 0: mainland China)


def geography() -> Geography:
    countries = reference()["countries"]
    codes = list(countries)
    groups: list[list[int]] = [[3, 4, 4]]
    for c in codes:
        plan = countries[c]["phone"]
        if plan != "cn":
            groups.append(plan["groups"])
    return Geography(
        codes=codes,
        stores=np.array([countries[c]["stores"] for c in codes]),
        currencies=[countries[c]["currencies"] for c in codes],
        groups=groups,
    )


def _weights(values) -> np.ndarray:
    w = np.asarray(values, dtype=float)
    return w / w.sum()


def _scatter(mask: np.ndarray, values: np.ndarray) -> np.ndarray:
    """values (one per True in mask) placed at the mask's positions, zeros elsewhere."""
    out = np.zeros(len(mask), dtype=np.int64)
    out[mask] = values
    return out


def _births(s: Settings, rng: np.random.Generator) -> np.ndarray:
    """Lead dates: linearly growing intake over the history, continued over the horizon."""
    p = params()
    g = p["growth"]
    length = s.cutoff - s.start
    n_hist = s.persons
    u = rng.random(n_hist)
    k = (g - 1) / length
    c = length * (1 + g) / 2
    t_hist = (-1 + np.sqrt(1 + 2 * k * u * c)) / k if g != 1 else u * length
    horizon = s.horizon_end - s.cutoff
    n_h = rng.poisson(n_hist * g * horizon / c)
    t_h = length + rng.random(n_h) * horizon
    born = s.start + np.concatenate([t_hist, t_h]).astype(np.int64)
    return np.sort(born)


def simulate_persons(s: Settings) -> Persons:
    rng = s.rng("persons")
    p, ref = params(), reference()
    pp = p["persons"]
    geo = geography()
    countries = ref["countries"]
    born = _births(s, rng)
    n = len(born)

    country = rng.choice(len(geo.codes), n, p=_weights([countries[c]["weight"] for c in geo.codes]))
    b2b = rng.random(n) < pp["b2b_share"]
    buyer = rng.random(n) < np.where(b2b, pp["buyer_share"]["b2b"], pp["buyer_share"]["b2c"])
    consent = rng.random(n) < pp["marketing_consent"]

    # Names and the email local parts derived from them (pinyin for Chinese names).
    cn = ref["chinese_names"]
    sur = rng.choice(len(cn["surnames"]), n, p=_weights([x[2] for x in cn["surnames"]]))
    giv = rng.integers(0, len(cn["given"]), n)
    first = rng.integers(0, len(ref["latin_names"]["first"]), n)
    last = rng.integers(0, len(ref["latin_names"]["last"]), n)
    chinese = np.array([countries[c]["names"] == "chinese" for c in geo.codes])[country]
    sur_h = vocab_take([x[0] for x in cn["surnames"]], sur)
    giv_h = vocab_take([x[0] for x in cn["given"]], giv)
    sur_py = vocab_take([x[1] for x in cn["surnames"]], sur)
    giv_py = vocab_take([x[1] for x in cn["given"]], giv)
    first_t = vocab_take(ref["latin_names"]["first"], first)
    last_t = vocab_take(ref["latin_names"]["last"], last)
    first_l = pc.replace_substring(pc.utf8_lower(first_t), " ", "")
    last_l = pc.utf8_lower(last_t)
    mask = pa.array(chinese)
    name = pc.if_else(mask, concat(sur_h, giv_h), concat(first_t, " ", last_t))
    given_l = pc.if_else(mask, giv_py, first_l)
    family_l = pc.if_else(mask, sur_py, last_l)

    num = pa.array(unique_numbers(n, 10_000_000, int(rng.integers(1 << 30)))).cast(pa.string())
    pattern = rng.integers(0, 3, n)
    local = pc.case_when(
        pc.make_struct(pa.array(pattern == 0), pa.array(pattern == 1)),
        concat(given_l, ".", family_l, num),
        concat(family_l, given_l, num),
        concat(given_l, "_", family_l, num),
    )
    alt_local = concat(family_l, ".", given_l, num)

    # Companies: B2B persons work for a pool of companies (several contacts per company).
    comp = ref["companies"]
    n_comp = max(5, int(b2b.sum()) // 4)
    comp_of = rng.integers(0, n_comp, n)
    comp_cn = rng.random(n_comp) < 0.8
    cpre = rng.integers(0, len(comp["chinese_prefixes"]), n_comp)
    csuf = rng.integers(0, len(comp["chinese_suffixes"]), n_comp)
    lpre = rng.integers(0, len(comp["latin_prefixes"]), n_comp)
    lsuf = rng.integers(0, len(comp["latin_suffixes"]), n_comp)
    cid = pa.array(np.arange(n_comp)).cast(pa.string())
    comp_name = pc.if_else(
        pa.array(comp_cn),
        concat(
            vocab_take([x[0] for x in comp["chinese_prefixes"]], cpre),
            vocab_take(comp["chinese_suffixes"], csuf),
        ),
        concat(
            vocab_take(comp["latin_prefixes"], lpre), " ", vocab_take(comp["latin_suffixes"], lsuf)
        ),
    )
    comp_domain = pc.if_else(
        pa.array(comp_cn),
        concat(vocab_take([x[1] for x in comp["chinese_prefixes"]], cpre), cid, ".com.cn"),
        concat(pc.utf8_lower(vocab_take(comp["latin_prefixes"], lpre)), cid, ".com"),
    )
    company = comp_name.take(pa.array(comp_of))
    company_domain = comp_domain.take(pa.array(comp_of))
    no_comp = pa.array(~b2b)
    company = pc.if_else(no_comp, pa.scalar(None, pa.string()), company)

    # Email domains by country; B2B persons mostly use their work address.
    domain = pa.nulls(n, pa.string())
    alt_domain = pa.nulls(n, pa.string())
    region = pa.nulls(n, pa.string())
    city = pa.nulls(n, pa.string())
    phone_cc = pa.nulls(n, pa.string())
    national = pa.nulls(n, pa.string())
    groups = np.zeros(n, dtype=np.int64)
    prefixes = np.array(ref["cn_mobile_prefixes"])
    plan_no = 0
    for ci, code in enumerate(geo.codes):
        sel = country == ci
        cfg = countries[code]
        doms = [d[0] for d in cfg["domains"]]
        di = rng.choice(len(doms), n, p=_weights([d[1] for d in cfg["domains"]]))
        domain = pc.if_else(pa.array(sel), vocab_take(doms, di), domain)
        alt_domain = pc.if_else(pa.array(sel), vocab_take(doms, (di + 1) % len(doms)), alt_domain)
        rnames = list(cfg["regions"])
        rw = cfg.get("region_weights") or dict.fromkeys(rnames, 1)
        ri = rng.choice(len(rnames), n, p=_weights([rw[r] for r in rnames]))
        region = pc.if_else(pa.array(sel), vocab_take(rnames, ri), region)
        flat = [(r, c) for r in rnames for c in cfg["regions"][r]]
        starts = np.cumsum([0] + [len(cfg["regions"][r]) for r in rnames])
        sizes = np.diff(starts)
        cityi = starts[ri] + (rng.random(n) * sizes[ri]).astype(np.int64)
        city = pc.if_else(pa.array(sel), vocab_take([c for _, c in flat], cityi), city)
        if cfg["phone"] == "cn":
            cc = "86"
            body = _scatter(
                sel, unique_numbers(int(sel.sum()), 100_000_000, int(rng.integers(1 << 30)))
            )
            nat = concat(
                vocab_take([str(x) for x in prefixes], rng.integers(0, len(prefixes), n)),
                pc.utf8_lpad(pa.array(body).cast(pa.string()), 8, "0"),
            )
            grp = 0
        else:
            plan_no += 1
            cc = cfg["phone"]["country_code"]
            lead = cfg["phone"]["leading"]
            rest = sum(cfg["phone"]["groups"]) - len(lead)
            body = _scatter(
                sel, unique_numbers(int(sel.sum()), 10**rest, int(rng.integers(1 << 30)))
            )
            nat = concat(lead, pc.utf8_lpad(pa.array(body).cast(pa.string()), rest, "0"))
            grp = plan_no
        phone_cc = pc.if_else(pa.array(sel), cc, phone_cc)
        national = pc.if_else(pa.array(sel), nat, national)
        groups[sel] = grp

    work = b2b & (rng.random(n) < 0.6)
    domain = pc.if_else(pa.array(work), company_domain, domain)
    qq = pc.equal(domain, "qq.com").to_numpy(zero_copy_only=False) & (rng.random(n) < 0.7)
    local = pc.if_else(
        pa.array(qq),
        concat(
            pa.array(10_000 + unique_numbers(n, 10_000_000, int(rng.integers(1 << 30)))).cast(
                pa.string()
            )
        ),
        local,
    )
    # Gmail allows only letters, digits and dots in the local part.
    gmail = pc.equal(domain, "gmail.com")
    local = pc.if_else(gmail, pc.replace_substring(local, "_", "."), local)
    email = concat(local, "@", domain)
    alt_domain = pc.if_else(pa.array(b2b & ~work), company_domain, alt_domain)
    alt_email = concat(alt_local, "@", alt_domain)

    # A few households share one phone number (a realistic source of false merges).
    shared = rng.random(n) < pp["shared_family_phone"]
    donor = rng.integers(0, n, n)
    same_country = country[donor] == country
    take = np.where(shared & same_country, donor, np.arange(n))
    national = national.take(pa.array(take))

    stage_at, first_order = _funnel(born, b2b, buyer, rng)
    return Persons(
        n=n,
        born=born,
        country=country,
        b2b=b2b,
        buyer=buyer,
        consent=consent,
        name=name,
        email=email,
        alt_email=alt_email,
        is_gmail=pc.equal(domain, "gmail.com").to_numpy(zero_copy_only=False),
        alt_is_gmail=pc.equal(alt_domain, "gmail.com").to_numpy(zero_copy_only=False),
        phone_cc=phone_cc,
        phone_national=national,
        phone_groups=groups,
        region=region,
        city=city,
        company=company,
        company_domain=company_domain,
        stage_at=stage_at,
        first_order_at=first_order,
    )


def _funnel(
    born: np.ndarray, b2b: np.ndarray, buyer: np.ndarray, rng: np.random.Generator
) -> tuple[dict[str, np.ndarray], np.ndarray]:
    """Stage timestamps, each after the previous. Buyers pass every stage and place their first
    order right after becoming customers; the others drop off on the way."""
    f = params()["funnel"]
    n = len(born)
    stage_at: dict[str, np.ndarray] = {}
    prev = born.copy()
    alive = np.ones(n, dtype=bool)
    for stage in STAGES:
        days = rng.exponential(f["mean_days"][stage], n) * DAY
        hours = rng.exponential(f["b2c_mean_hours"][stage], n) * 3600
        gap = np.where(buyer & ~b2b, hours, days).astype(np.int64) + 60
        if stage == "customer":
            alive = alive & buyer
        else:
            alive = alive & (buyer | (rng.random(n) < f["reach"][stage]))
        at = np.where(alive, prev + gap, NO_TS)
        stage_at[stage] = at
        prev = np.where(alive, at, prev)
    cust = stage_at["customer"]
    first = np.where(cust != NO_TS, cust + rng.exponential(45 * 60, n).astype(np.int64) + 1, NO_TS)
    return stage_at, first

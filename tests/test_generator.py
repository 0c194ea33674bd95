"""The sample data generator: determinism, formats, truth files, planted faults, processes."""

from __future__ import annotations

import csv
import itertools
import json
import re
from collections import defaultdict
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest
import yaml
from python_calamine import CalamineWorkbook

from crm.cli import main as crm_main
from generator import generate, generate_increment

ROOT = Path(__file__).resolve().parent.parent
MAPPING = yaml.safe_load((ROOT / "ingestion/mappings/default.yml").read_text(encoding="utf-8"))
CONTRACTS = yaml.safe_load((ROOT / "ingestion/contracts.yml").read_text(encoding="utf-8"))
AS_OF = date(2026, 10, 15)
EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[A-Za-z]{2,}$")
ISO_TS = "%Y-%m-%dT%H:%M:%SZ"
POS_TS = "%Y/%m/%d %H:%M:%S"
FAULT_TYPES = {
    "missing_required",
    "malformed_email",
    "negative_amount",
    "csat_out_of_range",
    "future_date",
    "unparseable_date",
    "duplicate_row",
    "orphan_reference",
    "garbled_line",
}


# ------------------------------------------------------------------------------ reading exports


def _source(file_name: str) -> dict:
    for src in MAPPING["sources"]:
        for pattern in src["files"]:
            if Path(file_name).match(pattern):
                return src
    raise AssertionError(f"{file_name} matches no source of default.yml")


def _contract_name(src: dict, header: str) -> str:
    return (src.get("columns") or {}).get(header, header)


def read_records(path: Path) -> list[dict | str]:
    """Data records of an export in file order (index 0 = source_row 1), keyed by CONTRACT
    column names. A record that does not parse as a whole (garbled) is returned as its text."""
    src = _source(path.name)
    fmt = src["format"]
    if fmt == "parquet":
        return pq.read_table(path).to_pylist()
    if fmt == "xlsx":
        sheet = CalamineWorkbook.from_path(str(path)).get_sheet_by_name(src["sheet"]).to_python()
        header = [str(h) for h in sheet[0]]
        return [
            {
                _contract_name(src, h): (None if v == "" else v)
                for h, v in zip(header, row, strict=True)
            }
            for row in sheet[1:]
        ]
    text = path.read_bytes().decode(src.get("encoding", "utf-8"))
    lines = text.split("\n")
    assert lines[-1] == "", f"{path.name} does not end with a newline"
    lines = lines[:-1]
    out: list[dict | str] = []
    if fmt == "jsonl":
        for line in lines:
            try:
                out.append(json.loads(line))
            except json.JSONDecodeError:
                out.append(line)
        return out
    header = next(csv.reader([lines[0]]))
    for line in lines[1:]:
        cells = next(csv.reader([line]))
        if len(cells) != len(header):
            out.append(line)
        else:
            out.append(
                {
                    _contract_name(src, h): (v if v != "" else None)
                    for h, v in zip(header, cells, strict=True)
                }
            )
    return out


def export_files(data: Path) -> list[Path]:
    return sorted(p for p in data.iterdir() if p.is_file())


def _faults(data: Path) -> pd.DataFrame:
    return pd.read_csv(data / "_truth" / "faults.csv")


def _frame(data: Path, pattern: str) -> pd.DataFrame:
    """Every record of the files matching pattern (for clean data: all records parse)."""
    frames = []
    for path in sorted(data.glob(pattern)):
        records = read_records(path)
        assert all(isinstance(r, dict) for r in records), f"unparsed record in {path.name}"
        df = pd.DataFrame(records)
        src = _source(path.name)
        for col, value in (src.get("constants") or {}).items():
            df[col] = value
        frames.append(df)
    return pd.concat(frames, ignore_index=True)


def _ts(value, pos: bool = False) -> datetime | None:
    if pd.isna(value):
        return None
    if isinstance(value, datetime):
        return value
    if pos:
        return datetime.strptime(value, POS_TS) - timedelta(hours=8)
    return datetime.strptime(value, ISO_TS)


def normalise_email(email: str | None) -> str | None:
    if pd.isna(email):
        return None
    local, _, domain = email.strip().lower().partition("@")
    if domain == "gmail.com":
        local = local.replace(".", "")
    return f"{local}@{domain}"


def normalise_phone(phone: str | None) -> str | None:
    if pd.isna(phone):
        return None
    digits = re.sub(r"\D", "", phone)
    if digits.startswith("00"):
        digits = digits[2:]
    if len(digits) == 11 and digits.startswith("1"):
        digits = "86" + digits
    return digits


# ----------------------------------------------------------------------------------- fixtures


@pytest.fixture(scope="module")
def faulty(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("gen_faulty")
    generate(out, scale="tiny", seed=7, as_of=AS_OF)
    return out


@pytest.fixture(scope="module")
def clean(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("gen_clean")
    generate(out, scale="tiny", seed=7, fault_rate=0.0, as_of=AS_OF)
    return out


@pytest.fixture(scope="module")
def clean_contacts(clean: Path) -> pd.DataFrame:
    df = _frame(clean, "*contacts*.csv")
    df = pd.concat(
        [df, _frame(clean, "web_signups*.jsonl"), _frame(clean, "email_list*.csv")],
        ignore_index=True,
    )
    pos = _frame(clean, "pos_members*.csv")
    for col in (
        "lead_at",
        "mql_at",
        "sql_at",
        "opportunity_at",
        "customer_at",
        "created_at",
        "updated_at",
    ):
        pos[col] = [None if pd.isna(v) else _ts(v, pos=True).strftime(ISO_TS) for v in pos[col]]
    df = pd.concat([df, pos], ignore_index=True)
    truth = pd.read_csv(clean / "_truth" / "contact_person.csv", dtype=str)
    return df.merge(truth, on=["source_system", "source_contact_id"], how="left")


# -------------------------------------------------------------------------------------- tests


def test_same_seed_gives_identical_bytes_and_another_seed_differs(tmp_path: Path) -> None:
    a, b, c = tmp_path / "a", tmp_path / "b", tmp_path / "c"
    generate(a, scale="tiny", seed=3, as_of=AS_OF)
    generate(b, scale="tiny", seed=3, as_of=AS_OF)
    generate(c, scale="tiny", seed=4, as_of=AS_OF)
    files = sorted(p.relative_to(a) for p in a.rglob("*") if p.is_file())
    assert files == sorted(p.relative_to(b) for p in b.rglob("*") if p.is_file())
    for rel in files:
        assert (a / rel).read_bytes() == (b / rel).read_bytes(), rel
    differing = [rel for rel in files if (a / rel).read_bytes() != (c / rel).read_bytes()]
    assert len(differing) >= len(files) - 1


def test_every_mapped_source_has_a_readable_file(faulty: Path) -> None:
    for src in MAPPING["sources"]:
        matches = [p for pattern in src["files"] for p in faulty.glob(pattern)]
        assert matches, f"no file for source {src['name']}"
        contract = CONTRACTS["entities"][src["entity"]]
        constants = set(src.get("constants") or {})
        for path in matches:
            records = [r for r in read_records(path) if isinstance(r, dict)]
            assert len(records) > 10, path.name
            columns = set().union(*(r.keys() for r in records))
            required = {c["name"] for c in contract["columns"] if c.get("required")}
            assert required - constants <= columns, (path.name, required - constants - columns)
            known = {c["name"] for c in contract["columns"]}
            assert columns <= known, (path.name, columns - known)


def test_pos_export_is_gb18030_with_chinese_headers(faulty: Path) -> None:
    raw = (faulty / "pos_members.csv").read_bytes()
    with pytest.raises(UnicodeDecodeError):
        raw.decode("utf-8")
    text = raw.decode("gb18030")
    assert text.startswith("会员编号,姓名,")
    assert re.search(r"[\u4e00-\u9fff]{2,}", text.split("\n")[1])
    assert re.search(r"\d{4}/\d{2}/\d{2} \d{2}:\d{2}:\d{2}", text)
    assert ",是," in text and ",否," in text


def test_email_list_has_bom_and_campaigns_sheet(faulty: Path) -> None:
    assert (faulty / "email_list.csv").read_bytes().startswith(b"\xef\xbb\xbfsource_contact_id")
    book = CalamineWorkbook.from_path(str(faulty / "campaigns.xlsx"))
    assert "campaigns" in book.sheet_names


def test_truth_maps_every_contact_to_a_person(faulty: Path) -> None:
    truth = pd.read_csv(faulty / "_truth" / "contact_person.csv", dtype=str)
    assert list(truth.columns) == ["source_system", "source_contact_id", "person_id"]
    assert not truth.duplicated(["source_system", "source_contact_id"]).any()
    known = set(zip(truth.source_system, truth.source_contact_id, strict=True))
    seen = set()
    for path in faulty.iterdir():
        src = next(
            (
                s
                for s in MAPPING["sources"]
                if s["entity"] == "contacts" and any(path.match(p) for p in s["files"])
            ),
            None,
        )
        if src is None:
            continue
        for rec in read_records(path):
            if isinstance(rec, dict) and rec.get("source_contact_id"):
                seen.add((src["constants"]["source_system"], rec["source_contact_id"]))
    assert seen <= known
    # garbled and id-less records are missing from `seen`, nothing else
    assert len(known - seen) <= len(_faults(faulty))


def _is_date(value, fmt: str) -> bool:
    if value is None or isinstance(value, datetime):
        return value is not None
    try:
        datetime.strptime(str(value), fmt)
        return True
    except ValueError:
        return False


def _visible(kind: str, rec, earlier: list, path: Path, refs: dict[str, set]) -> bool:
    src = _source(path.name)
    entity = CONTRACTS["entities"][src["entity"]]
    fmt = POS_TS if src.get("timestamp_format") == POS_TS else ISO_TS
    if kind == "garbled_line":
        return isinstance(rec, str)
    if not isinstance(rec, dict):
        return False
    cols = {c["name"]: c for c in entity["columns"]}
    if kind == "missing_required":
        return any(
            rec.get(c) in (None, "")
            for c, spec in cols.items()
            if spec.get("required") and c not in (src.get("constants") or {})
        )
    if kind == "malformed_email":
        return not EMAIL_RE.match(str(rec.get("email")).strip())
    if kind == "negative_amount":
        return any(
            rec.get(c) is not None and float(rec[c]) < 0
            for c, spec in cols.items()
            if spec["type"] == "decimal"
        )
    if kind == "csat_out_of_range":
        return not 1 <= int(rec["csat_score"]) <= 5
    if kind == "future_date":
        limit = datetime(AS_OF.year + 1, AS_OF.month, AS_OF.day)
        stamps = [rec.get(c) for c, spec in cols.items() if spec.get("not_future")]
        return any(
            _is_date(v, fmt)
            and (v if isinstance(v, datetime) else datetime.strptime(v, fmt)) > limit
            for v in stamps
            if v is not None
        )
    if kind == "unparseable_date":
        return any(
            rec.get(c) is not None
            and not _is_date(rec[c], "%Y-%m-%d" if spec["type"] == "date" else fmt)
            for c, spec in cols.items()
            if spec["type"] in ("date", "timestamp")
        )
    if kind == "duplicate_row":
        return rec in earlier
    if kind == "orphan_reference":
        for ref in entity.get("references", []):
            key = tuple(rec.get(c) for c in ref["columns"])
            if key not in refs[ref["entity"]]:
                return True
        return False
    raise AssertionError(kind)


def _keys(data: Path) -> dict[str, set]:
    keys: dict[str, set] = defaultdict(set)
    for path in data.iterdir():
        if not path.is_file():
            continue
        src = _source(path.name)
        for rec in read_records(path):
            if not isinstance(rec, dict):
                continue
            if src["entity"] == "contacts":
                keys["contacts"].add(
                    (src["constants"]["source_system"], rec.get("source_contact_id"))
                )
            elif src["entity"] == "orders":
                keys["orders"].add((rec.get("order_id"),))
            elif src["entity"] == "campaigns":
                keys["campaigns"].add((rec.get("campaign_id"),))
    return keys


def test_each_fault_type_is_planted_where_it_is_visible(faulty: Path) -> None:
    faults = _faults(faulty)
    assert set(faults.fault) == FAULT_TYPES
    assert not faults.duplicated(["file", "source_row"]).any()
    refs = _keys(faulty)
    for name, group in faults.groupby("file"):
        path = faulty / name
        records = read_records(path)
        for row, kind in zip(group.source_row, group.fault, strict=True):
            rec = records[row - 1]
            assert _visible(kind, rec, records[: row - 1], path, refs), (name, row, kind, rec)


def test_every_fault_type_appears_in_every_file_where_it_applies(faulty: Path) -> None:
    per_file = _faults(faulty).groupby("file").fault.apply(set).to_dict()
    for path in export_files(faulty):
        src = _source(path.name)
        entity = CONTRACTS["entities"][src["entity"]]
        cols = entity["columns"]
        expected = {"missing_required", "duplicate_row"}
        if src["format"] in ("csv", "jsonl"):
            expected.add("garbled_line")
        if any(c.get("format") == "email" for c in cols):
            expected.add("malformed_email")
        if any(c["type"] == "decimal" for c in cols):
            expected.add("negative_amount")
        if any(c["name"] == "csat_score" for c in cols):
            expected.add("csat_out_of_range")
        if any(c.get("not_future") for c in cols):
            expected.add("future_date")
        if any(c["type"] in ("date", "timestamp") for c in cols):
            expected.add("unparseable_date")
        if entity.get("references"):
            expected.add("orphan_reference")
        assert per_file[path.name] == expected, path.name


def test_zero_fault_rate_gives_clean_data(clean: Path, clean_contacts: pd.DataFrame) -> None:
    assert _faults(clean).empty
    emails = clean_contacts.email.dropna()
    assert len(emails) > 500
    assert all(EMAIL_RE.match(e.strip()) for e in emails)
    orders = _frame(clean, "orders*.csv")
    assert (orders.total_amount.astype(float) >= 0).all()
    tickets = _frame(clean, "tickets*.jsonl")
    assert tickets.csat_score.dropna().between(1, 5).all()
    refs = _keys(clean)
    assert (
        set(zip(orders.contact_source_system, orders.contact_source_id, strict=True))
        <= refs["contacts"]
    )


def test_lifecycle_stages_are_ordered_and_buyers_are_customers(
    clean: Path, clean_contacts: pd.DataFrame
) -> None:
    stages = ["lead_at", "mql_at", "sql_at", "opportunity_at", "customer_at"]
    c = clean_contacts.copy()
    for col in stages:
        c[col] = pd.to_datetime(c[col], format=ISO_TS)
    for before, after in itertools.pairwise(stages):
        reached = c[after].notna()
        assert c.loc[reached, before].notna().all(), f"{after} without {before}"
        assert (c.loc[reached, before] <= c.loc[reached, after]).all(), f"{before} > {after}"
    assert c.mql_at.notna().mean() < 0.9  # some leads drop off
    orders = _frame(clean, "orders*.csv")
    orders["ordered_at"] = pd.to_datetime(orders.ordered_at, format=ISO_TS)
    o = orders.merge(
        c[["source_system", "source_contact_id", "person_id"]],
        left_on=["contact_source_system", "contact_source_id"],
        right_on=["source_system", "source_contact_id"],
    )
    first = o.groupby("person_id").ordered_at.min()
    cust = c.groupby("person_id").customer_at.min()
    joined = pd.concat([first.rename("first"), cust.rename("cust")], axis=1).dropna(
        subset=["first"]
    )
    assert joined.cust.notna().all(), "a buyer is not a customer"
    assert (joined.cust <= joined["first"]).all()
    never = c.groupby("person_id").customer_at.count() == 0
    assert 0.2 < never.mean() < 0.8  # a realistic share never buys


def test_order_lines_sum_to_order_totals(clean: Path) -> None:
    orders = _frame(clean, "orders*.csv").drop_duplicates("order_id", keep="last")
    lines = _frame(clean, "order_lines*.parquet")
    amount = lines.quantity * lines.unit_price.astype(object) - lines.discount_amount.astype(object)
    sums = amount.groupby(lines.order_id).sum()
    from decimal import Decimal

    totals = orders.set_index("order_id").total_amount.map(Decimal)
    assert set(sums.index) == set(totals.index)
    assert (sums.reindex(totals.index) == totals).all()
    assert lines.groupby("order_id").size().between(1, 5).all()
    assert (lines.discount_amount >= 0).all() and (lines.quantity >= 1).all()


def test_order_statuses_versions_and_currencies(clean: Path) -> None:
    orders = _frame(clean, "orders*.csv")
    assert {"completed", "cancelled", "refunded"} <= set(orders.status)
    assert {"online", "store", "partner"} == set(orders.sales_channel)
    assert orders.currency.value_counts().idxmax() == "CNY"
    assert len(set(orders.currency)) >= 3
    twice = orders[orders.duplicated("order_id", keep=False)]
    assert len(twice) > 0
    for _, versions in twice.groupby("order_id"):
        assert list(versions.status) == ["pending", "completed"]
        assert versions.updated_at.iloc[0] < versions.updated_at.iloc[1]
    store = orders[orders.sales_channel == "store"]
    assert (store.contact_source_system == "pos").mean() > 0.9
    params = json.loads((clean / "_truth" / "params.json").read_text(encoding="utf-8"))
    months = {m for cur in params["fx_rates_to_cny"]["rates"].values() for m in cur}
    ordered_months = set(orders.ordered_at.str[:7])
    assert ordered_months <= months | {max(months)}


def test_same_person_records_are_linkable_by_email_or_phone(
    clean: Path, clean_contacts: pd.DataFrame
) -> None:
    c = clean_contacts.assign(
        e=clean_contacts.email.map(normalise_email), p=clean_contacts.phone.map(normalise_phone)
    )
    assert c.person_id.notna().all()
    # Independent union-find over shared normalised emails and phones.
    parent = list(range(len(c)))

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    for key in ("e", "p"):
        for _, idx in c.groupby(key).groups.items():
            idx = list(idx)
            for j in idx[1:]:
                parent[find(j)] = find(idx[0])
    c["cluster"] = [find(i) for i in range(len(c))]
    pairs = linked = 0
    for _, g in c.groupby("person_id"):
        clusters = g.cluster.tolist()
        for i in range(len(clusters)):
            for j in range(i + 1, len(clusters)):
                pairs += 1
                linked += clusters[i] == clusters[j]
    assert pairs > 200
    assert linked / pairs >= 0.985
    # ... and agrees with the generator's own count over its whole simulated world
    identity = json.loads((clean / "_truth" / "params.json").read_text(encoding="utf-8"))[
        "process"
    ]["identity"]
    world_share = identity["linkable_record_pairs"] / identity["same_person_record_pairs"]
    assert abs(linked / pairs - world_share) < 0.01
    # Different persons (almost) never share an email or phone.
    persons_per_cluster = c.groupby("cluster").person_id.nunique()
    assert (persons_per_cluster > 1).sum() / c.person_id.nunique() < 0.01
    assert c.groupby("e").person_id.nunique().max() == 1
    # the spelling varies between a person's records
    assert (c.groupby("e").email.nunique() > 1).any()
    assert (c.groupby("p").phone.nunique() > 1).any()
    assert c.source_system.nunique() == 4


def test_campaign_events_and_tickets_look_real(clean: Path) -> None:
    events = _frame(clean, "campaign_events*.csv")
    counts = events.event_type.value_counts()
    assert set(counts.index) == {
        "sent",
        "delivered",
        "open",
        "click",
        "unsubscribe",
        "bounce",
        "conversion",
    }
    assert counts["sent"] > counts["delivered"] > counts["open"] > counts["click"]
    tickets = _frame(clean, "tickets*.jsonl")
    created = pd.to_datetime(tickets.created_at, format=ISO_TS)
    first = pd.to_datetime(tickets.first_response_at, format=ISO_TS)
    resolved = pd.to_datetime(tickets.resolved_at, format=ISO_TS)
    assert (first.dropna() >= created[first.notna()]).all()
    assert (resolved.dropna() >= first[resolved.notna()]).all()
    assert 0.2 < tickets.csat_score.notna().mean() < 0.4
    local_hour = (first.dropna() + pd.Timedelta(hours=8)).dt.hour
    assert local_hour.between(9, 18).mean() > 0.7  # answered in business hours


def test_increment_adds_a_day_consistent_with_the_base(tmp_path: Path) -> None:
    generate(tmp_path, scale="tiny", seed=5, fault_rate=0.0, as_of=AS_OF)
    summary = generate_increment(tmp_path, scale="tiny", seed=5, day=1, as_of=AS_OF, fault_rate=0.0)
    assert summary.rows > 0
    names = {f.file for f in summary.files}
    assert "orders_inc001.csv" in names and "crm_contacts_inc001.csv" in names
    for name in names:
        _source(name)  # still matches the mapping's globs
    base = _frame(tmp_path, "orders.csv")
    inc = _frame(tmp_path, "orders_inc001.csv")
    day_start = datetime(AS_OF.year, AS_OF.month, AS_OF.day) + timedelta(days=1)
    new = inc[~inc.order_id.isin(base.order_id)]
    assert len(new) > 0
    assert (pd.to_datetime(new.ordered_at, format=ISO_TS) >= day_start).all()
    again = inc[inc.order_id.isin(base.order_id)].drop_duplicates("order_id", keep="last")
    last_base = base.drop_duplicates("order_id", keep="last").set_index("order_id").updated_at
    assert (again.updated_at.values > last_base.loc[again.order_id].values).all()
    contacts = _keys(tmp_path)["contacts"]
    assert set(zip(inc.contact_source_system, inc.contact_source_id, strict=True)) <= contacts
    base_ids = set(base.order_id)
    assert set(_frame(tmp_path, "order_lines_inc001.parquet").order_id).isdisjoint(base_ids)


def test_cli_writes_a_summary_and_rejects_bad_input(tmp_path: Path, capsys) -> None:
    assert (
        crm_main(
            [
                "generate",
                "--scale",
                "tiny",
                "--seed",
                "1",
                "--out",
                str(tmp_path),
                "--as-of",
                "2026-01-31",
            ]
        )
        == 0
    )
    out = capsys.readouterr().out
    assert "orders.csv" in out and "faults" in out
    assert crm_main(["generate", "--out", str(tmp_path), "--as-of", "31/01/2026"]) == 2
    assert "31/01/2026" in capsys.readouterr().err
    assert crm_main(["generate", "--out", str(tmp_path), "--fault-rate", "1.5"]) == 2
    assert crm_main(["generate", "--out", str(tmp_path), "--increment", "999"]) == 2
    capsys.readouterr()
    blocker = tmp_path / "a-file"
    blocker.write_text("x")
    assert crm_main(["generate", "--out", str(blocker / "sub")]) == 2
    assert "cannot write" in capsys.readouterr().err


def test_default_as_of_is_today(tmp_path: Path) -> None:
    before = datetime.now(UTC).date()
    generate(tmp_path, scale="tiny", seed=7)
    after = datetime.now(UTC).date()
    params = json.loads((tmp_path / "_truth" / "params.json").read_text(encoding="utf-8"))
    # Two dates only when the generation straddles midnight UTC.
    assert params["as_of"] in {before.isoformat(), after.isoformat()}
    assert params["seed"] == 7 and params["scale"] == "tiny"
    assert {"r", "alpha", "a", "b"} <= set(params["bgnbd"])
    assert {"p", "q", "gamma"} <= set(params["gamma_gamma"])


def test_completed_orders_recover_the_bgnbd_and_gamma_gamma_parameters() -> None:
    """Maximum-likelihood fits on the completed orders of a small world land near the
    parameters written to params.json (the CLV workstream relies on them as truth)."""
    from scipy.optimize import minimize
    from scipy.special import betaln, gammaln

    from generator.config import make_settings, params
    from generator.world import simulate

    s = make_settings("small", 11, 0.0, AS_OF)
    o = simulate(s).orders
    sel = (o.final_status == 0) & o.simulated & (o.ordered_at < s.cutoff)
    df = pd.DataFrame(
        {"person": o.person[sel], "at": o.ordered_at[sel] / (7 * 86400), "v": o.value_cny[sel]}
    )
    g = df.groupby("person").agg(
        n=("at", "size"), first=("at", "min"), last=("at", "max"), m=("v", "mean")
    )
    x = (g.n - 1).to_numpy()
    tx = (g["last"] - g["first"]).to_numpy()
    big_t = (s.cutoff / (7 * 86400) - g["first"]).to_numpy()

    def bgnbd_nll(theta):
        r, alpha, a, b = np.exp(theta)
        common = gammaln(r + x) - gammaln(r) + r * np.log(alpha) + betaln(a, b + x) - betaln(a, b)
        alive = -(r + x) * np.log(alpha + big_t)
        dropped = np.where(
            x > 0,
            np.log(a) - np.log(np.maximum(b + x - 1, 1e-9)) - (r + x) * np.log(alpha + tx),
            -np.inf,
        )
        return -np.sum(common + np.logaddexp(alive, dropped))

    fit = np.exp(
        minimize(
            bgnbd_nll,
            np.zeros(4),
            method="Nelder-Mead",
            options={"maxiter": 4000, "xatol": 1e-6, "fatol": 1e-6},
        ).x
    )
    truth = params()["purchasing"]
    expected = [truth["bgnbd"][k] for k in ("r", "alpha", "a", "b")]
    assert np.allclose(fit, expected, rtol=0.2), (fit, expected)

    rep = g[g.n > 1]
    n, m = rep.n.to_numpy(), rep.m.to_numpy()

    def gg_nll(theta):
        p, q, gamma = np.exp(theta)
        ll = (
            gammaln(p * n + q)
            - gammaln(p * n)
            - gammaln(q)
            + q * np.log(gamma)
            + (p * n - 1) * np.log(m)
            + p * n * np.log(n)
            - (p * n + q) * np.log(n * m + gamma)
        )
        return -ll.sum()

    fit_gg = np.exp(
        minimize(gg_nll, np.log([1, 1, 100]), method="Nelder-Mead", options={"maxiter": 4000}).x
    )
    expected_gg = [truth["gamma_gamma"][k] for k in ("p", "q", "gamma")]
    assert np.allclose(fit_gg, expected_gg, rtol=0.2), (fit_gg, expected_gg)

"""The gate end to end: `run_pipeline` publishes good builds and holds bad ones back."""

from __future__ import annotations

import csv
import json
import re
import shutil
from pathlib import Path

import duckdb

from crm.settings import published_db
from quality.suites import load_suites

REMOTE_ASSET = re.compile(r"""(?:src=|url\()\s*['"]?(https?://[^"')\s]+)""")


def _query(db: Path, sql: str, params: list | None = None) -> list[tuple]:
    con = duckdb.connect(str(db), read_only=True)
    try:
        return con.execute(sql, params or []).fetchall()
    finally:
        con.close()


def _tables(db: Path, schema: str) -> set[str]:
    return {
        r[0]
        for r in _query(
            db, "select table_name from duckdb_tables() where schema_name = ?", [schema]
        )
    }


def test_default_data_passes_the_gate_and_is_published(published_tiny: Path) -> None:
    served = published_db(published_tiny)
    assert served.is_file()
    marts = _tables(published_tiny, "marts")
    assert marts and _tables(served, "marts") == marts
    run_id, status, failed_critical = _query(
        served,
        "select run_id, status, failed_critical from quality.runs order by started_at desc limit 1",
    )[0]
    assert status in ("passed", "warned") and failed_critical == 0
    gate, marts_run = _query(
        served,
        "select gate_passed, marts_run_id from quality.publications "
        "order by published_at desc limit 1",
    )[0]
    assert gate and marts_run == run_id
    # The planted faults were rejected, not lost: every reject is served for the data-quality page.
    rejects = _query(published_tiny, "select count(*) from raw._rejects")[0][0]
    assert rejects > 0
    assert _query(served, "select count(*) from ops.rejects")[0][0] == rejects
    assert (
        _query(served, "select count(*) from ops.loads")[0][0]
        == _query(published_tiny, "select count(*) from raw._loads")[0][0]
    )


def test_history_has_one_row_per_check(published_tiny: Path) -> None:
    served = published_db(published_tiny)
    run_id = _query(served, "select max(run_id) from quality.runs")[0][0]
    rows = _query(
        served,
        "select check_id, severity, success, observed_value from quality.results where run_id = ?",
        [run_id],
    )
    expected = {c.check_id for s in load_suites() for c in s.checks}
    assert {r[0] for r in rows} == expected
    assert {r[1] for r in rows} <= {"critical", "warning"}
    assert all(r[3] is not None for r in rows if r[2]), "a passed check without observed value"


def test_data_docs_render_offline(published_tiny: Path) -> None:
    from quality import reports_dir_for

    site = reports_dir_for(published_tiny) / "data_docs"
    pages = list(site.rglob("*.html"))
    assert (site / "index.html") in pages and len(pages) > 1
    for page in pages:
        html = page.read_text(encoding="utf-8")
        assert REMOTE_ASSET.findall(html) == [], page
        for local in re.findall(
            r'(?:src|href)="(static/vendor/[^"]+|[./]+static/vendor/[^"]+)"', html
        ):
            assert (page.parent / local).is_file(), (page, local)


def _without_emails(source: Path, target: Path) -> None:
    """A copy of the exports where the CRM and web sign-up exports lost every email (a broken
    upstream export): the emails of the persons built from them go missing downstream."""
    shutil.copytree(source, target)
    crm = target / "crm_contacts.csv"
    with crm.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    with crm.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows({**row, "email": ""} for row in rows)
    web = target / "web_signups.jsonl"
    lines = []
    for line in web.read_text(encoding="utf-8").splitlines():
        try:
            record = json.loads(line)
        except json.JSONDecodeError:
            lines.append(line)  # planted garbled line: keep it as it was
            continue
        record["email"] = None
        lines.append(json.dumps(record, ensure_ascii=False))
    web.write_text("\n".join(lines) + "\n", encoding="utf-8")


def test_corrupted_build_is_held_back_and_last_good_marts_stay(
    published_tiny: Path, tiny_data: Path, tmp_path: Path
) -> None:
    from crm.pipeline import run_pipeline

    db = tmp_path / "crm.duckdb"
    served = published_db(db)
    shutil.copy(published_db(published_tiny), served)  # the last good build is being served
    good_marts_run = _query(served, "select max(marts_run_id) from quality.publications")[0][0]
    good_emails = _query(served, "select count(email), count(*) from marts.customer_360")[0]

    corrupt = tmp_path / "exports"
    _without_emails(tiny_data, corrupt)
    result = run_pipeline(corrupt, db)

    assert not result.published
    assert "marts_customer_360.email.completeness" in {
        o.check_id for o in result.quality_run.critical_failures
    }
    # The working warehouse really holds the bad build ...
    bad_emails = _query(db, "select count(email), count(*) from marts.customer_360")[0]
    assert bad_emails[0] / bad_emails[1] < 0.75
    # ... but the dashboards' file still serves the previous marts,
    assert _query(served, "select count(email), count(*) from marts.customer_360")[0] == (
        good_emails
    )
    last = _query(
        served,
        "select gate_passed, marts_updated, marts_run_id, run_id from quality.publications "
        "order by published_at desc limit 1",
    )[0]
    assert last[:3] == (False, False, good_marts_run)
    # and names the failed checks of the run that was held back.
    failed = _query(
        served,
        "select check_id from quality.results where run_id = ? and not success "
        "and severity = 'critical'",
        [last[3]],
    )
    assert ("marts_customer_360.email.completeness",) in failed


def test_clean_data_passes_every_critical_expectation(
    clean_tiny_data: Path, tmp_path: Path
) -> None:
    from crm.pipeline import run_pipeline

    result = run_pipeline(clean_tiny_data, tmp_path / "crm.duckdb")
    failures = [
        (o.check_id, o.observed_value, o.exception) for o in result.quality_run.critical_failures
    ]
    assert failures == []
    assert result.published


def test_crm_quality_exits_non_zero_on_a_critical_failure(
    published_tiny: Path, tmp_path: Path
) -> None:
    from crm.cli import main

    db = tmp_path / "crm.duckdb"
    shutil.copy(published_tiny, db)
    assert main(["quality", "--db", str(db)]) == 0
    con = duckdb.connect(str(db))
    try:  # a faulty survivorship rule: half the persons lose their email
        con.execute("update marts.customer_360 set email = null where hash(customer_key) % 2 = 0")
    finally:
        con.close()
    assert main(["quality", "--db", str(db)]) == 1
    status, failed = _query(
        db, "select status, failed_critical from quality.runs order by started_at desc limit 1"
    )[0]
    assert status == "failed" and failed >= 1

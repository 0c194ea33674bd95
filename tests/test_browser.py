"""The served dashboards in a real headless Chromium: every page shows its title and no error.

Debian's chromium (installed by `make browser`) is driven by Playwright; test tools cannot
download browsers here. A missing browser FAILS this test: CI must run it.
Screenshots of every page land in tests/artifacts/screenshots/ (git-ignored).
"""

from __future__ import annotations

import os
import socket
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import duckdb
import pytest

from crm.commands.dashboard import streamlit_command
from dashboards.i18n import t
from dashboards.masking import mask_email
from dashboards.navigation import PAGES

pytestmark = pytest.mark.browser

SCREENSHOTS = Path(__file__).parent / "artifacts" / "screenshots"
CHROMIUM_FLAGS = [
    "--no-sandbox",
    "--disable-dev-shm-usage",
    "--disable-gpu",
    # No update checks, sync, component downloads or metrics: the machine is offline.
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-default-apps",
    "--disable-sync",
    "--disable-domain-reliability",
    "--metrics-recording-only",
    "--no-first-run",
    "--no-default-browser-check",
]
ERROR_TEXTS = ("Traceback", "Error:", t("error.page", "en"))


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _wait_healthy(url: str, server: subprocess.Popen, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.poll() is not None:
            pytest.fail(f"streamlit exited with {server.returncode}: {server.stdout.read()}")
        try:
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.3)
    pytest.fail(f"streamlit did not become healthy at {url} within {timeout}s")


@pytest.fixture(scope="module")
def served(dashboard_published: Path) -> Iterator[str]:
    port = _free_port()
    env = dict(os.environ, CRM_PUBLISHED_DB=str(dashboard_published), CRM_DASHBOARD_LANG="en")
    env.pop("CRM_DASHBOARD_PII", None)
    server = subprocess.Popen(
        streamlit_command(port),
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_healthy(url, server)
        yield url
    finally:
        server.terminate()
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()


SETTLED_JS = """() =>
    !document.querySelector('[data-testid="stStatusWidget"]') &&
    [...document.querySelectorAll('[data-testid="stPlotlyChart"]')]
        .every(chart => chart.querySelector('.main-svg'))"""


def _settled(page) -> None:
    """Waits until Streamlit has finished the script run and Plotly (loaded lazily, slow on a
    busy machine) has drawn every chart container."""
    page.wait_for_selector('[data-testid="stApp"]', timeout=30_000)
    page.wait_for_timeout(500)
    page.wait_for_function(SETTLED_JS, timeout=90_000)
    page.wait_for_timeout(500)


def _person_with_email(published: Path) -> dict:
    con = duckdb.connect(str(published), read_only=True)
    try:
        row = con.execute(
            "select customer_key, email from marts.customer_360 "
            "where email is not null and full_name is not null order by customer_key limit 1"
        ).fetchone()
    finally:
        con.close()
    return {"customer_key": row[0], "email": row[1]}


def test_every_page_renders_its_title_without_error_in_chromium(
    served: str, dashboard_published: Path, chromium: str
) -> None:
    published = dashboard_published
    from playwright.sync_api import sync_playwright

    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    problems: list[str] = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=chromium, headless=True, args=CHROMIUM_FLAGS
        )
        try:
            page = browser.new_page(viewport={"width": 1440, "height": 2200})
            for name, _ in PAGES:
                title = t(f"page.{name}", "en")
                # the default page (overview) lives at the root URL
                path = "" if name == PAGES[0][0] else name
                page.goto(f"{served}/{path}", wait_until="domcontentloaded")
                page.get_by_role("heading", name=title).first.wait_for(timeout=60_000)
                _settled(page)
                page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)
                body = page.inner_text("body")
                exceptions = page.locator('[data-testid="stException"]').count()
                found = [text for text in ERROR_TEXTS if text in body]
                if exceptions or found:
                    problems.append(f"{name}: exceptions={exceptions} texts={found}")
                if name == "overview":
                    charts = page.locator('[data-testid="stPlotlyChart"] .main-svg').count()
                    if charts < 3:
                        problems.append(f"overview: {charts} Plotly charts drawn, expected 3")
            # Customer 360 in the browser: find a person by email, see it masked only
            person = _person_with_email(published)
            page.goto(f"{served}/customer_360", wait_until="domcontentloaded")
            box = page.get_by_label(t("c360.search", "en"))
            box.fill(person["email"])
            box.press("Enter")
            page.get_by_text(mask_email(person["email"]), exact=False).first.wait_for(
                timeout=60_000
            )
            _settled(page)
            page.screenshot(path=str(SCREENSHOTS / "customer_360_search.png"), full_page=True)
            if person["email"] in page.inner_text("body"):
                problems.append("customer_360: the full email is visible while masking is on")

            # the language switch in a real browser: the page re-renders in Chinese
            page.goto(served, wait_until="domcontentloaded")
            page.get_by_role("heading", name=t("page.overview", "en")).first.wait_for(
                timeout=60_000
            )
            page.get_by_text("中文", exact=True).click()
            page.get_by_role("heading", name=t("page.overview", "zh")).first.wait_for(
                timeout=60_000
            )
            _settled(page)
            page.screenshot(path=str(SCREENSHOTS / "overview_zh.png"), full_page=True)
            if t("kpi.revenue", "zh") not in page.inner_text("body"):
                problems.append("zh: the revenue tile is not translated")
        finally:
            browser.close()
    assert not problems, problems
    assert {name for name, _ in PAGES} <= {p.stem for p in SCREENSHOTS.glob("*.png")}


def test_chromium_is_installed_for_ci(chromium: str) -> None:
    """`make test` installs Chromium first; a missing one is a failure, never a skip."""
    version = subprocess.run([chromium, "--version"], capture_output=True, text=True, timeout=30)
    assert version.returncode == 0, version.stderr
    assert "Chromium" in version.stdout or "Chrome" in version.stdout, version.stdout

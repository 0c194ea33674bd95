"""The auditor's Data Docs open styled in a real browser with the network cut off."""

from __future__ import annotations

from pathlib import Path

import pytest

pytestmark = pytest.mark.browser


def test_data_docs_render_styled_offline(published_tiny: Path, chromium: str) -> None:
    from playwright.sync_api import sync_playwright

    from quality import reports_dir_for

    site = reports_dir_for(published_tiny) / "data_docs"
    page_file = next(site.glob("validations/**/*.html"))
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium, args=["--no-sandbox"])
        try:
            context = browser.new_context(offline=True)
            failed: list[str] = []
            for target in (site / "index.html", page_file):
                page = context.new_page()
                page.on("requestfailed", lambda request: failed.append(request.url))
                page.goto(target.as_uri())
                page.wait_for_load_state("load")
                # bootstrap's stylesheet and script, jQuery and the icon font all came from disk
                assert "apple-system" in page.evaluate("getComputedStyle(document.body).fontFamily")
                assert page.evaluate("typeof jQuery === 'function' && !!jQuery.fn.modal")
                assert page.evaluate(
                    "[...document.fonts].some("
                    "f => f.family.includes('Font Awesome') && f.status === 'loaded')"
                )
            assert failed == []
        finally:
            browser.close()

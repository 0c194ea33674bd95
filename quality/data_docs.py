"""Makes GX's Data Docs render fully styled offline.

GX writes pages that load bootstrap, jQuery, vega, font-awesome and its own logo from CDNs and
an S3 bucket. The auditor's copy must open from disk with no network: the vendored assets
(quality/assets/vendor.yml) are copied beside the pages and every page's links are rewritten
to them.
"""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

import yaml

ASSETS_DIR = Path(__file__).with_name("assets")
VENDOR_DIR = ASSETS_DIR / "vendor"
MANIFEST = ASSETS_DIR / "vendor.yml"
VENDOR_TARGET = Path("static") / "vendor"
# GX's logo, fetched from S3 with the run time and the project id in the query string.
_GX_LOGO = re.compile(
    r"https://great-expectations-web-assets\.s3\.[a-z0-9-]+\.amazonaws\.com/"
    r"[A-Za-z_-]+\.png(\?[^\"')]*)?"
)
_LOCAL_LOGO = Path("static") / "images" / "logo-long.png"
# Subresource-integrity pins name the CDN copies, and `crossorigin` makes a browser refuse
# file:// scripts; both are dropped from tags that now load a vendored file.
_SRI = re.compile(r'\s+(?:integrity|crossorigin)="[^"]*"')
_VENDORED_TAG = re.compile(r"<(?:script|link)\b[^>]*static/vendor/[^>]*>")
# Any asset still fetched from the network (links to web pages are fine offline).
_REMOTE_ASSET = re.compile(r"(?:src=|url\()\s*['\"]?(https?://[^\"')\s]+)")


def vendor_map() -> dict[str, Path]:
    """CDN URL → vendored file (relative to the vendor directory)."""
    manifest = yaml.safe_load(MANIFEST.read_text(encoding="utf-8"))
    return {entry["cdn"]: Path(entry["file"]) for entry in manifest["assets"]}


def _relative(target: Path, page: Path) -> str:
    return Path(os.path.relpath(target, page.parent)).as_posix()


def localise_page(page: Path, site_dir: Path, assets: dict[str, Path]) -> bool:
    """Point one page at the local copies; returns whether anything changed."""
    html = page.read_text(encoding="utf-8")
    if "https://" not in html:
        return False
    original = html
    for cdn, file in assets.items():
        if cdn in html:
            local = _relative(site_dir / VENDOR_TARGET / file, page)
            html = html.replace(f'"{cdn}"', f'"{local}"')
    html = _GX_LOGO.sub(_relative(site_dir / _LOCAL_LOGO, page), html)
    html = _VENDORED_TAG.sub(lambda tag: _SRI.sub("", tag.group(0)), html)
    if html != original:
        page.write_text(html, encoding="utf-8")
        return True
    return False


def localise_site(site_dir: Path) -> list[str]:
    """Copy the vendored assets into the site and rewrite every page.

    Returns the remote assets some page still loads (empty when the site is fully offline).
    """
    shutil.copytree(VENDOR_DIR, site_dir / VENDOR_TARGET, dirs_exist_ok=True)
    assets = vendor_map()
    remaining: set[str] = set()
    for page in site_dir.rglob("*.html"):
        localise_page(page, site_dir, assets)
        remaining.update(_REMOTE_ASSET.findall(page.read_text(encoding="utf-8")))
    return sorted(remaining)

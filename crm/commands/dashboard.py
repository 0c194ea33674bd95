"""`crm dashboard`: serve the leadership dashboards (Streamlit) over the published warehouse."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from crm.commands._common import add_db_option
from crm.errors import UserError
from crm.settings import PROJECT_ROOT, published_db, resolve_db

APP = PROJECT_ROOT / "dashboards" / "app.py"


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "dashboard",
        help="serve the dashboards over the published warehouse",
        description="Serve the leadership dashboards (Streamlit). They read only the published "
        "copy of the warehouse, read-only, so a running pipeline never blocks them.",
    )
    add_db_option(parser)
    parser.add_argument("--port", type=int, default=8501, help="HTTP port (default 8501)")
    parser.add_argument(
        "--config",
        metavar="PATH",
        default=None,
        help="operator configuration YAML merged over dashboards/config.yml "
        "(language, PII mode, ...; default: $CRM_DASHBOARD_CONFIG)",
    )
    parser.set_defaults(func=_run)


def streamlit_command(port: int) -> list[str]:
    # Headless always: otherwise Streamlit's first run on a machine stops at an interactive
    # e-mail prompt (and dies without a terminal); the URL is printed instead.
    return [
        sys.executable, "-m", "streamlit", "run", str(APP),
        f"--server.port={port}",
        "--server.headless=true",
        "--browser.gatherUsageStats=false",
        # Never a traceback on a page, even for an error the app did not anticipate.
        "--client.showErrorDetails=none",
        "--client.toolbarMode=minimal",
    ]  # fmt: skip


def streamlit_env(db: str | None, config: str | None) -> dict[str, str]:
    env = dict(os.environ)
    env["CRM_PUBLISHED_DB"] = str(published_db(resolve_db(db)))
    if config:
        path = Path(config).expanduser().resolve()
        if not path.is_file():
            raise UserError(f"{config}: dashboard configuration file not found")
        env["CRM_DASHBOARD_CONFIG"] = str(path)
    return env


def _run(args: argparse.Namespace) -> int:
    if not 0 < args.port < 65536:
        raise UserError(f"--port {args.port}: not a TCP port")
    env = streamlit_env(args.db, args.config)
    published = Path(env["CRM_PUBLISHED_DB"])
    if not published.exists():
        print(
            f"crm dashboard: nothing published at {published} yet; the page explains how to "
            "build it (make demo / crm run DIR)",
            file=sys.stderr,
        )
    print(f"crm dashboard: serving {published} on http://localhost:{args.port}", file=sys.stderr)
    os.chdir(PROJECT_ROOT)
    # Replace this process: signals (Ctrl-C, a service manager's TERM) reach Streamlit directly
    # and no orphaned server is left behind.
    command = streamlit_command(args.port)
    os.execve(command[0], command, env)

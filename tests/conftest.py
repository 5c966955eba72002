"""Shared fixtures. The doubles themselves live in bot/doubles/ (the playground and bench use them too)."""

from __future__ import annotations

import json
import os
import re
import secrets
import subprocess
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import httpx
import pytest

from bot.audit import Who

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = ROOT / "tests" / "fixtures"  # everything the tests read is in the repository (see SOURCES.md there)
NOW = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)

# Variables that steer the test suite itself, not the app: `_clean_env` keeps them.
# UNSTUCK_VTEX_ARTICLES: an export of VTEX's help-center articles (CI: ../shared/kb/vtex-help-center; a
#   relative path is taken from the repository root). The tests against VTEX's own text run only with it; the
#   seeded FAQ entry is read from the export's sibling folder `../../seeds`.
# UNSTUCK_SCREENSHOTS: where the browser tests save screenshots (see tests/playground/test_browser.py).
# UNSTUCK_TEST_POSTGRES_URL: a PostgreSQL server the tests may create databases on (`eval "$(bench/pg.sh
#   start)"`; .ci/run starts one). The tests parametrized over both backends run their PostgreSQL half only
#   with it, each in a database of its own, created for the test and dropped after it.
VTEX_ARTICLES = "UNSTUCK_VTEX_ARTICLES"
POSTGRES = "UNSTUCK_TEST_POSTGRES_URL"
TEST_SETTINGS = (VTEX_ARTICLES, "UNSTUCK_SCREENSHOTS", POSTGRES)
BACKENDS = ["sqlite", "postgresql"]


def postgres_server() -> str:
    """The server URL from UNSTUCK_TEST_POSTGRES_URL; the calling test is skipped without one."""
    url = os.environ.get(POSTGRES)
    if not url:
        pytest.skip(
            f"{POSTGRES} is not set: the PostgreSQL tests run against a server it names "
            '(`eval "$(bench/pg.sh start)"`; .ci/run starts one)'
        )
    return url


@contextmanager
def fresh_postgres_database() -> Iterator[str]:
    """A new, empty database on the test server, for one test; dropped afterwards."""
    import psycopg

    server = postgres_server()
    name = f"unstuck_test_{secrets.token_hex(6)}"
    parts = urlsplit(server)
    with psycopg.connect(server, autocommit=True) as admin:
        admin.execute(f"CREATE DATABASE {name}")
    try:
        yield urlunsplit((parts.scheme, parts.netloc, "/" + name, parts.query, parts.fragment))
    finally:
        with psycopg.connect(server, autocommit=True) as admin:
            admin.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


def raw_execute(target: str, *statements: str) -> None:
    """Statements outside the app, as someone with write access to the database would run them."""
    if target.startswith("postgresql://"):
        import psycopg

        with psycopg.connect(target, autocommit=True) as conn:
            for statement in statements:
                conn.execute(statement.encode())
    else:
        import sqlite3

        conn = sqlite3.connect(target, isolation_level=None)
        for statement in statements:
            conn.execute(statement)
        conn.close()


def edit_audit_row(target: str, seq: int, detail: str) -> None:
    """Change an audit row behind the app's back, past the append-only triggers (as the file's owner or a
    database superuser can)."""
    if target.startswith("postgresql://"):
        raw_execute(target, "ALTER TABLE audit_log DISABLE TRIGGER USER")
    else:
        raw_execute(target, "DROP TRIGGER audit_log_no_update")
    raw_execute(target, f"UPDATE audit_log SET detail = '{detail}' WHERE seq = {int(seq)}")


def wait_for_serve(proc: subprocess.Popen, log_path: Path, deadline: float) -> int:
    """The port `unstuck serve` logged it listens on, once its /healthz answers 200 before `deadline` (a
    `time.monotonic()` value); otherwise the process is killed and the test fails showing its log."""
    while time.monotonic() < deadline and proc.poll() is None:
        found = re.search(r"listening on http://127.0.0.1:(\d+)", Path(log_path).read_text())
        if found:
            try:
                if httpx.get(f"http://127.0.0.1:{found.group(1)}/healthz", timeout=0.5).status_code == 200:
                    return int(found.group(1))
            except httpx.HTTPError:
                pass
        time.sleep(0.05)
    exited = proc.poll() is not None
    proc.kill()
    raise AssertionError(f"unstuck serve {'exited' if exited else 'did not start'}: " + Path(log_path).read_text())


@pytest.fixture(params=BACKENDS)
def db_target(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """Where a test's store lives, once per backend: a SQLite file, then a fresh PostgreSQL database (a URL)."""
    if request.param == "sqlite":
        yield str(tmp_path / "unstuck.db")
    else:
        with fresh_postgres_database() as url:
            yield url


def vtex_articles(*parts: str) -> Path:
    """A path inside the export named by UNSTUCK_VTEX_ARTICLES; the calling test is skipped without one."""
    root = os.environ.get(VTEX_ARTICLES)
    if not root:
        pytest.skip(
            f"{VTEX_ARTICLES} is not set: the tests against VTEX's own help-center articles run when it names "
            "an export of them (CI sets ../shared/kb/vtex-help-center)"
        )
    path = (ROOT / Path(root).expanduser()).joinpath(*parts).resolve()
    if not path.exists():
        pytest.skip(f"{path} does not exist ({VTEX_ARTICLES}={root})")
    return path


@pytest.fixture
def example_order_json() -> dict:
    return json.loads((FIXTURES / "vtex-openapi-get-order-example.json").read_text())


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    # A developer's real tokens must never leak into a test run; settings read only what a test sets.
    for key in list(os.environ):
        if key.startswith(("SLACK_", "VTEX_", "UNSTUCK_")) and key not in TEST_SETTINGS:
            monkeypatch.delenv(key, raising=False)
    monkeypatch.chdir(tmp_path)


@pytest.fixture
def any_stack(db_target: str):
    """As `stack`, once on SQLite and once on PostgreSQL."""
    from bot.doubles.stack import LocalStack

    with LocalStack(db_target) as running:
        yield running


@pytest.fixture
def stack(tmp_path: Path):
    """The real app over HTTP on 127.0.0.1 with the VTEX and Slack doubles, demo orders loaded."""
    from bot.doubles.stack import LocalStack

    with LocalStack(tmp_path / "audit.db") as running:
        yield running


# -- stores: one person, one claim, calls released together (the contract suite and the attacks share them) --

WHO = Who("U1", "T1", "C1")
LEASE = timedelta(seconds=60)


def claim(
    store: Any, key: str = "k1", number: str = "NF1", order: str = "1-01", action: str = "resend_invoice", **extra: Any
) -> Any:
    """A claim by WHO on account "acme" for 100 cents; `extra` (reply_to, owner) goes to the ledger as given."""
    return store.ledger.claim(
        WHO,
        order_id=order,
        account="acme",
        action=action,
        invoice_number=number,
        value=100,
        click_key=key,
        lease=LEASE,
        **extra,
    )


def at_once(*calls):
    """Run the calls on threads released together; their results (or exceptions) in order."""
    gate = threading.Barrier(len(calls))
    results: list[object] = [None] * len(calls)

    def run(i, call):
        gate.wait()
        try:
            results[i] = call()
        except Exception as exc:  # noqa: BLE001 - returned to the test, which asserts on it
            results[i] = exc

    threads = [threading.Thread(target=run, args=(i, c)) for i, c in enumerate(calls)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    return results

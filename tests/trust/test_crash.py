"""Kill a real `unstuck serve` process between "pending" and "completed", restart it, and check the
pending action is settled from VTEX (at once when the invoice is there, once VTEX has shown long
enough that it is not) and the channel is told."""

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time

import pytest

from bot.doubles.slack import SlackDouble, SlackDriver
from bot.doubles.vtex import VtexDouble
from bot.sandbox import demo_orders
from tests.conftest import wait_for_serve

SECRET = "crash-test-signing-secret"
OPERATOR = "UOPS00001"


def start(env: dict, log_path) -> tuple[subprocess.Popen, int]:
    """Start `unstuck serve` on a free port it picks itself (no race with other sockets) and wait for health."""
    log = open(log_path, "w+")
    proc = subprocess.Popen(
        [sys.executable, "-m", "bot.cli", "serve", "--http", "--host", "127.0.0.1", "--port", "0"],
        env=env,
        stdout=log,
        stderr=log,
    )
    return proc, wait_for_serve(proc, log_path, time.monotonic() + 20)


@pytest.fixture
def world(tmp_path):
    vtex, slack = VtexDouble(demo_orders()), SlackDouble()
    vtex_server = vtex.serve()
    slack.serve()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "VTEX_", "UNSTUCK_"))}
    env.update(
        SLACK_BOT_TOKEN="xoxb-crash-test",
        SLACK_SIGNING_SECRET=SECRET,
        SLACK_API_URL=slack.api_url,
        VTEX_ACCOUNT="acme",
        VTEX_BASE_URL=vtex_server.url,
        UNSTUCK_DB=str(tmp_path / "audit.db"),
        UNSTUCK_OPERATORS=OPERATOR,
        UNSTUCK_SETTLE_AFTER="4",
        UNSTUCK_SETTLE_INTERVAL="0.5",
    )
    yield vtex, slack, env, tmp_path / "audit.db"
    slack.close()
    vtex_server.close()


@pytest.mark.parametrize(("lands", "expected"), [(True, "succeeded"), (False, "failed")])
def test_killed_mid_invoice_is_reconciled_on_restart(world, lands, expected):
    vtex, slack, env, db = world
    proc, port = start(env, db.parent / "first.log")
    driver = SlackDriver(slack, f"http://127.0.0.1:{port}", SECRET)
    try:
        driver.slash(OPERATOR, "1500000000001-01")
        card = slack.wait(lambda: next((m for m in slack.bot_messages() if m.blocks), None))
        driver.click(OPERATOR, card, "add_partial_invoice")
        slack.wait(lambda: (v := slack.top_view(OPERATOR)) and "Re-reading" not in json.dumps(v))
        driver.submit(OPERATOR, {"number_block": "NF-CRASH", "date_block": "2026-11-27", "time_block": "09:00"})
        # VTEX takes its time; with `lands` it stores the invoice even though nobody hears the answer.
        vtex.fail_next(200 if lands else 500, "", method="POST", delay=2.0, after=lands)
        driver.submit(OPERATOR)
        vtex.invoice_posts and slack.wait(lambda: vtex.invoice_posts(), timeout=10)
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=10)
    finally:
        if proc.poll() is None:
            proc.kill()
    with sqlite3.connect(db) as conn:
        assert conn.execute("SELECT state FROM actions").fetchall() == [("pending",)]
        assert conn.execute("SELECT outcome FROM audit_log WHERE kind='action'").fetchall() == [("pending",)]
    time.sleep(2.2)  # VTEX finishes (or drops) the request on its side

    proc, _ = start(env, db.parent / "second.log")
    try:
        told = slack.wait(
            lambda: next((c for c in slack.calls_to("response_url") if "The bot checked" in str(c.body)), None),
            timeout=15,
        )
        assert f"*{expected}*" in told.body["text"] and "NF-CRASH" in told.body["text"]
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=10)
    with sqlite3.connect(db) as conn:
        assert conn.execute("SELECT state FROM actions").fetchall() == [(expected,)]
        outcomes = [r[0] for r in conn.execute("SELECT outcome FROM audit_log WHERE kind='action' ORDER BY seq")]
        assert outcomes == (["pending", "succeeded"] if lands else ["pending", "unknown", "failed"])
    assert len(vtex.invoice_posts()) == 1  # nothing was sent again
    status = vtex.order("1500000000001-01")["status"]
    assert status == ("invoiced" if lands else "handling")

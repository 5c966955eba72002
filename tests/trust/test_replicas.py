"""Two `unstuck serve` replicas (real processes, two ports) on one PostgreSQL database behave as one app.

This follows the README's "Deploy" section: each replica gets exactly the environment listed there (read from
the README itself), plus the two test-only URLs that point VTEX and Slack at their local doubles. One VTEX
double and one Slack double serve both replicas.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psycopg
import pytest

from bot.doubles.slack import SlackDouble, SlackDriver, text_of
from bot.doubles.vtex import VtexDouble
from bot.sandbox import demo_orders
from tests.conftest import ROOT, fresh_postgres_database, wait_for_serve
from tests.factories import invoice, order_json

OPERATOR, VIEWER = "UOPS00001", "UVIEW0001"
SECRET = "replica-signing-secret-0123"
APP_KEY, APP_TOKEN = "vtexappkey-acme-REPLICAS", "REPLICAS-APP-TOKEN"
RADAR = "C0RADAR"
TEST_ONLY = {"VTEX_BASE_URL", "SLACK_API_URL"}  # the doubles' addresses, not part of a deployment


def readme_environment() -> list[str]:
    """The variable names the README's Deploy section exports for two replicas."""
    readme = (ROOT / "README.md").read_text()
    section = readme.split("## Deploy", 1)[1].split("\n## ", 1)[0]
    block = re.search(r"```sh\n# every replica\n(.*?)```", section, re.S)
    assert block, "the README's Deploy section lost its environment block"
    return sorted(set(re.findall(r"\b([A-Z][A-Z0-9_]+)=", block.group(1))))


class Replica:
    def __init__(self, name: str, env: dict[str, str], folder: Path):
        self.name = name
        self.log_path = folder / f"{name}.log"
        self.log = open(self.log_path, "w+")  # noqa: SIM115 - closed in stop()
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "bot.cli", "serve", "--http", "--host", "127.0.0.1", "--port", "0"],
            env=env,
            cwd=folder,
            stdout=self.log,
            stderr=self.log,
        )
        self.port = 0

    def wait_ready(self, deadline: float) -> None:
        self.port = wait_for_serve(self.proc, self.log_path, deadline)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()


class Deployment:
    """One database, one VTEX double, one Slack double, and the environment every replica shares."""

    def __init__(self, url: str, folder: Path, orders: list[dict], **extra: str):
        self.db_url = url
        self.folder = folder
        self.vtex = VtexDouble(orders, app_key=APP_KEY, app_token=APP_TOKEN)
        self.slack = SlackDouble()
        self.vtex_server = self.vtex.serve()
        self.slack.serve()
        deploy = {
            "UNSTUCK_DB": url,
            "UNSTUCK_AUDIT_KEY": "replicas-audit-key-0123456789abcdef",
            "SLACK_BOT_TOKEN": "xoxb-replicas",
            "SLACK_SIGNING_SECRET": SECRET,
            "UNSTUCK_OPERATORS": OPERATOR,
            "VTEX_ACCOUNT": "acme",
            "VTEX_APP_KEY": APP_KEY,
            "VTEX_APP_TOKEN": APP_TOKEN,
            "UNSTUCK_RADAR_CHANNEL": extra.pop("radar_channel", ""),
            "UNSTUCK_RADAR_INTERVAL": extra.pop("radar_interval", "60"),
        }
        # The replicas get what the README tells operators to set: no more, no less.
        assert sorted(deploy) == readme_environment()
        base = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "VTEX_", "UNSTUCK_"))}
        self.env = {**base, **deploy, "VTEX_BASE_URL": self.vtex_server.url, "SLACK_API_URL": self.slack.api_url}
        self.replicas: list[Replica] = []

    def start(self, n: int) -> list[Replica]:
        started = [Replica(f"replica-{i + 1}", self.env, self.folder) for i in range(n)]
        deadline = time.monotonic() + 60
        for replica in started:
            replica.wait_ready(deadline)
        self.replicas += started
        return started

    def audit(self, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "bot.cli", "audit", *args],
            env=self.env,
            cwd=self.folder,
            capture_output=True,
            text=True,
            timeout=60,
        )

    def sql(self, statement: str) -> list[tuple]:
        with psycopg.connect(self.db_url, autocommit=True) as conn:
            return conn.execute(statement.encode()).fetchall()

    def close(self) -> None:
        for replica in self.replicas:
            replica.stop()
        self.slack.close()
        self.vtex_server.close()


@pytest.fixture
def deployment(tmp_path) -> Iterator[callable]:
    made: list[Deployment] = []

    def make(orders, **extra) -> Deployment:
        made.append(Deployment(url, tmp_path, orders, **extra))
        return made[-1]

    with fresh_postgres_database() as url:
        try:
            yield make
        finally:
            for d in made:
                d.close()
                for replica in d.replicas:
                    assert "Traceback" not in replica.log_path.read_text(), replica.log_path.read_text()


def test_a_double_click_on_two_replicas_posts_once_and_the_chain_stays_one(deployment):
    app = deployment(demo_orders())
    first, second = app.start(2)
    drivers = [SlackDriver(app.slack, r.url, SECRET) for r in (first, second)]
    order = "1500000000002-01"  # handling, its invoice never reached the carrier: the card offers a resend
    assert drivers[0].slash(VIEWER, order).status == 200
    card = app.slack.wait(
        lambda: next((m for m in app.slack.bot_messages() if m.blocks and "resend_invoice" in str(m.blocks)), None)
    )
    gate = threading.Barrier(2)

    def click(driver):
        gate.wait()
        assert driver.click(OPERATOR, card, "resend_invoice").status == 200

    threads = [threading.Thread(target=click, args=(d,)) for d in drivers]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    app.slack.wait(lambda: "resent to VTEX" in text_of(app.slack.message(card.ts)), timeout=20)
    time.sleep(1.0)  # room for a second POST, were there one
    assert len(app.vtex.invoice_posts()) == 1
    states = app.sql("SELECT state FROM actions")
    assert states == [("succeeded",)]
    # Both replicas wrote to the audit log (a question on one, the clicks on both): one chain, intact.
    verify = app.audit("verify")
    assert verify.returncode == 0, verify.stderr
    assert "audit log OK" in verify.stdout and "keyed hash chain" in verify.stdout
    listed = app.audit("--format", "json", "--limit", "0")
    assert listed.returncode == 0 and order in listed.stdout
    for driver in drivers:
        driver.http.close()


def stuck(order_id: str, status: str = "handling", age: timedelta = timedelta(days=3)) -> dict:
    data = order_json(status, age=timedelta(0), invoices=[invoice("NF-1", 6000)])
    moment = datetime.now(UTC) - age
    data.update(orderId=order_id, lastChange=moment.isoformat(), creationDate=(moment - timedelta(hours=1)).isoformat())
    return data


def test_the_radar_runs_on_one_replica_and_another_takes_over_within_two_intervals(deployment):
    interval = 2.0
    first_stuck, later = "1600000000001-01", "1600000000002-01"
    app = deployment(
        [stuck(first_stuck), stuck(later, age=timedelta(hours=1))],
        radar_channel=RADAR,
        radar_interval=str(interval),
    )
    replicas = app.start(2)

    def alerts() -> list[str]:
        return [m.text for m in app.slack.bot_messages(RADAR) if m.blocks]

    app.slack.wait(lambda: any(first_stuck in t for t in alerts()), timeout=20)
    [(lease,)] = app.sql("SELECT value FROM radar_meta WHERE name = 'leader'")
    leader_pid = int(re.search(r'"owner": "[^|]*\|[^|]*\|(\d+)\|', lease).group(1))
    leader = next(r for r in replicas if r.proc.pid == leader_pid)
    standby = next(r for r in replicas if r is not leader)
    assert "stands by" in standby.log_path.read_text()

    leader.proc.send_signal(signal.SIGKILL)
    killed = time.monotonic()
    leader.proc.wait(10)
    taken = None
    while time.monotonic() - killed < 4 * interval:
        [(lease,)] = app.sql("SELECT value FROM radar_meta WHERE name = 'leader'") or [("",)]
        if f"|{standby.proc.pid}|" in lease:
            taken = time.monotonic() - killed
            break
        time.sleep(0.05)
    assert taken is not None and taken < 2 * interval, f"takeover after {taken} s"
    assert "taking over" in standby.log_path.read_text()

    # The new leader carries on from the database: the next order to get stuck gets its alert, from it...
    app.vtex.set_status(later, "ready-for-handling")
    app.vtex.set_status(later, "handling", when=datetime.now(UTC) - timedelta(days=3))
    app.slack.wait(lambda: any(later in t for t in alerts()), timeout=6 * interval)
    time.sleep(2 * interval)  # ...and nothing the dead leader alerted on is alerted again
    assert sum(first_stuck in t for t in alerts()) == 1
    assert sum(later in t for t in alerts()) == 1
    verify = app.audit("verify")
    assert verify.returncode == 0, verify.stderr

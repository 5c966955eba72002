"""`unstuck serve` as operators run it: one line on bad config, workers that share a port and die with it."""

import os
import signal
import subprocess
import sys
import time

import httpx
import pytest

from bot.doubles.slack import SlackDouble, SlackDriver
from bot.doubles.vtex import VtexDouble
from bot.sandbox import demo_orders
from tests.conftest import wait_for_serve


def clean_env(**extra):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "VTEX_", "UNSTUCK_"))}
    env.update(extra)
    return env


@pytest.mark.parametrize(
    ("env", "named"),
    [
        ({}, "SLACK_BOT_TOKEN"),
        ({"SLACK_BOT_TOKEN": "xoxb-1-abc"}, "SLACK_SIGNING_SECRET"),
        ({"SLACK_BOT_TOKEN": "xoxb-1-abc", "SLACK_SIGNING_SECRET": "s3cr3t-value-123"}, "VTEX_ACCOUNT"),
        (
            {
                "SLACK_BOT_TOKEN": "xoxb-1-abc",
                "SLACK_SIGNING_SECRET": "s3cr3t-value-123",
                "VTEX_ACCOUNT": "acme",
                "UNSTUCK_OPERATORS": "bob",
            },
            "UNSTUCK_OPERATORS",
        ),
        (
            {
                "SLACK_BOT_TOKEN": "xoxb-1-abc",
                "SLACK_SIGNING_SECRET": "s3cr3t-value-123",
                "VTEX_ACCOUNT": "acme",
                "UNSTUCK_ORDER_ACTION_LIMIT": "lots",
            },
            "UNSTUCK_ORDER_ACTION_LIMIT",
        ),
    ],
)
def test_bad_configuration_fails_at_once_with_one_line_naming_the_variable(tmp_path, env, named):
    result = subprocess.run(
        [sys.executable, "-m", "bot.cli", "serve", "--http"],
        env=clean_env(**env),
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and named in lines[0]
    assert "s3cr3t" not in result.stderr and "xoxb-1-abc" not in result.stderr


def test_workers_share_the_port_and_die_with_the_supervisor(tmp_path):
    vtex, slack = VtexDouble(demo_orders()), SlackDouble()
    vtex_server = vtex.serve()
    slack.serve()
    env = clean_env(
        SLACK_BOT_TOKEN="xoxb-workers",
        SLACK_SIGNING_SECRET="workers-secret-123",
        SLACK_API_URL=slack.api_url,
        VTEX_ACCOUNT="acme",
        VTEX_BASE_URL=vtex_server.url,
        UNSTUCK_DB=str(tmp_path / "a.db"),
    )
    log = open(tmp_path / "serve.log", "w+")
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "bot.cli",
            "serve",
            "--http",
            "--host",
            "127.0.0.1",
            "--port",
            "0",
            "--workers",
            "2",
        ],
        env=env,
        cwd=tmp_path,
        stdout=log,
        stderr=log,
    )
    try:
        deadline = time.monotonic() + 30
        children: list[int] = []
        while time.monotonic() < deadline and len(children) < 2:
            children = [
                int(c)
                for t in os.listdir(f"/proc/{proc.pid}/task")
                for c in open(f"/proc/{proc.pid}/task/{t}/children").read().split()
            ]
            time.sleep(0.05)
        assert len(children) == 2, (tmp_path / "serve.log").read_text()
        port = wait_for_serve(proc, tmp_path / "serve.log", deadline)
        driver = SlackDriver(slack, f"http://127.0.0.1:{port}", "workers-secret-123")
        for order in ("1500000000001-01", "1500000000002-01", "1500000000006-01", "1500000000007-01"):
            assert driver.slash("UVIEW0001", order).status == 200
        slack.wait(lambda: len([m for m in slack.bot_messages() if m.blocks]) == 4)
        proc.send_signal(signal.SIGKILL)  # the supervisor dies hard: its workers must not linger on the port
        proc.wait(timeout=10)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and any(
            os.path.exists(f"/proc/{c}") and "Z" not in open(f"/proc/{c}/stat").read().split()[2] for c in children
        ):
            time.sleep(0.05)
        with pytest.raises(httpx.HTTPError):
            httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1)
    finally:
        if proc.poll() is None:
            proc.kill()
        slack.close()
        vtex_server.close()

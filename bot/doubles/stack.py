"""The whole bot on 127.0.0.1: VTEX double, Slack double, and the real app in HTTP mode.

Tests, the playground and the benchmark all start the same stack, so each exercises the same
`/slack/events` endpoint and the same wire formats as production.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

from bot.app import build
from bot.doubles.slack import SlackDouble, SlackDriver
from bot.doubles.vtex import VtexDouble
from bot.sandbox import demo_orders
from bot.server import make_server, stop_server
from bot.settings import load_settings
from bot.vtex import VtexClient

SIGNING_SECRET = "local-signing-secret-0123456789"
BOT_TOKEN = "xoxb-local-0000-unstuck"
OPERATOR = "UOPS00001"
VIEWER = "UVIEW0001"
OPS_GROUP = "SOPS00001"
GROUP_MEMBER = "UGRP00001"


class LocalStack:
    def __init__(
        self,
        db_path: str | Path,
        *,
        orders: list[dict[str, Any]] | None = None,
        operators: str = f"{OPERATOR},{OPS_GROUP}",
        vtex_latency: float = 0.0,
        slack_latency: float = 0.0,
        reread_delay: float = 0.2,
        host: str = "127.0.0.1",
        port: int = 0,
        slack_port: int = 0,
        account: str = "acme",
        settle_every: float | None = None,
        vtex_timeout: float = 1.0,
        radar_ticks: bool = True,
        **settings: Any,
    ):
        self.vtex = VtexDouble(
            demo_orders() if orders is None else orders,
            latency=vtex_latency,
            app_key="vtexappkey-acme-LOCAL",
            app_token="LOCAL-APP-TOKEN",
        )
        self.slack = SlackDouble(latency=slack_latency, usergroups={OPS_GROUP: [GROUP_MEMBER]})
        self.vtex_server = self.vtex.serve()
        self.slack.serve(host, slack_port)
        self.settings = load_settings(
            slack_bot_token=BOT_TOKEN,
            slack_signing_secret=SIGNING_SECRET,
            slack_api_url=self.slack.api_url,
            vtex_account=account,
            vtex_base_url=self.vtex_server.url,
            vtex_app_key="vtexappkey-acme-LOCAL",
            vtex_app_token="LOCAL-APP-TOKEN",
            unstuck_db=str(db_path),
            unstuck_operators=operators,
            **settings,
        )
        vtex_client = VtexClient.from_settings(self.settings, budget=3.0, timeout=vtex_timeout)
        self.bot = build(self.settings, vtex=vtex_client, reread_delay=reread_delay)
        self.services, self.app = self.bot.services, self.bot.app
        from bot.app import build_radar

        self.radar = build_radar(self.bot, self.settings)
        if self.radar is not None and radar_ticks:  # as `serve` does: the radar ticks on its own
            self.radar.start()
        if settle_every:  # as `serve` does: re-check unconfirmed invoice actions
            from bot.app import slack_client
            from bot.reconcile import keep_settling

            keep_settling(self.services, slack_client(self.settings), settle_every)
        self.server = make_server(self.app, host, port, SIGNING_SECRET, threads=32)
        self.url = f"http://{host}:{self.server.effective_port}"
        self.driver = SlackDriver(self.slack, self.url, SIGNING_SECRET)
        self._thread = threading.Thread(target=self.server.run, daemon=True, name="unstuck-http")
        self._thread.start()

    def close(self) -> None:
        stop_server(self.server, self._thread)
        self.services.close()
        self.driver.http.close()
        self.slack.close()
        self.vtex_server.close()

    def __enter__(self) -> LocalStack:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
        # Every invoice anyone posted through this stack must have matched VTEX's published request schema.
        if exc[0] is None and self.vtex.schema_violations:
            raise AssertionError(f"invoice bodies broke VTEX's schema: {self.vtex.schema_violations}")

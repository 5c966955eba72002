"""App Home: recent actions with outcomes, the viewer's role, and how to ask."""

from __future__ import annotations

from typing import Any

from slack_bolt import App, BoltContext
from slack_sdk import WebClient

from bot.blocks import home_view, radar_summary
from handlers.common import in_their_language, services


def register(app: App) -> None:
    app.event("app_home_opened")(on_home_opened)


def on_home_opened(event: dict[str, Any], client: WebClient, context: BoltContext) -> None:
    if event.get("tab", "home") != "home":
        return
    svc = services(context)
    user = event["user"]

    def publish() -> None:
        rows = svc.store.ledger.latest_per_action(20)
        operator = svc.operators.allows(user, client)
        view = home_view(rows, is_operator=operator, operators_configured=svc.operators.configured)
        if svc.settings.unstuck_radar_channel:  # the radar's summary leads, right after the title
            view["blocks"][1:1] = radar_summary(svc.store.radar.stuck_now(svc.clock()))
        client.views_publish(user_id=user, view=view)

    svc.background(in_their_language(svc, user, client, publish))

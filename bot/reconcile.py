"""Settling invoice actions nobody is working on, and telling their channels.

Two kinds end up here: actions whose process died (their lease ran out) and actions whose POST went
unanswered (`unknown`). Both are settled only from what VTEX shows (bot/acting.py); `serve` checks
every `UNSTUCK_SETTLE_INTERVAL` seconds while any action is open, and `unstuck audit reconcile` once.
"""

from __future__ import annotations

import json
import logging
from typing import Any

from slack_sdk import WebClient
from slack_sdk.webhook import WebhookClient

from bot.acting import Settled
from bot.mrkdwn import escape, mention
from bot.services import Services

log = logging.getLogger("unstuck.reconcile")


def reconcile(svc: Services, client: WebClient | None = None) -> list[Settled]:
    settled = svc.actor.settle_unsettled()
    for item in settled:
        if item.state in ("succeeded", "failed"):
            action = item.action
            what = str(action["action"]).replace("_", " ")
            text = (
                f":arrows_counterclockwise: The bot checked the unconfirmed {what} of invoice "
                f"{escape(action.get('invoice_number') or '')} on order {escape(action['order_id'])} "
                f"(by {mention(action.get('user_id'))}): {item.message}"
            )
            _tell(client, action, text)
    return settled


def keep_settling(svc: Services, client: WebClient | None, interval: float) -> None:
    """Re-check open actions every `interval` seconds for as long as the services run."""

    def tick() -> None:
        try:
            if svc.store.ledger.open():
                for item in reconcile(svc, client):
                    log.info("action %s on %s: %s", item.action["id"], item.action["order_id"], item.state)
        finally:
            svc.later(tick, interval)

    svc.later(tick, interval)


def _tell(client: WebClient | None, action: dict[str, Any], text: str) -> None:
    reply_to = json.loads(action.get("reply_to") or "{}")
    url = reply_to.get("response_url") or reply_to.get("ru")  # "ru"/"ch": rows written before version 2
    channel = reply_to.get("channel") or reply_to.get("ch") or action.get("channel")
    try:
        if url:
            response = WebhookClient(url).send(text=text, response_type="in_channel", replace_original=False)
            if response.status_code == 200:
                return
        if client is not None and channel:
            client.chat_postMessage(channel=channel, text=text)
    except Exception as exc:  # noqa: BLE001
        log.warning("could not tell the channel about action %s: %s", action.get("id"), type(exc).__name__)

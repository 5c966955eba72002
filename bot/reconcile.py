"""After a crash: settle actions left pending by re-reading their orders, and tell their channels."""

from __future__ import annotations

import json
import logging
from typing import Any

from slack_sdk import WebClient
from slack_sdk.webhook import WebhookClient

from bot.services import Services

log = logging.getLogger("unstuck.reconcile")


def reconcile(svc: Services, client: WebClient | None = None) -> list[tuple[dict[str, Any], str]]:
    settled = svc.actor.reconcile()
    for action, state in settled:
        if state not in ("succeeded", "failed"):
            continue
        text = (
            f":arrows_counterclockwise: After a restart, the bot checked the interrupted "
            f"{action['action'].replace('_', ' ')} "
            f"of invoice {action.get('invoice_number')} on order {action['order_id']} (by <@{action['user_id']}>): "
            + (
                "VTEX has it, so it *succeeded*."
                if state == "succeeded"
                else "VTEX does not have it, so it *failed* and nothing was stored. It is safe to try again."
            )
        )
        _tell(client, action, text)
    return settled


def _tell(client: WebClient | None, action: dict[str, Any], text: str) -> None:
    reply_to = json.loads(action.get("reply_to") or "{}")
    try:
        if reply_to.get("ru"):
            response = WebhookClient(reply_to["ru"]).send(text=text, response_type="in_channel", replace_original=False)
            if response.status_code == 200:
                return
        if client is not None and (reply_to.get("ch") or action.get("channel")):
            client.chat_postMessage(channel=reply_to.get("ch") or action["channel"], text=text)
    except Exception as exc:  # noqa: BLE001
        log.warning("could not tell the channel about reconciled action %s: %s", action.get("id"), type(exc).__name__)

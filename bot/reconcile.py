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
from bot.i18n import N_, _, use
from bot.mrkdwn import escape, mention
from bot.services import Services

log = logging.getLogger("unstuck.reconcile")

# What the channel is told once an unconfirmed action is settled, per action kind (whole sentences).
CHECKED = {
    "resend_invoice": N_(
        "The bot checked the unconfirmed resend invoice of invoice {invoice_number} on order {order_id} "
        "(by {user}): {result}"
    ),
    "add_partial_invoice": N_(
        "The bot checked the unconfirmed add partial invoice of invoice {invoice_number} on order {order_id} "
        "(by {user}): {result}"
    ),
}


def reconcile(svc: Services, client: WebClient | None = None) -> list[Settled]:
    """Settle what can be settled; the channel is told in UNSTUCK_LANGUAGE (the whole team reads it)."""
    with use(svc.settings.unstuck_language):
        return _reconcile(svc, client)


def _reconcile(svc: Services, client: WebClient | None) -> list[Settled]:
    settled = svc.actor.settle_unsettled()
    for item in settled:
        if item.state in ("succeeded", "failed"):
            action = item.action
            what = str(action["action"]).replace("_", " ")
            checked = CHECKED.get(str(action["action"])) or N_(
                "The bot checked the unconfirmed {action} of invoice {invoice_number} on order {order_id} "
                "(by {user}): {result}"
            )
            sentence = _(checked).format(
                action=what,
                invoice_number=escape(action.get("invoice_number") or ""),
                order_id=escape(action["order_id"]),
                user=mention(action.get("user_id")),
                result=item.message,
            )
            text = f":arrows_counterclockwise: {sentence}"
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

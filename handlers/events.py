"""@mentions in channels (answered in the thread) and direct messages.

Slack retries an event it thinks was lost; the audit store's event ledger makes each `event_id`
answered once, while a retry of a delivery that died midway is still answered.
"""

from __future__ import annotations

import logging
import re
from typing import Any

from slack_bolt import App
from slack_sdk import WebClient

from bot.blocks import MAX_IDS, Message, looking_up, usage_message
from handlers.common import answer_each, ids_in, services, who_from

log = logging.getLogger("unstuck.events")
MENTION = re.compile(r"<@[UW][A-Z0-9]+(?:\|[^>]*)?>")


def register(app: App) -> None:
    app.event("app_mention")(on_mention)
    app.event("message")(on_message)


def on_mention(event: dict[str, Any], body: dict[str, Any], client: WebClient, context: Any) -> None:
    thread_ts = event.get("thread_ts") or event.get("ts")
    services(context).background(lambda: reply(event, body, client, context, thread_ts=thread_ts))


def on_message(event: dict[str, Any], body: dict[str, Any], client: WebClient, context: Any) -> None:
    # Only plain DMs from people: edits, joins and bot posts (ours included) are not questions.
    if event.get("channel_type") != "im" or event.get("subtype") or event.get("bot_id"):
        return
    services(context).background(lambda: reply(event, body, client, context, thread_ts=event.get("thread_ts")))


def reply(event: dict[str, Any], body: dict[str, Any], client: WebClient, context: Any, thread_ts: str | None) -> None:
    svc = services(context)
    event_id = body.get("event_id")
    if event_id and not svc.store.claim_event(event_id):
        return
    ok = False
    try:
        channel = event["channel"]
        ids, problem = ids_in(MENTION.sub(" ", event.get("text") or ""))
        if not ids:
            client.chat_postMessage(channel=channel, thread_ts=thread_ts, **usage_message(problem).kwargs())
            ok = True
            return
        ids = ids[:MAX_IDS]
        placeholder = client.chat_postMessage(channel=channel, thread_ts=thread_ts, text=looking_up(ids))
        first = {"ts": placeholder.get("ts")}

        def send(message: Message) -> None:
            if first["ts"]:
                client.chat_update(channel=channel, ts=first["ts"], **message.kwargs())
                first["ts"] = None
            else:
                client.chat_postMessage(channel=channel, thread_ts=thread_ts, **message.kwargs())

        answer_each(svc, ids, who_from(body, event.get("user"), channel), send)
        ok = True
    except Exception:
        log.exception("could not answer event %s", event_id)
    finally:
        if event_id:
            svc.store.finish_event(event_id, ok)

"""@mentions in channels (answered in the thread) and direct messages.

Slack retries an event it thinks was lost; the audit store's event ledger makes each `event_id`
answered once, while a retry of a delivery that died midway is still answered.

The listener itself only finds the ids and applies the question limit and the bounded queue (no network
call); every reply, a refusal included, is posted after the ack.
"""

from __future__ import annotations

import logging
import re
from typing import Any

from slack_bolt import App, BoltContext
from slack_sdk import WebClient

from bot.blocks import MAX_IDS, Message, looking_up, notice, usage_message
from bot.i18n import use
from bot.services import Services
from handlers.common import answer_each, ids_in, language, services, who_from

log = logging.getLogger("unstuck.events")
MENTION = re.compile(r"<@[UW][A-Z0-9]+(?:\|[^>]*)?>")


def register(app: App) -> None:
    app.event("app_mention")(on_mention)
    app.event("message")(on_message)


def on_mention(event: dict[str, Any], body: dict[str, Any], client: WebClient, context: BoltContext) -> None:
    receive(event, body, client, context, thread_ts=event.get("thread_ts") or event.get("ts"))


def on_message(event: dict[str, Any], body: dict[str, Any], client: WebClient, context: BoltContext) -> None:
    # Only plain DMs from people: edits, joins and bot posts (ours included) are not questions.
    if event.get("channel_type") != "im" or event.get("subtype") or event.get("bot_id"):
        return
    receive(event, body, client, context, thread_ts=event.get("thread_ts"))


def receive(
    event: dict[str, Any], body: dict[str, Any], client: WebClient, context: BoltContext, thread_ts: str | None
) -> None:
    """On the listener thread: find the ids and admit them; replies go out on other threads after the ack."""
    svc = services(context)
    # No Slack call before the ack: the language is the cached one here, the asked one in `reply`.
    with use(language(svc, event.get("user"), client, wait=False)):
        _receive(svc, event, body, client, context, thread_ts)


def _receive(
    svc: Services,
    event: dict[str, Any],
    body: dict[str, Any],
    client: WebClient,
    context: BoltContext,
    thread_ts: str | None,
) -> None:
    ids, _problem = ids_in(MENTION.sub(" ", event.get("text") or ""))  # the problem is told in their language
    if not ids:
        if not svc.try_background(lambda: reply(event, body, client, context, thread_ts, [])):
            log.warning("busy: a message without an order id went unanswered")
        return
    admission = svc.admit(who_from(body, event.get("user"), event.get("channel")), ids[:MAX_IDS])
    if admission.ids:
        svc.start(
            admission, lambda: reply(event, body, client, context, thread_ts, admission.ids, note=admission.notice)
        )
    else:
        svc.notify(
            lambda: client.chat_postMessage(
                channel=event["channel"], thread_ts=thread_ts, **notice(admission.notice or "").kwargs()
            )
        )


def reply(
    event: dict[str, Any],
    body: dict[str, Any],
    client: WebClient,
    context: BoltContext,
    thread_ts: str | None,
    ids: list[str],
    *,
    note: str | None = None,
) -> None:
    """Answer the admitted ids in the thread (or the usage help when there are none), once per event id."""
    svc = services(context)
    event_id = body.get("event_id")
    if event_id and not svc.store.deliveries.claim(event_id):
        return
    with use(language(svc, event.get("user"), client)):
        _reply(svc, event, body, client, thread_ts, ids, note=note)


def _reply(
    svc: Services,
    event: dict[str, Any],
    body: dict[str, Any],
    client: WebClient,
    thread_ts: str | None,
    ids: list[str],
    *,
    note: str | None,
) -> None:
    event_id = body.get("event_id")
    ok = False
    try:
        channel = event["channel"]
        if not ids:
            problem = ids_in(MENTION.sub(" ", event.get("text") or ""))[1]
            client.chat_postMessage(channel=channel, thread_ts=thread_ts, **usage_message(problem).kwargs())
            ok = True
            return
        placeholder = client.chat_postMessage(channel=channel, thread_ts=thread_ts, text=looking_up(ids))
        first = {"ts": placeholder.get("ts")}

        def send(message: Message) -> None:
            if first["ts"]:
                client.chat_update(channel=channel, ts=first["ts"], **message.kwargs())
                first["ts"] = None
            else:
                client.chat_postMessage(channel=channel, thread_ts=thread_ts, **message.kwargs())

        def send_private(message: Message) -> None:
            client.chat_postEphemeral(
                channel=channel, user=event.get("user") or "", thread_ts=thread_ts, **message.kwargs()
            )

        answer_each(svc, ids, who_from(body, event.get("user"), channel), send, send_private)
        if first["ts"]:  # every answer was private: the "Looking up…" placeholder goes
            client.chat_delete(channel=channel, ts=first["ts"])
        if note:
            client.chat_postMessage(channel=channel, thread_ts=thread_ts, **notice(note).kwargs())
        ok = True
    except Exception:
        log.exception("could not answer event %s", event_id)
    finally:
        if event_id:
            svc.store.deliveries.finish(event_id, ok)

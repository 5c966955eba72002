"""Message shortcut "Why is this order stuck?": finds order ids in any message, e.g. a forwarded complaint."""

from __future__ import annotations

from typing import Any

from slack_bolt import Ack, App, BoltContext, Respond
from slack_sdk import WebClient

from bot.blocks import MAX_IDS, looking_up, notice
from bot.i18n import _, use
from bot.order_ids import find_order_ids
from bot.services import Services
from handlers.common import answer_each, in_their_language, language, services, who_from

CALLBACK_ID = "stuck_from_message"


def register(app: App) -> None:
    app.shortcut({"callback_id": CALLBACK_ID, "type": "message_action"})(on_message_shortcut)


def message_text(message: dict[str, Any]) -> str:
    """The message's text plus its attachments and text blocks, where forwarded content lives."""
    parts = [message.get("text") or ""]
    for attachment in message.get("attachments") or []:
        parts += [str(attachment.get(k) or "") for k in ("pretext", "title", "text", "fallback")]
    parts.append(_block_text(message.get("blocks") or []))
    return "\n".join(p for p in parts if p)


def _block_text(node: Any) -> str:
    if isinstance(node, dict):
        own = str(node["text"]) if isinstance(node.get("text"), str) else ""
        return " ".join([own, *(_block_text(v) for k, v in node.items() if k != "text" or not own)])
    if isinstance(node, list):
        return " ".join(_block_text(n) for n in node)
    return ""


def on_message_shortcut(
    ack: Ack, shortcut: dict[str, Any], respond: Respond, client: WebClient, context: BoltContext
) -> None:
    """Acks, finds the ids and admits them on the listener thread; every reply goes out after the ack."""
    ack()
    svc = services(context)
    user = (shortcut.get("user") or {}).get("id")
    with use(language(svc, user, None, wait=False)):
        _on_shortcut(svc, shortcut, respond, client, user)


def _on_shortcut(
    svc: Services, shortcut: dict[str, Any], respond: Respond, client: WebClient, user: str | None
) -> None:
    ids = find_order_ids(message_text(shortcut.get("message") or {}))

    def tell(text: str) -> None:
        respond(response_type="ephemeral", replace_original=False, **notice(text).kwargs())

    if not ids:
        svc.notify(
            lambda: tell(
                _(
                    ":thinking_face: I found no VTEX order id in that message. Ids look like "
                    "`1172452900788-01`, `v527103anml-01` or `seq501456`."
                )
            )
        )
        return
    who = who_from(shortcut)
    # A response_url takes five messages: one for "looking up", four answers.
    admission = svc.admit(who, ids[: MAX_IDS - 1])
    if not admission.ids:
        svc.notify(lambda: tell(admission.notice or ""))
        return

    def work() -> None:
        note = f"\n{admission.notice}" if admission.notice else ""
        respond(response_type="ephemeral", replace_original=False, text=looking_up(admission.ids) + note)
        answer_each(
            svc,
            admission.ids,
            who,
            lambda m: respond(response_type=svc.visibility, replace_original=False, **m.kwargs()),
            lambda m: respond(response_type="ephemeral", replace_original=False, **m.kwargs()),
        )

    svc.start(admission, in_their_language(svc, user, client, work))

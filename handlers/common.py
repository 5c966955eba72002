"""Small helpers the listeners share: who asked, answering a list of ids, rendering results."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from slack_bolt import BoltContext

from bot.audit import Who
from bot.blocks import Message, error_card, notice, order_card
from bot.errors import InvalidOrderId
from bot.i18n import Language, _, use
from bot.lookup import Answer
from bot.mrkdwn import code
from bot.order_ids import find_order_ids, validate_order_id
from bot.services import Services

log = logging.getLogger("unstuck.handlers")


def services(context: BoltContext) -> Services:
    found: Services = context["unstuck"]
    return found


def who_from(body: dict[str, Any], user_id: str | None = None, channel_id: str | None = None) -> Who:
    team = body.get("team_id") or (body.get("team") or {}).get("id") or (body.get("user") or {}).get("team_id")
    channel = channel_id or body.get("channel_id") or (body.get("channel") or {}).get("id")
    user = user_id or body.get("user_id") or (body.get("user") or {}).get("id") or "unknown"
    return Who(user_id=user, workspace=team, channel=channel)


# How long a listener that answers in its ack may wait for Slack to tell a person's locale: Slack's 3 s for
# the ack must hold even when its own API is slow (the answer is then in UNSTUCK_LANGUAGE, the next in theirs).
ACK_WAIT = 0.25


def language(svc: Services, user_id: str | None, client: Any, *, wait: float | bool = True) -> Language:
    """The person's reply language: `wait=False` never calls Slack (a listener thread before its ack), a
    number waits at most that long, True the usual second (work after the ack)."""
    if wait is False:
        return svc.languages.cached(user_id) or svc.languages.default
    return svc.languages.of(user_id, client, wait=None if wait is True else float(wait))


def in_their_language(svc: Services, user_id: str | None, client: Any, fn: Callable[[], None]) -> Callable[[], None]:
    """`fn`, to run after the ack on a work thread, in the person's language (Slack may have answered since)."""

    def run() -> None:
        with use(language(svc, user_id, client)):
            fn()

    return run


def ids_in(text: str) -> tuple[list[str], str | None]:
    """Order ids in what the agent typed, or why none was found (for the usage reply)."""
    text = (text or "").strip()
    ids = find_order_ids(text)
    if ids:
        return ids, None
    tokens = text.split()
    if len(tokens) == 1:
        try:
            return [validate_order_id(tokens[0])], None
        except InvalidOrderId as exc:
            return [], exc.message
    if not text:
        return [], None
    return [], _("I could not find a VTEX order id in that.")


def render(svc: Services, order_id: str, who: Who) -> tuple[Message, bool]:
    """The card for one order, and whether it is an answer (True) or an error only the asker should see."""
    result = svc.ask(order_id, who)
    if isinstance(result, Answer):
        return order_card(result, svc.account, now=svc.clock()), True
    return error_card(order_id, result.error), False


def answer_each(
    svc: Services,
    ids: list[str],
    who: Who,
    send: Callable[[Message], object],
    send_private: Callable[[Message], object] | None = None,
) -> None:
    """Answer every id as soon as VTEX replies; one failure never silences the others. Errors (not found,
    VTEX unavailable) go to the asker only, when there is a way to reach only them."""
    for order_id in ids:
        try:
            message, public = render(svc, order_id, who)
        except Exception:
            log.exception("answering %s failed", order_id)
            message, public = (
                notice(
                    _(
                        ":warning: Something went wrong while looking up {order_id}. Try again; "
                        "if it keeps happening, tell whoever runs the bot."
                    ).format(order_id=code(order_id))
                ),
                False,
            )
        try:
            (send if public or send_private is None else send_private)(message)
        except Exception:
            log.exception("could not deliver the answer for %s to Slack", order_id)

"""Showing what an invoice action did: update the card, tell the clicker, re-read a little later."""

from __future__ import annotations

import logging
from collections.abc import Callable

from bot.acting import Outcome
from bot.audit import AuditError, Who
from bot.blocks import Message, order_card, outcome_line
from bot.errors import VtexError
from bot.i18n import _
from bot.mrkdwn import escape
from bot.services import Services
from bot.wording import status_name

log = logging.getLogger("unstuck.outcomes")


def refuse(
    svc: Services, who: Who, action: str, order_id: str | None, reason: str, tell: Callable[[str], object]
) -> None:
    """A click that is not allowed: logged with its reason, answered only to the clicker."""
    try:
        svc.store.log.append(
            "action", who, order_id=order_id, account=svc.account, action=action, outcome="refused", detail=reason[:300]
        )
    except AuditError as exc:
        log.error("could not log a refused click: %s", exc)
    tell(f":no_entry_sign: {reason}")


def deliver(
    svc: Services,
    outcome: Outcome,
    who: Who,
    order_id: str,
    update_card: Callable[[Message], object],
    tell: Callable[[str], object],
) -> None:
    line = outcome_line(outcome.state, outcome.message, who.user_id, svc.clock())
    if outcome.state in ("duplicate", "refused") or outcome.order is None:
        tell(line)
        # The card said "resending…" while this click was tried: it shows the order as it is now instead.
        # A duplicate says on the card what was already done (two clicks on one card end the same way, whichever
        # lands last); a refusal stays with the clicker.
        _restore(svc, outcome, order_id, update_card, line if outcome.state == "duplicate" else None)
        return
    # The card a fresh question would give (with who resent the invoice last), plus what this click did.
    answer = svc.explain(outcome.order)
    succeeded = outcome.state == "succeeded"
    # Success removes the buttons, and so does an unconfirmed POST (the order stays locked until it is
    # settled); any other outcome keeps (or refreshes) them so the agent can act again.
    update_card(
        order_card(
            answer,
            svc.account,
            outcome=line,
            show_actions=outcome.state not in ("succeeded", "unknown"),
            now=svc.clock(),
        )
    )
    if succeeded:
        svc.later(lambda: _reread(svc, order_id, line, update_card))


def _restore(
    svc: Services, outcome: Outcome, order_id: str, update_card: Callable[[Message], object], line: str | None
) -> None:
    try:
        order = outcome.order or svc.vtex.get_order(order_id)
        update_card(order_card(svc.explain(order), svc.account, outcome=line, now=svc.clock()))
    except VtexError as exc:
        log.warning("could not refresh the card of %s: %s", order_id, type(exc).__name__)
    except Exception:
        log.exception("could not refresh the card of %s", order_id)


def _reread(svc: Services, order_id: str, line: str, update_card: Callable[[Message], object]) -> None:
    try:
        order = svc.vtex.get_order(order_id)
    except VtexError as exc:
        log.warning("follow-up re-read of %s failed: %s", order_id, type(exc).__name__)
        return
    # The fresh card offers what is left to do (a partial may leave some missing); a resend just made stays
    # hidden for its window, so the same click is not offered again at once.
    answer = svc.explain(order)
    now_in = escape(status_name(answer.diagnosis.status, answer.diagnosis.status_name))
    status = _(":arrows_counterclockwise: Re-read after the action: the order is now *{status}*.").format(status=now_in)
    update_card(order_card(answer, svc.account, outcome=line, status_line=status, now=svc.clock()))

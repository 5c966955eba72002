"""The invoice buttons. Anyone may ask; only operators may act, and every click is logged."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from slack_bolt import Ack, App, Respond
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.acting import Intent
from bot.blocks import currency_meta, notice, notice_view, partial_form
from bot.diagnosis import ADD_PARTIAL, RESEND, diagnose
from bot.errors import VtexError
from bot.invoices import INVOICE_NUMBER, uninvoiced_items
from handlers.common import load_payload, services, who_from
from handlers.outcomes import deliver, refuse


def register(app: App) -> None:
    app.action(RESEND)(on_resend)
    app.action(ADD_PARTIAL)(on_add_partial)


def button_value(action: dict[str, Any]) -> dict[str, Any] | None:
    """The button's payload, or None when it was tampered with or comes from an older card."""
    data = load_payload(action.get("value"))
    if data is None or (data.get("n") is not None and not INVOICE_NUMBER.match(str(data["n"]))):
        return None
    return data


def _tell(respond: Respond):
    return lambda text: respond(response_type="ephemeral", replace_original=False, **notice(text).kwargs())


def accepted_click(
    body: dict[str, Any], action: dict[str, Any], respond: Respond, client: WebClient, context: Any, kind: str
) -> tuple[Any, Any, Any, dict[str, Any]] | None:
    """The click's services, clicker, ephemeral reply and button payload; None once it has been answered
    (a malformed button, or someone who is not an operator: refused and logged)."""
    svc, who, tell = services(context), who_from(body), _tell(respond)
    data = button_value(action)
    if data is None or (kind == RESEND and not data.get("n")):
        tell("This button is malformed or out of date. Ask again with `/stuck ORDER-ID` for a fresh card.")
        return None
    if not svc.operators.allows(who.user_id, client):
        refuse(svc, who, kind, data["o"], svc.operators.refusal(), tell)
        return None
    return svc, who, tell, data


def on_resend(
    ack: Ack, body: dict[str, Any], action: dict[str, Any], respond: Respond, client: WebClient, context: Any
) -> None:
    ack()
    accepted = accepted_click(body, action, respond, client, context, RESEND)
    if accepted is None:
        return
    svc, who, tell, data = accepted
    tell(f":hourglass_flowing_sand: Re-reading order {data['o']} and resending invoice {data['n']}…")
    intent = Intent(
        kind=RESEND,
        order_id=data["o"],
        invoice_number=str(data["n"]),
        value=int(data["a"]),
        # Slack stamps every click with action_ts; the trigger id is unique per interaction too.
        click_key=f"{action.get('action_ts') or body.get('trigger_id')}|{who.user_id}|{RESEND}",
    )
    reply_to = {"ru": body.get("response_url"), "ch": who.channel}

    def act() -> None:
        outcome = svc.actor.perform(intent, who, reply_to=reply_to)
        deliver(
            svc, outcome, who, data["o"], update_card=lambda m: respond(replace_original=True, **m.kwargs()), tell=tell
        )

    svc.background(act)


def on_add_partial(
    ack: Ack, body: dict[str, Any], action: dict[str, Any], respond: Respond, client: WebClient, context: Any
) -> None:
    ack()
    accepted = accepted_click(body, action, respond, client, context, ADD_PARTIAL)
    if accepted is None:
        return
    svc, who, tell, data = accepted
    now = svc.clock()
    container = body.get("container") or {}
    meta = {
        "o": data["o"],
        "n": data.get("n"),
        "a": data["a"],
        "t": data.get("t", data["a"]),
        "f": data.get("f", 0),
        "c": data.get("c") or {},
        "ru": body.get("response_url"),
        "ch": who.channel,
        "ts": container.get("message_ts") or (body.get("message") or {}).get("ts"),
    }
    svc.background(lambda: _open_form(svc, client, body.get("trigger_id"), meta, now, tell))


def _open_form(
    svc: Any, client: WebClient, trigger_id: str | None, meta: dict[str, Any], now: datetime, tell: Any
) -> None:
    # The trigger id dies 3 s after the click: open the form at once, fill in fresh numbers after.
    try:
        if not trigger_id:
            raise KeyError("trigger_id")
        opened = client.views_open(trigger_id=trigger_id, view=partial_form(meta, now, loading=True))
    except (SlackApiError, KeyError) as exc:
        reason = exc.response.get("error") if isinstance(exc, SlackApiError) else "no trigger"
        tell(f"Slack could not open the form ({reason}). Press the button again.")
        return
    view = opened.get("view") or {}
    _refresh_form(svc, client, view.get("id"), view.get("hash"), meta, now)


def _refresh_form(
    svc: Any, client: WebClient, view_id: str | None, view_hash: str | None, meta: dict[str, Any], now: datetime
) -> None:
    try:
        order = svc.vtex.get_order(meta["o"])
    except VtexError as exc:
        client.views_update(view_id=view_id, view=notice_view("Could not re-read", f":warning: {exc}"))
        return
    d = diagnose(order, now.astimezone(UTC))
    offered = next((a for a in d.actions if a.kind == ADD_PARTIAL), None)
    if offered is None:
        why = d.no_action_reason or "the diagnosis no longer recommends adding an invoice."
        client.views_update(
            view_id=view_id,
            view=notice_view("Nothing to add", f"Order {order.order_id} changed: {why} Nothing was sent."),
        )
        return
    items = [[i.id, i.price, i.quantity] for i in uninvoiced_items(order)]
    meta.update(
        a=offered.amount,
        t=order.value,
        f=int(offered.full),
        n=offered.invoice_number,
        c=currency_meta(order.currency),
        x=sorted(order.invoice_numbers)[:40],
        i=items,
    )
    if len(json.dumps(meta)) > 2900:
        meta.pop("i")  # too many items to carry: the preview says they are computed from the order
    try:
        client.views_update(view_id=view_id, hash=view_hash, view=partial_form(meta, now))
    except SlackApiError as exc:
        if exc.response.get("error") != "hash_conflict":  # the agent is already typing: keep their view
            raise

"""The partial-invoice modal: validate under the fields, show exactly what will be posted, then send once."""

from __future__ import annotations

import hashlib
import logging
import re
from datetime import UTC, datetime, timedelta
from typing import Any

from slack_bolt import Ack, App
from slack_sdk import WebClient
from slack_sdk.webhook import WebhookClient

from bot.acting import Intent
from bot.audit import Who
from bot.blocks import CONFIRM_CALLBACK, FORM_CALLBACK, Message, currency_from, notice, partial_preview
from bot.diagnosis import ADD_PARTIAL
from bot.invoices import INVOICE_KEY, INVOICE_NUMBER, InvoiceItem, InvoiceRequest
from handlers.common import load_payload, services
from handlers.outcomes import deliver, refuse

log = logging.getLogger("unstuck.views")


def register(app: App) -> None:
    app.view(FORM_CALLBACK)(on_form_submit)
    app.view(CONFIRM_CALLBACK)(on_confirm_submit)


def _meta(view: dict[str, Any]) -> dict[str, Any] | None:
    return load_payload(view.get("private_metadata"))


def _value(values: dict[str, Any], block: str, action: str, key: str = "value") -> str:
    return str(((values.get(block) or {}).get(action) or {}).get(key) or "").strip()


def read_form(view: dict[str, Any], meta: dict[str, Any], now: datetime) -> tuple[dict[str, Any], dict[str, str]]:
    values = (view.get("state") or {}).get("values") or {}
    cur = currency_from(meta.get("c", {}))
    missing = int(meta["a"])
    errors: dict[str, str] = {}
    out: dict[str, Any] = {}

    number = _value(values, "number_block", "number")
    taken = {str(n).lower() for n in meta.get("x") or []}
    if not number:
        errors["number_block"] = "Enter the invoice number from your ERP."
    elif not INVOICE_NUMBER.match(number):
        errors["number_block"] = "Use only letters, digits and '-' (no spaces, '/' or other symbols), up to 50."
    elif number.lower() in taken:
        errors["number_block"] = f"Invoice {number} is already on this order; use a new number."
    out["n"] = number

    try:
        value = cur.parse(_value(values, "value_block", "value"))
        if value <= 0:
            errors["value_block"] = "The value must be greater than zero."
        elif value > missing:
            errors["value_block"] = f"At most {cur.format(missing)}: that is what is missing."
        out["v"] = value
    except ValueError as exc:
        errors["value_block"] = str(exc)

    date = _value(values, "date_block", "date", "selected_date")
    time = _value(values, "time_block", "time", "selected_time")
    try:
        issued = datetime.strptime(f"{date} {time}", "%Y-%m-%d %H:%M").replace(tzinfo=UTC)
        if issued > now + timedelta(minutes=10):
            errors["date_block"] = "The issuance date cannot be in the future."
        out["d"] = issued.isoformat()
    except ValueError:
        errors["date_block" if not re.match(r"\d{4}-\d{2}-\d{2}$", date) else "time_block"] = "Pick a date and a time."

    key = _value(values, "key_block", "key")
    if key and not INVOICE_KEY.match(key):
        errors["key_block"] = "The invoice key holds only letters and digits (up to 100)."
    url = _value(values, "url_block", "url")
    if url and (not re.match(r"^https?://\S+$", url) or len(url) > 2000):
        errors["url_block"] = "Enter a full http:// or https:// address without spaces."
    out["k"], out["u"] = key or None, url or None
    return out, errors


def on_form_submit(ack: Ack, view: dict[str, Any], context: Any) -> None:
    svc = services(context)
    meta = _meta(view)
    if meta is None:
        ack(response_action="errors", errors={"number_block": "This form is out of date; close it and ask again."})
        return
    fields, errors = read_form(view, meta, svc.clock())
    if errors:
        ack(response_action="errors", errors=errors)
        return
    items = [InvoiceItem(id=str(i[0]), price=int(i[1]), quantity=int(i[2])) for i in meta.get("i") or []]
    request = InvoiceRequest(
        invoice_number=fields["n"],
        invoice_value=fields["v"],
        issuance_date=datetime.fromisoformat(fields["d"]),
        items=items,
        invoice_key=fields["k"],
        invoice_url=fields["u"],
    )
    body = request.to_json()
    if "i" not in meta:
        body["items"] = "(the items not yet invoiced, computed from the order when sending)"
    total = int(meta.get("t") or meta["a"])
    confirm_meta = {k: v for k, v in meta.items() if k not in ("x",)} | fields
    ack(response_action="push", view=partial_preview(confirm_meta, body, total - int(meta["a"]), total))


def on_confirm_submit(ack: Ack, body: dict[str, Any], view: dict[str, Any], client: WebClient, context: Any) -> None:
    ack(response_action="clear")
    svc = services(context)
    meta = _meta(view)
    user = (body.get("user") or {}).get("id") or "unknown"
    if meta is None:
        return
    who = Who(user_id=user, workspace=(body.get("team") or {}).get("id"), channel=meta.get("ch"))
    update_card, tell = _channels(client, meta, user)
    if not svc.operators.allows(user, client):
        refuse(svc, who, ADD_PARTIAL, meta["o"], svc.operators.refusal(), tell)
        return
    try:
        intent = Intent(
            kind=ADD_PARTIAL,
            order_id=meta["o"],
            invoice_number=str(meta["n"]),
            value=int(meta["v"]),
            click_key=f"view|{view.get('root_view_id') or view.get('id') or _digest(view)}|{user}",
            expected_missing=int(meta["a"]),
            issuance_date=datetime.fromisoformat(meta["d"]),
            invoice_key=meta.get("k"),
            invoice_url=meta.get("u"),
        )
    except (KeyError, TypeError, ValueError):
        tell("This form is out of date; nothing was sent. Ask again with `/stuck ORDER-ID`.")
        return
    reply_to = {"ru": meta.get("ru"), "ch": meta.get("ch")}

    def act() -> None:
        outcome = svc.actor.perform(intent, who, reply_to=reply_to)
        deliver(svc, outcome, who, meta["o"], update_card=update_card, tell=tell)

    svc.background(act)


def _digest(view: dict[str, Any]) -> str:
    """Stands in for a view id: the same reviewed invoice submitted twice gives the same key."""
    return hashlib.sha256(str(view.get("private_metadata")).encode()).hexdigest()[:24]


def _channels(client: WebClient, meta: dict[str, Any], user: str):
    """Where the outcome goes: the card through its response_url, else chat.update; the agent ephemerally."""
    hook = WebhookClient(meta["ru"]) if meta.get("ru") else None

    def update_card(message: Message) -> None:
        if hook:
            hook.send(replace_original=True, **message.kwargs())
        elif meta.get("ch") and meta.get("ts"):
            client.chat_update(channel=meta["ch"], ts=meta["ts"], **message.kwargs())

    def tell(text: str) -> None:
        message = notice(text)
        if hook:
            hook.send(response_type="ephemeral", replace_original=False, **message.kwargs())
        elif meta.get("ch"):
            client.chat_postEphemeral(channel=meta["ch"], user=user, **message.kwargs())

    return update_card, tell

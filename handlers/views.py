"""The partial-invoice modal: problems under their fields, exactly what will be posted, then send once.

The form's state lives in the database under the key its `private_metadata` carries; the invoice
rules are bot/invoices.py's, run on the order as read when the form opened. Sending re-reads the
order and runs them again (bot/acting.py).
"""

from __future__ import annotations

import hashlib
import logging
import re
from collections.abc import Callable
from datetime import datetime
from typing import Any

from pydantic import ValidationError
from slack_bolt import Ack, App, BoltContext
from slack_sdk import WebClient
from slack_sdk.webhook import WebhookClient

from bot.acting import Intent
from bot.audit import Who
from bot.blocks import CONFIRM_CALLBACK, FORM_CALLBACK, MAX_LINES, Message, notice, partial_preview
from bot.diagnosis import ADD_PARTIAL
from bot.i18n import N_, _, use
from bot.invoices import check_partial
from bot.money import AmountError
from bot.order import parse_order, zone_named
from bot.payloads import FormRef, FormState, Reviewed, read_form_ref
from bot.services import Services
from handlers.common import language, services
from handlers.outcomes import deliver, refuse

log = logging.getLogger("unstuck.views")
OUT_OF_DATE = N_("This form is out of date; close it and press the button on the card again.")

# Where each problem of bot/invoices.py shows up on the form.
FIELD_BLOCKS = {
    "number": "number_block",
    "value": "value_block",
    "date": "date_block",
    "key": "key_block",
    "url": "url_block",
    "payload": "number_block",
}


def register(app: App) -> None:
    app.view(FORM_CALLBACK)(on_form_submit)
    app.view(CONFIRM_CALLBACK)(on_confirm_submit)


def load_state(svc: Services, view: dict[str, Any]) -> tuple[FormRef, FormState] | None:
    ref = read_form_ref(view.get("private_metadata"))
    data = svc.store.forms.get(ref.form) if ref else None
    if ref is None or data is None:
        return None
    try:
        return ref, FormState.model_validate(data)
    except ValidationError:
        return None


def _value(values: dict[str, Any], block: str, action: str, key: str = "value") -> str:
    return str(((values.get(block) or {}).get(action) or {}).get(key) or "").strip()


def read_form(view: dict[str, Any], state: FormState) -> tuple[Reviewed, dict[str, str]]:
    """What the operator entered, and problems with what cannot even be read, keyed by block."""
    values = (view.get("state") or {}).get("values") or {}
    errors: dict[str, str] = {}
    quantities = []
    for n, line in enumerate(state.lines):
        raw = _value(values, f"item_{n}", "quantity") if n < MAX_LINES else "0"
        whole = re.fullmatch(r"[0-9]{1,9}", raw) is not None
        if not whole:
            errors[f"item_{n}"] = _("Enter a whole number of units from 0 to {quantity}.").format(
                quantity=line.quantity
            )
        quantities.append(int(raw) if whole else 0)
    other = (values.get("other_block") or {}).get("other") or {}
    include_other = state.other > 0 and any(o.get("value") == "yes" for o in other.get("selected_options") or [])
    value: int | None = None
    typed = _value(values, "value_block", "value")
    if typed:
        try:
            value = state.currency.currency().parse(typed)
        except AmountError as exc:
            errors["value_block"] = str(exc)
    date, time = (
        _value(values, "date_block", "date", "selected_date"),
        _value(values, "time_block", "time", "selected_time"),
    )
    try:
        issued = datetime.strptime(f"{date} {time}", "%Y-%m-%d %H:%M").replace(tzinfo=zone_named(state.zone))
    except ValueError:
        issued = None
        errors["date_block" if not date else "time_block"] = _("Pick the date and the time printed on the invoice.")
    reviewed = Reviewed(
        number=_value(values, "number_block", "number"),
        value=value,
        issued=issued,
        quantities=quantities,
        include_other=include_other,
        key=_value(values, "key_block", "key") or None,
        url=_value(values, "url_block", "url") or None,
        posted_value=0,
    )
    return reviewed, errors


def on_form_submit(ack: Ack, body: dict[str, Any], view: dict[str, Any], context: BoltContext) -> None:
    svc = services(context)
    loaded = load_state(svc, view)
    if loaded is None:
        with use(language(svc, (body.get("user") or {}).get("id"), None, wait=False)):
            ack(response_action="errors", errors={"number_block": _(OUT_OF_DATE)})
        return
    with use(loaded[1].language):  # the form's own language, so its errors and review match it
        _review(ack, svc, view, *loaded)


def _review(ack: Ack, svc: Services, view: dict[str, Any], ref: FormRef, state: FormState) -> None:
    reviewed, unreadable = read_form(view, state)
    order = parse_order(state.order_json)
    now = svc.clock()
    request, problems = check_partial(order, state.draft(reviewed), now)
    if reviewed.issued is None:
        problems.pop("date", None)  # already said: the date or time could not be read
    # Every problem at once: what could not be read, then what the invoice rules found in the rest.
    errors = {**_on_blocks(problems, state, reviewed, now), **unreadable}
    if errors or request is None:
        ack(response_action="errors", errors=errors)
        return
    state.reviewed = reviewed.model_copy(update={"posted_value": request.invoice_value})
    svc.store.forms.update(ref.form, state.model_dump(mode="json"))
    shown = FormRef(form=ref.form, review=review_digest(state.reviewed))
    ack(response_action="push", view=partial_preview(state, shown, request))


def review_digest(reviewed: Reviewed) -> str:
    """Ties a review screen to what it showed: an older review of the same form sends nothing."""
    return hashlib.sha256(reviewed.model_dump_json().encode()).hexdigest()[:24]


def _on_blocks(problems: dict[str, str], state: FormState, reviewed: Reviewed, now: datetime) -> dict[str, str]:
    errors = {FIELD_BLOCKS[k]: v for k, v in problems.items() if k in FIELD_BLOCKS}
    issued = reviewed.issued
    if "date" in problems and issued is not None and issued.date() == now.astimezone(issued.tzinfo).date():
        errors["time_block"] = errors.pop("date_block")  # today, but a time still to come
    if "items" in problems:
        # Under the first item (Slack shows errors only under input blocks), or the charges box.
        block = "item_0" if state.lines else "other_block" if state.other > 0 else "value_block"
        errors[block] = problems["items"]
    return errors


def on_confirm_submit(
    ack: Ack, body: dict[str, Any], view: dict[str, Any], client: WebClient, context: BoltContext
) -> None:
    ack(response_action="clear")
    svc = services(context)

    def send() -> None:
        loaded = load_state(svc, view)
        if loaded is None or loaded[1].reviewed is None:
            log.warning("a review was submitted for a form that is gone")
            return
        with use(loaded[1].language):  # the form's language, kept since it opened
            _send(svc, body, view, client, *loaded)

    svc.background(send)


def _send(
    svc: Services, body: dict[str, Any], view: dict[str, Any], client: WebClient, ref: FormRef, state: FormState
) -> None:
    user = (body.get("user") or {}).get("id") or "unknown"
    reviewed = state.reviewed
    assert reviewed is not None
    who = Who(user_id=user, workspace=(body.get("team") or {}).get("id"), channel=state.reply.channel)
    update_card, tell = _channels(client, state, user)
    if ref.review != review_digest(reviewed):
        tell(_("This review is older than the form's last one; nothing was sent. Review the invoice again."))
        return
    if not svc.operators.allows(user, client):
        refuse(svc, who, ADD_PARTIAL, state.order_id, svc.operators.refusal(), tell)
        return
    intent = Intent(
        kind=ADD_PARTIAL,
        order_id=state.order_id,
        invoice_number=reviewed.number,
        value=reviewed.posted_value,
        click_key=f"view|{view.get('root_view_id') or view.get('id') or _digest(ref, reviewed)}|{user}",
        expected_missing=state.missing,
        draft=state.draft(reviewed),
    )
    outcome = svc.actor.perform(intent, who, reply_to=state.reply.model_dump())
    deliver(svc, outcome, who, state.order_id, update_card=update_card, tell=tell)


def _digest(ref: FormRef, reviewed: Reviewed) -> str:
    """Stands in for a view id: the same reviewed invoice submitted twice gives the same key."""
    return hashlib.sha256(f"{ref.form}|{reviewed.model_dump_json()}".encode()).hexdigest()[:24]


def _channels(
    client: WebClient, state: FormState, user: str
) -> tuple[Callable[[Message], None], Callable[[str], None]]:
    """Where the outcome goes: the card through its response_url, else chat.update; the agent ephemerally."""
    reply = state.reply
    hook = WebhookClient(reply.response_url) if reply.response_url else None

    def update_card(message: Message) -> None:
        if hook:
            hook.send(replace_original=True, **message.kwargs())
        elif reply.channel and reply.ts:
            client.chat_update(channel=reply.channel, ts=reply.ts, **message.kwargs())

    def tell(text: str) -> None:
        message = notice(text)
        if hook:
            hook.send(response_type="ephemeral", replace_original=False, **message.kwargs())
        elif reply.channel:
            client.chat_postEphemeral(channel=reply.channel, user=user, **message.kwargs())

    return update_card, tell

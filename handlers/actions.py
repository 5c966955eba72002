"""The invoice buttons. Anyone may ask; only operators may act, and every click is logged.

Each listener only acknowledges and hands the click to the work pool: with process_before_response
Slack's 3-second ack leaves when the listener returns, so no Slack or VTEX round trip may come first.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

from slack_bolt import Ack, App, BoltContext, Respond
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.acting import Intent
from bot.blocks import RADAR_MENU, loading_form, notice, notice_view, partial_form
from bot.diagnosis import ADD_PARTIAL, RESEND, diagnose
from bot.errors import VtexError
from bot.i18n import _, current
from bot.invoices import open_lines, other_owed
from bot.mrkdwn import code, escape, mention, slack_date
from bot.payloads import ButtonValue, CurrencyState, FormRef, FormState, LineState, ReplyTarget, read_button
from bot.services import Services
from handlers.common import in_their_language, services, who_from
from handlers.outcomes import deliver, refuse


def register(app: App) -> None:
    app.action(RESEND)(_on_click(_resend))
    app.action(ADD_PARTIAL)(_on_click(_add_partial))
    app.action(RADAR_MENU)(_on_click(_radar_menu))


def _tell(respond: Respond) -> Callable[[str], object]:
    return lambda text: respond(response_type="ephemeral", replace_original=False, **notice(text).kwargs())


def _on_click(work: Callable[[Services, dict[str, Any], dict[str, Any], Respond, WebClient], None]) -> Any:
    """A listener that acknowledges the click and does everything else on the work pool."""

    def listener(
        ack: Ack,
        body: dict[str, Any],
        action: dict[str, Any],
        respond: Respond,
        client: WebClient,
        context: BoltContext,
    ) -> None:
        ack()
        svc = services(context)
        user = (body.get("user") or {}).get("id")
        svc.background(in_their_language(svc, user, client, lambda: work(svc, body, action, respond, client)))

    return listener


def _accepted(
    svc: Services, body: dict[str, Any], action: dict[str, Any], respond: Respond, client: WebClient, kind: Any
) -> ButtonValue | None:
    """The button's payload when the clicker may act; otherwise the clicker is told why (and it is logged)."""
    who, tell = who_from(body), _tell(respond)
    value = read_button(action.get("value"), kind)
    if value is None or (kind == RESEND and not value.number):
        tell(_("This button is malformed or out of date. Ask again with `/stuck ORDER-ID` for a fresh card."))
        return None
    if not svc.operators.allows(who.user_id, client):
        refuse(svc, who, kind, value.order, svc.operators.refusal(), tell)
        return None
    return value


def _resend(svc: Services, body: dict[str, Any], action: dict[str, Any], respond: Respond, client: WebClient) -> None:
    value = _accepted(svc, body, action, respond, client, RESEND)
    if value is None:
        return
    who, tell = who_from(body), _tell(respond)
    _show_progress(
        body,
        respond,
        tell,
        _("{user} is resending invoice {number}: re-reading the order first…").format(
            user=mention(who.user_id), number=escape(value.number or "")
        ),
    )
    intent = Intent(
        kind=RESEND,
        order_id=value.order,
        invoice_number=str(value.number),
        value=value.amount,
        # Slack stamps every click with action_ts; the trigger id is unique per interaction too.
        click_key=f"{action.get('action_ts') or body.get('trigger_id')}|{who.user_id}|{RESEND}",
    )
    reply_to = ReplyTarget(response_url=body.get("response_url"), channel=who.channel).model_dump()
    outcome = svc.actor.perform(intent, who, reply_to=reply_to)
    deliver(
        svc, outcome, who, value.order, update_card=lambda m: respond(replace_original=True, **m.kwargs()), tell=tell
    )


SNOOZES = {"snooze-1h": timedelta(hours=1), "snooze-1d": timedelta(days=1)}


def _radar_menu(
    svc: Services, body: dict[str, Any], action: dict[str, Any], respond: Respond, client: WebClient
) -> None:
    """Snooze an alert's order or mute its status: operators only, and logged like every action."""
    who, tell = who_from(body), _tell(respond)
    choice, _sep, rest = str((action.get("selected_option") or {}).get("value") or "").partition("|")
    order_id, _sep, status = rest.partition("|")
    if choice not in (*SNOOZES, "mute-status") or not order_id:
        tell(_("This menu is out of date."))
        return
    if not svc.operators.allows(who.user_id, client):
        refusal = _("Nothing changed: only the team's operators may snooze or mute the radar's alerts.")
        refuse(svc, who, "radar_" + choice, order_id, refusal, tell)
        return
    now = svc.clock()
    if choice == "mute-status":
        svc.store.radar.mute("status", status, None, who.user_id, now)
        said = _("The radar no longer alerts on orders in {status}.").format(status=code(status))
    else:
        svc.store.radar.mute("order", order_id, now + SNOOZES[choice], who.user_id, now)
        said = _("The radar will not alert on {order_id} again before {until}.").format(
            order_id=code(order_id), until=slack_date(now + SNOOZES[choice])
        )
    svc.store.log.append(
        "action", who, order_id=order_id, account=svc.account, action="radar_" + choice, outcome="succeeded"
    )
    tell(f":zzz: {said}")


def _show_progress(body: dict[str, Any], respond: Respond, tell: Callable[[str], object], text: str) -> None:
    """The card itself says what is happening, and the outcome replaces it; no note is left behind."""
    card = body.get("message") or {}
    blocks = [b for b in card.get("blocks") or [] if b.get("type") != "actions"]
    if not blocks:
        tell(f":hourglass_flowing_sand: {text}")  # an ephemeral card: nothing to update in place
        return
    progress = {"type": "context", "elements": [{"type": "mrkdwn", "text": f":hourglass_flowing_sand: {text}"}]}
    respond(replace_original=True, text=card.get("text") or text, blocks=[*blocks, progress])


def _add_partial(
    svc: Services, body: dict[str, Any], action: dict[str, Any], respond: Respond, client: WebClient
) -> None:
    value = _accepted(svc, body, action, respond, client, ADD_PARTIAL)
    if value is None:
        return
    tell = _tell(respond)
    container = body.get("container") or {}
    reply = ReplyTarget(
        response_url=body.get("response_url"),
        channel=who_from(body).channel,
        ts=container.get("message_ts") or (body.get("message") or {}).get("ts"),
    )
    # The trigger id dies 3 s after the click: open the form at once, fill it in once the order is re-read.
    try:
        if not body.get("trigger_id"):
            raise KeyError("trigger_id")
        opened = client.views_open(trigger_id=body["trigger_id"], view=loading_form(value.order, full=False))
    except (SlackApiError, KeyError) as exc:
        reason = exc.response.get("error") if isinstance(exc, SlackApiError) else "no trigger"
        tell(_("Slack could not open the form ({reason}). Press the button again.").format(reason=reason))
        return
    view = opened.get("view") or {}
    _fill_form(svc, client, view.get("id"), view.get("hash"), value.order, reply)


def _fill_form(
    svc: Services, client: WebClient, view_id: str | None, view_hash: str | None, order_id: str, reply: ReplyTarget
) -> None:
    try:
        order = svc.vtex.get_order(order_id)
    except VtexError as exc:
        client.views_update(view_id=view_id, view=notice_view(_("Could not re-read"), f":warning: {escape(str(exc))}"))
        return
    now = svc.clock()
    d = diagnose(order, now)
    offered = next((a for a in d.actions if a.kind == ADD_PARTIAL), None)
    if offered is None:
        why = d.no_action_reason or _("the diagnosis no longer recommends adding an invoice.")
        said = _("Order {order_id} changed: {why} Nothing was sent.").format(
            order_id=escape(order.order_id), why=escape(why)
        )
        client.views_update(view_id=view_id, view=notice_view(_("Nothing to add"), said))
        return
    state = FormState(
        order_id=order.order_id,
        full=offered.full,
        missing=offered.amount,
        total=order.value,
        currency=CurrencyState.of(order.currency),
        zone=str(order.zone),
        order_json=order.model_dump(mode="json", by_alias=True),
        lines=[LineState.of(line) for line in open_lines(order)],
        other=other_owed(order),
        reply=reply,
        language=current(),
    )
    ref = FormRef(form=svc.store.forms.put(state.model_dump(mode="json")))
    try:
        client.views_update(view_id=view_id, hash=view_hash, view=partial_form(state, ref, now.astimezone(order.zone)))
    except SlackApiError as exc:
        if exc.response.get("error") != "hash_conflict":  # the agent closed or changed the view: keep theirs
            raise

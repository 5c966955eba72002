"""Block Kit builders: pure functions from answers and outcomes to Slack messages and views.

Every string is cut to Slack's limits here (header 150, section 3000, field 2000, button text 75,
value 2000, confirm text 300, modal title 24, private_metadata 3000) so no listener can produce a
payload Slack rejects.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from bot.diagnosis import ADD_PARTIAL, INVOICE_SITUATIONS, RESEND, OfferedAction
from bot.errors import RateLimited, Unavailable, VtexError
from bot.i18n import N_, _, date_text, datetime_text, duration, ngettext
from bot.invoices import InvoiceRequest
from bot.lookup import Answer
from bot.mrkdwn import code, escape, link, mention, slack_date
from bot.order import Order, Package
from bot.order_ids import EXPECTED_FORMS
from bot.payloads import ButtonValue, FormRef, FormState
from bot.wording import bullets_for, status_name, verdict

Block = dict[str, Any]
MAX_IDS = 5
ACTIONS_BLOCK = "invoice_actions"
FORM_CALLBACK = "partial_invoice_form"
CONFIRM_CALLBACK = "partial_invoice_confirm"


@dataclass(frozen=True)
class Message:
    text: str
    blocks: list[Block]

    def kwargs(self) -> dict[str, Any]:
        return {"text": self.text, "blocks": self.blocks}


def cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def plain(text: str, limit: int = 3000) -> dict[str, Any]:
    return {"type": "plain_text", "text": cut(text, limit), "emoji": True}


def mrkdwn(text: str, limit: int = 3000) -> dict[str, Any]:
    return {"type": "mrkdwn", "text": cut(text, limit)}


def section(text: str, **extra: Any) -> Block:
    return {"type": "section", "text": mrkdwn(text), **extra}


def context(*texts: str) -> Block:
    return {"type": "context", "elements": [mrkdwn(t, 3000) for t in texts[:10] if t]}


def admin_url(account: str, order_id: str) -> str:
    return f"https://{account}.myvtex.com/admin/orders/{order_id}"


# -- the answer card ---------------------------------------------------------------------------


def order_card(
    answer: Answer,
    account: str,
    *,
    outcome: str | None = None,
    show_actions: bool = True,
    status_line: str | None = None,
    now: datetime | None = None,
) -> Message:
    """The verdict first (one sentence, its reason, the one button), then the facts behind it, compactly."""
    d, o = answer.diagnosis, answer.order
    now = now or datetime.now(UTC)
    icon, said, reason = verdict(d, o)
    name = status_name(d.status, d.status_name)
    blocks: list[Block] = [
        {
            "type": "header",
            "text": plain(_("Order {order_id} · {status}").format(order_id=d.order_id, status=name), 150),
        },
        section(f"{icon} {said}\n{reason}"),
    ]
    if d.support_quote:
        blocks.append(section(f"```{escape(d.support_quote)}```"))
    blocks.append(context(*_facts(answer)))
    if answer.guidance:
        blocks.append(context(_guidance(answer)))
    if answer.last_resend and any(a.kind == RESEND for a in d.actions):
        blocks.append(context(_resend_history(answer, now)))
    if status_line:
        blocks.append(context(status_line))
    if outcome:
        blocks.append(section(outcome))
    offered = [a for a in d.actions if not _resent_just_now(a, answer, now)]
    if show_actions and offered:
        blocks.append(
            {"type": "actions", "block_id": ACTIONS_BLOCK, "elements": [action_button(a, answer) for a in offered]}
        )
    blocks.append(
        context(
            _("{admin_link} · VTEX status {status_code}").format(
                admin_link=link(admin_url(account, d.order_id), _("Open in VTEX Admin")), status_code=code(d.status)
            )
        )
    )
    text = _("Order {order_id}: {verdict} {reason}").format(order_id=escape(d.order_id), verdict=said, reason=reason)
    return Message(cut(text, 3000), blocks[:50])


def _facts(answer: Answer) -> list[str]:
    """The facts an agent would otherwise open the Admin for: invoices, time in status, marketplace, notes."""
    d, o = answer.diagnosis, answer.order
    facts = []
    if d.situation in INVOICE_SITUATIONS and o.packages:
        shown = [_invoice_fact(o, p) for p in o.packages[:3]]
        more = _(" · +{count} more").format(count=len(o.packages) - 3) if len(o.packages) > 3 else ""
        facts.append(_("*Invoices:* {invoices}").format(invoices=" · ".join(shown) + more))
    if d.since:
        name, age = escape(status_name(d.status, d.status_name)), duration(d.age)
        if d.stuck:
            fact = _("In {status} since {since} ({age}; {normally})").format(
                status=name, since=slack_date(d.since), age=age, normally=_normally(d)
            )
        else:
            fact = _("In {status} since {since} ({age})").format(status=name, since=slack_date(d.since), age=age)
        facts.append(fact)
    if d.marketplace and o.marketplace_order_id:
        facts.append(_("Marketplace order {order_id}").format(order_id=code(o.marketplace_order_id)))
    if d.notes:
        facts.append(f":information_source: {escape(d.notes[0])}")
    return facts


def _normally(d: Any) -> str:
    """'normally under 2 days', or 'just past the usual 2 days' when both round to the same words."""
    if duration(d.age) == duration(d.expected):
        return _("just past the usual {expected}").format(expected=duration(d.expected))
    return _("normally under {expected}").format(expected=duration(d.expected))


def _invoice_fact(order: Order, package: Package) -> str:
    number, amount = escape(package.invoice_number or "?"), order.money(package.invoice_value)
    kind = _("sale") if package.is_output else _("return, not counted")
    if package.issuance_date:
        return _("*{number}* {amount} ({kind}, {date})").format(
            number=number, amount=amount, kind=kind, date=date_text(package.issuance_date)
        )
    return _("*{number}* {amount} ({kind})").format(number=number, amount=amount, kind=kind)


def _guidance(answer: Answer) -> str:
    """Only the article's bullets that apply, and the article by its title, so agents can find it."""
    g = answer.guidance
    assert g is not None
    chosen = bullets_for(answer.diagnosis.situation, g.bullets)
    lead = "".join(f"• {b}\n" for b in chosen)
    return lead + _(":book: From “{article}”").format(article=link(g.url, g.title))


def _resent_just_now(action: OfferedAction, answer: Answer, now: datetime) -> bool:
    """Within the resend window a second click would only be a duplicate: the button waits for the window."""
    last = answer.last_resend
    return action.kind == RESEND and last is not None and now < last.again_after


def _resend_history(answer: Answer, now: datetime) -> str:
    last = answer.last_resend
    assert last is not None
    said = _(":repeat: Last resent by {user} {when}.").format(user=mention(last.user_id), when=slack_date(last.at))
    if now < last.again_after:
        return said + " " + _("It can be resent again after {when}.").format(when=slack_date(last.again_after))
    return said + " " + _("VTEX has not moved the order since; resending again is a deliberate choice.")


def action_button(action: OfferedAction, answer: Answer) -> Block:
    o = answer.order
    amount = o.money(action.amount)
    value = ButtonValue(order=o.order_id, kind=action.kind, amount=action.amount, number=action.invoice_number)
    button: Block = {"type": "button", "action_id": action.kind, "style": "primary", "value": value.dumps()}
    if action.kind == RESEND:
        number = escape(action.invoice_number or "")
        last = answer.last_resend
        again = (
            " " + _("It was last resent by {user} {when}.").format(user=mention(last.user_id), when=slack_date(last.at))
            if last
            else ""
        )
        label = _("Resend again {number}") if last else _("Resend invoice {number}")
        button["text"] = plain(label.format(number=action.invoice_number), 75)
        button["confirm"] = {
            "title": plain(_("Resend this invoice again?") if last else _("Resend this invoice?"), 100),
            "text": mrkdwn(
                _("Send invoice *{number}* ({amount}) to VTEX again for order {order_id}.").format(
                    number=number, amount=amount, order_id=o.order_id
                )
                + again
                + " "
                + _("The bot re-reads the order first and sends it once."),
                300,
            ),
            "confirm": plain(_("Resend {number}").format(number=action.invoice_number), 30),
            "deny": plain(_("Cancel"), 30),
        }
    else:
        # No confirm dialog: the form itself and its review screen come before anything is sent.
        label = _("Add invoice of {amount}") if action.full else _("Add partial invoice of {amount}")
        button["text"] = plain(label.format(amount=amount), 75)
    return button


ERROR_HINTS = {
    "OrderNotFound": N_("Double-check the id. Marketplace and seller orders have different ids."),
    "Forbidden": N_("Nothing you can fix from Slack: ask a VTEX admin to grant the permission above."),
    "Unauthorized": N_("Nothing you can fix from Slack: whoever runs the bot must check its VTEX keys."),
}


def error_card(order_id: str | None, error: VtexError) -> Message:
    hint = ERROR_HINTS.get(type(error).__name__)
    what = _(hint) if hint else ""
    if isinstance(error, (RateLimited, Unavailable)) and error.retry_after:
        seconds = max(int(error.retry_after), 1)
        what = ngettext("Try again in about {n} second.", "Try again in about {n} seconds.", seconds)
    if type(error).__name__ == "OrderNotFound" and order_id:
        what = _not_found_hint(order_id) or what
    title = _(error.title) + (f": {order_id}" if order_id else "")
    blocks = [section(f":warning: *{escape(title)}*\n{escape(str(error))}")]
    if what:
        blocks.append(context(what))
    return Message(cut(escape(f"{title}. {error}"), 3000), blocks)


def _not_found_hint(order_id: str) -> str | None:
    """One hint that fits what was typed."""
    if order_id.isdigit() and len(order_id) <= 9:
        return _(
            "{typed} looks like an order's sequence number, not its id: ask with `seq` in front ({example})."
        ).format(typed=code(order_id), example=f"`/stuck seq{escape(order_id)}`")
    if order_id.isdigit() and 10 <= len(order_id) <= 13:
        return _("VTEX order ids end in a suffix: did you mean {suggestion}?").format(suggestion=code(order_id + "-01"))
    return None


def usage_message(problem: str | None = None) -> Message:
    lead = f":thinking_face: {problem}\n" if problem else ""
    text = lead + _(
        "*Ask me why an order is stuck:*\n"
        "• `/stuck 1172452900788-01`\n• `/stuck why is order 1172452900788-01 stuck?`\n"
        "• up to {max_ids} ids at once: `/stuck 1172452900788-01 1172452900788-02`\n"
        "• mention me: `@unstuck why is order 1172452900788-01 stuck?`, or DM me\n"
        "• on any message: ⋮ More actions › *Why is this order stuck?*\n"
        "Order ids look like {forms}."
    ).format(max_ids=MAX_IDS, forms=_(EXPECTED_FORMS))
    return Message((problem + " " if problem else "") + _("Usage: /stuck ORDER-ID"), [section(text)])


def looking_up(order_ids: list[str]) -> str:
    return _(":mag: Looking up {ids} in VTEX…").format(ids=", ".join(f"`{oid}`" for oid in order_ids))


def notice(text: str) -> Message:
    return Message(cut(text, 3000), [section(text)])


# -- the partial invoice modal ----------------------------------------------------------------

MAX_LINES = 85  # a modal holds 100 blocks; the rest of the form takes at most 15


def loading_form(order_id: str, full: bool) -> dict[str, Any]:
    """Opened at once (the trigger id dies after 3 s); filled in once the order is re-read."""
    return {
        "type": "modal",
        "callback_id": FORM_CALLBACK,
        "title": plain(_("Add invoice") if full else _("Add partial invoice"), 24),
        "close": plain(_("Cancel"), 24),
        "blocks": [section(_("Order *{order_id}*\n_Re-reading the order in VTEX…_").format(order_id=escape(order_id)))],
    }


def partial_form(state: FormState, ref: FormRef, now: datetime) -> dict[str, Any]:
    """The invoice form: its number, what it covers (items and charges), value, date and time, key and URL."""
    blocks = [
        section(_form_intro(state)),
        _input(
            "number_block",
            _("Invoice number"),
            {"type": "plain_text_input", "action_id": "number", "max_length": 50},
            hint=_("Exactly as on the invoice your ERP issued. Letters, digits and '-' only."),
        ),
        *_what_it_covers(state),
        *_the_rest_of_the_form(state, now),
    ]
    return {
        "type": "modal",
        "callback_id": FORM_CALLBACK,
        "title": plain(_("Add invoice") if state.full else _("Add partial invoice"), 24),
        "submit": plain(_("Review"), 24),
        "close": plain(_("Cancel"), 24),
        "private_metadata": ref.dumps(),
        "blocks": blocks[:100],
    }


def _form_intro(state: FormState) -> str:
    cur = state.currency.currency()
    order, missing, total = escape(state.order_id), cur.exact(state.missing), cur.exact(state.total)
    lead = (
        _("Order *{order_id}* has no invoice yet. Its value is *{missing}*.").format(order_id=order, missing=missing)
        if state.full
        else _("Order *{order_id}* is missing *{missing}* of *{total}*.").format(
            order_id=order, missing=missing, total=total
        )
    )
    return (
        lead
        + " "
        + _(
            "Choose what this invoice covers, as on the fiscal document from your ERP. Nothing is sent until you "
            "review it."
        )
    )


def _what_it_covers(state: FormState) -> list[Block]:
    """One quantity per open line (VTEX's unit prices), then the charges still owed."""
    cur = state.currency.currency()
    missing = cur.exact(state.missing)
    goods = sum(line.price * line.quantity for line in state.lines)
    fits = goods <= state.missing
    blocks: list[Block] = []
    if not state.lines:
        blocks.append(
            section(
                _("All items are already invoiced: what is missing ({missing}) is shipping or fees.").format(
                    missing=missing
                )
            )
        )
    elif not fits:
        blocks.append(
            section(
                _(
                    "The items still open are worth {goods}, more than the {missing} missing: the invoices "
                    "on the order already count more than their own items. Send the missing amount without items, "
                    "or with items worth at most {missing}."
                ).format(goods=cur.exact(goods), missing=missing)
            )
        )
    for n, line in enumerate(state.lines[:MAX_LINES]):
        element = {
            "type": "number_input",
            "action_id": "quantity",
            "is_decimal_allowed": False,
            "min_value": "0",
            "max_value": str(line.quantity),
            "initial_value": str(line.quantity if fits else 0),
        }
        label = _("{item} · SKU {sku} · {units} open, {price} each").format(
            item=line.name or _("Item"), sku=line.sku, units=_units(line.quantity), price=cur.exact(line.price)
        )
        hint = _("How many this invoice covers: 0 to {quantity}.").format(quantity=line.quantity) + (
            "" if fits else " " + _("All the items chosen may be worth at most {missing}.").format(missing=missing)
        )
        blocks.append(_input(f"item_{n}", label, element, hint=hint))
    if len(state.lines) > MAX_LINES:
        blocks.append(
            context(
                ngettext(
                    "{n} more item line is not shown; invoice it separately.",
                    "{n} more item lines are not shown; invoice them separately.",
                    len(state.lines) - MAX_LINES,
                )
            )
        )
    if state.other > 0:
        what = (
            _("Shipping and other charges still owed: {amount}")
            if fits
            else _("The missing amount without items: {amount}")
        )
        option = {"text": plain(what.format(amount=cur.exact(state.other)), 75), "value": "yes"}
        element = {"type": "checkboxes", "action_id": "other", "options": [option], "initial_options": [option]}
        blocks.append(_input("other_block", _("Charges"), element, optional=True))
    return blocks


def _the_rest_of_the_form(state: FormState, now: datetime) -> list[Block]:
    cur, zone = state.currency.currency(), state.zone
    key_hint = (
        _("The NF-e access key: 44 digits.")
        if cur.code == "BRL"
        else _("The fiscal access key, if your country has one; some marketplaces require it.")
    )
    return [
        _input(
            "value_block",
            _("Value ({symbol})").format(symbol=cur.symbol),
            {"type": "plain_text_input", "action_id": "value", "max_length": 20},
            optional=True,
            hint=_(
                "Leave empty: the value is what you chose above (at most {missing}). "
                "Enter a lower value only to match your ERP's rounding."
            ).format(missing=cur.exact(state.missing)),
        ),
        _input(
            "date_block",
            _("Issuance date ({zone})").format(zone=zone),
            {"type": "datepicker", "action_id": "date", "initial_date": now.strftime("%Y-%m-%d")},
        ),
        _input(
            "time_block",
            _("Issuance time ({zone})").format(zone=zone),
            {"type": "timepicker", "action_id": "time"},
            hint=_("As printed on the invoice."),
        ),
        _input(
            "key_block",
            _("Invoice key"),
            {"type": "plain_text_input", "action_id": "key", "max_length": 100},
            optional=True,
            hint=key_hint,
        ),
        _input(
            "url_block",
            _("Invoice URL"),
            {"type": "plain_text_input", "action_id": "url", "max_length": 2000},
            optional=True,
        ),
    ]


def _input(
    block_id: str, label: str, element: dict[str, Any], *, optional: bool = False, hint: str | None = None
) -> Block:
    block: Block = {
        "type": "input",
        "block_id": block_id,
        "label": plain(label, 2000),
        "element": element,
        "optional": optional,
    }
    if hint:
        block["hint"] = plain(hint, 2000)
    return block


def partial_preview(state: FormState, ref: FormRef, request: InvoiceRequest) -> dict[str, Any]:
    """What a fiscal team signs off: every line in words, then the exact body VTEX receives."""
    cur = state.currency.currency()
    after = state.total - state.missing + request.invoice_value
    outcome = (
        _("the order should move to *Invoiced*.")
        if after >= state.total
        else _("{amount} will still be missing.").format(amount=cur.exact(state.total - after))
    )
    shown = json.dumps(request.to_json(), indent=1, ensure_ascii=False)
    names: dict[tuple[int | None, int], str] = {(line.index, line.price): line.name for line in state.lines}
    lines = [
        "• "
        + _("{quantity} × {item} (SKU {sku}) at {price} = {total}").format(
            quantity=item.quantity,
            item=escape(names.get((item.index, item.price)) or _("item")),
            sku=escape(item.id),
            price=cur.exact(item.price),
            total=cur.exact(item.total),
        )
        for item in request.items
    ]
    rest = request.invoice_value - request.items_total
    if rest:
        label = _("Shipping and other charges: {amount}") if request.items else _("Not tied to any item: {amount}")
        lines.append("• " + label.format(amount=cur.exact(rest)))
    issued = request.issuance_date
    when = f"{datetime_text(issued)} ({escape(state.zone)})"
    key = "\n" + _("*Invoice key:* {key}").format(key=escape(request.invoice_key)) if request.invoice_key else ""
    url = "\n" + _("*Invoice URL:* {url}").format(url=escape(request.invoice_url)) if request.invoice_url else ""
    blocks = [
        section(_(":warning: *Check before sending.* An invoice cannot be taken back.")),
        section(
            _("*Invoice {number}* for order {order_id}: *{amount}*, issued {when}").format(
                number=escape(request.invoice_number),
                order_id=escape(state.order_id),
                amount=cur.exact(request.invoice_value),
                when=when,
            )
            + key
            + url
        ),
        section(cut("\n".join(lines), 2900) if lines else _("No items and no charges.")),
        section(
            _("Invoiced after this: {after} of {total}; {outcome}").format(
                after=cur.exact(after), total=cur.exact(state.total), outcome=outcome
            )
        ),
        section(
            _("*Exactly what will be posted to VTEX* (amounts in cents, as its API takes them):")
            + f"\n```{cut(escape(shown), 2700)}```"
        ),
        context(_("Back returns to the form. The bot re-reads the order and sends this once.")),
    ]
    return {
        "type": "modal",
        "callback_id": CONFIRM_CALLBACK,
        "title": plain(_("Review invoice"), 24),
        "submit": plain(_("Send to VTEX"), 24),
        "close": plain(_("Back"), 24),
        "private_metadata": ref.dumps(),
        "blocks": blocks,
    }


def _units(n: int) -> str:
    return ngettext("{n} unit", "{n} units", n)


def notice_view(title: str, text: str) -> dict[str, Any]:
    return {"type": "modal", "title": plain(title, 24), "close": plain(_("Close"), 24), "blocks": [section(text)]}


# -- App Home ------------------------------------------------------------------------------------


def home_view(actions: list[dict[str, Any]], *, is_operator: bool, operators_configured: bool) -> dict[str, Any]:
    """Who you are here, how to ask, and the recent invoice actions: one row each, in its final state."""
    if is_operator:
        role = _(":white_check_mark: You are an *operator*: you can ask, and press the invoice buttons.")
    elif operators_configured:
        role = _(
            ":eyes: You can ask why orders are stuck; only the team's operators press the invoice buttons. "
            "Ask whoever runs the bot to make you one."
        )
    else:
        role = _(
            ":lock: Nobody can press invoice buttons yet: whoever runs the bot has not named the team's operators."
        )
    blocks: list[Block] = [
        {"type": "header", "text": plain(_("unstuck: why is my VTEX order stuck?"), 150)},
        section(role),
        section(
            _(
                "*How to ask:* `/stuck 1172452900788-01`, mention `@unstuck` with the order id, DM me, or use "
                "*Why is this order stuck?* on any message."
            )
        ),
        {"type": "divider"},
        {"type": "header", "text": plain(_("Recent invoice actions"), 150)},
    ]
    if not actions:
        blocks.append(context(_("No invoice actions yet.")))
    for row in actions[:40]:
        blocks.append(section(_home_row(row)))
    return {"type": "home", "blocks": blocks[:100]}


STATE_ICONS = {
    "succeeded": ":white_check_mark:",
    "failed": ":x:",
    "refused": ":no_entry_sign:",
    "pending": ":hourglass_flowing_sand:",
    "unknown": ":grey_question:",
    "stale": ":arrows_counterclockwise:",
    "duplicate": ":repeat:",
}
# An action's state in App Home's list (the states the ledger keeps).
_STATE_WORDS = {
    "succeeded": N_("sent"),
    "failed": N_("not sent"),
    "refused": N_("not sent"),
    "pending": N_("sending"),
    "unknown": N_("waiting for VTEX to confirm"),
}


def _home_row(row: dict[str, Any]) -> str:
    known = _STATE_WORDS.get(str(row.get("state")))
    icon, state = (STATE_ICONS[str(row["state"])], _(known)) if known else ("•", escape(row.get("state") or ""))
    what = _("Resend of invoice *{number}*") if row.get("action") == RESEND else _("Invoice *{number}*")
    number = escape(row.get("invoice_number") or "")
    amount = f" · {escape(row['amount_text'])}" if row.get("amount_text") else ""
    at = datetime.fromisoformat(row["updated_at"])
    return _("{icon} {what}{amount} on {order_id}: *{state}* · {user} · {when}").format(
        icon=icon,
        what=what.format(number=number),
        amount=amount,
        order_id=code(row["order_id"]),
        state=state,
        user=mention(row.get("user_id")),
        when=slack_date(at),
    )


def outcome_line(state: str, message: str, user_id: str, at: datetime) -> str:
    return f"{STATE_ICONS.get(state, '•')} {message}\n_{mention(user_id)} · {slack_date(at)}_"


ACTION_IDS = (RESEND, ADD_PARTIAL)


# -- the radar -----------------------------------------------------------------------------------------

RADAR_MENU = "radar_menu"
RADAR_CHOICES = (
    ("snooze-1h", N_("Snooze for 1 hour")),
    ("snooze-1d", N_("Snooze for 1 day")),
    ("mute-status", N_("Mute this status")),
)


def radar_alert(answer: Answer, account: str, *, stuck_since: datetime, now: datetime) -> Message:
    """The answer's card, led by how long the order has been stuck, with a menu to snooze or mute."""
    d = answer.diagnosis
    card = order_card(answer, account, now=now)
    blocks = list(card.blocks)
    name = status_name(d.status, d.status_name)
    header = _("Stuck: order {order_id} · {status}").format(order_id=d.order_id, status=name)
    blocks[0] = {"type": "header", "text": plain(header, 150)}
    stuck_for = duration(d.age)
    blocks.insert(
        1,
        context(
            _(":rotating_light: The radar found it: in {status} for {age} ({normally}), stuck since {since}.").format(
                status=escape(name), age=stuck_for, normally=_normally(d), since=slack_date(stuck_since)
            )
        ),
    )
    menu = {
        "type": "overflow",
        "action_id": RADAR_MENU,
        "options": [
            {"text": plain(_(label), 75), "value": cut(f"{choice}|{d.order_id}|{d.status or ''}", 75)}
            for choice, label in RADAR_CHOICES
        ],
    }
    actions = next((b for b in blocks if b.get("type") == "actions"), None)
    if actions is None:
        blocks.insert(len(blocks) - 1, {"type": "actions", "block_id": ACTIONS_BLOCK, "elements": [menu]})
    else:
        actions["elements"] = [*actions["elements"], menu]
    return Message(cut(_("Stuck for {age}: {card}").format(age=stuck_for, card=card.text), 3000), blocks[:50])


def radar_resolved(alert: Any, answer: Answer, fixed_by: dict[str, Any] | None = None) -> Message:
    d = answer.diagnosis
    said = verdict(d, answer.order)[1]
    was = status_name(alert.status, alert.status_name or "")
    text = _(":white_check_mark: Order {order_id} is no longer stuck in {was}: it is now *{status}*.").format(
        order_id=escape(alert.order_id), was=escape(was), status=escape(status_name(d.status, d.status_name))
    )
    if fixed_by:  # the fix made from the alert (or a card) keeps its credit
        template = (
            _("{user} resent invoice {number}{amount}.")
            if fixed_by.get("action") == RESEND
            else _("{user} sent invoice {number}{amount}.")
        )
        text += " " + template.format(
            user=mention(fixed_by.get("user_id")),
            number=escape(fixed_by.get("invoice_number") or ""),
            amount=f" ({escape(fixed_by['amount_text'])})" if fixed_by.get("amount_text") else "",
        )
    return Message(
        cut(_("Order {order_id} is no longer stuck.").format(order_id=alert.order_id), 3000),
        [
            {"type": "header", "text": plain(_("Resolved: order {order_id}").format(order_id=alert.order_id), 150)},
            section(text),
            context(said),
        ],
    )


def radar_summary(alerts: list[Any], *, title: str = N_("Stuck now")) -> list[Block]:
    """Counts per status and the oldest stuck orders, for `/stuck radar`, App Home and the digest."""
    if not alerts:
        return [section(_("*{title}:* no stuck orders. :tada:").format(title=_(title)))]
    counts: dict[str, int] = {}
    for alert in alerts:
        name = status_name(alert.status, alert.status_name or alert.status or "?")
        counts[name] = counts.get(name, 0) + 1
    per_status = " · ".join(f"{escape(name)}: {n}" for name, n in sorted(counts.items(), key=lambda kv: -kv[1]))
    oldest = [
        "• "
        + (
            _("{order_id} {status}, stuck since {since}").format(
                order_id=code(a.order_id),
                status=escape(status_name(a.status, a.status_name or "")),
                since=slack_date(a.stuck_since),
            )
            if a.stuck_since
            else _("{order_id} {status}, stuck").format(
                order_id=code(a.order_id), status=escape(status_name(a.status, a.status_name or ""))
            )
        )
        for a in alerts[:10]
    ]
    more = "\n" + _("…and {count} more").format(count=len(alerts) - 10) if len(alerts) > 10 else ""
    headline = ngettext("*{title}: {n} order(s)* — {per_status}", "*{title}: {n} order(s)* — {per_status}", len(alerts))
    return [section(headline.format(title=_(title), per_status=per_status)), section("\n".join(oldest) + more)]


def radar_digest(alerts: list[Any]) -> Message:
    blocks = [
        {"type": "header", "text": plain(_("Stuck orders today"), 150)},
        *radar_summary(alerts, title=N_("Open")),
    ]
    text = ngettext("{n} stuck order(s) today.", "{n} stuck order(s) today.", len(alerts))
    return Message(text, blocks)

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

from bot.diagnosis import ADD_PARTIAL, INVOICE_SITUATIONS, RESEND, OfferedAction, humanize
from bot.errors import RateLimited, Unavailable, VtexError
from bot.invoices import InvoiceRequest
from bot.lookup import Answer
from bot.mrkdwn import code, escape, link, mention, slack_date
from bot.order import Order, Package
from bot.order_ids import EXPECTED_FORMS
from bot.payloads import ButtonValue, FormRef, FormState
from bot.wording import bullets_for, verdict

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
    blocks: list[Block] = [
        {"type": "header", "text": plain(f"Order {d.order_id} · {d.status_name}", 150)},
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
        context(f"{link(admin_url(account, d.order_id), 'Open in VTEX Admin')} · VTEX status {code(d.status)}")
    )
    return Message(cut(f"Order {escape(d.order_id)}: {said} {reason}", 3000), blocks[:50])


def _facts(answer: Answer) -> list[str]:
    """The facts an agent would otherwise open the Admin for: invoices, time in status, marketplace, notes."""
    d, o = answer.diagnosis, answer.order
    facts = []
    if d.situation in INVOICE_SITUATIONS and o.packages:
        shown = [_invoice_fact(o, p) for p in o.packages[:3]]
        more = f" · +{len(o.packages) - 3} more" if len(o.packages) > 3 else ""
        facts.append("*Invoices:* " + " · ".join(shown) + more)
    if d.since:
        normally = f"; {_normally(d)}" if d.stuck else ""
        facts.append(f"In {escape(d.status_name)} since {slack_date(d.since)} ({humanize(d.age)}{normally})")
    if d.marketplace and o.marketplace_order_id:
        facts.append(f"Marketplace order {code(o.marketplace_order_id)}")
    if d.notes:
        facts.append(f":information_source: {escape(d.notes[0])}")
    return facts


def _normally(d: Any) -> str:
    """'normally under 2 days', or 'just past the usual 2 days' when both round to the same words."""
    if humanize(d.age) == humanize(d.expected):
        return f"just past the usual {humanize(d.expected)}"
    return f"normally under {humanize(d.expected)}"


def _invoice_fact(order: Order, package: Package) -> str:
    kind = "sale" if package.is_output else "return, not counted"
    when = f", {package.issuance_date:%d %b %Y}" if package.issuance_date else ""
    return f"*{escape(package.invoice_number or '?')}* {order.money(package.invoice_value)} ({kind}{when})"


def _guidance(answer: Answer) -> str:
    """Only the article's bullets that apply, and the article by its title, so agents can find it."""
    g = answer.guidance
    assert g is not None
    chosen = bullets_for(answer.diagnosis.situation, g.bullets)
    lead = "".join(f"• {b}\n" for b in chosen)
    return f"{lead}:book: From “{link(g.url, g.title)}”"


def _resent_just_now(action: OfferedAction, answer: Answer, now: datetime) -> bool:
    """Within the resend window a second click would only be a duplicate: the button waits for the window."""
    last = answer.last_resend
    return action.kind == RESEND and last is not None and now < last.again_after


def _resend_history(answer: Answer, now: datetime) -> str:
    last = answer.last_resend
    assert last is not None
    said = f":repeat: Last resent by {mention(last.user_id)} {slack_date(last.at)}."
    if now < last.again_after:
        return said + f" It can be resent again after {slack_date(last.again_after)}."
    return said + " VTEX has not moved the order since; resending again is a deliberate choice."


def _action_phrase(action: OfferedAction, answer: Answer) -> str:
    if action.kind == RESEND:
        return f"resend invoice {action.invoice_number} ({answer.order.money(action.amount)})"
    return f"{action.label.lower()} of {answer.order.money(action.amount)}"


def action_button(action: OfferedAction, answer: Answer) -> Block:
    o = answer.order
    amount = o.money(action.amount)
    value = ButtonValue(order=o.order_id, kind=action.kind, amount=action.amount, number=action.invoice_number)
    button: Block = {"type": "button", "action_id": action.kind, "style": "primary", "value": value.dumps()}
    if action.kind == RESEND:
        number = escape(action.invoice_number or "")
        last = answer.last_resend
        again = f" It was last resent by {mention(last.user_id)} {slack_date(last.at)}." if last else ""
        button["text"] = plain(f"{'Resend again' if last else 'Resend invoice'} {action.invoice_number}", 75)
        button["confirm"] = {
            "title": plain("Resend this invoice again?" if last else "Resend this invoice?", 100),
            "text": mrkdwn(
                f"Send invoice *{number}* ({amount}) to VTEX again for order "
                f"{o.order_id}.{again} The bot re-reads the order first and sends it once.",
                300,
            ),
            "confirm": plain(f"Resend {action.invoice_number}", 30),
            "deny": plain("Cancel", 30),
        }
    else:
        # No confirm dialog: the form itself and its review screen come before anything is sent.
        button["text"] = plain(f"Add invoice of {amount}" if action.full else f"Add partial invoice of {amount}", 75)
    return button


def error_card(order_id: str | None, error: VtexError) -> Message:
    what = {
        "OrderNotFound": "Double-check the id. Marketplace and seller orders have different ids.",
        "Forbidden": "Nothing you can fix from Slack: ask a VTEX admin to grant the permission above.",
        "Unauthorized": "Nothing you can fix from Slack: whoever runs the bot must check its VTEX keys.",
    }.get(type(error).__name__, "")
    if isinstance(error, (RateLimited, Unavailable)) and error.retry_after:
        what = f"Try again in about {max(int(error.retry_after), 1)} seconds."
    if type(error).__name__ == "OrderNotFound" and order_id:
        what = _not_found_hint(order_id) or what
    title = f"{error.title}" + (f": {order_id}" if order_id else "")
    blocks = [section(f":warning: *{escape(title)}*\n{escape(str(error))}")]
    if what:
        blocks.append(context(what))
    return Message(cut(escape(f"{title}. {error}"), 3000), blocks)


def _not_found_hint(order_id: str) -> str | None:
    """One hint that fits what was typed."""
    if order_id.isdigit() and len(order_id) <= 9:
        return (
            f"{code(order_id)} looks like an order's sequence number, not its id: ask with `seq` in front "
            f"(`/stuck seq{escape(order_id)}`)."
        )
    if order_id.isdigit() and 10 <= len(order_id) <= 13:
        return f"VTEX order ids end in a suffix: did you mean {code(order_id + '-01')}?"
    return None


def usage_message(problem: str | None = None) -> Message:
    lead = f":thinking_face: {problem}\n" if problem else ""
    text = (
        f"{lead}*Ask me why an order is stuck:*\n"
        "• `/stuck 1172452900788-01`\n• `/stuck why is order 1172452900788-01 stuck?`\n"
        f"• up to {MAX_IDS} ids at once: `/stuck 1172452900788-01 1172452900788-02`\n"
        "• mention me: `@unstuck why is order 1172452900788-01 stuck?`, or DM me\n"
        "• on any message: ⋮ More actions › *Why is this order stuck?*\n"
        f"Order ids look like {EXPECTED_FORMS}."
    )
    return Message((problem + " " if problem else "") + "Usage: /stuck ORDER-ID", [section(text)])


def looking_up(order_ids: list[str]) -> str:
    return ":mag: Looking up " + ", ".join(f"`{oid}`" for oid in order_ids) + " in VTEX…"


def notice(text: str) -> Message:
    return Message(cut(text, 3000), [section(text)])


# -- the partial invoice modal ----------------------------------------------------------------

MAX_LINES = 85  # a modal holds 100 blocks; the rest of the form takes at most 15


def loading_form(order_id: str, full: bool) -> dict[str, Any]:
    """Opened at once (the trigger id dies after 3 s); filled in once the order is re-read."""
    return {
        "type": "modal",
        "callback_id": FORM_CALLBACK,
        "title": plain("Add invoice" if full else "Add partial invoice", 24),
        "close": plain("Cancel", 24),
        "blocks": [section(f"Order *{escape(order_id)}*\n_Re-reading the order in VTEX…_")],
    }


def partial_form(state: FormState, ref: FormRef, now: datetime) -> dict[str, Any]:
    """The invoice form: its number, what it covers (items and charges), value, date and time, key and URL."""
    blocks = [
        section(_form_intro(state)),
        _input(
            "number_block",
            "Invoice number",
            {"type": "plain_text_input", "action_id": "number", "max_length": 50},
            hint="Exactly as on the invoice your ERP issued. Letters, digits and '-' only.",
        ),
        *_what_it_covers(state),
        *_the_rest_of_the_form(state, now),
    ]
    return {
        "type": "modal",
        "callback_id": FORM_CALLBACK,
        "title": plain("Add invoice" if state.full else "Add partial invoice", 24),
        "submit": plain("Review", 24),
        "close": plain("Cancel", 24),
        "private_metadata": ref.dumps(),
        "blocks": blocks[:100],
    }


def _form_intro(state: FormState) -> str:
    cur = state.currency.currency()
    order, missing, total = escape(state.order_id), cur.exact(state.missing), cur.exact(state.total)
    lead = (
        f"Order *{order}* has no invoice yet. Its value is *{missing}*."
        if state.full
        else f"Order *{order}* is missing *{missing}* of *{total}*."
    )
    return lead + (
        " Choose what this invoice covers, as on the fiscal document from your ERP. Nothing is sent until you "
        "review it."
    )


def _what_it_covers(state: FormState) -> list[Block]:
    """One quantity per open line (VTEX's unit prices), then the charges still owed."""
    cur = state.currency.currency()
    missing = cur.exact(state.missing)
    goods = sum(line.price * line.quantity for line in state.lines)
    fits = goods <= state.missing
    blocks: list[Block] = []
    if not state.lines:
        blocks.append(section(f"All items are already invoiced: what is missing ({missing}) is shipping or fees."))
    elif not fits:
        blocks.append(
            section(
                f"The items still open are worth {cur.exact(goods)}, more than the {missing} missing: the invoices "
                "on the order already count more than their own items. Send the missing amount without items, or "
                f"with items worth at most {missing}."
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
        label = f"{line.name or 'Item'} · SKU {line.sku} · {_units(line.quantity)} open, {cur.exact(line.price)} each"
        hint = f"How many this invoice covers: 0 to {line.quantity}." + (
            "" if fits else f" All the items chosen may be worth at most {missing}."
        )
        blocks.append(_input(f"item_{n}", label, element, hint=hint))
    if len(state.lines) > MAX_LINES:
        blocks.append(
            context(f"{len(state.lines) - MAX_LINES} more item lines are not shown; invoice them separately.")
        )
    if state.other > 0:
        what = "Shipping and other charges still owed" if fits else "The missing amount without items"
        option = {"text": plain(f"{what}: {cur.exact(state.other)}", 75), "value": "yes"}
        element = {"type": "checkboxes", "action_id": "other", "options": [option], "initial_options": [option]}
        blocks.append(_input("other_block", "Charges", element, optional=True))
    return blocks


def _the_rest_of_the_form(state: FormState, now: datetime) -> list[Block]:
    cur, zone = state.currency.currency(), state.zone
    key_hint = (
        "The NF-e access key: 44 digits."
        if cur.code == "BRL"
        else "The fiscal access key, if your country has one; some marketplaces require it."
    )
    return [
        _input(
            "value_block",
            f"Value ({cur.symbol})",
            {"type": "plain_text_input", "action_id": "value", "max_length": 20},
            optional=True,
            hint=f"Leave empty: the value is what you chose above (at most {cur.exact(state.missing)}). "
            "Enter a lower value only to match your ERP's rounding.",
        ),
        _input(
            "date_block",
            f"Issuance date ({zone})",
            {"type": "datepicker", "action_id": "date", "initial_date": now.strftime("%Y-%m-%d")},
        ),
        _input(
            "time_block",
            f"Issuance time ({zone})",
            {"type": "timepicker", "action_id": "time"},
            hint="As printed on the invoice.",
        ),
        _input(
            "key_block",
            "Invoice key",
            {"type": "plain_text_input", "action_id": "key", "max_length": 100},
            optional=True,
            hint=key_hint,
        ),
        _input(
            "url_block",
            "Invoice URL",
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
        "the order should move to *Invoiced*."
        if after >= state.total
        else f"{cur.exact(state.total - after)} will still be missing."
    )
    shown = json.dumps(request.to_json(), indent=1, ensure_ascii=False)
    names: dict[tuple[int | None, int], str] = {(line.index, line.price): line.name for line in state.lines}
    lines = [
        f"• {item.quantity} × {escape(names.get((item.index, item.price)) or 'item')} (SKU {escape(item.id)}) at "
        f"{cur.exact(item.price)} = {cur.exact(item.total)}"
        for item in request.items
    ]
    rest = request.invoice_value - request.items_total
    if rest:
        label = "Shipping and other charges" if request.items else "Not tied to any item"
        lines.append(f"• {label}: {cur.exact(rest)}")
    issued = request.issuance_date
    when = f"{issued:%d %b %Y, %H:%M} ({escape(state.zone)})"
    key = f"\n*Invoice key:* {escape(request.invoice_key)}" if request.invoice_key else ""
    url = f"\n*Invoice URL:* {escape(request.invoice_url)}" if request.invoice_url else ""
    blocks = [
        section(":warning: *Check before sending.* An invoice cannot be taken back."),
        section(
            f"*Invoice {escape(request.invoice_number)}* for order {escape(state.order_id)}: "
            f"*{cur.exact(request.invoice_value)}*, issued {when}{key}{url}"
        ),
        section(cut("\n".join(lines), 2900) if lines else "No items and no charges."),
        section(f"Invoiced after this: {cur.exact(after)} of {cur.exact(state.total)}; {outcome}"),
        section(
            "*Exactly what will be posted to VTEX* (amounts in cents, as its API takes them):\n"
            f"```{cut(escape(shown), 2700)}```"
        ),
        context("Back returns to the form. The bot re-reads the order and sends this once."),
    ]
    return {
        "type": "modal",
        "callback_id": CONFIRM_CALLBACK,
        "title": plain("Review invoice", 24),
        "submit": plain("Send to VTEX", 24),
        "close": plain("Back", 24),
        "private_metadata": ref.dumps(),
        "blocks": blocks,
    }


def _units(n: int) -> str:
    return "1 unit" if n == 1 else f"{n} units"


def notice_view(title: str, text: str) -> dict[str, Any]:
    return {"type": "modal", "title": plain(title, 24), "close": plain("Close", 24), "blocks": [section(text)]}


# -- App Home ------------------------------------------------------------------------------------


def home_view(actions: list[dict[str, Any]], *, is_operator: bool, operators_configured: bool) -> dict[str, Any]:
    """Who you are here, how to ask, and the recent invoice actions: one row each, in its final state."""
    if is_operator:
        role = ":white_check_mark: You are an *operator*: you can ask, and press the invoice buttons."
    elif operators_configured:
        role = (
            ":eyes: You can ask why orders are stuck; only the team's operators press the invoice buttons. "
            "Ask whoever runs the bot to make you one."
        )
    else:
        role = ":lock: Nobody can press invoice buttons yet: whoever runs the bot has not named the team's operators."
    blocks: list[Block] = [
        {"type": "header", "text": plain("unstuck: why is my VTEX order stuck?", 150)},
        section(role),
        section(
            "*How to ask:* `/stuck 1172452900788-01`, mention `@unstuck` with the order id, DM me, or use "
            "*Why is this order stuck?* on any message."
        ),
        {"type": "divider"},
        {"type": "header", "text": plain("Recent invoice actions", 150)},
    ]
    if not actions:
        blocks.append(context("No invoice actions yet."))
    for row in actions[:40]:
        blocks.append(section(_home_row(row)))
    return {"type": "home", "blocks": blocks[:100]}


_STATE_WORDS = {
    "succeeded": (":white_check_mark:", "sent"),
    "failed": (":x:", "not sent"),
    "refused": (":no_entry_sign:", "not sent"),
    "pending": (":hourglass_flowing_sand:", "sending"),
    "unknown": (":grey_question:", "waiting for VTEX to confirm"),
}


def _home_row(row: dict[str, Any]) -> str:
    icon, state = _STATE_WORDS.get(str(row.get("state")), ("•", escape(row.get("state") or "")))
    what = "Resend of invoice" if row.get("action") == RESEND else "Invoice"
    number = escape(row.get("invoice_number") or "")
    amount = f" · {escape(row['amount_text'])}" if row.get("amount_text") else ""
    at = datetime.fromisoformat(row["updated_at"])
    return (
        f"{icon} {what} *{number}*{amount} on {code(row['order_id'])}: *{state}* · "
        f"{mention(row.get('user_id'))} · {slack_date(at)}"
    )


def outcome_line(state: str, message: str, user_id: str, at: datetime) -> str:
    icon = {
        "succeeded": ":white_check_mark:",
        "failed": ":x:",
        "refused": ":no_entry_sign:",
        "stale": ":arrows_counterclockwise:",
        "duplicate": ":repeat:",
        "unknown": ":grey_question:",
    }.get(state, "•")
    return f"{icon} {message}\n_{mention(user_id)} · {slack_date(at)}_"


ACTION_IDS = (RESEND, ADD_PARTIAL)


# -- the radar -----------------------------------------------------------------------------------------

RADAR_MENU = "radar_menu"
RADAR_CHOICES = (
    ("snooze-1h", "Snooze for 1 hour"),
    ("snooze-1d", "Snooze for 1 day"),
    ("mute-status", "Mute this status"),
)


def radar_alert(answer: Answer, account: str, *, stuck_since: datetime, now: datetime) -> Message:
    """The answer's card, led by how long the order has been stuck, with a menu to snooze or mute."""
    d = answer.diagnosis
    card = order_card(answer, account, now=now)
    blocks = list(card.blocks)
    blocks[0] = {"type": "header", "text": plain(f"Stuck: order {d.order_id} · {d.status_name}", 150)}
    stuck_for = humanize(d.age)
    blocks.insert(
        1,
        context(
            f":rotating_light: The radar found it: in {escape(d.status_name)} for {stuck_for} "
            f"({_normally(d)}), stuck since {slack_date(stuck_since)}."
        ),
    )
    menu = {
        "type": "overflow",
        "action_id": RADAR_MENU,
        "options": [
            {"text": plain(label, 75), "value": cut(f"{choice}|{d.order_id}|{d.status or ''}", 75)}
            for choice, label in RADAR_CHOICES
        ],
    }
    actions = next((b for b in blocks if b.get("type") == "actions"), None)
    if actions is None:
        blocks.insert(len(blocks) - 1, {"type": "actions", "block_id": ACTIONS_BLOCK, "elements": [menu]})
    else:
        actions["elements"] = [*actions["elements"], menu]
    return Message(cut(f"Stuck for {stuck_for}: {card.text}", 3000), blocks[:50])


def radar_resolved(alert: Any, answer: Answer, fixed_by: dict[str, Any] | None = None) -> Message:
    d = answer.diagnosis
    _, said, _ = verdict(d, answer.order)
    text = (
        f":white_check_mark: Order {escape(alert.order_id)} is no longer stuck in {escape(alert.status_name or '')}: "
        f"it is now *{escape(d.status_name)}*."
    )
    if fixed_by:  # the fix made from the alert (or a card) keeps its credit
        what = "resent" if fixed_by.get("action") == RESEND else "sent"
        text += (
            f" {mention(fixed_by.get('user_id'))} {what} invoice {escape(fixed_by.get('invoice_number') or '')}"
            + (f" ({escape(fixed_by['amount_text'])})" if fixed_by.get("amount_text") else "")
            + "."
        )
    return Message(
        cut(f"Order {alert.order_id} is no longer stuck.", 3000),
        [
            {"type": "header", "text": plain(f"Resolved: order {alert.order_id}", 150)},
            section(text),
            context(said),
        ],
    )


def radar_summary(alerts: list[Any], now: datetime, *, title: str = "Stuck now") -> list[Block]:
    """Counts per status and the oldest stuck orders, for `/stuck radar`, App Home and the digest."""
    if not alerts:
        return [section(f"*{title}:* no stuck orders. :tada:")]
    counts: dict[str, int] = {}
    for alert in alerts:
        counts[alert.status_name or alert.status or "?"] = counts.get(alert.status_name or alert.status or "?", 0) + 1
    per_status = " · ".join(f"{escape(name)}: {n}" for name, n in sorted(counts.items(), key=lambda kv: -kv[1]))
    oldest = [
        f"• {code(a.order_id)} {escape(a.status_name or '')}, stuck "
        + (f"since {slack_date(a.stuck_since)}" if a.stuck_since else "")
        for a in alerts[:10]
    ]
    more = f"\n…and {len(alerts) - 10} more" if len(alerts) > 10 else ""
    return [section(f"*{title}: {len(alerts)} order(s)* — {per_status}"), section("\n".join(oldest) + more)]


def radar_digest(alerts: list[Any], now: datetime) -> Message:
    blocks = [{"type": "header", "text": plain("Stuck orders today", 150)}, *radar_summary(alerts, now, title="Open")]
    return Message(f"{len(alerts)} stuck order(s) today.", blocks)

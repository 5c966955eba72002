"""Block Kit builders: pure functions from answers and outcomes to Slack messages and views.

Every string is cut to Slack's limits here (header 150, section 3000, field 2000, button text 75,
value 2000, confirm text 300, modal title 24, private_metadata 3000) so no listener can produce a
payload Slack rejects.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from bot.diagnosis import ADD_PARTIAL, RESEND, OfferedAction, humanize
from bot.errors import RateLimited, Unavailable, VtexError
from bot.lookup import Answer
from bot.money import Currency
from bot.order_ids import EXPECTED_FORMS

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


def slack_date(moment: datetime) -> str:
    """Rendered in each reader's own time zone by Slack; the fallback is UTC."""
    stamp = int(moment.timestamp())
    return f"<!date^{stamp}^{{date_short_pretty}} at {{time}}|{moment.strftime('%Y-%m-%d %H:%M UTC')}>"


def admin_url(account: str, order_id: str) -> str:
    return f"https://{account}.myvtex.com/admin/orders/{order_id}"


def escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def currency_meta(currency: Currency) -> dict[str, Any]:
    return {
        "sy": currency.symbol,
        "dd": currency.decimal_digits,
        "ds": currency.decimal_separator,
        "gs": currency.group_separator,
        "sf": currency.symbol_first,
    }


def currency_from(meta: dict[str, Any]) -> Currency:
    return Currency(
        symbol=str(meta.get("sy", "$")),
        decimal_digits=int(meta.get("dd", 2)),
        decimal_separator=str(meta.get("ds", ".")),
        group_separator=str(meta.get("gs", ",")),
        symbol_first=bool(meta.get("sf", True)),
    )


# -- the answer card ---------------------------------------------------------------------------


def order_card(
    answer: Answer,
    account: str,
    *,
    outcome: str | None = None,
    show_actions: bool = True,
    status_line: str | None = None,
) -> Message:
    d, o = answer.diagnosis, answer.order
    money = o.money
    icon = ":large_green_circle:" if d.status == "invoiced" else ":red_circle:" if d.stuck else ":large_blue_circle:"
    blocks: list[Block] = [{"type": "header", "text": plain(f"Order {d.order_id} · {d.status_name}", 150)}]

    when = ""
    if d.since:
        when = f"\n*Since:* {slack_date(d.since)} ({humanize(d.age)} ago"
        when += f"; normally under {humanize(d.expected)})" if d.stuck else ")"
    stuck = "*Looks stuck.* " if d.stuck else ""
    blocks.append(section(f"{icon} {stuck}*Waiting for:* {escape(d.waiting_for)}{when}"))

    inv = d.invoices
    fields = [
        mrkdwn(f"*Order total (with shipping)*\n{money(inv.order_value)}"),
        mrkdwn(
            f"*Invoiced*\n{money(inv.invoiced)}" + (f" ({inv.output_count} invoices)" if inv.output_count > 1 else "")
        ),
        mrkdwn(f"*Missing*\n{money(inv.missing)}" + (" · :warning: over-invoiced" if inv.over_invoiced else "")),
    ]
    if inv.returned:
        fields.append(mrkdwn(f"*Returns (not counted)*\n{money(inv.returned)}"))
    blocks.append({"type": "section", "fields": fields})
    blocks.append(section(f"*Next step:* {escape(d.next_step)}"))
    for note in d.notes[:3]:
        blocks.append(context(f":information_source: {note}"))
    if d.no_action_reason:
        blocks.append(section(f":no_entry_sign: *No invoice button:* {escape(d.no_action_reason)}"))
    if d.support_quote:
        blocks.append(section(f"*Tell VTEX support:*\n```{d.support_quote.replace('`', '')}```"))

    if answer.guidance:
        g = answer.guidance
        blocks.append({"type": "divider"})
        head = f"*FAQ: <{g.url}|{escape(g.title)}>*\n"
        blocks.append(section(head + cut(g.text, 2900 - len(head))))

    blocks.append(
        context(
            f"<{admin_url(account, d.order_id)}|Open in VTEX Admin> · VTEX status `{d.status}` · account `{account}`"
        )
    )
    if status_line:
        blocks.append(context(status_line))
    if outcome:
        blocks.append(section(outcome))
    if show_actions and d.actions:
        blocks.append(
            {"type": "actions", "block_id": ACTIONS_BLOCK, "elements": [action_button(a, answer) for a in d.actions]}
        )

    text = f"{d.summary} Total {money(inv.order_value)}, invoiced {money(inv.invoiced)}, missing {money(inv.missing)}."
    if d.actions:
        text += " Suggested: " + ", ".join(_action_phrase(a, answer) for a in d.actions) + "."
    return Message(cut(text, 3000), blocks[:50])


def _action_phrase(action: OfferedAction, answer: Answer) -> str:
    if action.kind == RESEND:
        return f"resend invoice {action.invoice_number} ({answer.order.money(action.amount)})"
    return f"{action.label.lower()} of {answer.order.money(action.amount)}"


def action_button(action: OfferedAction, answer: Answer) -> Block:
    o = answer.order
    amount = o.money(action.amount)
    if action.kind == RESEND:
        value = {"o": o.order_id, "n": action.invoice_number, "a": action.amount}
        confirm = {
            "title": plain("Resend this invoice?", 100),
            "text": mrkdwn(
                f"Send invoice *{action.invoice_number}* ({amount}) to VTEX again for order "
                f"{o.order_id}. The bot re-reads the order first and sends it once.",
                300,
            ),
            "confirm": plain(f"Resend {action.invoice_number}", 30),
            "deny": plain("Cancel", 30),
        }
        text, style = f"Resend invoice {action.invoice_number}", "primary"
    else:
        value = {
            "o": o.order_id,
            "n": action.invoice_number,
            "a": action.amount,
            "f": int(action.full),
            "t": o.value,
            "c": currency_meta(o.currency),
        }
        what = "an invoice for the full value" if action.full else "a partial invoice for the missing amount"
        number = f" (suggested number {action.invoice_number})" if action.invoice_number else ""
        confirm = {
            "title": plain("Add an invoice?", 100),
            "text": mrkdwn(
                f"Open a form to send {what}, *{amount}*{number}, for order {o.order_id}. You "
                "review the exact invoice before anything is sent.",
                300,
            ),
            "confirm": plain("Open the form", 30),
            "deny": plain("Cancel", 30),
        }
        text, style = (f"Add invoice of {amount}" if action.full else f"Add partial invoice of {amount}"), "primary"
    return {
        "type": "button",
        "action_id": action.kind,
        "text": plain(text, 75),
        "style": style,
        "value": cut(json.dumps(value, separators=(",", ":")), 2000),
        "confirm": confirm,
    }


def error_card(order_id: str | None, error: VtexError) -> Message:
    what = {
        "OrderNotFound": "Double-check the id. Marketplace and seller orders have different ids.",
        "Forbidden": "Nothing you can fix from Slack: ask a VTEX admin to grant the permission above.",
        "Unauthorized": "Nothing you can fix from Slack: whoever runs the bot must check its VTEX keys.",
    }.get(type(error).__name__, "")
    if isinstance(error, (RateLimited, Unavailable)) and error.retry_after:
        what = f"Try again in about {max(int(error.retry_after), 1)} seconds."
    title = f"{error.title}" + (f": {order_id}" if order_id else "")
    blocks = [section(f":warning: *{escape(title)}*\n{escape(str(error))}")]
    if what:
        blocks.append(context(what))
    return Message(cut(f"{title}. {error}", 3000), blocks)


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


def partial_form(
    meta: dict[str, Any], now: datetime, *, loading: bool = False, values: dict[str, str] | None = None
) -> dict[str, Any]:
    cur = currency_from(meta.get("c", {}))
    missing, total = int(meta["a"]), int(meta.get("t", 0) or 0)
    full = bool(meta.get("f"))
    values = values or {}
    intro = (
        f"Order *{meta['o']}* has no invoice yet. Its value is *{cur.format(missing)}*."
        if full
        else f"Order *{meta['o']}* is missing *{cur.format(missing)}*"
        + (f" of *{cur.format(total)}*." if total else ".")
    )
    intro += " Nothing is sent until you review it on the next screen."
    if loading:
        intro += "\n_Re-reading the order in VTEX…_"
    blocks = [
        section(intro),
        _input(
            "number_block",
            "Invoice number",
            {
                "type": "plain_text_input",
                "action_id": "number",
                "max_length": 50,
                **_initial(values.get("number") or meta.get("n")),
            },
            hint="From your ERP. Letters, digits and '-' only, different from every invoice on the order.",
        ),
        _input(
            "value_block",
            f"Value ({cur.symbol})",
            {
                "type": "plain_text_input",
                "action_id": "value",
                "max_length": 20,
                **_initial(values.get("value") or cur.plain(missing)),
            },
            hint=f"At most {cur.format(missing)}.",
        ),
        _input(
            "date_block",
            "Issuance date (UTC)",
            {"type": "datepicker", "action_id": "date", "initial_date": values.get("date") or now.strftime("%Y-%m-%d")},
        ),
        _input(
            "time_block",
            "Issuance time (UTC)",
            {"type": "timepicker", "action_id": "time", "initial_time": values.get("time") or now.strftime("%H:%M")},
        ),
        _input(
            "key_block",
            "Invoice key",
            {"type": "plain_text_input", "action_id": "key", "max_length": 100, **_initial(values.get("key"))},
            optional=True,
            hint="Fiscal access key (e.g. the NF-e key); some marketplaces require it.",
        ),
        _input(
            "url_block",
            "Invoice URL",
            {"type": "plain_text_input", "action_id": "url", "max_length": 2000, **_initial(values.get("url"))},
            optional=True,
        ),
    ]
    return {
        "type": "modal",
        "callback_id": FORM_CALLBACK,
        "title": plain("Add invoice" if full else "Add partial invoice", 24),
        "submit": plain("Review", 24),
        "close": plain("Cancel", 24),
        "private_metadata": cut(json.dumps(meta, separators=(",", ":")), 3000),
        "blocks": blocks,
    }


def _initial(value: str | None) -> dict[str, str]:
    return {"initial_value": value} if value else {}


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


def partial_preview(meta: dict[str, Any], body: dict[str, Any], invoiced_before: int, total: int) -> dict[str, Any]:
    cur = currency_from(meta.get("c", {}))
    after = invoiced_before + int(body["invoiceValue"])
    outcome = (
        "the order should move to *Invoiced*."
        if after >= total
        else f"{cur.format(total - after)} will still be missing."
    )
    shown = json.dumps(body, indent=1, ensure_ascii=False)
    blocks = [
        section(":warning: *Check before sending.* An invoice cannot be taken back."),
        {
            "type": "section",
            "fields": [
                mrkdwn(f"*Order*\n{meta['o']}"),
                mrkdwn(f"*Invoice number*\n{escape(body['invoiceNumber'])}"),
                mrkdwn(f"*Value*\n{cur.format(int(body['invoiceValue']))}"),
                mrkdwn(f"*Invoiced after this*\n{cur.format(after)} of {cur.format(total)}"),
            ],
        },
        section(f"After it, {outcome}"),
        section(f"*Exactly what will be posted to VTEX:*\n```{cut(escape(shown), 2800)}```"),
        context("Back returns to the form. The bot re-reads the order and sends this once."),
    ]
    return {
        "type": "modal",
        "callback_id": CONFIRM_CALLBACK,
        "title": plain("Review invoice", 24),
        "submit": plain("Send to VTEX", 24),
        "close": plain("Back", 24),
        "private_metadata": cut(json.dumps(meta, separators=(",", ":")), 3000),
        "blocks": blocks,
    }


def notice_view(title: str, text: str) -> dict[str, Any]:
    return {"type": "modal", "title": plain(title, 24), "close": plain("Close", 24), "blocks": [section(text)]}


# -- App Home ------------------------------------------------------------------------------------


def home_view(rows: list[dict[str, Any]], *, is_operator: bool, operators_configured: bool) -> dict[str, Any]:
    if is_operator:
        role = ":white_check_mark: You are an *operator*: you can ask, and press the invoice buttons."
    elif operators_configured:
        role = ":eyes: You are a *viewer*: you can ask why orders are stuck; an operator presses the buttons."
    else:
        role = (
            ":lock: *No operators are configured*, so nobody can press invoice buttons yet. Whoever runs the "
            "bot sets `UNSTUCK_OPERATORS` to Slack user or user-group ids."
        )
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
    if not rows:
        blocks.append(context("No invoice actions yet."))
    for row in rows[:40]:
        inputs = json.loads(row["inputs"]) if row.get("inputs") else {}
        icon = {
            "succeeded": ":white_check_mark:",
            "failed": ":x:",
            "refused": ":no_entry_sign:",
            "duplicate": ":repeat:",
            "pending": ":hourglass_flowing_sand:",
        }.get(row["outcome"], "•")
        at = datetime.fromisoformat(row["at"])
        what = (row["action"] or "").replace("_", " ")
        number = f" {inputs.get('invoice_number')}" if inputs.get("invoice_number") else ""
        receipt = f" · receipt `{row['receipt']}`" if row.get("receipt") else ""
        blocks.append(
            section(
                f"{icon} *{row['outcome']}* · {what}{escape(number)} on `{row['order_id']}` by "
                f"<@{row['user_id']}> · {slack_date(at)}{receipt}"
            )
        )
    return {"type": "home", "blocks": blocks[:100]}


def outcome_line(state: str, message: str, user_id: str, at: datetime) -> str:
    icon = {
        "succeeded": ":white_check_mark:",
        "failed": ":x:",
        "refused": ":no_entry_sign:",
        "stale": ":arrows_counterclockwise:",
        "duplicate": ":repeat:",
        "unknown": ":grey_question:",
    }.get(state, "•")
    return f"{icon} {escape(message)}\n_<@{user_id}> · {slack_date(at)}_"


ACTION_IDS = (RESEND, ADD_PARTIAL)

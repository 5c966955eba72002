"""What the card says for each situation: one table, so a new situation is one entry (and one test).

Each entry is the verdict (one sentence, the one thing to do), the reason behind it, and which of the
help-center article's bullets apply. Templates take their values from `facts()`; every value that comes
from VTEX is escaped there, so the templates themselves may use mrkdwn.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from bot.diagnosis import Diagnosis, Situation, humanize
from bot.mrkdwn import escape
from bot.order import Order


@dataclass(frozen=True)
class Wording:
    icon: str
    verdict: str
    reason: str
    # Words that pick the article bullets that apply (in English, Portuguese and Spanish articles).
    keywords: tuple[str, ...] = ()


TABLE: dict[Situation, Wording] = {
    Situation.RESEND: Wording(
        ":arrows_counterclockwise:",
        "Invoices already cover the total: resend invoice *{number}* so VTEX checks the order again.",
        "{invoices_cover} the whole {total}, yet VTEX has not moved the order to Invoiced.",
        ("resend", "again", "reenv", "novamente", "de nuevo", "cover"),
    ),
    Situation.PARTIAL: Wording(
        ":heavy_plus_sign:",
        "Short by *{missing}*: add a partial invoice for what is missing.",
        "Output invoices add up to {invoiced} of {total}; VTEX moves the order on only when they reach the total.",
        ("partial", "parcial", "fall short", "missing", "falt"),
    ),
    Situation.FIRST_INVOICE: Wording(
        ":page_facing_up:",
        "No invoice yet: add one for the full *{total}*.",
        "VTEX waits for the invoice to move the order from {status} to Invoiced ({age} so far).",
        ("no invoice", "full value", "valor total", "nenhuma", "ninguna", "sem nota"),
    ),
    Situation.READY_FOR_HANDLING: Wording(
        ":large_yellow_circle:",
        "Start handling if your ERP never picked the order up; if it did, add the invoice.",
        "VTEX documents both readings of Ready for handling. {invoice_state}",
        ("start handling", "handling", "erp", "manuseio", "preparación", "iniciar"),
    ),
    Situation.CANCEL_REQUESTED: Wording(
        ":question:",
        "Cancellation requested: confirm it in the Admin, or send the invoice to go on with the order.",
        "{invoice_state}",
        ("cancel", "invoice", "cancela", "nota fiscal", "factura"),
    ),
    Situation.OVER_INVOICED: Wording(
        ":warning:",
        "Over-invoiced by *{excess}*: do not add more invoices.",
        "Output invoices add up to {invoiced}, more than the order's {total}; check them with your ERP and ask "
        "VTEX support to correct them.",
        ("exceed", "more than"),
    ),
    Situation.BAD_INVOICE_NUMBER: Wording(
        ":warning:",
        "Invoice *{number}* cannot move the order: its number holds spaces, '/' or other symbols.",
        "Correct it with your ERP and ask VTEX support to replace it; resending it cannot help.",
        ("letters", "digits", "symbol", "caracter"),
    ),
    Situation.WORKFLOW_ERROR: Wording(
        ":rotating_light:",
        "Workflow error: VTEX's flow stopped on this order; open a ticket with VTEX support.",
        "Automatic retries cannot clear it and an invoice will not either. Quote this:",
        ("workflow", "error", "erro"),
    ),
    Situation.OTHER_SELLER: Wording(
        ":handshake:",
        "Another seller must invoice: *{sellers}* sends the invoice on its own order {seller_order}.",
        "An invoice on this marketplace order would not count.",
        ("seller", "vendedor", "marketplace"),
    ),
    Situation.WAITING_PAYMENT: Wording(
        ":hourglass_flowing_sand:",
        "Waiting for payment: {payment} is not confirmed yet, so there is nothing to invoice.",
        "In {status} for {age}{normally}.",
        ("payment", "pagamento", "pago", "boleto"),
    ),
    Situation.NOTHING_TO_INVOICE: Wording(
        ":white_circle:",
        "Nothing to invoice: the order's value is zero.",
        "An invoice needs a value above zero; read the order's history in the VTEX Admin.",
    ),
    Situation.CANCELED: Wording(
        ":black_circle:",
        "Canceled{cancel_reason}: nothing to fix.",
        "A canceled order cannot change its status.",
    ),
    Situation.INVOICED: Wording(
        ":large_green_circle:",
        "Invoiced: nothing to fix.",
        "Its invoices add up to the total. If the customer sees no tracking, add the tracking number to the invoice.",
        ("tracking", "rastreio", "seguimiento"),
    ),
    Situation.STUCK_ELSEWHERE: Wording(
        ":red_circle:",
        "Stuck in {status} for {age} (normally under {expected}): {next_step}",
        "{no_invoice_reason}",
        (),
    ),
    Situation.NOT_STUCK: Wording(
        ":large_blue_circle:",
        "Not stuck: waiting for {waiting_for}.",
        "In {status} for {age}{normally}.",
        (),
    ),
    Situation.UNKNOWN_STATUS: Wording(
        ":grey_question:",
        "Unknown status {status_code}: read the order's history in the VTEX Admin.",
        "The bot does not know this status, so it offers no fix.",
    ),
}


def facts(d: Diagnosis, order: Order) -> dict[str, Any]:
    """Every value a template may use, already safe for mrkdwn."""
    money = order.money
    latest = next((a.invoice_number for a in d.actions if a.invoice_number), None)
    count = d.invoices.output_count
    invoice_state = (
        "No invoice is on the order yet."
        if count == 0
        else f"Output invoices cover {money(d.invoices.invoiced)} of {money(d.invoices.order_value)}."
    )
    payment = ", ".join(
        f"{escape(p.payment_system_name or p.group or 'the payment')} of {money(p.value)}" for p in order.payments
    )
    return {
        "status": escape(d.status_name),
        "status_code": f"`{escape(d.status or 'none')}`",
        "age": humanize(d.age),
        "expected": humanize(d.expected),
        "normally": f" (normally under {humanize(d.expected)})" if d.expected else "",
        "total": money(d.invoices.order_value),
        "invoiced": money(d.invoices.invoiced),
        "missing": money(d.invoices.missing),
        "excess": money(max(d.invoices.invoiced - d.invoices.order_value, 0)),
        "number": escape(latest or _latest_number(order)),
        "invoices_cover": f"The {count} Output invoices add up to" if count > 1 else "The Output invoice covers",
        "invoice_state": invoice_state,
        "sellers": escape(", ".join(s.name or s.id for s in order.external_sellers) or "the seller"),
        "seller_order": f"`{escape(order.seller_order_id)}`" if order.seller_order_id else "",
        "payment": payment or "the payment",
        "cancel_reason": f" ({escape(order.cancel_reason)})" if order.cancel_reason else "",
        "waiting_for": escape(d.waiting_for),
        "next_step": escape(d.next_step),
        "no_invoice_reason": escape(d.no_action_reason or ""),
    }


def _latest_number(order: Order) -> str:
    outputs = order.output_invoices
    return outputs[-1].invoice_number if outputs else ""


def verdict(d: Diagnosis, order: Order) -> tuple[str, str, str]:
    """(icon, verdict sentence, reason) for this order, in mrkdwn."""
    wording = TABLE[d.situation]
    values = facts(d, order)
    return wording.icon, wording.verdict.format(**values), wording.reason.format(**values)


def bullets_for(situation: Situation, bullets: list[str], limit: int = 1) -> list[str]:
    """The article bullets that apply to this situation (none when nothing matches: the link stays)."""
    words = TABLE[situation].keywords
    if not words:
        return []
    chosen = [b for b in bullets if any(w in b.lower() for w in words)]
    return chosen[:limit]

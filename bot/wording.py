"""What the card says for each situation: one table, so a new situation is one entry (and one test).

Each entry is the verdict (one sentence, the one thing to do), the reason behind it, and which of the
help-center article's bullets apply. Templates take their values from `facts()`; every value that comes
from VTEX is escaped there, so the templates themselves may use mrkdwn.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from bot.diagnosis import Diagnosis, Situation
from bot.i18n import N_, _, current, duration, ngettext
from bot.mrkdwn import escape
from bot.order import Order
from bot.status_names import ADMIN_NAMES


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
        N_("Invoices already cover the total: resend invoice *{number}* so VTEX checks the order again."),
        N_("{invoices_cover}, yet VTEX has not moved the order to Invoiced."),
        ("resend", "again", "reenv", "novamente", "de novo", "de nuevo", "otra vez", "cover"),
    ),
    Situation.PARTIAL: Wording(
        ":heavy_plus_sign:",
        N_("Short by *{missing}*: add a partial invoice for what is missing."),
        N_("Output invoices add up to {invoiced} of {total}; VTEX moves the order on only when they reach the total."),
        ("partial", "parcial", "fall short", "missing", "falt"),
    ),
    Situation.FIRST_INVOICE: Wording(
        ":page_facing_up:",
        N_("No invoice yet: add one for the full *{total}*."),
        N_("VTEX waits for the invoice to move the order from {status} to Invoiced ({age} so far)."),
        ("no invoice", "full value", "valor total", "nenhuma", "ninguna", "sem nota", "sin factura"),
    ),
    Situation.READY_FOR_HANDLING: Wording(
        ":large_yellow_circle:",
        N_("Start handling if your ERP never picked the order up; if it did, add the invoice."),
        N_("VTEX documents both readings of Ready for handling. {invoice_state}"),
        ("start handling", "handling", "erp", "manuseio", "preparación", "iniciar"),
    ),
    Situation.CANCEL_REQUESTED: Wording(
        ":question:",
        N_("Cancellation requested: confirm it in the Admin, or send the invoice to go on with the order."),
        N_("{invoice_state}"),
        ("cancel", "invoice", "cancela", "nota fiscal", "fiscais", "factura"),
    ),
    Situation.OVER_INVOICED: Wording(
        ":warning:",
        N_("Over-invoiced by *{excess}*: do not add more invoices."),
        N_(
            "Output invoices add up to {invoiced}, more than the order's {total}; check them with your ERP and ask "
            "VTEX support to correct them."
        ),
        ("exceed", "more than", "excede", "mais do que", "más de", "más que"),
    ),
    Situation.BAD_INVOICE_NUMBER: Wording(
        ":warning:",
        N_("Invoice *{number}* cannot move the order: its number holds spaces, '/' or other symbols."),
        N_("Correct it with your ERP and ask VTEX support to replace it; resending it cannot help."),
        ("letters", "digits", "symbol", "caracter", "letras", "símbolo", "simbolo"),
    ),
    Situation.WORKFLOW_ERROR: Wording(
        ":rotating_light:",
        N_("Workflow error: VTEX's flow stopped on this order; open a ticket with VTEX support."),
        N_("Automatic retries cannot clear it and an invoice will not either. Quote this:"),
        ("workflow", "error", "erro"),
    ),
    Situation.OTHER_SELLER: Wording(
        ":handshake:",
        N_("Another seller must invoice: *{sellers}* sends the invoice on its own order {seller_order}."),
        N_("An invoice on this marketplace order would not count."),
        ("seller", "vendedor", "marketplace"),
    ),
    Situation.WAITING_PAYMENT: Wording(
        ":hourglass_flowing_sand:",
        N_("Waiting for payment: {payment} is not confirmed yet, so there is nothing to invoice."),
        N_("In {status} for {age}{normally}."),
        ("payment", "pagamento", "pago", "boleto", "pix"),
    ),
    Situation.NOTHING_TO_INVOICE: Wording(
        ":white_circle:",
        N_("Nothing to invoice: the order's value is zero."),
        N_("An invoice needs a value above zero; read the order's history in the VTEX Admin."),
    ),
    Situation.CANCELED: Wording(
        ":black_circle:",
        N_("Canceled{cancel_reason}: nothing to fix."),
        N_("A canceled order cannot change its status."),
    ),
    Situation.INVOICED: Wording(
        ":large_green_circle:",
        N_("Invoiced: nothing to fix."),
        N_(
            "Its invoices add up to the total. If the customer sees no tracking, add the tracking number to the "
            "invoice."
        ),
        ("tracking", "rastre", "seguimiento"),
    ),
    Situation.STUCK_ELSEWHERE: Wording(
        ":red_circle:",
        N_("Stuck in {status} for {age} (normally under {expected}): {next_step}"),
        N_("{no_invoice_reason}"),
        (),
    ),
    Situation.NOT_STUCK: Wording(
        ":large_blue_circle:",
        N_("Not stuck: waiting for {waiting_for}."),
        N_("In {status} for {age}{normally}."),
        (),
    ),
    Situation.UNKNOWN_STATUS: Wording(
        ":grey_question:",
        N_("Unknown status {status_code}: read the order's history in the VTEX Admin."),
        N_("The bot does not know this status, so it offers no fix."),
    ),
}


def facts(d: Diagnosis, order: Order) -> dict[str, Any]:
    """Every value a template may use, already safe for mrkdwn, in the reply's language."""
    money = order.money
    latest = next((a.invoice_number for a in d.actions if a.invoice_number), None)
    count = d.invoices.output_count
    total = money(d.invoices.order_value)
    invoice_state = (
        _("No invoice is on the order yet.")
        if count == 0
        else _("Output invoices cover {invoiced} of {total}.").format(invoiced=money(d.invoices.invoiced), total=total)
    )
    payment = ", ".join(
        _("{payment_name} of {amount}").format(
            payment_name=escape(p.payment_system_name or p.group or _("the payment")), amount=money(p.value)
        )
        for p in order.payments
    )
    return {
        "status": escape(status_name(d.status, d.status_name)),
        "status_code": f"`{escape(d.status or 'none')}`",
        "age": duration(d.age),
        "expected": duration(d.expected),
        "normally": _(" (normally under {expected})").format(expected=duration(d.expected)) if d.expected else "",
        "total": total,
        "invoiced": money(d.invoices.invoiced),
        "missing": money(d.invoices.missing),
        "excess": money(max(d.invoices.invoiced - d.invoices.order_value, 0)),
        "number": escape(latest or _latest_number(order)),
        "invoices_cover": ngettext(
            "The Output invoice covers the whole {total}", "The {n} Output invoices add up to the whole {total}", count
        ).format(total=total),
        "invoice_state": invoice_state,
        "sellers": escape(", ".join(s.name or s.id for s in order.external_sellers) or _("the seller")),
        "seller_order": f"`{escape(order.seller_order_id)}`" if order.seller_order_id else "",
        "payment": payment or _("the payment"),
        "cancel_reason": f" ({escape(order.cancel_reason)})" if order.cancel_reason else "",
        "waiting_for": escape(d.waiting_for),
        "next_step": escape(d.next_step),
        "no_invoice_reason": escape(d.no_action_reason or ""),
    }


def status_name(status: str | None, english: str) -> str:
    """The status as VTEX's Admin names it in the reply's language (the English name when it has none)."""
    return ADMIN_NAMES.get(current(), {}).get(status or "", english)


def _latest_number(order: Order) -> str:
    outputs = order.output_invoices
    return outputs[-1].invoice_number if outputs else ""


def verdict(d: Diagnosis, order: Order) -> tuple[str, str, str]:
    """(icon, verdict sentence, reason) for this order, in mrkdwn."""
    wording = TABLE[d.situation]
    values = facts(d, order)
    return wording.icon, _(wording.verdict).format(**values), _(wording.reason).format(**values)


def bullets_for(situation: Situation, bullets: list[str], limit: int = 1) -> list[str]:
    """The article bullets that apply to this situation (none when nothing matches: the link stays)."""
    words = TABLE[situation].keywords
    if not words:
        return []
    chosen = [b for b in bullets if any(w in b.lower() for w in words)]
    return chosen[:limit]

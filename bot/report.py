"""Plain-text rendering of an answer for terminals (`unstuck why`)."""

from __future__ import annotations

import re

from bot.diagnosis import INVOICE_SITUATIONS, RESEND
from bot.i18n import _, duration
from bot.lookup import Answer
from bot.mrkdwn import unescape
from bot.wording import status_name, verdict


def text_report(answer: Answer) -> str:
    """The card's verdict and facts, as plain text: the same situation every surface shows."""
    d, o = answer.diagnosis, answer.order
    said, reason = verdict(d, o)[1:]
    heading = (
        _("Order {order_id}: {status_name} ({status})")
        if d.status and d.status != d.status_name
        else _("Order {order_id}: {status_name}")
    )
    lines = [
        heading.format(order_id=d.order_id, status_name=status_name(d.status, d.status_name), status=d.status),
        f"  {_plain(said)}",
        f"  {_plain(reason)}",
    ]
    if d.stuck is True:
        lines.append(
            "  "
            + _("Looks stuck: {age} in this status (normally under {expected}).").format(
                age=duration(d.age), expected=duration(d.expected)
            )
        )
    elif d.stuck is False:
        lines.append(
            "  "
            + _("Not stuck yet: {age} in this status (normal is up to {expected}).").format(
                age=duration(d.age), expected=duration(d.expected)
            )
        )
    if d.since:
        lines.append("  " + _("Last change: {when}").format(when=d.since.strftime("%Y-%m-%d %H:%M %Z").strip()))
    if d.situation in INVOICE_SITUATIONS:
        for package in o.packages:
            kind = (
                _("Invoice {invoice_number}: {amount} (sale)")
                if package.is_output
                else _("Invoice {invoice_number}: {amount} (return, not counted)")
            )
            lines.append(
                "  " + kind.format(invoice_number=package.invoice_number, amount=o.money(package.invoice_value))
            )
    for note in d.notes:
        lines.append("  " + _("Note: {note}").format(note=_plain(note)))
    for action in d.actions:
        if action.kind == RESEND:
            lines.append(
                "  "
                + _("Recommended: resend invoice {invoice_number} ({amount})").format(
                    invoice_number=action.invoice_number, amount=o.money(action.amount)
                )
            )
        else:
            recommended = (
                _("Recommended: add invoice of {amount}, under the number of a new invoice from your ERP")
                if action.full
                else _("Recommended: add partial invoice of {amount}, under the number of a new invoice from your ERP")
            )
            lines.append("  " + recommended.format(amount=o.money(action.amount)))
    if d.support_quote:
        lines.append("  " + _("Tell VTEX support: {quote}").format(quote=d.support_quote))
    if answer.guidance:
        lines.append("  " + _("Guidance: {title} <{url}>").format(title=answer.guidance.title, url=answer.guidance.url))
    return "\n".join(lines)


def _plain(mrkdwn: str) -> str:
    return unescape(re.sub(r"(?<!\w)\*([^*]+)\*(?!\w)", r"\1", mrkdwn))

"""Plain-text rendering of an answer for terminals (`unstuck why`)."""

from __future__ import annotations

import re

from bot.diagnosis import INVOICE_SITUATIONS, RESEND, humanize
from bot.lookup import Answer
from bot.mrkdwn import unescape
from bot.wording import verdict


def text_report(answer: Answer) -> str:
    """The card's verdict and facts, as plain text: the same situation every surface shows."""
    d, o = answer.diagnosis, answer.order
    _, said, reason = verdict(d, o)
    raw = f" ({d.status})" if d.status and d.status != d.status_name else ""
    lines = [f"Order {d.order_id}: {d.status_name}{raw}", f"  {_plain(said)}", f"  {_plain(reason)}"]
    if d.stuck is True:
        lines.append(f"  Looks stuck: {humanize(d.age)} in this status (normally under {humanize(d.expected)}).")
    elif d.stuck is False:
        lines.append(f"  Not stuck yet: {humanize(d.age)} in this status (normal is up to {humanize(d.expected)}).")
    if d.since:
        lines.append(f"  Last change: {d.since.strftime('%Y-%m-%d %H:%M %Z').strip()}")
    if d.situation in INVOICE_SITUATIONS:
        for package in o.packages:
            kind = "sale" if package.is_output else "return, not counted"
            lines.append(f"  Invoice {package.invoice_number}: {o.money(package.invoice_value)} ({kind})")
    for note in d.notes:
        lines.append(f"  Note: {_plain(note)}")
    for action in d.actions:
        if action.kind == RESEND:
            lines.append(f"  Recommended: resend invoice {action.invoice_number} ({o.money(action.amount)})")
        else:
            lines.append(
                f"  Recommended: {action.label.lower()} of {o.money(action.amount)}, "
                "under the number of a new invoice from your ERP"
            )
    if d.support_quote:
        lines.append(f"  Tell VTEX support: {d.support_quote}")
    if answer.guidance:
        lines.append(f"  Guidance: {answer.guidance.title} <{answer.guidance.url}>")
    return "\n".join(lines)


def _plain(mrkdwn: str) -> str:
    return unescape(re.sub(r"(?<!\w)\*([^*]+)\*(?!\w)", r"\1", mrkdwn))

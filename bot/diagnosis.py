"""Why an order is where it is, and which invoice fix (if any) is safe: a pure function.

`diagnose(order, now)` reads nothing and sends nothing. Its invoice rules follow VTEX's FAQ
"Why has my order stopped on Ready for Handling?":
- Output invoices already cover the full order value (shipping included) -> resend that invoice;
- they fall short -> add a partial invoice for the missing amount, under a new number from the ERP;
- there is no invoice -> add an invoice for the full value;
- invoiced, canceled, or a status where an invoice cannot help -> no invoice action, and say why.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta
from typing import Any, Literal

from bot.invoices import INVOICE_NUMBER
from bot.order import Order, Package
from bot.statuses import StatusInfo, status_info

RESEND = "resend_invoice"
ADD_PARTIAL = "add_partial_invoice"
ActionKind = Literal["resend_invoice", "add_partial_invoice"]


@dataclass(frozen=True)
class OfferedAction:
    kind: ActionKind
    amount: int
    invoice_number: str | None = None
    full: bool = False

    @property
    def label(self) -> str:
        if self.kind == RESEND:
            return f"Resend invoice {self.invoice_number}"
        return "Add invoice" if self.full else "Add partial invoice"


@dataclass(frozen=True)
class InvoiceSummary:
    order_value: int
    invoiced: int
    missing: int
    returned: int
    output_count: int
    over_invoiced: bool


@dataclass(frozen=True)
class Diagnosis:
    order_id: str
    status: str | None
    status_name: str
    known_status: bool
    waiting_for: str
    next_step: str
    since: datetime | None
    age: timedelta | None
    expected: timedelta | None
    stuck: bool | None
    invoices: InvoiceSummary
    actions: list[OfferedAction]
    no_action_reason: str | None
    notes: list[str] = field(default_factory=list)
    support_quote: str | None = None
    marketplace: bool = False

    @property
    def summary(self) -> str:
        """One line for notifications and plain-text fallbacks."""
        where = f"{self.order_id} is in {self.status_name}"
        if self.stuck:
            where += f" for {humanize(self.age)} (normally under {humanize(self.expected)})"
        elif self.age is not None and self.status_name != "Invoiced":
            where += f" since {humanize(self.age)} ago"
        return f"{where}: waiting for {self.waiting_for}."

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["since"] = self.since.isoformat() if self.since else None
        data["age_seconds"] = int(self.age.total_seconds()) if self.age is not None else None
        data["expected_seconds"] = int(self.expected.total_seconds()) if self.expected is not None else None
        data.pop("age"), data.pop("expected")
        data["summary"] = self.summary
        for action, offered in zip(data["actions"], self.actions, strict=True):
            action["label"] = offered.label
        return data


def diagnose(order: Order, now: datetime) -> Diagnosis:
    info = status_info(order.status)
    known = info is not None
    if info is None:
        info = StatusInfo(
            status=order.status or "",
            name=order.status or "unknown",
            waiting_for=f"something this bot does not know yet (VTEX status `{order.status}`)",
            next_step="Open the order in the VTEX Admin and read its View Interactions history.",
            no_invoice_reason="This status is unknown to the bot, so it will not guess an invoice fix.",
        )

    since = order.last_change or order.creation_date
    age = max(now - since, timedelta(0)) if since else None
    stuck = None if info.final or age is None or info.expect is None else age > info.expect

    invoices = _invoice_summary(order)
    notes: list[str] = []
    actions: list[OfferedAction] = []
    reason: str | None = None
    quote: str | None = None

    if order.status == "ready-for-handling":
        notes.append(
            "VTEX documents two readings of Ready for handling. The FAQ treats it as waiting for the invoice; "
            "the troubleshooting guide says the ERP (or an Admin user) must first start handling. "
            "If the ERP never picked the order up, start handling; if it did, the invoice is what is missing."
        )
    if invoices.returned:
        notes.append(
            f"Return (Input) invoices of {order.money(invoices.returned)} are on the order; they do not count "
            "toward the invoiced total."
        )
    if order.changes_attachment and order.changes_attachment.changes_data:
        notes.append(
            "The order was changed after checkout; its value already reflects the change. Invoice only once the "
            "change has finished."
        )
    if order.is_marketplace_order:
        notes.append(
            "Marketplace order: if it was invoiced in the ERP but stays in Handling shipping, the product may be "
            "unavailable in the marketplace's API. Click *Try again* on the order's status in the Admin and read "
            "the message (a 404 means: contact the marketplace)."
        )

    if order.workflow_is_in_error:
        reason = "VTEX flagged a workflow error that automatic retries cannot fix; an invoice will not clear it."
        quote = (
            f"Order {order.order_id} (status `{order.status}`) has workflowIsInError=true since "
            f"{since.isoformat() if since else 'an unknown time'}. Please check the order's View Interactions."
        )
    elif not info.invoice_helps:
        reason = info.no_invoice_reason or "An invoice does not move an order out of this status."
    elif order.external_sellers and (order.origin or "").lower() == "marketplace":
        names = ", ".join(s.name or s.id for s in order.external_sellers)
        reason = (
            f"Items are sold by {names}: invoices must be sent by the seller on its own order "
            f"({order.seller_order_id or 'the seller order id'}), not on this marketplace order."
        )
    elif order.value <= 0:
        reason = "The order value is zero, so there is nothing to invoice."
    elif invoices.over_invoiced:
        reason = (
            f"Output invoices ({order.money(invoices.invoiced)}) exceed the order value "
            f"({order.money(order.value)}). Do not add more: check the invoices in the ERP and ask VTEX support."
        )
    elif invoices.output_count == 0:
        actions.append(OfferedAction(kind="add_partial_invoice", amount=order.value, full=True))
    elif invoices.missing == 0 and not INVOICE_NUMBER.match(_latest(order.output_invoices).invoice_number):
        reason = (
            f"Invoice {_latest(order.output_invoices).invoice_number} holds characters (spaces, '/', symbols) that "
            "stop the order from reaching Invoiced, so resending it cannot help. Correct it with your ERP and ask "
            "VTEX support to replace it."
        )
    elif invoices.missing == 0:
        latest = _latest(order.output_invoices)
        actions.append(
            OfferedAction(kind="resend_invoice", amount=latest.invoice_value, invoice_number=latest.invoice_number)
        )
        if invoices.output_count > 1:
            notes.append(
                f"The {invoices.output_count} Output invoices already add up to the order value; "
                f"resending the latest one ({latest.invoice_number}) asks VTEX to check the total again."
            )
    else:
        actions.append(OfferedAction(kind="add_partial_invoice", amount=invoices.missing))

    return Diagnosis(
        order_id=order.order_id,
        status=order.status,
        status_name=info.name,
        known_status=known,
        waiting_for=info.waiting_for,
        next_step=info.next_step,
        since=since,
        age=age,
        expected=info.expect,
        stuck=stuck,
        invoices=invoices,
        actions=actions,
        no_action_reason=reason,
        notes=notes,
        support_quote=quote,
        marketplace=order.is_marketplace_order,
    )


def _invoice_summary(order: Order) -> InvoiceSummary:
    invoiced = order.invoiced_output
    return InvoiceSummary(
        order_value=order.value,
        invoiced=invoiced,
        missing=max(order.value - invoiced, 0),
        returned=sum(p.invoice_value for p in order.input_invoices),
        output_count=len(order.output_invoices),
        over_invoiced=invoiced > order.value,
    )


def _latest(packages: list[Package]) -> Package:
    dated = [p for p in packages if p.issuance_date is not None]
    if dated:
        return max(dated, key=lambda p: p.issuance_date)  # type: ignore[arg-type,return-value]
    return packages[-1]


def humanize(delta: timedelta | None) -> str:
    if delta is None:
        return "an unknown time"
    seconds = int(delta.total_seconds())
    if seconds < 90:
        return f"{seconds} seconds" if seconds != 1 else "1 second"
    minutes = seconds // 60
    if minutes < 90:
        return f"{minutes} minutes"
    hours = minutes // 60
    if hours < 48:
        return f"{hours} hours"
    return f"{hours // 24} days"

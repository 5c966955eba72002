"""Why an order is where it is, and which invoice fix (if any) is safe: a pure function.

`diagnose(order, now)` reads nothing and sends nothing. Its invoice rules follow VTEX's FAQ
"Why has my order stopped on Ready for Handling?":
- Output invoices already cover the full order value (shipping included) -> resend that invoice;
- they fall short -> add a partial invoice for the missing amount, under a new number from the ERP;
- there is no invoice -> add an invoice for the full value;
- invoiced, canceled, or a status where an invoice cannot help -> no invoice action, and say why.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, field, replace
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any, Final, Literal

from bot.i18n import N_, _, duration
from bot.invoices import INVOICE_NUMBER
from bot.order import Order, Package
from bot.statuses import StatusInfo, status_info

ActionKind = Literal["resend_invoice", "add_partial_invoice"]
RESEND: Final = "resend_invoice"
ADD_PARTIAL: Final = "add_partial_invoice"
PAYMENT_STATUSES = frozenset({"payment-pending", "approve-payment", "payment-denied", "window-to-change-payment"})
CANCEL_REQUESTED_STATUSES = frozenset({"request-cancel", "cancellation-requested"})


class Situation(StrEnum):
    """The one thing an order's card says: every order is in exactly one."""

    RESEND = "resend"
    PARTIAL = "partial"
    FIRST_INVOICE = "first_invoice"
    READY_FOR_HANDLING = "ready_for_handling"
    CANCEL_REQUESTED = "cancel_requested"
    OVER_INVOICED = "over_invoiced"
    BAD_INVOICE_NUMBER = "bad_invoice_number"
    WORKFLOW_ERROR = "workflow_error"
    OTHER_SELLER = "other_seller"
    WAITING_PAYMENT = "waiting_payment"
    NOTHING_TO_INVOICE = "nothing_to_invoice"
    CANCELED = "canceled"
    INVOICED = "invoiced"
    STUCK_ELSEWHERE = "stuck_elsewhere"
    NOT_STUCK = "not_stuck"
    UNKNOWN_STATUS = "unknown_status"


# Where the invoice arithmetic is the story, and the card shows the invoices.
INVOICE_SITUATIONS = frozenset(
    {
        Situation.RESEND,
        Situation.PARTIAL,
        Situation.FIRST_INVOICE,
        Situation.READY_FOR_HANDLING,
        Situation.CANCEL_REQUESTED,
        Situation.OVER_INVOICED,
        Situation.BAD_INVOICE_NUMBER,
    }
)


@dataclass(frozen=True)
class OfferedAction:
    kind: ActionKind
    amount: int
    invoice_number: str | None = None
    full: bool = False

    @property
    def label(self) -> str:
        if self.kind == RESEND:
            return _("Resend invoice {invoice_number}").format(invoice_number=self.invoice_number)
        return _("Add invoice") if self.full else _("Add partial invoice")


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
    situation: Situation = Situation.UNKNOWN_STATUS

    @property
    def summary(self) -> str:
        """One line for notifications and plain-text fallbacks."""
        where = _("{order_id} is in {status}: waiting for {waiting_for}.")
        if self.stuck:
            where = _("{order_id} is in {status} for {age} (normally under {expected}): waiting for {waiting_for}.")
        elif self.age is not None and self.status_name != "Invoiced":
            where = _("{order_id} is in {status} since {age} ago: waiting for {waiting_for}.")
        return where.format(
            order_id=self.order_id,
            status=self.status_name,
            age=humanize(self.age),
            expected=humanize(self.expected),
            waiting_for=self.waiting_for,
        )

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["since"] = self.since.isoformat() if self.since else None
        data["age_seconds"] = int(self.age.total_seconds()) if self.age is not None else None
        data["expected_seconds"] = int(self.expected.total_seconds()) if self.expected is not None else None
        data.pop("age"), data.pop("expected")
        data["summary"] = self.summary
        data["situation"] = str(self.situation)
        for action, offered in zip(data["actions"], self.actions, strict=True):
            action["label"] = offered.label
        return data


def diagnose(order: Order, now: datetime, thresholds: Mapping[str, timedelta] | None = None) -> Diagnosis:
    """`thresholds` replace what is normal for the statuses they name (UNSTUCK_RADAR_AFTER)."""
    info, known = _status(order)
    if thresholds and (order.status or "") in thresholds:
        info = replace(info, expect=thresholds[order.status or ""])
    since = order.last_change or order.creation_date
    age = max(now - since, timedelta(0)) if since else None
    stuck = None if info.final or age is None or info.expect is None else age > info.expect
    invoices = _invoice_summary(order)
    decision = _decide(order, info, known, invoices, stuck)
    return Diagnosis(
        order_id=order.order_id,
        status=order.status,
        status_name=info.name,
        known_status=known,
        waiting_for=_(info.waiting_for),
        next_step=_(info.next_step),
        since=since,
        age=age,
        expected=info.expect,
        stuck=stuck,
        invoices=invoices,
        actions=decision.actions,
        no_action_reason=decision.reason,
        notes=_notes(order, invoices, decision),
        support_quote=_support_quote(order, since) if decision.situation == Situation.WORKFLOW_ERROR else None,
        marketplace=order.is_marketplace_order,
        situation=decision.situation,
    )


def _status(order: Order) -> tuple[StatusInfo, bool]:
    info = status_info(order.status)
    if info is not None:
        return info, True
    return (
        StatusInfo(
            status=order.status or "",
            name=order.status or "unknown",
            waiting_for=_("something this bot does not know yet (VTEX status `{status}`)").format(status=order.status),
            next_step=N_("Open the order in the VTEX Admin and read its View Interactions history."),
            no_invoice_reason=N_("This status is unknown to the bot, so it will not guess an invoice fix."),
        ),
        False,
    )


@dataclass(frozen=True)
class _Decision:
    situation: Situation
    actions: list[OfferedAction] = field(default_factory=list)
    reason: str | None = None


def _decide(order: Order, info: StatusInfo, known: bool, invoices: InvoiceSummary, stuck: bool | None) -> _Decision:
    """The one situation this order is in, the fix it offers (if any), and why there is none otherwise."""
    if not known:
        return _Decision(Situation.UNKNOWN_STATUS, reason=_(info.no_invoice_reason))
    if order.status == "invoiced":
        return _Decision(Situation.INVOICED, reason=_(info.no_invoice_reason))
    if order.status == "canceled":
        return _Decision(Situation.CANCELED, reason=_(info.no_invoice_reason))
    if order.workflow_is_in_error:
        return _Decision(
            Situation.WORKFLOW_ERROR,
            reason=_("VTEX flagged a workflow error that automatic retries cannot fix; an invoice will not clear it."),
        )
    if order.status in PAYMENT_STATUSES:
        return _Decision(Situation.WAITING_PAYMENT, reason=_(info.no_invoice_reason))
    if not info.invoice_helps:
        situation = Situation.STUCK_ELSEWHERE if stuck else Situation.NOT_STUCK
        return _Decision(
            situation, reason=_(info.no_invoice_reason) or _("An invoice does not move an order out of this status.")
        )
    if order.external_sellers and (order.origin or "").lower() == "marketplace":
        names = ", ".join(s.name or s.id for s in order.external_sellers)
        return _Decision(
            Situation.OTHER_SELLER,
            reason=_(
                "Items are sold by {sellers}: invoices must be sent by the seller on its own order "
                "({seller_order_id}), not on this marketplace order."
            ).format(sellers=names, seller_order_id=order.seller_order_id or _("the seller order id")),
        )
    if order.value <= 0:
        return _Decision(
            Situation.NOTHING_TO_INVOICE, reason=_("The order value is zero, so there is nothing to invoice.")
        )
    if invoices.over_invoiced:
        return _Decision(
            Situation.OVER_INVOICED,
            reason=_(
                "Output invoices ({invoiced}) exceed the order value ({order_value}). Do not add more: check the "
                "invoices in the ERP and ask VTEX support."
            ).format(invoiced=order.money(invoices.invoiced), order_value=order.money(order.value)),
        )
    decision = _invoice_fix(order, invoices)
    if decision.situation == Situation.BAD_INVOICE_NUMBER:
        return decision
    if order.status == "ready-for-handling":
        return _Decision(Situation.READY_FOR_HANDLING, decision.actions)
    if order.status in CANCEL_REQUESTED_STATUSES:
        return _Decision(Situation.CANCEL_REQUESTED, decision.actions)
    return decision


def _invoice_fix(order: Order, invoices: InvoiceSummary) -> _Decision:
    """The seed FAQ's arithmetic: no invoice -> one for the total; covered -> resend; short -> the rest."""
    if invoices.output_count == 0:
        return _Decision(Situation.FIRST_INVOICE, [OfferedAction(kind=ADD_PARTIAL, amount=order.value, full=True)])
    latest = _latest(order.output_invoices)
    if invoices.missing == 0 and not INVOICE_NUMBER.match(latest.invoice_number):
        return _Decision(
            Situation.BAD_INVOICE_NUMBER,
            reason=_(
                "Invoice {invoice_number} holds characters (spaces, '/', symbols) that stop the order from reaching "
                "Invoiced, so resending it cannot help. Correct it with your ERP and ask VTEX support to replace it."
            ).format(invoice_number=latest.invoice_number),
        )
    if invoices.missing == 0:
        resend = OfferedAction(kind=RESEND, amount=latest.invoice_value, invoice_number=latest.invoice_number)
        return _Decision(Situation.RESEND, [resend])
    return _Decision(Situation.PARTIAL, [OfferedAction(kind=ADD_PARTIAL, amount=invoices.missing)])


def _notes(order: Order, invoices: InvoiceSummary, decision: _Decision) -> list[str]:
    """Facts that change how to act on this situation; none that would contradict it."""
    notes: list[str] = []
    invoicing = decision.situation in INVOICE_SITUATIONS
    if invoices.returned and invoicing:
        notes.append(
            _(
                "Return (Input) invoices of {returned} are on the order; they do not count toward the invoiced total."
            ).format(returned=order.money(invoices.returned))
        )
    if order.changes_attachment and order.changes_attachment.changes_data and invoicing:
        notes.append(
            _(
                "The order was changed after checkout; its value already reflects the change. Invoice only once the "
                "change has finished."
            )
        )
    if order.is_marketplace_order and invoicing:
        notes.append(
            _(
                "Marketplace order: if your ERP already invoiced it, the product may be unavailable in the "
                "marketplace's API. Click *Try again* on the order's status in the Admin (a 404 means: contact the "
                "marketplace)."
            )
        )
    if decision.situation == Situation.RESEND and invoices.output_count > 1:
        latest = _latest(order.output_invoices)
        notes.append(
            _(
                "The {count} Output invoices already add up to the order value; resending the latest one "
                "({invoice_number}) asks VTEX to check the total again."
            ).format(count=invoices.output_count, invoice_number=latest.invoice_number)
        )
    return notes


def _support_quote(order: Order, since: datetime | None) -> str:
    return _(
        "Order {order_id} (status {status}) has workflowIsInError=true since {since}. Please check the order's "
        "View Interactions."
    ).format(order_id=order.order_id, status=order.status, since=since.isoformat() if since else _("an unknown time"))


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
    """How long, in words, in the reply's language (bot/i18n.py holds the one rule)."""
    return duration(delta)

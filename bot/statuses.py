"""What each VTEX order status means, in plain words, and how long it normally lasts.

The table follows VTEX's order-flow documentation (status ids, Admin names). The time
expectations are ours: past them an order "looks stuck". `invoice_helps` marks the statuses where
sending an invoice is the documented way forward; everywhere else the bot offers no invoice button.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from bot.i18n import N_

H = timedelta(hours=1)
D = timedelta(days=1)


@dataclass(frozen=True)
class StatusInfo:
    status: str
    name: str
    waiting_for: str
    next_step: str
    expect: timedelta | None = None
    invoice_helps: bool = False
    final: bool = False
    no_invoice_reason: str = ""


def _s(status: str, name: str, waiting_for: str, next_step: str, **kw: object) -> StatusInfo:
    return StatusInfo(status, name, waiting_for, next_step, **kw)  # type: ignore[arg-type]


_CANCEL_FLOW = N_("The order is in the cancellation flow; an invoice would not move it forward.")
# VTEX's "Canceling an order" guide: a requested cancellation is confirmed by canceling again in the Admin;
# to keep the order instead, its invoice is entered and the flow goes on.
_CANCEL_OR_INVOICE = N_(
    "To cancel, click Cancel order again in the Admin. To go on with the order instead, send its invoice."
)
_BEFORE_PAYMENT = N_("The order is not paid and handled yet; invoicing comes later in the flow.")

STATUSES: dict[str, StatusInfo] = {
    s.status: s
    for s in [
        _s(
            "incomplete",
            "Incomplete",
            N_("nothing: the order flow never started (payment or data problem at checkout)"),
            N_(
                "No action can restart it; incomplete orders cannot be canceled or invoiced. "
                "Ask the customer to order again."
            ),
            final=True,
            no_invoice_reason=N_("Incomplete orders never entered the flow; they cannot be invoiced."),
        ),
        _s(
            "order-created",
            "Processing",
            N_("VTEX to finish processing the order data"),
            N_("Wait; if it stays here for more than an hour, open a VTEX support ticket with the order id."),
            expect=H,
            no_invoice_reason=_BEFORE_PAYMENT,
        ),
        _s(
            "on-order-completed",
            "Order completed (internal)",
            N_("VTEX to hand the finished checkout to the order flow"),
            N_("Wait. Stuck with `isCompleted: true` matches a known issue that VTEX support fixes by hand."),
            expect=H,
            no_invoice_reason=_BEFORE_PAYMENT,
        ),
        _s(
            "on-order-completed-ffm",
            "Order completed (fulfillment, internal)",
            N_("VTEX to hand the seller's order to the fulfillment flow"),
            N_("Wait. Stuck with `isCompleted: true` matches a known issue that VTEX support fixes by hand."),
            expect=H,
            no_invoice_reason=_BEFORE_PAYMENT,
        ),
        _s(
            "waiting-for-authorization",
            "Waiting for seller confirmation",
            N_("the seller to accept the order"),
            N_("Check the seller side and its integration."),
            expect=D,
            no_invoice_reason=_BEFORE_PAYMENT,
        ),
        _s(
            "waiting-for-sellers-confirmation",
            "Waiting for seller confirmation",
            N_("the sellers to accept the order"),
            N_("Check the seller side and its integration."),
            expect=D,
            no_invoice_reason=_BEFORE_PAYMENT,
        ),
        _s(
            "payment-pending",
            "Payment pending",
            N_("the payment confirmation from the gateway"),
            N_(
                "Check Orders › Transactions. Bank slips and Pix wait for the customer to pay. If the transaction is "
                "already approved, open a VTEX ticket asking them to resend the payment-approved notification."
            ),
            expect=3 * D,
            no_invoice_reason=_BEFORE_PAYMENT,
        ),
        _s(
            "waiting-for-order-authorization",
            "Waiting for order authorization",
            N_("someone to approve it under the store's Order Authorization rules (manual discount, price divergence)"),
            N_("Approve or deny it in Orders › Order Authorization."),
            expect=D,
            no_invoice_reason=_BEFORE_PAYMENT,
        ),
        _s(
            "approve-payment",
            "Approve payment",
            N_("an internal payment step that normally passes in seconds"),
            N_("If it stays here there was an error: open the order's View Interactions and quote it to VTEX support."),
            expect=H,
            no_invoice_reason=_BEFORE_PAYMENT,
        ),
        _s(
            "payment-approved",
            "Payment approved",
            N_("the seller to start handling and invoice it (a partially invoiced order can also fall back here)"),
            N_(
                "Check the seller's order. If the seller's order is invoiced but this one is not, VTEX support "
                "reindexes the invoice (known issue)."
            ),
            expect=D,
            invoice_helps=True,
        ),
        _s(
            "payment-denied",
            "Payment denied",
            N_("the cancellation that follows a denied payment"),
            N_("Nothing to do: the order will be canceled."),
            expect=H,
            no_invoice_reason=_CANCEL_FLOW,
        ),
        _s(
            "window-to-change-payment",
            "Window to change payment",
            N_("the customer's window to change payment"),
            N_("Wait for the window to close."),
            expect=D,
            no_invoice_reason=_BEFORE_PAYMENT,
        ),
        _s(
            "window-to-change-seller",
            "Window to change seller",
            N_("the window to pick another seller"),
            N_("Wait for the window to close."),
            expect=D,
            no_invoice_reason=_BEFORE_PAYMENT,
        ),
        _s(
            "order-accepted",
            "Order accepted",
            N_("the automatic next step after the seller received the order"),
            N_("Wait; it moves on by itself."),
            expect=H,
            no_invoice_reason=_BEFORE_PAYMENT,
        ),
        _s(
            "waiting-ffmt-authorization",
            "Waiting for fulfillment authorization",
            N_("the marketplace to authorize fulfillment (confirm the payment)"),
            N_("Check the marketplace side."),
            expect=D,
            no_invoice_reason=_BEFORE_PAYMENT,
        ),
        _s(
            "waiting-for-manual-authorization",
            "Waiting for fulfillment authorization",
            N_("the marketplace's authorization to fulfil"),
            N_("Use the manual 'Authorize fulfillment' only if the marketplace really confirmed the payment."),
            expect=D,
            no_invoice_reason=_BEFORE_PAYMENT,
        ),
        _s(
            "authorize-fulfillment",
            "Authorize fulfillment",
            N_("internal approval with the reservation confirmed"),
            N_(
                "An 'authorize-fulfillment' error means the reservation was lost or the SKU has no stock: fix the "
                "inventory. VTEX cancels the order automatically after 30 days without authorization."
            ),
            expect=D,
            no_invoice_reason=_BEFORE_PAYMENT,
        ),
        _s(
            "waiting-for-fulfillment",
            "Waiting for fulfillment",
            N_("the warehouse system (WMS) to take it"),
            N_("Check the WMS side; VTEX cancels it after 30 days."),
            expect=2 * D,
            no_invoice_reason=_BEFORE_PAYMENT,
        ),
        _s(
            "window-to-cancel",
            "Cancellation window",
            N_("the grace period in which the customer may cancel (30 minutes by default)"),
            N_("Wait for the window to close (Store Settings › Orders › Settings › Cancellation grace period)."),
            expect=H,
            no_invoice_reason=N_("The cancellation window must close before the order can be handled."),
        ),
        _s(
            "waiting-for-mkt-authorization",
            "Waiting for marketplace authorization",
            N_("the marketplace to authorize the seller"),
            N_("Check the marketplace side."),
            expect=D,
            no_invoice_reason=_BEFORE_PAYMENT,
        ),
        _s(
            "waiting-seller-handling",
            "Waiting for seller handling",
            N_("the seller to start handling it"),
            N_("Check the seller's order; on seller-portal accounts the seller's invoice moves it on."),
            expect=2 * D,
            no_invoice_reason=N_("The seller invoices on its own order, not on this one."),
        ),
        _s(
            "ready-for-handling",
            "Ready for handling",
            N_("the store to confirm it picked the order up (start handling), and then the invoice"),
            N_(
                "Have the ERP call start-handling, or a user with OMS - Full access start handling in the Admin "
                "(the order then no longer goes down to the ERP). Then send the invoice."
            ),
            expect=D,
            invoice_helps=True,
        ),
        _s(
            "start-handling",
            "Start handling",
            N_("the ERP's confirmation of the authorization step"),
            N_("If it stays here, open a VTEX ticket (known issue; impossible when the reservation expired)."),
            expect=H,
            no_invoice_reason=N_("The order must reach Handling shipping before it can be invoiced."),
        ),
        _s(
            "handling",
            "Handling shipping",
            N_("invoices adding up to the order total, usually sent by the ERP"),
            N_("Send the invoice, or the missing partial invoice, to VTEX."),
            expect=2 * D,
            invoice_helps=True,
        ),
        _s(
            "ready-for-invoicing",
            "Ready for invoicing",
            N_("the invoice (picking and packing stores)"),
            N_("Send the invoice."),
            expect=D,
            invoice_helps=True,
        ),
        _s(
            "invoice",
            "Verifying invoice",
            N_("VTEX to check the invoice and the payment settlement"),
            N_(
                "Check the settlement in Transactions. If the invoice is wrong or partial, resend it or add the "
                "missing partial invoice. A gateway that never settles needs a Payments ticket."
            ),
            expect=D,
            invoice_helps=True,
        ),
        _s(
            "invoiced",
            "Invoiced",
            N_("nothing: this is the final success state"),
            N_("Not stuck. If the customer sees no tracking, add the tracking number to the invoice."),
            final=True,
            no_invoice_reason=N_("The order is already invoiced; its status can no longer change."),
        ),
        _s(
            "request-cancel",
            "Cancellation requested",
            N_("a decision: confirm the cancellation, or send the invoice to go on with the order"),
            _CANCEL_OR_INVOICE,
            expect=D,
            invoice_helps=True,
        ),
        _s(
            "waiting-for-seller-decision",
            "Waiting for the seller decision",
            N_("the seller to accept or deny a cancellation requested outside the window"),
            N_("The seller accepts (cancel) or denies the cancellation request."),
            expect=2 * D,
            no_invoice_reason=_CANCEL_FLOW,
        ),
        _s(
            "cancellation-requested",
            "Cancellation requested",
            N_("a decision: confirm the cancellation, or send the invoice to go on with the order"),
            N_(
                "To cancel, click Cancel order again in the Admin. To go on with the order instead, send its invoice. "
                "Never deny a cancellation you requested yourself."
            ),
            expect=2 * D,
            invoice_helps=True,
        ),
        _s(
            "cancellation-request-denied",
            "Cancellation denied",
            N_("the flow to resume at handling"),
            N_("It should resume by itself; if it stays, open a VTEX ticket."),
            expect=D,
            no_invoice_reason=_CANCEL_FLOW,
        ),
        _s(
            "cancellation-request-denied-ffm",
            "Cancellation denied (fulfillment)",
            N_("the flow to resume at handling"),
            N_("It should resume by itself; if it stays, open a VTEX ticket."),
            expect=D,
            no_invoice_reason=_CANCEL_FLOW,
        ),
        _s(
            "invoice-after-cancellation-deny",
            "Invoice after cancellation denied",
            N_("the invoice, after a cancellation was denied"),
            N_("Send the invoice."),
            expect=D,
            invoice_helps=True,
        ),
        _s(
            "cancel",
            "Canceling",
            N_("Payments to finish the cancellation"),
            N_("If it stays here there is no workaround on the store side: open a VTEX ticket."),
            expect=D,
            no_invoice_reason=_CANCEL_FLOW,
        ),
        _s(
            "canceled",
            "Canceled",
            N_("nothing: the order is canceled"),
            N_("Nothing to do."),
            final=True,
            no_invoice_reason=N_("The order is canceled; it cannot be invoiced."),
        ),
        _s(
            "replaced",
            "Replaced",
            N_("nothing: another order replaced it"),
            N_("Look at the replacement order."),
            final=True,
            no_invoice_reason=N_("The order was replaced; invoice the replacement instead."),
        ),
        _s(
            "order-create-error",
            "Order creation error",
            N_("nothing: creating the order failed"),
            N_("It usually ends canceled with reason 'Creation error'; open a VTEX ticket if it does not."),
            expect=H,
            no_invoice_reason=N_("The order failed to be created."),
        ),
        _s(
            "order-creation-error",
            "Order creation error",
            N_("nothing: creating the order failed"),
            N_("It usually ends canceled with reason 'Creation error'; open a VTEX ticket if it does not."),
            expect=H,
            no_invoice_reason=N_("The order failed to be created."),
        ),
    ]
}


def status_info(status: str | None) -> StatusInfo | None:
    """Known status, or None for a string VTEX added after this table was written."""
    return STATUSES.get(status or "incomplete")

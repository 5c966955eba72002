"""Sending an invoice to VTEX safely: the rules, without Slack.

For every click: claim the idempotency keys, check the limits, re-read the order and check the
recommendation still holds, write the pending audit row (no row, no call), POST exactly once, and
record what VTEX said. When VTEX's answer is lost (timeout, 5xx), re-read the order to learn whether
the invoice landed instead of guessing.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from bot.audit import AuditError, AuditStore, Claim, Who
from bot.diagnosis import ADD_PARTIAL, RESEND, diagnose
from bot.errors import VtexError
from bot.invoices import InvalidInvoice, InvoiceRequest, partial_request, resend_request
from bot.order import Order
from bot.vtex import VtexClient

HOUR = timedelta(hours=1)


@dataclass(frozen=True)
class Intent:
    kind: str  # resend_invoice | add_partial_invoice
    order_id: str
    invoice_number: str
    value: int  # cents the agent agreed to send
    click_key: str
    expected_missing: int | None = None  # partial: the missing amount the agent saw
    issuance_date: datetime | None = None
    invoice_key: str | None = None
    invoice_url: str | None = None


@dataclass(frozen=True)
class Outcome:
    state: str  # succeeded | failed | refused | duplicate | stale | unknown
    message: str
    order: Order | None = None
    receipt: str | None = None
    http_status: int | None = None
    action_id: int | None = None


class Actor:
    def __init__(
        self,
        vtex: VtexClient,
        store: AuditStore,
        *,
        account: str,
        order_limit: int = 5,
        user_limit: int = 30,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ):
        self.vtex = vtex
        self.store = store
        self.account = account
        self.order_limit = order_limit
        self.user_limit = user_limit
        self.clock = clock

    def perform(self, intent: Intent, who: Who, reply_to: dict[str, str] | None = None) -> Outcome:
        try:
            claim = self.store.claim_action(
                who,
                order_id=intent.order_id,
                account=self.account,
                action=intent.kind,
                invoice_number=intent.invoice_number,
                value=intent.value,
                click_key=intent.click_key,
                reply_to=reply_to,
            )
        except AuditError:
            return Outcome(
                "failed",
                "Nothing was sent: the audit log could not be written, and the bot never acts "
                "without a record. Tell whoever runs the bot.",
            )
        if not claim.is_new:
            return self._duplicate(claim, who, intent)
        action_id = claim.action_id
        assert action_id is not None

        limit = self._over_limit(intent, who)
        if limit:
            self._finish(action_id, "refused", error=limit)
            return Outcome("refused", limit, action_id=action_id)

        try:
            order = self.vtex.get_order(intent.order_id)
        except VtexError as exc:
            self._finish(action_id, "failed", http_status=exc.status_code, error=f"re-read failed: {exc}")
            return Outcome(
                "failed",
                f"Nothing was sent: the bot could not re-read the order first. {exc}",
                action_id=action_id,
                http_status=exc.status_code,
            )

        try:
            request = self._still_valid(order, intent)
        except _Stale as stale:
            self._finish(action_id, "refused", error=f"stale: {stale}")
            return Outcome("stale", f"Nothing was sent: {stale}", order=order, action_id=action_id)

        try:
            self.store.log_pending(action_id)
        except AuditError:
            self._finish(action_id, "failed", error="audit write failed; VTEX not called")
            return Outcome(
                "failed",
                "Nothing was sent: the audit log could not be written, and the bot never acts "
                "without a record. Tell whoever runs the bot.",
                order=order,
                action_id=action_id,
            )

        try:
            receipt = self.vtex.notify_invoice(intent.order_id, request)
        except VtexError as exc:
            if exc.maybe_delivered:
                return self._settle_unknown(action_id, intent, exc)
            self._finish(action_id, "failed", http_status=exc.status_code, error=str(exc))
            return Outcome(
                "failed",
                f"VTEX did not accept the invoice. {exc}",
                order=order,
                action_id=action_id,
                http_status=exc.status_code,
            )
        except InvalidInvoice as exc:
            self._finish(action_id, "failed", error=str(exc))
            return Outcome("failed", f"Nothing was sent: {exc}", order=order, action_id=action_id)
        self._finish(action_id, "succeeded", http_status=200, receipt=receipt.receipt)
        verb = "resent" if intent.kind == RESEND else "sent"
        return Outcome(
            "succeeded",
            f"Invoice {intent.invoice_number} ({order.money(request.invoice_value)}) {verb} "
            f"to VTEX. Receipt {receipt.receipt}.",
            order=order,
            receipt=receipt.receipt,
            http_status=200,
            action_id=action_id,
        )

    # -- pieces ----------------------------------------------------------------------------------

    def _finish(self, action_id: int, state: str, **kwargs: object) -> None:
        try:
            self.store.finish_action(action_id, state, **kwargs)  # type: ignore[arg-type]
        except AuditError:
            pass  # the action row stays pending and `audit reconcile` settles it from VTEX

    def _duplicate(self, claim: Claim, who: Who, intent: Intent) -> Outcome:
        first = claim.duplicate_of or {}
        state = first.get("state", "pending")
        by = f"<@{first['user_id']}>" if first.get("user_id") else "someone"
        number = first.get("invoice_number") or intent.invoice_number
        if state == "pending":
            text = f"Already in progress: {by} is sending invoice {number} for this order. Nothing else was sent."
        elif state == "succeeded":
            text = (
                f"Already done: {by} sent invoice {number}"
                + (f" (receipt {first['receipt']})." if first.get("receipt") else ".")
                + " Nothing else was sent."
            )
        else:
            text = f"This click was already handled ({state}). Nothing else was sent."
        try:
            self.store.append(
                "action",
                who,
                order_id=intent.order_id,
                account=self.account,
                action=intent.kind,
                outcome="duplicate",
                inputs={"invoice_number": intent.invoice_number, "value": intent.value},
                detail=f"same as action {first.get('id')} ({claim.reason})",
            )
        except AuditError:
            pass
        return Outcome("duplicate", text, receipt=first.get("receipt"), action_id=first.get("id"))

    def _over_limit(self, intent: Intent, who: Who) -> str | None:
        per_order = self.store.count_actions(since=HOUR, order_id=intent.order_id) - 1
        if per_order >= self.order_limit:
            return (
                f"Refused: order {intent.order_id} already had {per_order} invoice actions in the last hour "
                f"(limit {self.order_limit}). Check the order in the VTEX Admin before trying again."
            )
        per_user = self.store.count_actions(since=HOUR, user_id=who.user_id) - 1
        if per_user >= self.user_limit:
            return (
                f"Refused: you already took {per_user} invoice actions in the last hour "
                f"(limit {self.user_limit}). Ask another operator or wait."
            )
        return None

    def _still_valid(self, order: Order, intent: Intent) -> InvoiceRequest:
        d = diagnose(order, self.clock())
        if order.status == "invoiced":
            raise _Stale("the order is already Invoiced.")
        if intent.kind == RESEND:
            offered = next((a for a in d.actions if a.kind == RESEND), None)
            package = next((p for p in order.output_invoices if p.invoice_number == intent.invoice_number), None)
            if package is None:
                raise _Stale(f"invoice {intent.invoice_number} is no longer on the order.")
            if offered is None or offered.invoice_number != intent.invoice_number:
                raise _Stale(_changed(d.no_action_reason, order, "resending this invoice is no longer the fix"))
            try:
                return resend_request(package, order)
            except InvalidInvoice as exc:
                raise _Stale(str(exc)) from None
        offered = next((a for a in d.actions if a.kind == ADD_PARTIAL), None)
        if offered is None:
            raise _Stale(_changed(d.no_action_reason, order, "adding an invoice is no longer the fix"))
        if intent.expected_missing is not None and order.missing != intent.expected_missing:
            raise _Stale(
                f"the missing amount changed from {order.money(intent.expected_missing)} to "
                f"{order.money(order.missing)} since you opened the form."
            )
        try:
            return partial_request(
                order,
                number=intent.invoice_number,
                value=intent.value,
                issuance_date=intent.issuance_date or self.clock(),
                invoice_key=intent.invoice_key,
                invoice_url=intent.invoice_url,
            )
        except InvalidInvoice as exc:
            raise _Stale(str(exc)) from None

    def _settle_unknown(self, action_id: int, intent: Intent, exc: VtexError) -> Outcome:
        """VTEX's answer was lost: the order itself says whether the invoice landed."""
        try:
            order = self.vtex.get_order(intent.order_id)
        except VtexError:
            return Outcome(
                "unknown",
                f"VTEX did not confirm invoice {intent.invoice_number} ({exc}) and the order "
                "could not be re-read. It stays pending; the bot checks again at its next start "
                "(or run `unstuck audit reconcile`). Do not send it again by hand.",
                action_id=action_id,
                http_status=exc.status_code,
            )
        landed = self._landed(order, intent)
        if landed:
            self._finish(
                action_id,
                "succeeded",
                http_status=exc.status_code,
                error=f"answer lost ({exc}); invoice found on the order",
            )
            return Outcome(
                "succeeded",
                f"VTEX's answer was lost, but re-reading the order shows invoice {intent.invoice_number} is there.",
                order=order,
                action_id=action_id,
                http_status=exc.status_code,
            )
        self._finish(action_id, "failed", http_status=exc.status_code, error=f"{exc}; invoice not on the order")
        return Outcome(
            "failed",
            f"VTEX did not take invoice {intent.invoice_number}: {exc} Re-reading the order "
            "shows it is not there, so it is safe to try again.",
            order=order,
            action_id=action_id,
            http_status=exc.status_code,
        )

    def _landed(self, order: Order, intent: Intent) -> bool:
        if intent.kind == RESEND:
            return order.status == "invoiced"  # a resend adds nothing visible unless it completes the order
        return intent.invoice_number.lower() in {n.lower() for n in order.invoice_numbers}

    def reconcile(self) -> list[tuple[dict[str, object], str]]:
        """Settle actions left pending by a crash: the invoice number on the order means it was sent."""
        settled = []
        for action in self.store.pending_actions():
            try:
                order = self.vtex.get_order(action["order_id"])
            except VtexError as exc:
                settled.append((action, f"still pending: {exc}"))
                continue
            number = (action.get("invoice_number") or "").lower()
            present = number in {n.lower() for n in order.invoice_numbers}
            if action["action"] == RESEND:
                present = present and order.status == "invoiced"
            state = "succeeded" if present else "failed"
            self._finish(
                int(action["id"]),
                state,
                error="reconciled after restart: invoice " + ("found" if present else "not found"),
            )
            settled.append((action, state))
        return settled


class _Stale(Exception):
    pass


def _changed(reason: str | None, order: Order, fallback: str) -> str:
    return f"the order changed and {fallback}" + (f": {reason}" if reason else ".")

"""Sending an invoice to VTEX safely: the rules, without Slack.

For every click: claim the action (which locks the order), check the limits, re-read the order and
check the fix still holds, write the pending row (no row, no call), POST exactly once, and record what
VTEX said. When VTEX's answer is lost (timeout, 5xx), nobody knows whether it stored the invoice: the
action becomes `unknown`, the order stays locked, and `settle_unsettled` re-reads the order over the
next minutes until the invoice shows up (succeeded) or VTEX has shown long enough that it does not
have it (failed, safe to try again). Messages are Slack mrkdwn, with outside text escaped.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

from bot.diagnosis import ADD_PARTIAL, RESEND, diagnose
from bot.errors import VtexError
from bot.i18n import N_, _, ngettext
from bot.invoices import InvalidInvoice, InvoiceRequest, PartialDraft, partial_request, resend_request
from bot.ledger import Claim, LeaseLost, State
from bot.mrkdwn import escape, mention, slack_date
from bot.order import Order
from bot.owner import is_gone, this_process
from bot.store import Store
from bot.vtex import VtexClient

log = logging.getLogger("unstuck.acting")

HOUR = timedelta(hours=1)
NO_RECORD = N_(
    "Nothing was sent: the audit log could not be written, and the bot never acts without a record. "
    "Tell whoever runs the bot."
)


@dataclass(frozen=True)
class Intent:
    kind: str  # resend_invoice | add_partial_invoice
    order_id: str
    invoice_number: str
    value: int  # cents the agent agreed to send
    click_key: str
    expected_missing: int | None = None  # partial: the missing amount the agent saw
    draft: PartialDraft | None = None  # partial: exactly what the agent reviewed


OutcomeState = Literal["succeeded", "failed", "refused", "duplicate", "stale", "unknown"]


@dataclass(frozen=True)
class Outcome:
    state: OutcomeState
    message: str  # mrkdwn
    order: Order | None = None
    receipt: str | None = None
    http_status: int | None = None
    action_id: int | None = None


@dataclass(frozen=True)
class Settled:
    action: dict[str, Any]
    state: str  # succeeded | failed | unknown (still open)
    message: str


@dataclass
class _Progress:
    posted: bool = False


@dataclass
class Timing:
    """How long an action may take before others may settle it, and how long 'not there' must last."""

    post_timeout: float = 5.0
    read_budget: float = 10.0
    margin: timedelta = timedelta(seconds=30)
    settle_after: timedelta = timedelta(minutes=5)
    # A second click while the first is running waits this long for its result, so that it can say what
    # happened rather than "in progress" about something already finished.
    duplicate_wait: float = 8.0

    @property
    def claim_lease(self) -> timedelta:
        return timedelta(seconds=self.read_budget + self.post_timeout) + self.margin

    @property
    def post_lease(self) -> timedelta:
        return timedelta(seconds=self.post_timeout) + self.margin


@dataclass
class Actor:
    vtex: VtexClient
    store: Store
    account: str
    order_limit: int = 5
    user_limit: int = 30
    clock: Callable[[], datetime] = lambda: datetime.now(UTC)
    timing: Timing = field(default_factory=Timing)
    sleep: Callable[[float], None] = time.sleep

    def perform(self, intent: Intent, who: Any, reply_to: dict[str, Any] | None = None) -> Outcome:
        try:
            claim = self.store.ledger.claim(
                who,
                order_id=intent.order_id,
                account=self.account,
                action=intent.kind,
                invoice_number=intent.invoice_number,
                value=intent.value,
                click_key=intent.click_key,
                lease=self.timing.claim_lease,
                reply_to=reply_to,
                owner=this_process(),
            )
        except Exception as exc:  # noqa: BLE001 - no record, no call, whatever broke
            log.error("could not claim an invoice action on %s: %s", intent.order_id, exc)
            return Outcome("failed", _(NO_RECORD))
        if not claim.is_new:
            return self._duplicate(claim, who, intent)
        action_id = claim.action_id
        assert action_id is not None
        progress = _Progress()
        try:
            return self._run(action_id, intent, who, progress)
        except Exception as exc:  # noqa: BLE001 - a claimed action always ends, never a stuck lock
            log.exception("invoice action %s on %s broke", action_id, intent.order_id)
            return self._broken(action_id, intent, exc, progress)

    # -- the steps ------------------------------------------------------------------------------------

    def _run(self, action_id: int, intent: Intent, who: Any, progress: _Progress) -> Outcome:
        limit = self._over_limit(intent, who)
        if limit:
            self._finish(action_id, State.REFUSED, error=limit)
            return Outcome("refused", limit, action_id=action_id)
        try:
            order = self.vtex.get_order(intent.order_id)
        except VtexError as exc:
            self._finish(action_id, State.FAILED, http_status=exc.status_code, error=f"re-read failed: {exc}")
            return Outcome(
                "failed",
                _("Nothing was sent: the bot could not re-read the order first. {error}").format(
                    error=escape(str(exc))
                ),
                action_id=action_id,
                http_status=exc.status_code,
            )
        try:
            request = self._still_valid(order, intent)
        except _Stale as stale:
            self._finish(action_id, State.REFUSED, error=f"stale: {stale}")
            return Outcome(
                "stale",
                _("Nothing was sent: {reason}").format(reason=escape(str(stale))),
                order=order,
                action_id=action_id,
            )
        try:
            self.store.ledger.mark_posting(action_id, self.timing.post_lease, order.money(request.invoice_value))
        except LeaseLost:
            self._finish(action_id, State.FAILED, error="lease ran out before the POST; VTEX not called")
            return Outcome(
                "failed",
                _(
                    "Nothing was sent: re-reading the order took too long, so the bot stopped before sending to stay "
                    "safe. Press the button again."
                ),
                order=order,
                action_id=action_id,
            )
        except Exception:  # noqa: BLE001 - fail closed: no write-ahead row, no call
            self._finish(action_id, State.FAILED, error="audit write failed; VTEX not called")
            return Outcome("failed", _(NO_RECORD), order=order, action_id=action_id)
        progress.posted = True
        return self._post(action_id, intent, order, request)

    def _post(self, action_id: int, intent: Intent, order: Order, request: InvoiceRequest) -> Outcome:
        number = escape(intent.invoice_number)
        try:
            receipt = self.vtex.notify_invoice(intent.order_id, request)
        except VtexError as exc:
            if exc.maybe_delivered:
                return self._answer_lost(action_id, intent, exc)
            self._finish(action_id, State.FAILED, http_status=exc.status_code, error=str(exc))
            return Outcome(
                "failed",
                _("VTEX did not accept invoice {invoice_number}. {error}").format(
                    invoice_number=number, error=escape(str(exc))
                ),
                order=order,
                action_id=action_id,
                http_status=exc.status_code,
            )
        except InvalidInvoice as exc:
            self._finish(action_id, State.FAILED, error=str(exc))
            return Outcome(
                "failed",
                _("Nothing was sent: {reason}").format(reason=escape(str(exc))),
                order=order,
                action_id=action_id,
            )
        self._finish(action_id, State.SUCCEEDED, http_status=200, receipt=receipt.receipt)
        done = (
            _("Invoice {invoice_number} ({amount}) resent to VTEX.")
            if intent.kind == RESEND
            else _("Invoice {invoice_number} ({amount}) sent to VTEX.")
        )
        return Outcome(
            "succeeded",
            done.format(invoice_number=number, amount=order.money(request.invoice_value)),
            order=order,
            receipt=receipt.receipt,
            http_status=200,
            action_id=action_id,
        )

    def _broken(self, action_id: int, intent: Intent, exc: Exception, progress: _Progress) -> Outcome:
        what = type(exc).__name__
        if progress.posted:
            self._finish(action_id, State.UNKNOWN, error=f"broke after posting: {what}")
            return Outcome(
                "unknown",
                _(
                    "Something went wrong inside the bot after invoice {invoice_number} was sent ({error}). The order "
                    "stays locked while the bot checks with VTEX; it posts the result here."
                ).format(invoice_number=escape(intent.invoice_number), error=what),
                action_id=action_id,
            )
        self._finish(action_id, State.FAILED, error=f"broke before posting: {what}")
        return Outcome(
            "failed",
            _(
                "Nothing was sent: something went wrong inside the bot ({error}). Try again; if it repeats, tell "
                "whoever runs the bot."
            ).format(error=what),
            action_id=action_id,
        )

    def _finish(self, action_id: int, state: State, **kwargs: Any) -> bool:
        # The owner's own result wins over a reconcile that, finding it slow, marked it `unknown` meanwhile.
        kwargs.setdefault("expect", (State.PENDING, State.UNKNOWN))
        try:
            return self.store.ledger.finish(action_id, state, **kwargs) is not None
        except Exception as exc:  # noqa: BLE001 - the lease runs out and settle_unsettled settles it
            log.error("could not record action %s as %s: %s", action_id, state, exc)
            return False

    def _duplicate(self, claim: Claim, who: Any, intent: Intent) -> Outcome:
        first = self._wait_for(claim.duplicate_of or {})
        state = first.get("state", "pending")
        by = mention(first.get("user_id"))
        number = escape(first.get("invoice_number") or intent.invoice_number)
        when = _when(first.get("updated_at"))
        if state in (State.PENDING, State.UNKNOWN):
            text = (
                _(
                    "Already in progress: {user} is sending invoice {invoice_number} for this order. VTEX has not "
                    "confirmed it yet; the bot is checking. Nothing else was sent."
                )
                if state == State.UNKNOWN
                else _(
                    "Already in progress: {user} is sending invoice {invoice_number} for this order. "
                    "Nothing else was sent."
                )
            ).format(user=by, invoice_number=number)
        elif claim.reason == "recent":
            until = _parse(first.get("updated_at"))
            again = _(
                "Already done: {user} resent invoice {invoice_number} {when}. Nothing else was sent. It can be resent "
                "again after {date}."
            )
            text = (
                again.format(
                    user=by, invoice_number=number, when=when, date=slack_date(until + self.store.ledger.resend_window)
                )
                if until
                else _("Already done: {user} resent invoice {invoice_number} {when}. Nothing else was sent.").format(
                    user=by, invoice_number=number, when=when
                )
            )
        elif state == State.SUCCEEDED:
            text = (
                _("Already done: {user} resent invoice {invoice_number} {when}. Nothing else was sent.")
                if first.get("action") == RESEND
                else _("Already done: {user} sent invoice {invoice_number} {when}. Nothing else was sent.")
            ).format(user=by, invoice_number=number, when=when)
        elif claim.reason == "in_flight":
            text = _(
                "{user} was sending invoice {invoice_number} for this order meanwhile; it ended {state}. Your click "
                "sent nothing: look at the card, and press again if the fix is still needed."
            ).format(user=by, invoice_number=number, state=escape(state))
        else:
            text = _("This click was already handled ({state}). Nothing else was sent.").format(state=escape(state))
        try:
            self.store.log.append(
                "action",
                who,
                order_id=intent.order_id,
                account=self.account,
                action=intent.kind,
                outcome="duplicate",
                inputs={"invoice_number": intent.invoice_number, "value": intent.value},
                detail=f"same as action {first.get('id')} ({claim.reason})",
            )
        except Exception as exc:  # noqa: BLE001 - nothing is sent either way
            log.error("could not log a duplicate click: %s", exc)
        return Outcome("duplicate", text, receipt=first.get("receipt"), action_id=first.get("id"))

    def _wait_for(self, first: dict[str, Any]) -> dict[str, Any]:
        """The first action as it ends (or as it is after a short wait), read again from the ledger."""
        waited = 0.0
        while first.get("state") == State.PENDING and first.get("id") and waited < self.timing.duplicate_wait:
            self.sleep(0.2)
            waited += 0.2
            first = self.store.ledger.get(int(first["id"])) or first
        return first

    def _over_limit(self, intent: Intent, who: Any) -> str | None:
        per_order = self.store.ledger.count(since=HOUR, order_id=intent.order_id) - 1
        if per_order >= self.order_limit:
            return _(
                "Refused: order {order_id} already had {count} invoice actions in the last hour (limit {limit}). "
                "Check the order in the VTEX Admin before trying again."
            ).format(order_id=escape(intent.order_id), count=per_order, limit=self.order_limit)
        per_user = self.store.ledger.count(since=HOUR, user_id=who.user_id) - 1
        if per_user >= self.user_limit:
            return _(
                "Refused: you already took {count} invoice actions in the last hour (limit {limit}). Ask another "
                "operator or wait."
            ).format(count=per_user, limit=self.user_limit)
        return None

    def _still_valid(self, order: Order, intent: Intent) -> InvoiceRequest:
        d = diagnose(order, self.clock())
        if order.status == "invoiced":
            raise _Stale(_("the order is already Invoiced."))
        if intent.kind == RESEND:
            offered = next((a for a in d.actions if a.kind == RESEND), None)
            package = next((p for p in order.output_invoices if p.invoice_number == intent.invoice_number), None)
            if package is None:
                raise _Stale(
                    _("invoice {invoice_number} is no longer on the order.").format(
                        invoice_number=intent.invoice_number
                    )
                )
            if offered is None or offered.invoice_number != intent.invoice_number:
                raise _Stale(
                    _changed(
                        d.no_action_reason,
                        _("the order changed and resending this invoice is no longer the fix: {reason}"),
                        _("the order changed and resending this invoice is no longer the fix."),
                    )
                )
            try:
                return resend_request(package, order)
            except InvalidInvoice as exc:
                raise _Stale(str(exc)) from None
        offered = next((a for a in d.actions if a.kind == ADD_PARTIAL), None)
        if offered is None:
            raise _Stale(
                _changed(
                    d.no_action_reason,
                    _("the order changed and adding an invoice is no longer the fix: {reason}"),
                    _("the order changed and adding an invoice is no longer the fix."),
                )
            )
        if intent.expected_missing is not None and order.missing != intent.expected_missing:
            raise _Stale(
                _("the missing amount changed from {before} to {now} since you opened the form.").format(
                    before=order.money(intent.expected_missing), now=order.money(order.missing)
                )
            )
        if intent.draft is None:
            raise _Stale(_("the form's content was lost; open it again."))
        try:
            request = partial_request(order, intent.draft, self.clock())
        except InvalidInvoice as exc:
            raise _Stale(str(exc)) from None
        if request.invoice_value != intent.value or request.invoice_number != intent.invoice_number:
            raise _Stale(_("the invoice no longer matches what you reviewed."))
        return request

    # -- when VTEX's answer is lost ---------------------------------------------------------------------

    def _answer_lost(self, action_id: int, intent: Intent, exc: VtexError) -> Outcome:
        number = escape(intent.invoice_number)
        try:
            order = self.vtex.get_order(intent.order_id)
        except VtexError:
            order = None
        if order is not None and _landed(order, intent.kind, intent.invoice_number):
            self._finish(
                action_id,
                State.SUCCEEDED,
                http_status=exc.status_code,
                error=f"answer lost ({exc}); invoice found on the order",
            )
            return Outcome(
                "succeeded",
                _("VTEX's answer was lost, but re-reading the order shows invoice {invoice_number} is there.").format(
                    invoice_number=number
                ),
                order=order,
                action_id=action_id,
                http_status=exc.status_code,
            )
        self._finish(action_id, State.UNKNOWN, http_status=exc.status_code, error=f"answer lost: {exc}")
        return Outcome(
            "unknown",
            _(
                "VTEX did not confirm invoice {invoice_number} ({error}), and it may still store it. The order stays "
                "locked while the bot re-reads it over the next minutes; the result is posted here. Do not send it "
                "by hand."
            ).format(invoice_number=number, error=escape(str(exc))),
            order=order,
            action_id=action_id,
            http_status=exc.status_code,
        )

    def settle_unsettled(self) -> list[Settled]:
        """Settle actions nobody is working on: their owner died (lease over) or VTEX's answer was lost."""
        settled = []
        for action in self.store.ledger.unsettled(owner_gone=is_gone):
            try:
                settled.append(self._settle(action))
            except Exception as exc:  # noqa: BLE001 - one broken action must not stop the others
                log.error("could not settle action %s: %s", action.get("id"), exc)
                settled.append(Settled(action, "unknown", _("still open: {error}").format(error=type(exc).__name__)))
        return settled

    def _settle(self, action: dict[str, Any]) -> Settled:
        action_id, number = int(action["id"]), str(action.get("invoice_number") or "")
        open_states = (State.PENDING, State.UNKNOWN)
        try:
            order = self.vtex.get_order(action["order_id"])
        except VtexError as exc:
            return Settled(
                action, "unknown", _("still open: the order could not be re-read ({error})").format(error=exc)
            )
        if _landed(order, action["action"], number):
            if self._finish(
                action_id, State.SUCCEEDED, expect=open_states, error="settled: invoice found on the order"
            ):
                return Settled(
                    action,
                    "succeeded",
                    _("VTEX has invoice {invoice_number}, so it *succeeded*.").format(invoice_number=escape(number)),
                )
            return Settled(action, "unknown", _("settled by someone else"))
        if action["state"] == State.PENDING and not action.get("posted_at"):
            stopped = "settled: stopped before VTEX was called"
            if self._finish(action_id, State.FAILED, expect=(State.PENDING,), error=stopped, never_posted=True):
                return Settled(
                    action, "failed", _("it stopped before VTEX was called, so nothing was sent. Try again.")
                )
            return Settled(action, "unknown", _("settled by someone else"))
        since = _parse(action.get("posted_at")) or _parse(action.get("updated_at")) or self.clock()
        absent_for = self.clock() - since
        if absent_for < self.timing.settle_after:
            if action["state"] == State.PENDING:
                self._finish(
                    action_id,
                    State.UNKNOWN,
                    expect=(State.PENDING,),
                    error="owner gone after posting; checking with VTEX",
                )
            # (a pending row that turns out to be posting meanwhile is left to its owner by the CAS)
            return Settled(
                action,
                "unknown",
                _("still open: not on the order after {seconds} s").format(seconds=int(absent_for.total_seconds())),
            )
        minutes = max(int(absent_for.total_seconds() // 60), 1)
        if self._finish(
            action_id, State.FAILED, expect=open_states, error=f"settled: not on the order after {minutes} min"
        ):
            return Settled(
                action,
                "failed",
                ngettext(
                    "VTEX has shown for {n} minute that it does not have invoice {invoice_number}, so it *failed*. "
                    "It is safe to try again.",
                    "VTEX has shown for {n} minutes that it does not have invoice {invoice_number}, so it *failed*. "
                    "It is safe to try again.",
                    minutes,
                ).format(invoice_number=escape(number)),
            )
        return Settled(action, "unknown", _("settled by someone else"))


class _Stale(Exception):
    pass


def _landed(order: Order, kind: str, number: str) -> bool:
    if kind == RESEND:
        return order.status == "invoiced"  # a resend adds nothing visible unless it completes the order
    return number.lower() in {n.lower() for n in order.invoice_numbers}


def _changed(reason: str | None, with_reason: str, without_reason: str) -> str:
    """`with_reason` (a message with a `{reason}`) when the diagnosis gives one, else `without_reason`."""
    return with_reason.format(reason=reason) if reason else without_reason


def _parse(stamp: str | None) -> datetime | None:
    try:
        return datetime.fromisoformat(stamp) if stamp else None
    except ValueError:
        return None


def _when(stamp: str | None) -> str:
    moment = _parse(stamp)
    return _("at {date}").format(date=slack_date(moment)) if moment else _("earlier")

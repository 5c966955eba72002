"""The action's own rules (claim, re-check, post once, settle), each tested without Slack."""

import copy
import json
import logging
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from bot.acting import NO_RECORD, Actor, Intent, Outcome, Settled, Timing
from bot.audit import AuditError, Who
from bot.diagnosis import ADD_PARTIAL, RESEND, diagnose
from bot.doubles.vtex import sandbox_double
from bot.errors import OrderNotFound, RequestRejected, Unavailable
from bot.invoices import InvalidInvoice, InvoiceReceipt, PartialDraft, open_lines
from bot.ledger import Claim, State
from bot.mrkdwn import escape, slack_date
from bot.order import parse_order
from bot.owner import this_process
from bot.sandbox import CLP as SANDBOX_CLP
from bot.sandbox import SANDBOX_URL
from bot.store import Store
from bot.vtex import VtexClient
from tests.factories import invoice, order_json

PARTIAL_ORDER = "1500000000001-01"  # missing R$ 129,90: one T-shirt (119,95) and 9,95 of shipping


@pytest.fixture
def clock():
    return [datetime.now(UTC)]


@pytest.fixture
def actor(tmp_path, clock):
    double = sandbox_double()
    store = Store(tmp_path / "a.db", key=b"k" * 32, clock=lambda: clock[0])
    actor = Actor(
        VtexClient(SANDBOX_URL, transport=double.transport(), sleep=lambda s: None),
        store,
        account="sandbox",
        order_limit=10,
        user_limit=2,
        clock=lambda: clock[0],
        timing=Timing(post_timeout=1.0, read_budget=1.0, settle_after=timedelta(minutes=5)),
    )
    actor.double = double
    yield actor
    store.close()


def partial(actor, order_id, number, key, value=None, *, other=True):
    order = actor.vtex.get_order(order_id)
    items = tuple(line.item() for line in open_lines(order))
    issued = datetime.now(UTC) - timedelta(hours=1)
    draft = PartialDraft(number, issued, items, other, value)
    posted = value if value is not None else order.missing
    return Intent("add_partial_invoice", order_id, number, posted, key, expected_missing=order.missing, draft=draft)


def test_per_user_limit_refuses_with_a_clear_message(actor):
    who = Who("U1")
    assert actor.perform(partial(actor, "1500000000003-01", "A1", "k1"), who).state == "succeeded"
    assert actor.perform(partial(actor, "1500000000017-01", "B1", "k2"), who).state == "succeeded"
    third = actor.perform(partial(actor, "1500000000001-01", "C1", "k3"), who)
    assert third.state == "refused" and third.message == (
        "Refused: you already took 2 invoice actions in the last hour (limit 2). Ask another operator or wait."
    )
    assert len(actor.double.invoice_posts()) == 2
    assert actor.perform(partial(actor, "1500000000001-01", "C1", "k4"), Who("U2")).state == "succeeded"


@pytest.mark.parametrize(("delta", "sent"), [(-1, True), (0, True), (1, False)])
def test_the_action_checks_the_value_itself_at_missing_plus_or_minus_a_cent(actor, delta, sent):
    missing = actor.vtex.get_order(PARTIAL_ORDER).missing
    outcome = actor.perform(partial(actor, PARTIAL_ORDER, "NF-X", "k1", value=missing + delta), Who("U1"))
    assert (outcome.state == "succeeded") is sent
    if not sent:
        assert outcome.state == "stale" and "cannot exceed" in outcome.message
    assert len(actor.double.invoice_posts()) == int(sent)
    if sent:
        assert actor.double.invoice_posts()[0].json()["invoiceValue"] == str(missing + delta)


@pytest.mark.parametrize("value", [0, -1])
def test_a_zero_or_negative_value_is_never_sent(actor, value):
    outcome = actor.perform(partial(actor, PARTIAL_ORDER, "NF-X", "k1", value=value), Who("U1"))
    assert outcome.state == "stale" and "greater than zero" in outcome.message
    assert actor.double.invoice_posts() == []


def test_partial_with_a_number_already_on_the_order_is_never_sent(actor):
    outcome = actor.perform(partial(actor, PARTIAL_ORDER, "nf10001", "k1"), Who("U1"))
    assert outcome.state == "stale" and "already on this order" in outcome.message
    assert actor.double.invoice_posts() == []


def test_a_missing_amount_that_changed_since_the_form_means_nothing_is_sent(actor):
    intent = partial(actor, PARTIAL_ORDER, "NF-X", "k1")
    stale = Intent(**{**intent.__dict__, "expected_missing": intent.expected_missing + 1})
    outcome = actor.perform(stale, Who("U1"))
    assert outcome.state == "stale" and "changed from" in outcome.message
    assert actor.double.invoice_posts() == []


def test_an_error_before_the_post_fails_the_action_and_frees_the_order(actor, monkeypatch):
    intent = partial(actor, PARTIAL_ORDER, "NF-X", "k1")
    real = actor.vtex.get_order

    def broken(order_id):
        raise TypeError("can't compare offset-naive and offset-aware datetimes")

    monkeypatch.setattr(actor.vtex, "get_order", broken)
    outcome = actor.perform(intent, Who("U1"))
    assert outcome.state == "failed" and "Nothing was sent" in outcome.message and "TypeError" in outcome.message
    assert actor.store.ledger.open() == [] and actor.double.invoice_posts() == []
    monkeypatch.setattr(actor.vtex, "get_order", real)
    assert actor.perform(partial(actor, PARTIAL_ORDER, "NF-X", "k2"), Who("U1")).state == "succeeded"


def test_an_error_after_the_post_keeps_the_order_locked_as_unknown(actor, monkeypatch):
    intent = partial(actor, PARTIAL_ORDER, "NF-X", "k1")
    real = actor.vtex.notify_invoice

    def post_then_break(order_id, request):
        real(order_id, request)
        raise RuntimeError("after the wire")

    monkeypatch.setattr(actor.vtex, "notify_invoice", post_then_break)
    outcome = actor.perform(intent, Who("U1"))
    assert outcome.state == "unknown" and "stays locked" in outcome.message
    assert actor.perform(partial(actor, PARTIAL_ORDER, "NF-Y", "k2"), Who("U2")).state == "duplicate"
    settled = actor.settle_unsettled()
    assert [s.state for s in settled] == ["succeeded"]
    assert len(actor.double.invoice_posts()) == 1


def test_a_lost_answer_for_an_invoice_vtex_never_stored_fails_only_after_the_settle_time(actor, clock):
    actor.double.fail_next(504, method="POST")  # answered 504 before storing anything
    outcome = actor.perform(partial(actor, PARTIAL_ORDER, "NF-X", "k1"), Who("U1"))
    assert outcome.state == "unknown" and "Do not send it by hand" in outcome.message
    clock[0] += timedelta(minutes=5) - timedelta(seconds=1)
    assert [s.state for s in actor.settle_unsettled()] == ["unknown"]
    assert actor.perform(partial(actor, PARTIAL_ORDER, "NF-Y", "k2"), Who("U2")).state == "duplicate"
    clock[0] += timedelta(seconds=2)
    settled = actor.settle_unsettled()
    assert [s.state for s in settled] == ["failed"] and "safe to try again" in settled[0].message
    assert actor.perform(partial(actor, PARTIAL_ORDER, "NF-Y", "k3"), Who("U2")).state == "succeeded"
    assert len(actor.double.stored_invoices(PARTIAL_ORDER)) == 2  # NF10001 and NF-Y: one fix, one invoice


def test_settling_a_crashed_owner_from_the_order(actor, clock):
    store = actor.store

    def orphan(order_id, number, key, posted):
        c = store.ledger.claim(
            Who("U1"),
            order_id=order_id,
            account="sandbox",
            action="add_partial_invoice",
            invoice_number=number,
            value=100,
            click_key=key,
            lease=timedelta(seconds=30),
        )
        if posted:
            store.ledger.mark_posting(c.action_id, timedelta(seconds=30))
        return c.action_id

    landed = orphan(PARTIAL_ORDER, "NF10001", "a", posted=True)  # its number is on the order
    never_posted = orphan("1500000000003-01", "NEVER", "b", posted=False)
    maybe = orphan("1500000000017-01", "MAYBE", "c", posted=True)
    assert actor.settle_unsettled() == []  # their owners' leases still run
    clock[0] += timedelta(seconds=31)
    states = {s.action["id"]: s.state for s in actor.settle_unsettled()}
    assert states == {landed: "succeeded", never_posted: "failed", maybe: "unknown"}
    assert store.ledger.get(maybe)["state"] == State.UNKNOWN


def test_a_resend_within_the_window_is_a_duplicate_that_says_when(actor):
    order = actor.vtex.get_order("1500000000002-01")

    def resend(key):
        return Intent("resend_invoice", order.order_id, "NF20001", order.value, key)

    assert actor.perform(resend("k1"), Who("UOPS00001")).state == "succeeded"
    actor.double.orders[order.order_id]["status"] = "handling"  # VTEX still has it stuck
    again = actor.perform(resend("k2"), Who("UOTHER01"))
    assert (
        again.state == "duplicate" and "Already done: <@UOPS00001> resent invoice NF20001 at <!date^" in again.message
    )
    assert "can be resent again after" in again.message
    assert len(actor.double.invoice_posts()) == 1


def test_vtex_refusing_the_post_fails_with_its_reason(actor):
    actor.double.fail_next(400, {"error": {"code": "1", "message": "Invalid <b>invoice</b>"}}, method="POST")
    outcome = actor.perform(partial(actor, PARTIAL_ORDER, "NF-X", "k1"), Who("U1"))
    assert outcome.state == "failed" and "Invalid" in outcome.message and "<b>" not in outcome.message
    assert actor.store.ledger.open() == []


def test_a_transport_that_cannot_connect_never_posts(actor, monkeypatch):
    def refuse(request):
        raise httpx.ConnectError("refused")

    intent = partial(actor, PARTIAL_ORDER, "NF-X", "k1")
    actor.vtex._http._transport = httpx.MockTransport(refuse)
    outcome = actor.perform(intent, Who("U1"))
    assert outcome.state == "failed" and "Nothing was sent" in outcome.message


# -- every outcome, row, audit entry and log line of the action, with a scripted VTEX (issue 16) --------
# The fake below answers get_order and notify_invoice from one order's JSON and records each call, so each
# test says exactly whether VTEX was read and whether it was sent an invoice. The clock never moves by itself.

ORDER = "1234567890123-01"
T0 = datetime(2026, 11, 28, 12, tzinfo=UTC)
ISSUED = T0 - timedelta(hours=1)
OPS = Who("UOPS00001", "T1", "C1")
OTHER = Who("UOTHER01", "T1", "C1")
REPLY = {"response_url": "https://hooks.slack.com/actions/T1/1/secret"}


def stamp(moment):
    return moment.isoformat(timespec="milliseconds")


def short_order(status="handling", **extra):
    """R$ 100,00: two lamps at 40,00 and 20,00 of shipping; NF-1 invoiced one lamp: R$ 60,00 missing."""
    return order_json(status, value=10000, invoices=[invoice("NF-1", 4000)], **extra)


def covered_order(status="handling"):
    return order_json(status, value=10000, invoices=[invoice("NF-1", 10000)])


class FakeVtex:
    def __init__(self, data):
        self.data = data
        self.reads, self.posts, self.returned = [], [], []
        self.read_errors = []  # raised by the next reads, in order (None: answer)
        self.post_error = None
        self.lands = True  # whether a POST stores the invoice, also when its answer is lost
        self.on_read = None

    def get_order(self, order_id):
        self.reads.append(order_id)
        if self.on_read:
            self.on_read()
        error = self.read_errors.pop(0) if self.read_errors else None
        if error:
            raise error
        order = parse_order(copy.deepcopy(self.data))
        self.returned.append(order)
        return order

    def notify_invoice(self, order_id, request):
        self.posts.append((order_id, request.to_json()))
        if self.lands:
            packages = self.data["packageAttachment"]["packages"]
            if any(p["invoiceNumber"] == request.invoice_number for p in packages):
                self.data["status"] = "invoiced"  # a resend that completes the order
            else:
                self.store(request.invoice_number, request.invoice_value)
        if self.post_error:
            raise self.post_error
        return InvoiceReceipt(order_id, "R-1")

    def store(self, number, value):
        self.data["packageAttachment"]["packages"].append(invoice(number, value, items=[]))


@pytest.fixture
def now():
    return [T0]


@pytest.fixture
def store(tmp_path, now):
    s = Store(tmp_path / "act.db", key=b"k" * 32, clock=lambda: now[0])
    yield s
    s.close()


def make_actor(store, now, data, *, order_limit=10, user_limit=10, settle_after=timedelta(minutes=5), wait=8.0):
    timing = Timing(1.0, 1.0, timedelta(seconds=30), settle_after, duplicate_wait=wait)
    actor = Actor(FakeVtex(data), store, "acme", order_limit, user_limit, lambda: now[0], timing, sleep=Sleeps())
    return actor


class Sleeps(list):
    """The actor's sleep: records each wait and, on the first, runs `during` (another party finishing)."""

    during = None

    def __call__(self, seconds):
        self.append(seconds)
        if self.during and len(self) == 1:
            self.during()


def partial_intent(
    actor, number="NF-2", key="k1", value=None, *, expected=None, draft=True, draft_number=None, items=None
):
    order = parse_order(copy.deepcopy(actor.vtex.data))
    chosen = tuple(line.item() for line in open_lines(order)) if items is None else items
    form = PartialDraft(draft_number or number, ISSUED, chosen, True, value) if draft else None
    sent = order.missing if value is None else value
    return Intent(ADD_PARTIAL, ORDER, number, sent, key, order.missing if expected is None else expected, form)


def resend_intent(number="NF-1", key="k1", value=10000):
    return Intent(RESEND, ORDER, number, value, key)


def row(store, action_id):
    r = store.ledger.get(action_id)
    keep = ("state", "http_status", "receipt", "error", "value", "invoice_number", "lease_until", "reply_to", "owner")
    keep += ("amount_text",)
    return {**{k: r[k] for k in keep}, "posted": r["posted_at"] is not None}


def audit(store, action_id=None):
    rows = reversed(store.log.recent(100, kind="action"))
    return [(r["outcome"], r["http_status"], r["receipt"], r["detail"]) for r in rows if r["action_id"] == action_id]


def logged(caplog):
    return [(r.levelno, r.getMessage()) for r in caplog.records if r.name == "unstuck.acting"]


def expect_row(state, *, http_status=None, receipt=None, error=None, value=6000, number="NF-2", posted=True, **kw):
    lease = T0 + (timedelta(seconds=31) if posted else timedelta(seconds=32))
    base = {"state": state, "http_status": http_status, "receipt": receipt, "error": error, "value": value}
    base |= {"invoice_number": number, "lease_until": stamp(lease), "reply_to": None, "owner": this_process()}
    base |= {"amount_text": "R$ 60,00" if posted else None}  # the amount as the agent saw it, for App Home
    return {**base, "posted": posted, **kw}


def test_a_partial_invoice_is_posted_once_with_its_value_and_recorded(store, now):
    actor = make_actor(store, now, short_order())
    outcome = actor.perform(partial_intent(actor), OPS, reply_to=REPLY)
    assert outcome == Outcome(
        "succeeded",
        "Invoice NF-2 (R$ 60,00) sent to VTEX.",
        order=actor.vtex.returned[0],
        receipt="R-1",
        http_status=200,
        action_id=1,
    )
    assert actor.vtex.reads == [ORDER] and [(o, b["invoiceValue"]) for o, b in actor.vtex.posts] == [(ORDER, "6000")]
    assert row(store, 1) == expect_row("succeeded", http_status=200, receipt="R-1")
    assert audit(store, 1) == [("pending", None, None, None), ("succeeded", 200, "R-1", None)]


def test_a_resend_says_resent(store, now):
    actor = make_actor(store, now, covered_order())
    outcome = actor.perform(resend_intent(), OPS)
    assert (outcome.state, outcome.message) == (
        "succeeded",
        "Invoice NF-1 (R$ 100,00) resent to VTEX.",
    )
    assert [b["invoiceNumber"] for _, b in actor.vtex.posts] == ["NF-1"]


@pytest.mark.parametrize(
    ("store_preferences", "missing", "shown"),
    [(None, 6000, "R$ 60,00"), (SANDBOX_CLP, 6000, "$ 60")],
    ids=["BRL", "CLP"],
)
@pytest.mark.parametrize("delta", [-1, 0, 1])
def test_the_action_checks_the_value_on_its_own_in_both_currencies(
    store, now, store_preferences, missing, shown, delta
):
    data = short_order()
    if store_preferences:
        data["storePreferencesData"] = store_preferences
    actor = make_actor(store, now, data)
    outcome = actor.perform(partial_intent(actor, value=missing + delta), OPS)
    if delta <= 0:
        assert outcome.state == "succeeded" and outcome.message.startswith("Invoice NF-2 (")
        assert [b["invoiceValue"] for _, b in actor.vtex.posts] == [str(missing + delta)]
    else:
        assert outcome.message == f"Nothing was sent: The value cannot exceed what is missing, {shown}."
        assert outcome.state == "stale" and actor.vtex.posts == []


@pytest.mark.parametrize("value", [0, -1])
def test_the_action_never_sends_zero_or_less(store, now, value):
    actor = make_actor(store, now, short_order())
    outcome = actor.perform(partial_intent(actor, value=value), OPS)
    assert outcome.message == (
        "Nothing was sent: The value must be greater than zero: choose at least one item or the shipping still owed."
    )
    assert actor.vtex.posts == [] and row(store, 1)["state"] == "refused"


@pytest.mark.parametrize(("paid", "offered"), [(9999, True), (10000, False), (10001, False)])
def test_the_action_on_an_order_short_by_a_cent_covered_or_over_by_a_cent(store, now, paid, offered):
    actor = make_actor(store, now, order_json(value=10000, invoices=[invoice("NF-1", paid)]))
    intent = Intent(ADD_PARTIAL, ORDER, "NF-2", 1, "k1", 1, PartialDraft("NF-2", ISSUED, (), True, 1))
    outcome = actor.perform(intent, OPS)
    if offered:
        assert outcome.message == "Invoice NF-2 (R$ 0,01) sent to VTEX."
        assert [b["invoiceValue"] for _, b in actor.vtex.posts] == ["1"]
    else:
        assert outcome.state == "stale" and actor.vtex.posts == []


def test_vtex_refusing_the_invoice_fails_with_its_words_and_frees_the_order(store, now):
    actor = make_actor(store, now, short_order())
    actor.vtex.lands = False
    actor.vtex.post_error = RequestRejected("VTEX refused: <b>bad</b>", order_id=ORDER, status_code=400)
    outcome = actor.perform(partial_intent(actor), OPS)
    assert outcome == Outcome(
        "failed",
        "VTEX did not accept invoice NF-2. VTEX refused: &lt;b&gt;bad&lt;/b&gt;",
        order=actor.vtex.returned[0],
        action_id=1,
        http_status=400,
    )
    assert row(store, 1) == expect_row("failed", http_status=400, error="VTEX refused: <b>bad</b>")
    assert store.ledger.open() == []


def test_an_invoice_the_client_refuses_to_send_fails_without_a_call(store, now):
    actor = make_actor(store, now, short_order())
    actor.vtex.lands = False
    actor.vtex.post_error = InvalidInvoice("number", "Use only letters, digits and '-' in the invoice number.")
    outcome = actor.perform(partial_intent(actor), OPS)
    assert outcome == Outcome(
        "failed",
        "Nothing was sent: Use only letters, digits and '-' in the invoice number.",
        order=actor.vtex.returned[0],
        action_id=1,
    )
    assert row(store, 1) == expect_row("failed", error="Use only letters, digits and '-' in the invoice number.")


def lost(status=504):
    return Unavailable("VTEX did not answer <in time>", order_id=ORDER, status_code=status).with_delivery_unknown()


def test_a_lost_answer_for_an_invoice_that_landed_succeeds(store, now):
    actor = make_actor(store, now, short_order())
    actor.vtex.post_error = lost()
    outcome = actor.perform(partial_intent(actor), OPS)
    assert outcome == Outcome(
        "succeeded",
        "VTEX's answer was lost, but re-reading the order shows invoice NF-2 is there.",
        order=actor.vtex.returned[1],
        action_id=1,
        http_status=504,
    )
    assert actor.vtex.reads == [ORDER, ORDER] and len(actor.vtex.posts) == 1
    error = "answer lost (VTEX did not answer <in time>); invoice found on the order"
    assert row(store, 1) == expect_row("succeeded", http_status=504, error=error)


UNCONFIRMED = (
    "VTEX did not confirm invoice NF-2 (VTEX did not answer &lt;in time&gt;), and it may still store it. The order "
    "stays locked while the bot re-reads it over the next minutes; the result is posted here. Do not send it by hand."
)


@pytest.mark.parametrize("reread", ["answers", "fails"])
def test_a_lost_answer_for_an_invoice_not_there_keeps_the_order_locked(store, now, reread):
    actor = make_actor(store, now, short_order())
    actor.vtex.lands = False
    actor.vtex.post_error = lost()
    if reread == "fails":
        actor.vtex.read_errors = [None, Unavailable("VTEX is down", order_id=ORDER, status_code=503)]
    outcome = actor.perform(partial_intent(actor), OPS, reply_to=REPLY)
    order = actor.vtex.returned[1] if reread == "answers" else None
    assert outcome == Outcome("unknown", UNCONFIRMED, order=order, action_id=1, http_status=504)
    expected = expect_row("unknown", http_status=504, error="answer lost: VTEX did not answer <in time>")
    assert row(store, 1) == {**expected, "reply_to": json.dumps(REPLY)}
    assert actor.perform(partial_intent(actor, "NF-3", "k2"), OTHER).state == "duplicate"


@pytest.mark.parametrize(("status_after", "state"), [("handling", "unknown"), ("invoiced", "succeeded")])
def test_a_resend_whose_answer_is_lost_landed_only_when_the_order_is_invoiced(store, now, status_after, state):
    actor = make_actor(store, now, covered_order())
    actor.vtex.lands = status_after == "invoiced"
    actor.vtex.post_error = lost()
    assert actor.perform(resend_intent(), OPS).state == state


def test_an_error_after_the_post_is_unknown_logged_and_locked(store, now, caplog):
    actor = make_actor(store, now, short_order())
    actor.vtex.post_error = RuntimeError("after the wire")
    outcome = actor.perform(partial_intent(actor), OPS)
    assert outcome == Outcome(
        "unknown",
        "Something went wrong inside the bot after invoice NF-2 was sent (RuntimeError). The order stays locked "
        "while the bot checks with VTEX; it posts the result here.",
        action_id=1,
    )
    assert row(store, 1) == expect_row("unknown", error="broke after posting: RuntimeError")
    assert logged(caplog) == [(logging.ERROR, f"invoice action 1 on {ORDER} broke")]


def test_an_error_before_the_post_fails_and_sends_nothing(store, now, caplog):
    actor = make_actor(store, now, short_order())
    actor.vtex.read_errors = [TypeError("can't compare offset-naive and offset-aware datetimes")]
    outcome = actor.perform(partial_intent(actor), OPS)
    assert outcome == Outcome(
        "failed",
        "Nothing was sent: something went wrong inside the bot (TypeError). Try again; if it repeats, "
        "tell whoever runs the bot.",
        action_id=1,
    )
    assert row(store, 1) == expect_row("failed", error="broke before posting: TypeError", posted=False)
    assert actor.vtex.posts == [] and logged(caplog) == [(logging.ERROR, f"invoice action 1 on {ORDER} broke")]


def test_an_order_that_cannot_be_re_read_is_never_posted(store, now):
    actor = make_actor(store, now, short_order())
    actor.vtex.read_errors = [OrderNotFound("Order <x> was not found", order_id=ORDER, status_code=404)]
    outcome = actor.perform(partial_intent(actor), OPS)
    assert outcome == Outcome(
        "failed",
        "Nothing was sent: the bot could not re-read the order first. Order &lt;x&gt; was not found",
        action_id=1,
        http_status=404,
    )
    error = "re-read failed: Order <x> was not found"
    assert row(store, 1) == expect_row("failed", http_status=404, error=error, posted=False)
    assert actor.vtex.posts == []


def test_no_write_ahead_row_no_call(store, now, monkeypatch):
    actor = make_actor(store, now, short_order())

    def cannot_write(*args):
        raise AuditError("disk full")

    monkeypatch.setattr(store.ledger, "mark_posting", cannot_write)
    outcome = actor.perform(partial_intent(actor), OPS)
    assert outcome == Outcome("failed", NO_RECORD, order=actor.vtex.returned[0], action_id=1)
    expected = expect_row("failed", error="audit write failed; VTEX not called", posted=False)
    assert row(store, 1) == expected and actor.vtex.posts == []


def test_no_claim_no_read_and_no_call(store, now, caplog):
    actor = make_actor(store, now, short_order())
    store.database.conn.execute(
        "CREATE TEMP TRIGGER no_claims BEFORE INSERT ON actions BEGIN SELECT x FROM nowhere; END"
    )
    assert actor.perform(partial_intent(actor), OPS) == Outcome("failed", NO_RECORD)
    assert actor.vtex.reads == [] and actor.vtex.posts == []
    message = f"could not claim an invoice action on {ORDER}: could not record the action (no such table: nowhere)"
    assert logged(caplog) == [(logging.ERROR, message)]


@pytest.mark.parametrize(("limit", "refused"), [(1, True), (2, False)])
def test_the_per_order_limit_counts_the_actions_before_this_one(store, now, limit, refused):
    actor = make_actor(store, now, short_order(), order_limit=limit)
    assert actor.perform(partial_intent(actor, "NF-2", "k1", 4000), OPS).state == "succeeded"
    outcome = actor.perform(partial_intent(actor, "NF-3", "k2", 2000, items=()), OPS)
    if not refused:
        assert outcome.state == "succeeded"
        return
    message = (
        f"Refused: order {ORDER} already had 1 invoice actions in the last hour (limit 1). "
        "Check the order in the VTEX Admin before trying again."
    )
    assert outcome == Outcome("refused", message, action_id=2)
    assert row(store, 2) == expect_row("refused", error=message, value=2000, number="NF-3", posted=False)
    assert actor.vtex.reads == [ORDER] and len(actor.vtex.posts) == 1


# -- stale: the order changed between the click and the call ---------------------------------------------


def reason_of(data):
    return escape(diagnose(parse_order(data), T0).no_action_reason)


def test_stale_when_the_order_is_already_invoiced(store, now):
    actor = make_actor(store, now, covered_order("invoiced"))
    outcome = actor.perform(resend_intent(), OPS)
    assert outcome == Outcome(
        "stale", "Nothing was sent: the order is already Invoiced.", order=actor.vtex.returned[0], action_id=1
    )
    assert row(store, 1) == expect_row(
        "refused", error="stale: the order is already Invoiced.", value=10000, number="NF-1", posted=False
    )


def test_stale_resends(store, now):
    actor = make_actor(store, now, covered_order())
    assert actor.perform(resend_intent("NF-9", "k1"), OPS).message == (
        "Nothing was sent: invoice NF-9 is no longer on the order."
    )
    actor.vtex.data = short_order()  # no longer covered: adding an invoice is the fix now
    assert actor.perform(resend_intent("NF-1", "k2"), OPS).message == (
        "Nothing was sent: the order changed and resending this invoice is no longer the fix."
    )
    actor.vtex.data = covered_order() | {"workflowIsInError": True}
    assert actor.perform(resend_intent("NF-1", "k3"), OPS).message == (
        "Nothing was sent: the order changed and resending this invoice is no longer the fix: "
        + reason_of(actor.vtex.data)
    )
    # Two invoices add up: resending the older one is not the fix, the latest one is.
    actor.vtex.data = order_json(value=10000, invoices=[invoice("NF-1", 6000, days_ago=3), invoice("NF-2", 4000)])
    assert actor.perform(resend_intent("NF-1", "k4", 6000), OPS).message == (
        "Nothing was sent: the order changed and resending this invoice is no longer the fix."
    )
    actor.vtex.data = order_json(value=10000, invoices=[invoice("NF-1", 10000, issuanceDate=None)])
    assert actor.perform(resend_intent("NF-1", "k5"), OPS).message == (
        "Nothing was sent: Invoice NF-1 has no issuance date to resend."
    )
    assert actor.vtex.posts == []


def test_stale_partials(store, now):
    actor = make_actor(store, now, short_order())
    intent = partial_intent(actor)
    actor.vtex.data = covered_order()
    assert actor.perform(intent, OPS).message == (
        "Nothing was sent: the order changed and adding an invoice is no longer the fix."
    )
    actor.vtex.data = order_json(value=10000, invoices=[invoice("NF-1", 10001)])
    assert actor.perform(Intent(**{**intent.__dict__, "click_key": "k2"}), OPS).message == (
        "Nothing was sent: the order changed and adding an invoice is no longer the fix: " + reason_of(actor.vtex.data)
    )
    actor.vtex.data = short_order()
    changed = Intent(**{**intent.__dict__, "click_key": "k3", "expected_missing": 4000})
    assert actor.perform(changed, OPS).message == (
        "Nothing was sent: the missing amount changed from R$ 40,00 to R$ 60,00 since you opened the form."
    )
    assert actor.perform(partial_intent(actor, key="k4", draft=False), OPS).message == (
        "Nothing was sent: the form's content was lost; open it again."
    )
    assert actor.perform(partial_intent(actor, "NF-1", "k5"), OPS).message == (
        "Nothing was sent: Invoice NF-1 is already on this order; a new invoice needs its own number."
    )
    reviewed = "Nothing was sent: the invoice no longer matches what you reviewed."
    other_value = Intent(**{**partial_intent(actor, key="k6").__dict__, "value": 5999})
    assert actor.perform(other_value, OPS).message == reviewed
    assert actor.perform(partial_intent(actor, "NF-3", "k7", draft_number="NF-4"), OPS).message == reviewed
    assert actor.vtex.posts == []


# -- duplicates: what the second click is told -------------------------------------------------------------


def duplicate_rows(store):
    rows = reversed(store.log.recent(100, kind="action"))
    keep = ("user_id", "order_id", "account", "action", "inputs", "outcome", "detail", "action_id")
    return [{k: r[k] for k in keep} for r in rows if r["outcome"] == "duplicate"]


def test_the_same_click_after_a_partial_was_sent(store, now):
    actor = make_actor(store, now, short_order())
    intent = partial_intent(actor)
    actor.perform(intent, OPS)
    outcome = actor.perform(intent, OTHER)
    text = f"Already done: <@UOPS00001> sent invoice NF-2 at {slack_date(T0)}. Nothing else was sent."
    assert outcome == Outcome("duplicate", text, receipt="R-1", action_id=1)
    assert duplicate_rows(store) == [
        {
            "user_id": "UOTHER01",
            "order_id": ORDER,
            "account": "acme",
            "action": ADD_PARTIAL,
            "inputs": '{"invoice_number": "NF-2", "value": 6000}',
            "outcome": "duplicate",
            "detail": "same as action 1 (click)",
            "action_id": None,
        }
    ]
    assert len(actor.vtex.posts) == 1


def test_a_resend_again_within_the_window(store, now):
    actor = make_actor(store, now, covered_order())
    actor.perform(resend_intent(), OPS)
    assert actor.perform(resend_intent(), OTHER).message == (
        f"Already done: <@UOPS00001> resent invoice NF-1 at {slack_date(T0)}. Nothing else was sent."
    )
    actor.vtex.data["status"] = "handling"
    now[0] = T0 + timedelta(minutes=3)
    outcome = actor.perform(resend_intent(key="k2"), OTHER)
    assert outcome == Outcome(
        "duplicate",
        f"Already done: <@UOPS00001> resent invoice NF-1 at {slack_date(T0)}. Nothing else was sent. "
        f"It can be resent again after {slack_date(T0 + timedelta(minutes=10))}.",
        receipt="R-1",
        action_id=1,
    )
    assert duplicate_rows(store)[-1]["detail"] == "same as action 1 (recent)"
    assert len(actor.vtex.posts) == 1


def first_click(store, number="NF-2", *, key="k0", action=ADD_PARTIAL):
    """Another operator's action on ORDER, claimed and still running (6000 cents, a 30 s lease)."""
    return store.ledger.claim(
        OPS,
        order_id=ORDER,
        account="acme",
        action=action,
        invoice_number=number,
        value=6000,
        click_key=key,
        lease=timedelta(seconds=30),
    ).action_id


def test_a_click_while_another_invoice_is_in_flight(store, now):
    actor = make_actor(store, now, short_order())
    first_click(store)
    outcome = actor.perform(partial_intent(actor, "NF-3", "k1"), OTHER)
    text = "Already in progress: <@UOPS00001> is sending invoice NF-2 for this order. Nothing else was sent."
    assert outcome == Outcome("duplicate", text, action_id=1)
    # It waited about 8 s, in steps of 0.2 s, for the first click to end.
    assert set(actor.sleep) == {0.2} and 8.0 <= sum(actor.sleep) < 8.2 + 1e-9
    actor.sleep.clear()
    store.ledger.finish(1, State.UNKNOWN)
    assert actor.perform(partial_intent(actor, "NF-3", "k2"), OTHER).message == (
        "Already in progress: <@UOPS00001> is sending invoice NF-2 for this order. VTEX has not confirmed it yet; "
        "the bot is checking. Nothing else was sent."
    )
    assert actor.sleep == []  # an unknown action is not waited for: the settle takes minutes
    assert actor.vtex.reads == [] and actor.vtex.posts == []


def test_the_same_click_after_a_failure(store, now):
    actor = make_actor(store, now, short_order())
    actor.vtex.read_errors = [Unavailable("down", order_id=ORDER, status_code=503)]
    intent = partial_intent(actor)
    actor.perform(intent, OPS)
    outcome = actor.perform(intent, OPS)
    assert outcome == Outcome(
        "duplicate", "This click was already handled (failed). Nothing else was sent.", action_id=1
    )


def test_a_duplicate_claim_without_a_row_still_sends_nothing(store, now, monkeypatch):
    actor = make_actor(store, now, short_order())
    monkeypatch.setattr(store.ledger, "claim", lambda *a, **k: Claim(None, {"state": State.PENDING}, "business"))
    outcome = actor.perform(partial_intent(actor), None)
    text = "Already in progress: someone is sending invoice NF-2 for this order. Nothing else was sent."
    assert outcome == Outcome("duplicate", text) and actor.sleep == []
    assert [r["detail"] for r in duplicate_rows(store)] == ["same as action None (business)"]


@pytest.mark.parametrize("updated_at", [None, "not a date"])
def test_a_recent_resend_without_a_time_says_earlier(store, now, monkeypatch, updated_at):
    actor = make_actor(store, now, covered_order())
    first = {"id": 7, "state": "succeeded", "action": RESEND, "user_id": "UOPS00001", "invoice_number": "NF-1"}
    first |= {"updated_at": updated_at, "receipt": "R-7"}
    monkeypatch.setattr(store.ledger, "claim", lambda *a, **k: Claim(None, first, "recent"))
    outcome = actor.perform(resend_intent(), OTHER)
    text = "Already done: <@UOPS00001> resent invoice NF-1 earlier. Nothing else was sent."
    assert outcome == Outcome("duplicate", text, receipt="R-7", action_id=7)


def test_a_duplicate_that_cannot_be_logged_is_still_answered(store, now, monkeypatch, caplog):
    actor = make_actor(store, now, short_order())
    intent = partial_intent(actor)
    actor.perform(intent, OPS)

    def full(*args, **kwargs):
        raise AuditError("log full")

    monkeypatch.setattr(store.log, "append", full)
    assert actor.perform(intent, OPS).state == "duplicate"
    assert logged(caplog) == [(logging.ERROR, "could not log a duplicate click: log full")]


# -- settling what nobody is working on ----------------------------------------------------------------------


def orphan(store, number="NF-2", *, posted=True, action=ADD_PARTIAL):
    action_id = first_click(store, number, key=f"orphan-{number}", action=action)
    if posted:
        store.ledger.mark_posting(action_id, timedelta(seconds=30))
    return action_id


def settle(actor, store):
    listed = {a["id"]: a for a in store.ledger.unsettled()}
    return listed, actor.settle_unsettled()


def test_settling_an_action_whose_order_cannot_be_read(store, now):
    actor = make_actor(store, now, short_order())
    actor.vtex.lands, actor.vtex.post_error = False, lost()
    actor.perform(partial_intent(actor), OPS)
    actor.vtex.read_errors = [Unavailable("VTEX is down", order_id=ORDER, status_code=503)]
    listed, settled = settle(actor, store)
    assert settled == [Settled(listed[1], "unknown", "still open: the order could not be re-read (VTEX is down)")]


def test_settling_an_invoice_that_showed_up_later(store, now):
    actor = make_actor(store, now, short_order())
    actor.vtex.lands, actor.vtex.post_error = False, lost()
    actor.perform(partial_intent(actor), OPS)
    actor.vtex.store("NF-2", 6000)
    listed, settled = settle(actor, store)
    assert settled == [Settled(listed[1], "succeeded", "VTEX has invoice NF-2, so it *succeeded*.")]
    assert row(store, 1)["state"] == "succeeded" and row(store, 1)["error"] == "settled: invoice found on the order"


def test_settling_a_resend_that_completed_the_order(store, now):
    actor = make_actor(store, now, covered_order())
    actor.vtex.lands, actor.vtex.post_error = False, lost()
    actor.perform(resend_intent(), OPS)
    listed, settled = settle(actor, store)
    assert [s.message for s in settled] == ["still open: not on the order after 0 s"]
    actor.vtex.data["status"] = "invoiced"
    listed, settled = settle(actor, store)
    assert settled == [Settled(listed[1], "succeeded", "VTEX has invoice NF-1, so it *succeeded*.")]


def test_settling_an_action_that_stopped_before_the_call(store, now):
    actor = make_actor(store, now, short_order())
    action_id = orphan(store, posted=False)
    now[0] = T0 + timedelta(seconds=31)
    listed, settled = settle(actor, store)
    message = "it stopped before VTEX was called, so nothing was sent. Try again."
    assert settled == [Settled(listed[action_id], "failed", message)]
    assert store.ledger.get(action_id)["error"] == "settled: stopped before VTEX was called"


def test_settling_a_posted_action_waits_the_settle_time_from_the_post(store, now):
    actor = make_actor(store, now, short_order())
    action_id = orphan(store)
    now[0] = T0 + timedelta(minutes=2)  # the owner's lease ran out: it died after posting
    listed, settled = settle(actor, store)
    assert settled == [Settled(listed[action_id], "unknown", "still open: not on the order after 120 s")]
    after = store.ledger.get(action_id)
    assert (after["state"], after["error"]) == ("unknown", "owner gone after posting; checking with VTEX")
    now[0] = T0 + timedelta(minutes=5) - timedelta(milliseconds=1)
    assert [s.message for s in settle(actor, store)[1]] == ["still open: not on the order after 299 s"]
    now[0] = T0 + timedelta(minutes=5)
    listed, settled = settle(actor, store)
    message = (
        "VTEX has shown for 5 minutes that it does not have invoice NF-2, so it *failed*. It is safe to try again."
    )
    assert settled == [Settled(listed[action_id], "failed", message)]
    after = store.ledger.get(action_id)
    assert (after["state"], after["error"]) == ("failed", "settled: not on the order after 5 min")


def test_settling_an_unknown_action_without_a_post_time_counts_from_its_last_change(store, now):
    actor = make_actor(store, now, short_order())
    action_id = orphan(store, posted=False)
    now[0] = T0 + timedelta(minutes=1)
    store.ledger.finish(action_id, State.UNKNOWN)
    now[0] = T0 + timedelta(minutes=6)
    assert [(s.state, s.message[:28]) for s in settle(actor, store)[1]] == [("failed", "VTEX has shown for 5 minutes")]


def test_settling_after_a_short_settle_time_says_at_least_a_minute(store, now):
    actor = make_actor(store, now, short_order(), settle_after=timedelta(seconds=30))
    orphan(store)
    now[0] = T0 + timedelta(seconds=31)
    (settled,) = settle(actor, store)[1]
    assert settled.state == "failed" and settled.message == (
        "VTEX has shown for 1 minute that it does not have invoice NF-2, so it *failed*. It is safe to try again."
    )


def test_an_action_without_a_number_is_not_found_under_another_number(store, now):
    actor = make_actor(store, now, short_order())
    actor.vtex.store("XXXX", 100)
    orphan(store, None)
    now[0] = T0 + timedelta(minutes=1)
    assert [s.message for s in settle(actor, store)[1]] == ["still open: not on the order after 60 s"]


@pytest.mark.parametrize("case", ["landed", "never posted", "absent"])
def test_settling_what_someone_else_settled_first(store, now, case):
    actor = make_actor(store, now, short_order())
    action_id = orphan(store, posted=case != "never posted")
    if case == "landed":
        actor.vtex.store("NF-2", 6000)
    now[0] = T0 + timedelta(minutes=6)
    actor.vtex.on_read = lambda: store.ledger.finish(action_id, State.FAILED, expect=(State.PENDING, State.UNKNOWN))
    listed, settled = settle(actor, store)
    assert settled == [Settled(listed[action_id], "unknown", "settled by someone else")]


def test_a_settle_that_breaks_is_logged_and_left_open(store, now, caplog):
    actor = make_actor(store, now, short_order())
    action_id = orphan(store)
    now[0] = T0 + timedelta(minutes=1)
    actor.vtex.read_errors = [RuntimeError("disk")]
    listed, settled = settle(actor, store)
    assert settled == [Settled(listed[action_id], "unknown", "still open: RuntimeError")]
    assert logged(caplog) == [(logging.ERROR, f"could not settle action {action_id}: disk")]


def test_a_settle_that_cannot_be_recorded_is_logged(store, now, monkeypatch, caplog):
    actor = make_actor(store, now, short_order())
    action_id = orphan(store)
    actor.vtex.store("NF-2", 6000)
    now[0] = T0 + timedelta(minutes=1)
    listed = {a["id"]: a for a in store.ledger.unsettled()}

    def broken(*args, **kwargs):
        raise AuditError("gone")

    monkeypatch.setattr(store.ledger, "finish", broken)
    assert actor.settle_unsettled() == [Settled(listed[action_id], "unknown", "settled by someone else")]
    assert logged(caplog) == [(logging.ERROR, f"could not record action {action_id} as succeeded: gone")]


@pytest.mark.parametrize(("read_takes", "lost"), [(timedelta(seconds=32), False), (timedelta(seconds=32.001), True)])
def test_a_re_read_that_outlives_the_claim_lease_sends_nothing(store, now, read_takes, lost):
    actor = make_actor(store, now, short_order())  # claim lease: 1 s read + 1 s post + 30 s margin

    def slow():
        now[0] = T0 + read_takes

    actor.vtex.on_read = slow
    outcome = actor.perform(partial_intent(actor), OPS)
    if not lost:
        assert outcome.state == "succeeded" and len(actor.vtex.posts) == 1
        return
    assert outcome == Outcome(
        "failed",
        "Nothing was sent: re-reading the order took too long, so the bot stopped before sending to stay safe. "
        "Press the button again.",
        order=actor.vtex.returned[0],
        action_id=1,
    )
    error = "lease ran out before the POST; VTEX not called"
    assert row(store, 1) == expect_row("failed", error=error, posted=False) and actor.vtex.posts == []


def test_settling_never_fails_an_action_whose_owner_began_posting_meanwhile(store, now, monkeypatch):
    actor = make_actor(store, now, short_order())
    monkeypatch.setattr("bot.acting.is_gone", lambda owner: True)  # taken for dead, but still running
    action_id = orphan(store, posted=False)
    actor.vtex.on_read = lambda: store.ledger.mark_posting(action_id, timedelta(seconds=30))
    listed = {a["id"]: a for a in store.ledger.unsettled(owner_gone=lambda owner: True)}
    settled = actor.settle_unsettled()
    assert settled == [Settled(listed[action_id], "unknown", "settled by someone else")]
    after = store.ledger.get(action_id)
    assert (after["state"], after["posted_at"] is not None) == ("pending", True)


def test_settling_a_never_posted_action_only_from_pending(store, now):
    actor = make_actor(store, now, short_order())
    action_id = orphan(store, posted=False)
    now[0] = T0 + timedelta(seconds=31)
    actor.vtex.on_read = lambda: store.ledger.finish(action_id, State.UNKNOWN, error="someone else")
    listed, settled = settle(actor, store)
    assert settled == [Settled(listed[action_id], "unknown", "settled by someone else")]
    assert (store.ledger.get(action_id)["state"], store.ledger.get(action_id)["error"]) == ("unknown", "someone else")


def test_settling_leaves_an_action_someone_else_marked_unknown_as_it_is(store, now):
    actor = make_actor(store, now, short_order())
    action_id = orphan(store)
    now[0] = T0 + timedelta(minutes=2)
    actor.vtex.on_read = lambda: store.ledger.finish(action_id, State.UNKNOWN, error="answer lost: 504")
    listed, settled = settle(actor, store)
    assert settled == [Settled(listed[action_id], "unknown", "still open: not on the order after 120 s")]
    assert store.ledger.get(action_id)["error"] == "answer lost: 504"
    assert [outcome for outcome, *_ in audit(store, action_id)] == ["pending", "unknown"]


@pytest.mark.parametrize(
    ("ends", "receipt", "text"),
    [
        (
            State.FAILED,
            None,
            "<@UOPS00001> was sending invoice NF-2 for this order meanwhile; it ended failed. Your click sent nothing: "
            "look at the card, and press again if the fix is still needed.",
        ),
        (
            State.SUCCEEDED,
            "R-9",
            f"Already done: <@UOPS00001> sent invoice NF-2 at {slack_date(T0)}. Nothing else was sent.",
        ),
    ],
)
def test_a_second_click_waits_for_the_first_and_says_how_it_ended(store, now, ends, receipt, text):
    actor = make_actor(store, now, short_order())
    first_click(store)
    actor.sleep.during = lambda: store.ledger.finish(1, ends, receipt=receipt)
    outcome = actor.perform(partial_intent(actor, "NF-3", "k1"), OTHER)
    assert outcome == Outcome("duplicate", text, receipt=receipt, action_id=1)
    assert actor.sleep == [0.2] and actor.vtex.posts == []


def test_a_second_click_waits_no_longer_than_the_duplicate_wait(store, now):
    actor = make_actor(store, now, short_order(), wait=0.4)
    first_click(store)
    assert actor.perform(partial_intent(actor, "NF-3", "k1"), OTHER).message.startswith("Already in progress")
    assert actor.sleep == [0.2, 0.2]

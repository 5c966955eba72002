"""The action's own rules (claim, re-check, post once, settle), each tested without Slack."""

from datetime import UTC, datetime, timedelta

import httpx
import pytest

from bot.acting import Actor, Intent, Timing
from bot.audit import Who
from bot.doubles.vtex import sandbox_double
from bot.invoices import PartialDraft, open_lines
from bot.ledger import State
from bot.sandbox import SANDBOX_URL
from bot.store import Store
from bot.vtex import VtexClient

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
    assert third.state == "refused" and "limit 2" in third.message and "last hour" in third.message
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

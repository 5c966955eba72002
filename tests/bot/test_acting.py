from datetime import UTC, datetime

import pytest

from bot.acting import Actor, Intent
from bot.audit import AuditStore, Who
from bot.sandbox import SANDBOX_URL, sandbox_double
from bot.vtex import VtexClient


@pytest.fixture
def actor(tmp_path):
    double = sandbox_double()
    store = AuditStore(tmp_path / "a.db")
    actor = Actor(
        VtexClient(SANDBOX_URL, transport=double.transport()),
        store,
        account="sandbox",
        order_limit=10,
        user_limit=2,
        clock=lambda: datetime.now(UTC),
    )
    actor.double = double
    yield actor
    store.close()


def partial(order_id, number, key, value=100):
    return Intent("add_partial_invoice", order_id, number, value, key, issuance_date=datetime.now(UTC))


def test_per_user_limit_refuses_with_a_clear_message(actor):
    who = Who("U1")
    assert actor.perform(partial("1500000000003-01", "A1", "k1"), who).state == "succeeded"
    assert actor.perform(partial("1500000000014-01", "B1", "k2"), who).state == "succeeded"
    third = actor.perform(partial("1500000000004-01", "C1", "k3"), who)
    assert third.state == "refused" and "limit 2" in third.message and "last hour" in third.message
    assert len(actor.double.invoice_posts()) == 2
    assert actor.perform(partial("1500000000004-01", "C1", "k4"), Who("U2")).state == "succeeded"


def test_value_above_the_missing_amount_is_never_sent(actor):
    outcome = actor.perform(partial("1500000000001-01", "NF-X", "k1", value=99999), Who("U1"))
    assert outcome.state == "stale" and "cannot exceed the missing amount" in outcome.message
    assert actor.double.invoice_posts() == []


def test_partial_with_a_number_already_on_the_order_is_never_sent(actor):
    outcome = actor.perform(partial("1500000000001-01", "nf10001", "k1"), Who("U1"))
    assert outcome.state == "stale" and "already on this order" in outcome.message
    assert actor.double.invoice_posts() == []


def test_reconcile_settles_pending_actions_from_the_order(actor):
    store = actor.store
    landed = store.claim_action(
        Who("U1"),
        order_id="1500000000001-01",
        account="sandbox",
        action="add_partial_invoice",
        invoice_number="NF10001",
        value=100,
        click_key="a",
    )
    lost = store.claim_action(
        Who("U1"),
        order_id="1500000000003-01",
        account="sandbox",
        action="add_partial_invoice",
        invoice_number="NEVER-SENT",
        value=100,
        click_key="b",
    )
    settled = dict((a["id"], s) for a, s in actor.reconcile())
    assert settled == {landed.action_id: "succeeded", lost.action_id: "failed"}
    assert store.pending_actions() == []

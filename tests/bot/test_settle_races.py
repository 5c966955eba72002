"""The races a reconcile can run with an action's owner, each forced deterministically with a clock."""

import sqlite3
from datetime import UTC, datetime, timedelta

import pytest

from bot.acting import Actor, Intent, Timing
from bot.audit import Who
from bot.doubles.vtex import sandbox_double
from bot.invoices import whole_draft
from bot.ledger import LeaseLost, State
from bot.owner import is_gone, this_process
from bot.sandbox import SANDBOX_URL
from bot.store import Store
from bot.vtex import VtexClient

ORDER = "1500000000001-01"


@pytest.fixture
def world(tmp_path):
    clock = [datetime.now(UTC)]
    double = sandbox_double()
    store = Store(tmp_path / "r.db", key=b"k" * 32, clock=lambda: clock[0])
    actor = Actor(
        VtexClient(SANDBOX_URL, transport=double.transport(), sleep=lambda s: None),
        store,
        account="sandbox",
        clock=lambda: clock[0],
        timing=Timing(post_timeout=1.0, read_budget=1.0, margin=timedelta(seconds=5)),
    )
    yield actor, store, double, clock
    store.close()


def claim(store, key="k1", number="NF-2"):
    return store.ledger.claim(
        Who("UOPS00001"),
        order_id=ORDER,
        account="sandbox",
        action="add_partial_invoice",
        invoice_number=number,
        value=12990,
        click_key=key,
        lease=timedelta(seconds=7),
        owner=this_process(),
    ).action_id


def test_an_owner_whose_lease_ran_out_may_not_post_after_a_reconcile_settled_it(world):
    actor, store, double, clock = world
    action = claim(store)
    clock[0] += timedelta(seconds=8)  # the owner stalled past its lease
    [settled] = actor.settle_unsettled()
    assert settled.state == "failed" and "nothing was sent" in settled.message
    with pytest.raises(LeaseLost):
        store.ledger.mark_posting(action, timedelta(seconds=6))  # the owner wakes up: it must not post
    assert double.invoice_posts() == []


def test_an_owner_past_its_lease_may_not_start_posting_even_before_a_reconcile(world):
    _, store, _, clock = world
    action = claim(store)
    clock[0] += timedelta(seconds=7, milliseconds=1)
    with pytest.raises(LeaseLost):
        store.ledger.mark_posting(action, timedelta(seconds=6))
    assert store.ledger.get(action)["posted_at"] is None


def test_a_reconcile_that_read_the_row_before_the_owner_posted_cannot_call_it_failed(world):
    _, store, _, _ = world
    action = claim(store)
    stale = store.ledger.get(action)  # what a reconcile read a moment ago: pending, never posted
    store.ledger.mark_posting(action, timedelta(seconds=6))  # meanwhile the owner starts its POST
    assert stale["posted_at"] is None
    assert store.ledger.finish(action, State.FAILED, expect=(State.PENDING,), never_posted=True) is None
    assert store.ledger.get(action)["state"] == "pending"


def test_the_owners_own_result_wins_over_a_reconcile_that_found_it_slow(world):
    actor, store, double, clock = world
    order = actor.vtex.get_order(ORDER)
    draft = whole_draft(order, number="NF-2", issuance_date=clock[0] - timedelta(hours=1))
    real = actor.vtex.notify_invoice

    def slow_post(order_id, request):
        clock[0] += timedelta(seconds=7)  # the POST outlasts its lease; a reconcile runs meanwhile
        assert [s.state for s in actor.settle_unsettled()] == ["unknown"]
        return real(order_id, request)

    actor.vtex.notify_invoice = slow_post
    intent = Intent("add_partial_invoice", ORDER, "NF-2", order.missing, "k", order.missing, draft)
    outcome = actor.perform(intent, Who("UOPS00001"))
    assert outcome.state == "succeeded"
    assert [a["state"] for a in store.ledger.latest_per_action(5)] == ["succeeded"]
    assert len(double.invoice_posts()) == 1


def test_actions_from_before_leases_are_settled_not_stuck(world):
    actor, store, _, _ = world
    with sqlite3.connect(store.path) as conn:  # a row 0.1 left behind: no lease, no owner
        conn.execute(
            "INSERT INTO actions (created_at, updated_at, user_id, order_id, account, action, invoice_number, "
            "value, click_key, business_key, state) VALUES ('2026-11-01', '2026-11-01', 'U1', ?, 'sandbox', "
            "'add_partial_invoice', 'OLD-1', 1, 'old', 'x', 'pending')",
            (ORDER,),
        )
    [settled] = actor.settle_unsettled()
    assert settled.state == "failed" and store.ledger.open() == []


def test_an_owner_in_another_pid_namespace_is_never_taken_for_gone():
    host, namespace, pid, started = this_process().split("|")
    assert not is_gone(this_process())
    assert is_gone(f"{host}|{namespace}|999999999|{started}")
    assert not is_gone(f"{host}|pid:[1]|999999999|{started}")  # a container sharing the host name
    assert not is_gone(f"another-host|{namespace}|999999999|{started}")
    assert not is_gone("vm|1|2")  # an owner written before namespaces were recorded

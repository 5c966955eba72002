"""The action ledger: once means once, a lock per order, compare-and-set, leases, the resend window."""

import threading
from datetime import UTC, datetime, timedelta

import pytest

from bot.audit import AuditError, Who
from bot.ledger import State
from bot.store import Store

WHO = Who("U1", "T1", "C1")
T0 = datetime(2026, 11, 28, 12, tzinfo=UTC)
LEASE = timedelta(seconds=60)


@pytest.fixture
def clock():
    return [T0]


@pytest.fixture
def store(tmp_path, clock):
    s = Store(tmp_path / "l.db", key=b"k" * 32, resend_window=timedelta(minutes=10), clock=lambda: clock[0])
    yield s
    s.close()


def claim(store, key="k1", number="NF1", order="1-01", action="resend_invoice", reply_to=None):
    return store.ledger.claim(
        WHO,
        order_id=order,
        account="acme",
        action=action,
        invoice_number=number,
        value=100,
        click_key=key,
        lease=LEASE,
        reply_to=reply_to,
    )


def test_same_click_twice_is_a_duplicate_of_the_first(store):
    first, second = claim(store), claim(store)
    assert first.is_new and not second.is_new and second.reason == "click"
    assert second.duplicate_of["id"] == first.action_id


def test_one_action_per_order_while_pending_or_unknown(store):
    first = claim(store, "k1", "NF1", action="add_partial_invoice")
    assert claim(store, "k2", "NF2", action="add_partial_invoice").reason == "in_flight"
    store.ledger.finish(first.action_id, State.UNKNOWN)
    assert claim(store, "k3", "NF3").reason == "in_flight"  # unknown keeps the lock
    store.ledger.finish(first.action_id, State.FAILED, expect=(State.UNKNOWN,))
    assert claim(store, "k4", "NF4").is_new


def test_a_partial_number_that_succeeded_is_a_duplicate_for_life(store, clock):
    first = claim(store, "k1", action="add_partial_invoice")
    store.ledger.finish(first.action_id, State.SUCCEEDED)
    clock[0] += timedelta(days=30)
    assert claim(store, "k2", action="add_partial_invoice").reason == "business"


def test_a_failed_partial_may_be_tried_again(store):
    first = claim(store, "k1", action="add_partial_invoice")
    store.ledger.finish(first.action_id, State.FAILED)
    assert claim(store, "k2", action="add_partial_invoice").is_new


def test_a_resend_is_a_duplicate_within_the_window_and_allowed_after_it(store, clock):
    first = claim(store, "k1")
    store.ledger.finish(first.action_id, State.SUCCEEDED)
    clock[0] += timedelta(minutes=10) - timedelta(milliseconds=1)
    assert claim(store, "k2").reason == "recent"
    clock[0] += timedelta(milliseconds=2)
    again = claim(store, "k3")
    assert again.is_new
    assert store.ledger.last_succeeded("acme", "1-01", "resend_invoice", "nf1")["id"] == first.action_id


def test_concurrent_claims_let_exactly_one_through(tmp_path):
    path = tmp_path / "c.db"
    Store(path).close()
    results = []

    def worker(i):
        s = Store(path)
        results.append(claim(s, f"k{i}").is_new)
        s.close()

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(20)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results.count(True) == 1


def test_state_changes_are_compare_and_set(store):
    c = claim(store)
    assert store.ledger.finish(c.action_id, State.SUCCEEDED) is not None
    assert store.ledger.finish(c.action_id, State.FAILED) is None  # someone else settled it first
    assert store.ledger.get(c.action_id)["state"] == "succeeded"
    outcomes = [r["outcome"] for r in store.log.recent(10) if r["action_id"] == c.action_id]
    assert outcomes == ["succeeded"]


def test_posting_writes_the_pending_row_first_and_fails_closed_when_not_pending(store):
    c = claim(store)
    store.ledger.mark_posting(c.action_id, LEASE)
    assert store.ledger.get(c.action_id)["posted_at"]
    assert [r["outcome"] for r in store.log.recent(5)] == ["pending"]
    store.ledger.finish(c.action_id, State.FAILED)
    with pytest.raises(AuditError):
        store.ledger.mark_posting(c.action_id, LEASE)


def test_only_actions_whose_owner_is_gone_are_unsettled(store, clock):
    live = claim(store, "k1", order="1-01")
    lost = claim(store, "k2", order="2-01")
    store.ledger.finish(lost.action_id, State.UNKNOWN)
    assert [a["id"] for a in store.ledger.unsettled()] == [lost.action_id]
    clock[0] += LEASE - timedelta(milliseconds=1)
    assert [a["id"] for a in store.ledger.unsettled()] == [lost.action_id]
    clock[0] += timedelta(milliseconds=2)
    assert [a["id"] for a in store.ledger.unsettled()] == [live.action_id, lost.action_id]


def test_posting_renews_the_lease(store, clock):
    c = claim(store)
    clock[0] += LEASE - timedelta(seconds=1)
    store.ledger.mark_posting(c.action_id, timedelta(seconds=35))
    clock[0] += timedelta(seconds=30)
    assert store.ledger.unsettled() == []


def test_reply_urls_are_dropped_once_finished(store):
    c = claim(store, reply_to={"response_url": "https://hooks.slack.com/actions/T/1/secret"})
    store.ledger.finish(c.action_id, State.UNKNOWN)
    assert "secret" in store.ledger.get(c.action_id)["reply_to"]
    before = store.ledger.finish(c.action_id, State.SUCCEEDED, expect=(State.UNKNOWN,))
    assert "secret" in before["reply_to"]  # the caller still gets it to tell the channel
    assert store.ledger.get(c.action_id)["reply_to"] is None


def test_counts_in_a_sliding_window(store, clock):
    claim(store, "k1", "A")
    clock[0] += timedelta(hours=2)
    store.ledger.finish(1, State.FAILED)
    claim(store, "k2", "B")
    assert store.ledger.count(since=timedelta(hours=1), order_id="1-01") == 1
    assert store.ledger.count(since=timedelta(hours=3), user_id="U1") == 2


def test_unwritable_database_fails_closed(tmp_path):
    store = Store(tmp_path / "ro.db")
    store.database.conn.execute("PRAGMA query_only = ON")
    with pytest.raises(AuditError):
        claim(store)
    store.close()


def test_slack_deliveries_are_answered_once_but_failures_retried(store):
    d = store.deliveries
    assert d.claim("Ev1") and not d.claim("Ev1")
    d.finish("Ev1", ok=True)
    assert not d.claim("Ev1")
    assert d.claim("Ev2")
    d.finish("Ev2", ok=False)
    assert d.claim("Ev2")


def test_form_state_round_trips_and_expires(store, clock):
    key = store.forms.put({"order": "1-01"})
    assert len(key) >= 16 and store.forms.get(key) == {"order": "1-01"}
    store.forms.update(key, {"order": "1-01", "reviewed": True})
    assert store.forms.get(key)["reviewed"] is True
    clock[0] += timedelta(days=1, seconds=1)
    assert store.forms.get(key) is None and store.forms.get("nope") is None

"""The action ledger: once means once, a lock per order, compare-and-set, leases, the resend window."""

import threading
from datetime import UTC, datetime, timedelta

import pytest

from bot.audit import AuditError, Who
from bot.ledger import Claim, LeaseLost, State, business_key
from bot.store import Store
from tests.conftest import LEASE, claim

T0 = datetime(2026, 11, 28, 12, tzinfo=UTC)


@pytest.fixture
def clock():
    return [T0]


@pytest.fixture
def store(tmp_path, clock):
    s = Store(tmp_path / "l.db", key=b"k" * 32, resend_window=timedelta(minutes=10), clock=lambda: clock[0])
    yield s
    s.close()


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


# -- every column and audit row a state change writes (mutation tests, issue 16) -----------------------


def audit_rows(store, action_id):
    rows = [
        r for r in reversed(store.log.recent(100, kind="action")) if action_id is None or r["action_id"] == action_id
    ]
    keep = ("kind", "action_id", "workspace", "channel", "user_id", "order_id", "account", "action", "inputs")
    keep += ("outcome", "http_status", "receipt", "detail")
    return [{k: r[k] for k in keep} for r in rows]


def test_the_business_key_format_is_what_existing_databases_hold():
    assert business_key("acme", "1-01", "resend_invoice", "NF-1") == "acme|1-01|resend_invoice|nf-1"
    assert business_key("acme", "1-01", "add_partial_invoice", None) == "acme|1-01|add_partial_invoice|"


def test_numbers_differing_only_in_case_are_one_invoice_and_others_are_not(store):
    first = claim(store, "k1", "NF1", action="add_partial_invoice")
    store.ledger.finish(first.action_id, State.SUCCEEDED)
    same = claim(store, "k2", "nf1", action="add_partial_invoice")
    assert (same.is_new, same.reason, same.duplicate_of["id"]) == (False, "business", first.action_id)
    assert claim(store, "k3", "NF2", action="add_partial_invoice").is_new


def test_case_folding_does_not_merge_different_numbers(store):
    # Lower-casing keeps "STRASSE" and "straße" apart; upper-casing would make both "STRASSE".
    first = claim(store, "k1", "STRASSE", action="add_partial_invoice")
    store.ledger.finish(first.action_id, State.SUCCEEDED)
    assert claim(store, "k2", "straße", action="add_partial_invoice").is_new


def test_an_action_without_a_number_does_not_block_a_real_number(store):
    first = claim(store, "k1", None, action="add_partial_invoice")
    store.ledger.finish(first.action_id, State.SUCCEEDED)
    assert claim(store, "k2", "XXXX", action="add_partial_invoice").is_new


def test_a_partial_that_succeeded_a_moment_ago_is_a_business_duplicate_not_a_recent_resend(store):
    first = claim(store, "k1", "NF1", action="add_partial_invoice")
    store.ledger.finish(first.action_id, State.SUCCEEDED)
    again = claim(store, "k2", "NF1", action="add_partial_invoice")
    assert (again.action_id, again.reason, again.duplicate_of["id"]) == (None, "business", first.action_id)


def test_a_lock_on_the_order_wins_over_a_recent_resend(store):
    resent = claim(store, "k1", "NF1")
    store.ledger.finish(resent.action_id, State.SUCCEEDED)
    pending = claim(store, "k2", "NF2", action="add_partial_invoice")
    again = claim(store, "k3", "NF1")
    assert (again.reason, again.duplicate_of["id"]) == ("in_flight", pending.action_id)


def test_a_claim_lost_to_a_racing_writer_reports_the_winner(store, monkeypatch):
    winner = claim(store, "k1", "NF1", action="add_partial_invoice")
    real = store.ledger._duplicate
    calls = []

    def blind_first(*args):
        calls.append(args[1:])
        return None if len(calls) == 1 else real(*args)

    monkeypatch.setattr(store.ledger, "_duplicate", blind_first)
    lost = claim(store, "k2", "NF2", action="add_partial_invoice")
    assert (lost.action_id, lost.reason, lost.duplicate_of["id"]) == (None, "in_flight", winner.action_id)
    key = "acme|1-01|add_partial_invoice|nf2"
    assert calls == [("k2", key, "acme", "1-01", "add_partial_invoice")] * 2


def test_a_claim_lost_to_a_writer_that_cannot_be_found_is_still_a_duplicate(store, monkeypatch):
    claim(store, "k1", "NF1", action="add_partial_invoice")
    monkeypatch.setattr(store.ledger, "_duplicate", lambda *args: None)
    lost = claim(store, "k2", "NF2", action="add_partial_invoice")
    assert lost == Claim(None, {"state": State.PENDING}, "business")
    assert not lost.is_new


def test_a_claim_writes_the_row_and_no_reply_to_when_none_is_given(store, clock):
    c = claim(store, "k1", "NF1")
    row = store.ledger.get(c.action_id)
    stamp = T0.isoformat(timespec="milliseconds")
    assert {k: row[k] for k in ("state", "reply_to", "value", "business_key", "created_at", "lease_until")} == {
        "state": "pending",
        "reply_to": None,
        "value": 100,
        "business_key": "acme|1-01|resend_invoice|nf1",
        "created_at": stamp,
        "lease_until": (T0 + LEASE).isoformat(timespec="milliseconds"),
    }
    assert store.ledger.get(c.action_id + 1) is None


def test_finishing_records_the_answer_in_the_row_and_the_audit_log(store):
    c = claim(store, "k1", "NF1")
    store.ledger.finish(c.action_id, State.SUCCEEDED, http_status=200, receipt="R-1", error="e1")
    row = store.ledger.get(c.action_id)
    assert (row["state"], row["http_status"], row["receipt"], row["error"]) == ("succeeded", 200, "R-1", "e1")
    assert audit_rows(store, c.action_id) == [
        {
            "kind": "action",
            "action_id": c.action_id,
            "workspace": "T1",
            "channel": "C1",
            "user_id": "U1",
            "order_id": "1-01",
            "account": "acme",
            "action": "resend_invoice",
            "inputs": '{"invoice_number": "NF1", "value": 100}',
            "outcome": "succeeded",
            "http_status": 200,
            "receipt": "R-1",
            "detail": "e1",
        }
    ]


def test_a_finish_by_someone_else_is_logged_as_them_with_its_own_detail(store):
    c = claim(store, "k1", "NF1")
    store.ledger.finish(c.action_id, State.FAILED, who=Who("U9", "T9", "C9"), error="e", detail="d")
    (row,) = audit_rows(store, c.action_id)
    assert (row["user_id"], row["workspace"], row["channel"], row["detail"]) == ("U9", "T9", "C9", "d")
    assert store.ledger.get(c.action_id)["error"] == "e"


def test_posting_keeps_where_to_reply(store):
    c = claim(store, reply_to={"response_url": "https://hooks.slack.com/actions/T/1/secret"})
    store.ledger.mark_posting(c.action_id, LEASE)
    assert "secret" in store.ledger.get(c.action_id)["reply_to"]


def test_audit_failures_say_what_could_not_be_recorded(store):
    c = claim(store)
    conn = store.database.conn
    conn.execute("CREATE TEMP TRIGGER broken_update BEFORE UPDATE ON actions BEGIN SELECT x FROM nowhere; END")
    with pytest.raises(AuditError, match=r"^could not record the outcome \(no such table: nowhere\)$"):
        store.ledger.finish(c.action_id, State.FAILED)
    conn.execute("CREATE TEMP TRIGGER broken_insert BEFORE INSERT ON actions BEGIN SELECT x FROM nowhere; END")
    with pytest.raises(AuditError, match=r"^could not record the action \(no such table: nowhere\)$"):
        claim(store, "k2", order="2-01")
    conn.execute("DROP TRIGGER broken_update")
    store.ledger.finish(c.action_id, State.FAILED)
    with pytest.raises(
        AuditError, match=rf"^action {c.action_id} is no longer pending, or its lease ran out before the POST$"
    ):
        store.ledger.mark_posting(c.action_id, LEASE)


def test_a_lease_that_ends_exactly_now_still_holds(store, clock):
    c = claim(store, "k1")
    clock[0] = T0 + LEASE
    assert store.ledger.unsettled() == []
    clock[0] += timedelta(milliseconds=1)
    assert [a["id"] for a in store.ledger.unsettled()] == [c.action_id]


def test_an_action_whose_owner_is_gone_is_unsettled_at_once(store):
    mine = claim(store, "k1", owner="host|1|dead")
    claim(store, "k2", order="2-01", owner="host|2|alive")
    asked = []

    def gone(owner):
        asked.append(owner)
        return owner == "host|1|dead"

    assert [a["id"] for a in store.ledger.unsettled(owner_gone=gone)] == [mine.action_id]
    assert asked == ["host|1|dead", "host|2|alive"]


def test_the_newest_actions_come_first(store):
    ids = [claim(store, f"k{i}", order=f"{i}-01").action_id for i in range(3)]
    assert [a["id"] for a in store.ledger.latest_per_action(2)] == [ids[2], ids[1]]
    assert store.ledger.last_succeeded("acme", "9-01", "resend_invoice", "NF1") is None


def test_posting_records_the_amount_as_the_agent_saw_it_and_finishing_keeps_it(store):
    c = claim(store)
    assert store.ledger.get(c.action_id)["amount_text"] is None
    store.ledger.mark_posting(c.action_id, LEASE, "R$ 1,00")
    store.ledger.finish(c.action_id, State.SUCCEEDED)
    assert store.ledger.get(c.action_id)["amount_text"] == "R$ 1,00"


def test_posting_needs_a_live_lease(store, clock):
    first = claim(store, "k1", order="1-01")
    clock[0] = T0 + LEASE
    store.ledger.mark_posting(first.action_id, LEASE)  # the lease ends exactly now: still live
    second = claim(store, "k2", order="2-01")
    clock[0] += LEASE + timedelta(milliseconds=1)
    with pytest.raises(LeaseLost):
        store.ledger.mark_posting(second.action_id, LEASE)
    assert store.ledger.get(second.action_id)["posted_at"] is None


def test_a_never_posted_finish_loses_to_a_post(store):
    c = claim(store)
    store.ledger.mark_posting(c.action_id, LEASE)
    assert store.ledger.finish(c.action_id, State.FAILED, never_posted=True) is None
    assert store.ledger.get(c.action_id)["state"] == "pending"
    assert store.ledger.finish(c.action_id, State.FAILED) is not None


def test_an_action_from_before_leases_is_unsettled(store):
    c = claim(store)
    store.database.conn.execute("UPDATE actions SET lease_until = NULL WHERE id = ?", (c.action_id,))
    assert [a["id"] for a in store.ledger.unsettled()] == [c.action_id]

import sqlite3
import threading
from datetime import UTC, datetime, timedelta

import pytest

from bot.audit import AuditError, AuditStore, Who

WHO = Who("U1", "T1", "C1")


@pytest.fixture
def store(tmp_path):
    s = AuditStore(tmp_path / "audit.db")
    yield s
    s.close()


def claim(store, key="k1", number="NF1", order="1-01", action="resend_invoice"):
    return store.claim_action(
        WHO, order_id=order, account="acme", action=action, invoice_number=number, value=100, click_key=key
    )


def test_migrations_are_recorded_and_idempotent(tmp_path):
    path = tmp_path / "a.db"
    AuditStore(path).close()
    again = AuditStore(path)
    assert again.migrate() == []
    names = [r[0] for r in again.db.execute("SELECT name FROM _migrations ORDER BY name").fetchall()]
    assert names == ["001_audit_log", "002_actions", "003_events", "004_audit_log_actions_index"]
    assert again.db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_finished_rows_cannot_be_updated_or_deleted(store):
    store.question(WHO, "1-01", "acme", "answered")
    with pytest.raises(sqlite3.DatabaseError, match="append-only"):
        store.db.execute("UPDATE audit_log SET outcome = 'x'")
    with pytest.raises(sqlite3.DatabaseError, match="append-only"):
        store.db.execute("DELETE FROM audit_log")


def test_verify_finds_the_first_edited_row(store):
    for i in range(5):
        store.question(WHO, f"{i}-01", "acme", "answered")
    assert store.verify().ok
    store.db.execute("DROP TRIGGER audit_log_no_update")  # someone behind the app's back
    store.db.execute("UPDATE audit_log SET user_id = 'U2' WHERE seq = 3")
    result = store.verify()
    assert not result.ok and result.first_bad_seq == 3 and "changed" in result.reason


def test_verify_finds_a_deleted_row(store):
    for i in range(5):
        store.question(WHO, f"{i}-01", "acme", "answered")
    store.db.execute("DROP TRIGGER audit_log_no_delete")
    store.db.execute("DELETE FROM audit_log WHERE seq = 2")
    result = store.verify()
    assert not result.ok and result.first_bad_seq == 2


def test_verify_finds_a_forged_row_with_a_recomputed_hash(store):
    from bot.audit import row_hash

    for i in range(3):
        store.question(WHO, f"{i}-01", "acme", "answered")
    store.db.execute("DROP TRIGGER audit_log_no_update")
    row = dict(next(iter(store.db.query("SELECT * FROM audit_log WHERE seq = 2"))))
    row["outcome"] = "forged"
    store.db.execute("UPDATE audit_log SET outcome = ?, hash = ? WHERE seq = 2", ["forged", row_hash(row)])
    result = store.verify()
    assert not result.ok and result.first_bad_seq == 3  # row 2 is self-consistent; row 3 no longer links to it


def test_same_click_twice_is_a_duplicate_of_the_first(store):
    first = claim(store)
    second = claim(store)
    assert first.is_new and not second.is_new and second.reason == "click"
    assert second.duplicate_of["id"] == first.action_id


def test_same_business_action_from_another_click_is_a_duplicate_while_live(store):
    first = claim(store, "k1")
    assert claim(store, "k2").reason == "business"
    store.finish_action(first.action_id, "failed", error="boom")
    assert claim(store, "k3").is_new  # a failed attempt may be retried


def test_only_one_action_per_order_in_flight(store):
    claim(store, "k1", "NF1", action="add_partial_invoice")
    assert claim(store, "k2", "NF2", action="add_partial_invoice").reason == "in_flight"


def test_concurrent_claims_let_exactly_one_through(tmp_path):
    path = tmp_path / "c.db"
    AuditStore(path).close()
    results = []

    def worker(i):
        s = AuditStore(path)
        results.append(claim(s, f"k{i}").is_new)
        s.close()

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(20)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results.count(True) == 1


def test_action_rows_record_pending_then_outcome_in_the_log(store):
    c = claim(store)
    store.log_pending(c.action_id)
    store.finish_action(c.action_id, "succeeded", http_status=200, receipt="r1")
    rows = store.recent(5)
    assert [r["outcome"] for r in rows] == ["succeeded", "pending"]
    assert rows[0]["receipt"] == "r1" and rows[0]["inputs"] == '{"invoice_number": "NF1", "value": 100}'
    assert store.pending_actions() == []


def test_count_actions_in_a_window(tmp_path):
    now = [datetime(2026, 11, 28, 12, tzinfo=UTC)]
    store = AuditStore(tmp_path / "w.db", clock=lambda: now[0])
    claim(store, "k1", "A")
    now[0] += timedelta(hours=2)
    store.finish_action(1, "failed")
    claim(store, "k2", "B")
    assert store.count_actions(since=timedelta(hours=1), order_id="1-01") == 1
    assert store.count_actions(since=timedelta(hours=3), user_id="U1") == 2


def test_unwritable_database_fails_closed(tmp_path):
    store = AuditStore(tmp_path / "ro.db")
    store.db.execute("PRAGMA query_only = ON")
    with pytest.raises(AuditError):
        claim(store)
    with pytest.raises(AuditError):
        store.question(WHO, "1-01", "acme", "answered")


def test_event_ledger_answers_once_but_retries_failures(store):
    assert store.claim_event("Ev1")
    assert not store.claim_event("Ev1")
    store.finish_event("Ev1", ok=True)
    assert not store.claim_event("Ev1")
    assert store.claim_event("Ev2")
    store.finish_event("Ev2", ok=False)
    assert store.claim_event("Ev2")

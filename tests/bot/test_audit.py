"""The audit log: append-only, keyed chain, and the attacks a hash chain alone would miss."""

import os
import sqlite3
import stat
from datetime import timedelta

import pytest

from bot.audit import GENESIS, AuditError, Who, row_hash
from bot.ledger import State
from bot.store import Store

WHO = Who("U1", "T1", "C1")
KEY = b"k" * 32


@pytest.fixture
def store(tmp_path):
    s = Store(tmp_path / "audit.db", key=KEY)
    yield s
    s.close()


def raw(store):
    """A connection like an attacker's: the file, no key, triggers dropped."""
    conn = sqlite3.connect(store.path, isolation_level=None)
    conn.execute("DROP TRIGGER IF EXISTS audit_log_no_update")
    conn.execute("DROP TRIGGER IF EXISTS audit_log_no_delete")
    return conn


def ask(store, n=5):
    for i in range(n):
        store.log.question(WHO, f"{i}-01", "acme", "answered")


def test_migrations_are_recorded_idempotent_and_the_file_is_private(tmp_path):
    path = tmp_path / "a.db"
    Store(path).close()
    again = Store(path)
    assert again.database.migrate() == []
    names = [r[0] for r in again.database.conn.execute("SELECT name FROM _migrations ORDER BY name").fetchall()]
    assert names[0] == "001_audit_log" and "005_action_leases" in names and "006_forms" in names
    assert again.database.conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    again.close()


def test_rows_cannot_be_updated_or_deleted_through_sqlite(store):
    ask(store, 1)
    with pytest.raises(sqlite3.DatabaseError, match="append-only"):
        store.database.conn.execute("UPDATE audit_log SET outcome = 'x'")
    with pytest.raises(sqlite3.DatabaseError, match="append-only"):
        store.database.conn.execute("DELETE FROM audit_log")


def test_verify_prints_a_head_and_finds_an_edited_row(store):
    ask(store)
    result = store.log.verify()
    assert result.ok and result.keyed and result.head == store.log.head() and result.head.startswith("5:")
    raw(store).execute("UPDATE audit_log SET user_id = 'U2' WHERE seq = 3")
    result = store.log.verify()
    assert not result.ok and result.first_bad_seq == 3 and "changed" in result.reason


def test_verify_finds_a_deleted_row(store):
    ask(store)
    raw(store).execute("DELETE FROM audit_log WHERE seq = 2")
    result = store.log.verify()
    assert not result.ok and result.first_bad_seq == 2


def test_a_row_rewritten_with_a_recomputed_hash_is_caught_without_the_key(store):
    ask(store)
    conn = raw(store)
    row = dict(
        zip(
            [d[0] for d in conn.execute("SELECT * FROM audit_log WHERE seq = 2").description],
            conn.execute("SELECT * FROM audit_log WHERE seq = 2").fetchone(),
            strict=True,
        )
    )
    row["outcome"] = "forged"
    row["hash"] = row_hash(row)  # what an attacker can compute: SHA-256 without the key
    conn.execute(
        f"INSERT OR REPLACE INTO audit_log ({','.join(row)}) VALUES ({','.join('?' * len(row))})", list(row.values())
    )
    result = store.log.verify()
    assert not result.ok and result.first_bad_seq == 2 and "changed" in result.reason


def test_deleting_the_newest_rows_is_caught_by_the_saved_head(store):
    ask(store)
    head = store.log.verify().head
    ask(store, 2)
    assert store.log.verify(expect_head=head).ok  # growing past the saved head is fine
    raw(store).execute("DELETE FROM audit_log WHERE seq >= 5")
    assert store.log.verify().ok  # the chain alone cannot tell
    result = store.log.verify(expect_head=head)
    assert not result.ok and result.first_bad_seq == 5 and "gone" in result.reason


def test_emptying_the_table_is_caught_by_the_saved_head(store):
    ask(store)
    head = store.log.verify().head
    raw(store).execute("DELETE FROM audit_log")
    result = store.log.verify(expect_head=head)
    assert not result.ok and "gone" in result.reason


def test_a_replaced_head_row_is_caught(store):
    ask(store)
    seq, _, mac = store.log.verify().head.partition(":")
    result = store.log.verify(expect_head=f"{seq}:{'0' * 64}")
    assert not result.ok and "not the row saved" in result.reason
    assert store.log.verify(expect_head=f"{seq}:{mac}").ok
    assert not store.log.verify(expect_head="five").ok


def test_an_empty_log_has_a_genesis_head(store):
    assert store.log.head() == f"0:{GENESIS}" and store.log.verify(expect_head=f"0:{GENESIS}").ok


def test_flipping_an_action_state_behind_the_apps_back_is_caught(store):
    claim = store.ledger.claim(
        WHO,
        order_id="1-01",
        account="acme",
        action="add_partial_invoice",
        invoice_number="NF1",
        value=100,
        click_key="k",
        lease=timedelta(minutes=1),
    )
    store.ledger.mark_posting(claim.action_id, timedelta(minutes=1))
    store.ledger.finish(claim.action_id, State.SUCCEEDED, receipt="r")
    assert store.log.verify().ok
    raw(store).execute("UPDATE actions SET state = 'failed' WHERE id = ?", (claim.action_id,))
    result = store.log.verify()
    assert not result.ok and "says 'failed'" in result.reason and "recorded 'succeeded'" in result.reason


def test_a_deleted_action_is_caught(store):
    claim = store.ledger.claim(
        WHO,
        order_id="1-01",
        account="acme",
        action="resend_invoice",
        invoice_number="NF1",
        value=100,
        click_key="k",
        lease=timedelta(minutes=1),
    )
    store.ledger.finish(claim.action_id, State.REFUSED)
    raw(store).execute("DELETE FROM actions")
    assert "was removed" in store.log.verify().reason


def test_a_different_key_or_none_cannot_verify_or_write(tmp_path):
    path = tmp_path / "k.db"
    keyed = Store(path, key=KEY)
    ask(keyed, 2)
    keyed.close()
    other = Store(path, key=b"other" * 8)
    assert not other.log.verify().ok and "different" in other.log.verify().reason
    other.close()
    unkeyed = Store(path)
    with pytest.raises(AuditError, match="keyed"):
        unkeyed.log.question(WHO, "1-01", "acme", "answered")
    unkeyed.close()


def test_an_unkeyed_log_says_so_and_keys_from_the_upgrade_on(tmp_path):
    path = tmp_path / "u.db"
    plain = Store(path)
    ask(plain, 2)
    result = plain.log.verify()
    assert result.ok and not result.keyed
    plain.close()
    upgraded = Store(path, key=KEY)
    ask(upgraded, 2)
    result = upgraded.log.verify()
    assert result.ok and result.keyed and result.rows == 4
    raw(upgraded).execute("UPDATE audit_log SET outcome = 'x' WHERE seq = 1")
    assert upgraded.log.verify().first_bad_seq in (1, 2)
    upgraded.close()


def test_unwritable_database_fails_closed(tmp_path):
    store = Store(tmp_path / "ro.db")
    store.database.conn.execute("PRAGMA query_only = ON")
    with pytest.raises(AuditError):
        store.log.question(WHO, "1-01", "acme", "answered")
    store.close()

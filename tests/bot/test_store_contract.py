"""The store's contract, once per backend (SQLite file, PostgreSQL database): the same test, the same answer.

Everything stateful goes through this interface, so what holds here holds for `serve` on either backend:
migrations once, one audit chain under concurrent appends, claims that are once across processes, the
compare-and-set states, Slack de-duplication, form state, the radar's state and its leader lease. "Two
replicas" here are two `Store` objects on one database, each with its own connections and threads.
"""

from __future__ import annotations

import sqlite3
import threading
import traceback
from datetime import UTC, datetime, timedelta

import pytest

from bot import db_postgres
from bot.audit import Who
from bot.db import MIGRATIONS, DatabaseError, IntegrityError, is_postgres_url
from bot.ledger import State
from bot.store import Store
from tests.conftest import LEASE, WHO, at_once, claim, edit_audit_row

KEY = b"k" * 32
T0 = datetime(2026, 11, 28, 12, tzinfo=UTC)


@pytest.fixture
def clock():
    return [T0]


@pytest.fixture
def store(db_target, clock):
    s = Store(db_target, key=KEY, clock=lambda: clock[0])
    yield s
    s.close()


@pytest.fixture
def replica(db_target, clock, store):
    """A second process's store on the same database (opened after the first, as a second replica is)."""
    s = Store(db_target, key=KEY, clock=lambda: clock[0])
    yield s
    s.close()


# -- migrations -------------------------------------------------------------------------------------------------


def test_both_backends_have_the_same_migrations_by_name():
    assert [name for name, _ in db_postgres.MIGRATIONS] == [name for name, _ in MIGRATIONS]


def test_migrations_run_once_and_reopening_applies_nothing(db_target):
    Store(db_target).close()
    again = Store(db_target)
    try:
        assert again.database.migrate() == []
        names = [r[0] for r in again.database.fetch("SELECT name FROM _migrations ORDER BY name")]
        assert names == [name for name, _ in MIGRATIONS]
    finally:
        again.close()


def test_replicas_starting_together_on_a_new_database_migrate_once(db_target):
    opened = at_once(*[lambda: Store(db_target, key=KEY) for _ in range(4)])
    try:
        assert all(isinstance(s, Store) for s in opened), opened
        assert opened[0].database.scalar("SELECT count(*) FROM _migrations") == len(MIGRATIONS)
        # Each opened the key's bookkeeping without racing: one keyed_from, and the log verifies.
        assert opened[0].database.scalar("SELECT count(*) FROM audit_meta WHERE name = 'keyed_from'") == 1
        assert opened[1].log.verify().ok
    finally:
        for s in opened:
            if isinstance(s, Store):
                s.close()


def test_a_sqlite_replica_starting_while_another_writes_waits_for_it(tmp_path):
    # SQLite refuses the switch to WAL at once, without its busy handler, while another connection
    # writes: a worker starting during a migration crashed with "database is locked".
    path = tmp_path / "unstuck.db"
    writer = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    writer.execute("BEGIN IMMEDIATE")
    writer.execute("CREATE TABLE elsewhere (x)")
    threading.Timer(0.3, lambda: writer.execute("COMMIT")).start()
    opened = Store(str(path), key=KEY)
    try:
        assert opened.database.scalar("SELECT count(*) FROM _migrations") == len(MIGRATIONS)
        assert opened.database.scalar("PRAGMA journal_mode") == "wal"
    finally:
        opened.close()
        writer.close()


# -- the audit log ----------------------------------------------------------------------------------------------


def test_appends_chain_and_verify_with_a_head(store):
    for i in range(3):
        store.log.question(WHO, f"{i}-01", "acme", "ok", detail="50% off? 'quoted' ünïcode")
    result = store.log.verify()
    assert result.ok and result.rows == 3 and result.keyed
    assert result.head == store.log.head() and result.head.startswith("3:")
    assert store.log.recent(1)[0]["detail"] == "50% off? 'quoted' ünïcode"  # no placeholder mangles text
    assert store.log.verify(expect_head=result.head).ok


def test_the_log_refuses_updates_and_deletes(store):
    store.log.question(WHO, "1-01", "acme", "ok")
    for statement in ("UPDATE audit_log SET outcome = 'x'", "DELETE FROM audit_log"):
        with pytest.raises(DatabaseError, match="append-only"):
            with store.database.write() as conn:
                conn.execute(statement)
    assert store.log.verify().ok


def test_an_edit_behind_the_apps_back_is_named(store, db_target):
    for i in range(3):
        store.log.question(WHO, f"{i}-01", "acme", "ok")
    edit_audit_row(db_target, 2, "edited")
    result = store.log.verify()
    assert not result.ok and result.first_bad_seq == 2 and "changed" in result.reason


def test_concurrent_appends_from_two_replicas_stay_one_chain(store, replica):
    def append_many(s, who):
        for i in range(15):
            s.log.question(Who(who), f"{i}-01", "acme", "ok")

    results = at_once(*[lambda s=s, w=w: append_many(s, w) for s in (store, replica) for w in ("UA", "UB")])
    assert results == [None] * 4
    result = replica.log.verify()
    assert result.ok and result.rows == 60
    seqs = [r[0] for r in store.database.fetch("SELECT seq FROM audit_log ORDER BY seq")]
    assert seqs == list(range(1, 61))


def test_a_long_log_is_verified_page_by_page(store):
    for i in range(7):
        store.log.question(WHO, f"{i}-01", "acme", "ok")
    assert [r["seq"] for r in store.log.all_rows(page=3)] == list(range(1, 8))
    assert store.log.verify().rows == 7


# -- the action ledger ------------------------------------------------------------------------------------------


def test_a_double_click_landing_on_two_replicas_claims_once(store, replica):
    results = at_once(*[lambda s=s, k=k: claim(s, key=k) for s in (store, replica) for k in ("a", "b", "c")])
    assert sum(1 for c in results if c.is_new) == 1, results
    # The same click on both replicas is "click"; the other clicks find the order locked.
    assert {c.reason for c in results if not c.is_new} <= {"click", "in_flight"}
    assert store.database.scalar("SELECT count(*) FROM actions") == 1


def test_ids_states_and_compare_and_set(store, replica, clock):
    first = claim(store)
    assert first.is_new and first.action_id >= 1
    assert claim(replica, key="k1").reason == "click"
    store.ledger.mark_posting(first.action_id, LEASE, amount_text="R$ 1,00")
    settled = at_once(
        lambda: store.ledger.finish(first.action_id, State.SUCCEEDED, http_status=200, receipt="r-1"),
        lambda: replica.ledger.finish(first.action_id, State.FAILED, error="no"),
    )
    assert sum(1 for r in settled if r is not None) == 1  # one side settles it, the other is told it lost
    final = replica.ledger.get(first.action_id)
    assert final["state"] in ("succeeded", "failed") and final["amount_text"] == "R$ 1,00"
    assert store.log.verify().ok  # the state change and its audit row committed together
    second = claim(replica, key="k2", order="2-01")
    assert second.action_id == first.action_id + 1


def test_a_partial_invoice_number_is_once_for_life_and_a_resend_once_per_window(store, replica, clock):
    partial = claim(store, key="p1", action="add_partial_invoice")
    store.ledger.finish(partial.action_id, State.SUCCEEDED)
    clock[0] += timedelta(days=30)
    assert claim(replica, key="p2", action="add_partial_invoice").reason == "business"
    resend = claim(store, key="r1", number="NF9", order="9-01")
    replica.ledger.finish(resend.action_id, State.SUCCEEDED)
    assert claim(replica, key="r2", number="NF9", order="9-01").reason == "recent"
    clock[0] += timedelta(minutes=11)
    assert claim(replica, key="r3", number="NF9", order="9-01").is_new


def test_counts_and_lookups_for_the_limits_and_app_home(store, clock):
    for i in range(3):
        store.ledger.finish(claim(store, key=f"k{i}", order=f"{i}-01").action_id, State.SUCCEEDED)
    assert store.ledger.count(since=timedelta(hours=1), user_id="U1") == 3
    assert store.ledger.count(since=timedelta(hours=1), order_id="1-01") == 1
    clock[0] += timedelta(hours=2)
    assert store.ledger.count(since=timedelta(hours=1), user_id="U1") == 0
    assert [r["order_id"] for r in store.ledger.latest_per_action(2)] == ["2-01", "1-01"]
    assert store.ledger.last_succeeded("acme", "0-01", "resend_invoice", "NF1")["click_key"] == "k0"


def test_an_expired_lease_refuses_the_post(store, clock):
    from bot.ledger import LeaseLost

    first = claim(store)
    clock[0] += LEASE + timedelta(seconds=1)
    with pytest.raises(LeaseLost):
        store.ledger.mark_posting(first.action_id, LEASE)
    assert [r["id"] for r in store.ledger.unsettled()] == [first.action_id]


def test_money_in_cents_beyond_32_bits_round_trips(store):
    big = 3_000_000_000  # R$ 30 million in cents
    c = store.ledger.claim(
        WHO, order_id="1-01", account="acme", action="add_partial_invoice", invoice_number="NF1", value=big,
        click_key="k", lease=LEASE,
    )  # fmt: skip
    assert store.ledger.get(c.action_id)["value"] == big


def test_a_unique_key_refusal_is_one_neutral_error(store):
    with store.database.write() as conn:
        conn.execute("INSERT INTO events VALUES (?, 'started', ?)", ("E1", "x"))
    with pytest.raises(IntegrityError):
        with store.database.write() as conn:
            conn.execute("INSERT INTO events VALUES (?, 'started', ?)", ("E1", "x"))
    # The failed transaction left nothing behind and the connection is usable again.
    assert store.database.fetch("SELECT event_id FROM events") == [("E1",)]


# -- Slack deliveries and forms ------------------------------------------------------------------------------


def test_a_slack_retry_landing_on_two_replicas_is_handled_once(store, replica):
    results = at_once(*[lambda s=s: s.deliveries.claim("Ev1") for s in (store, replica, store, replica)])
    assert results.count(True) == 1
    store.deliveries.finish("Ev1", ok=False)
    assert replica.deliveries.claim("Ev1")  # a failed attempt may be retried
    assert not store.deliveries.claim("Ev1")


def test_form_state_is_shared_and_expires_after_a_day(store, replica, clock):
    key = store.forms.put({"items": [1, 2], "note": "100% ?"})
    assert replica.forms.get(key) == {"items": [1, 2], "note": "100% ?"}
    replica.forms.update(key, {"items": [3]})
    assert store.forms.get(key) == {"items": [3]}
    clock[0] += timedelta(days=1, seconds=1)
    assert store.forms.get(key) is None


# -- the radar's state --------------------------------------------------------------------------------------------


def test_the_watch_list_keeps_the_earlier_due_time_and_orders_by_it(store):
    radar = store.radar
    radar.discover([("A", T0 + timedelta(days=2)), ("B", T0)], "sweep")
    radar.watch(["A"], T0 + timedelta(days=3), "feed")  # later than A's own time: A keeps its own
    assert radar.due(T0 + timedelta(days=2), 10) == ["B", "A"]
    radar.watch(["A"], T0 - timedelta(days=1), "feed")
    assert radar.due(T0, 10) == ["A", "B"] and radar.watched() == 2
    radar.reschedule("A", None)
    assert radar.due(T0, 10) == ["B"]


def test_an_alert_is_claimed_once_across_replicas_and_resolved_once(store, replica):
    def claim_alert(s):
        return s.radar.claim_alert(
            "1-01", "short", status="handling", status_name="Handling", stuck_since=None, channel="C", now=T0
        )

    assert at_once(*[lambda s=s: claim_alert(s) for s in (store, replica, store, replica)]).count(True) == 1
    store.radar.posted("1-01", "short", "123.4")
    [alert] = replica.radar.open_alerts()
    assert alert.ts == "123.4" and alert.stuck_since is None
    assert (
        at_once(
            lambda: store.radar.resolve(alert, "Invoiced", T0), lambda: replica.radar.resolve(alert, "x", T0)
        ).count(True)
        == 1
    )
    assert store.radar.open_alerts() == []


def test_alerts_list_oldest_first_with_unknown_ages_first(store):
    for order, since in (("1-01", T0), ("2-01", None), ("3-01", T0 - timedelta(days=1))):
        store.radar.claim_alert(
            order, "s", status=None, status_name=None, stuck_since=since, channel="C", now=T0
        )  # fmt: skip
    assert [a.order_id for a in store.radar.open_alerts()] == ["2-01", "3-01", "1-01"]


def test_mutes_snoozes_and_meta(store, replica):
    store.radar.mute("order", "1-01", T0 + timedelta(hours=1), "U1", T0)
    assert replica.radar.muted("1-01", "handling", T0)
    assert not replica.radar.muted("1-01", "handling", T0 + timedelta(hours=2))
    replica.radar.mute("status", "handling", None, "U2", T0)
    assert store.radar.muted("9-01", "handling", T0 + timedelta(days=400))
    store.radar.set_meta("last_sweep", "x")
    replica.radar.set_meta("last_sweep", "y")
    assert store.radar.meta("last_sweep") == "y"


def test_stuck_now_lists_the_open_alerts_nobody_muted_or_snoozed(store, replica):
    for order, status in (("1-01", "handling"), ("2-01", "payment-pending"), ("3-01", None), ("4-01", "handling")):
        store.radar.claim_alert(order, "s", status=status, status_name=None, stuck_since=T0, channel="C", now=T0)
    store.radar.resolve(store.radar.open_alerts("4-01")[0], "Invoiced", T0)
    store.radar.mute("order", "1-01", T0 + timedelta(hours=1), "U1", T0)  # snoozed for an hour
    replica.radar.mute("status", "payment-pending", None, "U2", T0)  # muted for good
    assert [a.order_id for a in replica.radar.stuck_now(T0)] == ["3-01"]
    assert [a.order_id for a in store.radar.stuck_now(T0 + timedelta(hours=2))] == ["1-01", "3-01"]
    for at in (T0, T0 + timedelta(hours=2)):  # the same answer as asking order by order
        listed = [a.order_id for a in store.radar.stuck_now(at)]
        assert listed == [
            a.order_id for a in store.radar.open_alerts() if not store.radar.muted(a.order_id, a.status, at)
        ]


def test_one_radar_leads_and_another_takes_over_when_its_lease_runs_out(store, replica):
    ttl = timedelta(seconds=3)
    assert (
        at_once(lambda: store.radar.lead("a", T0, ttl)[0], lambda: replica.radar.lead("b", T0, ttl)[0]).count(True) == 1
    )
    leader = store.radar.leader()["owner"]
    other = "b" if leader == "a" else "a"
    assert store.radar.lead(leader, T0 + timedelta(seconds=2), ttl) == (True, leader)  # renewed
    assert replica.radar.lead(other, T0 + timedelta(seconds=4), ttl) == (False, leader)  # renewal holds
    assert replica.radar.lead(other, T0 + timedelta(seconds=5, milliseconds=1), ttl) == (True, leader)
    assert store.radar.lead(leader, T0 + timedelta(seconds=6), ttl)[0] is False
    replica.radar.release(other)
    assert store.radar.lead(leader, T0 + timedelta(seconds=6), ttl)[0] is True  # released: at once


# -- credentials ------------------------------------------------------------------------------------------------


def test_a_database_password_is_never_shown(db_target):
    from bot.store import open_database

    if not is_postgres_url(db_target):
        pytest.skip("SQLite has no credentials")
    secret = "s3cr%t-pw"
    parts = db_target.split("://", 1)[1].split("@", 1)
    url = f"postgresql://{parts[0]}:{secret.replace('%', '%25')}@{parts[1]}"
    database = open_database(url)  # trust authentication: the password is sent, not needed
    try:
        assert secret not in repr(database) and "s3cr" not in database.path and "***" in database.path
    finally:
        database.close()
    wrong = f"postgresql://{parts[0]}:{secret}@127.0.0.1:1/nothing?password={secret}"
    with pytest.raises(DatabaseError) as failed:
        open_database(wrong)  # nothing listens on port 1
    shown = "".join(traceback.format_exception(failed.value))
    assert "cannot connect" in str(failed.value) and "s3cr" not in shown

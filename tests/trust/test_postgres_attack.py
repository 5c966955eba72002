"""Attacks on "several replicas on one PostgreSQL database behave as one app" (issue 15).

Each "replica" here is a `Store` of its own (its own pool, its own connections) or a process of its own, all on
one fresh database. The attacks: many replicas racing one click, one order, one event and one audit chain;
replicas migrating a new database together (threads and processes); a connection killed inside a write; the
server restarted under an open store; passwords in URLs; hostile text on both backends; `audit copy`; and a
radar leader that stalls past its lease and then carries on.

Without UNSTUCK_TEST_POSTGRES_URL the PostgreSQL tests are skipped (the SQLite half of the both-backend tests
still runs); the restart test also needs UNSTUCK_TEST_POSTGRES_DIR (`eval "$(bench/pg.sh start)"`).
"""

from __future__ import annotations

import glob
import logging
import os
import subprocess
import sys
import threading
import time
import traceback
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import psycopg
import pytest

from bot.audit import Who
from bot.db import MIGRATIONS, AuditError, DatabaseError, is_postgres_url, redact
from bot.ledger import State
from bot.store import Store, open_database
from tests.conftest import LEASE, ROOT, WHO, at_once, claim, edit_audit_row, fresh_postgres_database, postgres_server

KEY = b"attack-audit-key-0123456789abcdef"
CHANNEL = "C0RADAR"
# Read at import: the autouse `_clean_env` fixture removes UNSTUCK_* variables it does not know before a test runs.
PG_DIR = os.environ.get("UNSTUCK_TEST_POSTGRES_DIR")


@pytest.fixture
def pg_url():
    with fresh_postgres_database() as url:
        yield url


@pytest.fixture
def replicas(pg_url):
    """Five stores on one database, as five replicas would hold them."""
    stores = [Store(pg_url, key=KEY) for _ in range(5)]
    yield stores
    for s in stores:
        s.close()


def with_password(url: str, password: str) -> str:
    parts = urlsplit(url)
    user, _, host = parts.netloc.rpartition("@")
    return urlunsplit((parts.scheme, f"{user or 'postgres'}:{password}@{host}", parts.path, parts.query, ""))


# -- races across replicas -----------------------------------------------------------------------------------


def test_ten_clicks_on_five_replicas_claim_one_order_once(replicas):
    # The same click twice on every replica, and a different click (another agent) on every replica.
    calls = [lambda s=s, k=k: claim(s, k) for s in replicas for k in ("same", "same", f"other-{id(s)}")]
    results = at_once(*calls)
    assert not [r for r in results if isinstance(r, Exception)], results
    assert sum(1 for c in results if c.is_new) == 1, results
    assert {c.reason for c in results if not c.is_new} <= {"click", "in_flight"}
    assert replicas[0].database.scalar("SELECT count(*) FROM actions") == 1


def test_a_partial_invoice_number_raced_on_two_orders_and_many_replicas_is_sent_once_per_order(replicas):
    calls = [
        lambda s=s, i=i, o=o: claim(s, f"p-{o}-{i}", order=o, action="add_partial_invoice", number="NF-7")
        for i, s in enumerate(replicas)
        for o in ("1-01", "2-01")
    ]
    results = at_once(*calls)
    assert not [r for r in results if isinstance(r, Exception)], results
    won = [c for c in results if c.is_new]
    assert len(won) == 2
    orders = {replicas[0].ledger.get(c.action_id)["order_id"] for c in won}
    assert orders == {"1-01", "2-01"}


def test_settling_one_action_from_every_replica_at_once_has_one_winner_and_one_chain(replicas):
    first = claim(replicas[0], "k")
    replicas[1].ledger.mark_posting(first.action_id, LEASE)
    outcomes = [State.SUCCEEDED, State.FAILED, State.UNKNOWN, State.SUCCEEDED, State.FAILED]
    results = at_once(
        *[
            lambda s=s, st=st: s.ledger.finish(first.action_id, st, http_status=200)
            for s, st in zip(replicas, outcomes, strict=True)
        ]
    )
    assert not [r for r in results if isinstance(r, Exception)], results
    assert sum(1 for r in results if r is not None) == 1
    rows = replicas[2].database.fetch(
        "SELECT outcome FROM audit_log WHERE action_id = ? ORDER BY seq", (first.action_id,)
    )
    assert len(rows) == 2  # the write-ahead row and exactly one settlement
    assert replicas[3].ledger.get(first.action_id)["state"] == rows[-1][0]
    assert replicas[4].log.verify().ok


def test_appends_claims_and_deliveries_from_five_replicas_keep_one_gapless_chain(replicas):
    def work(s, n):
        for i in range(8):
            s.log.question(Who(f"U{n}"), f"{n}-{i}", "acme", "ok", detail=f"replica {n} row {i}")
        c = claim(s, f"c{n}", order=f"9{n}-01")
        s.ledger.finish(c.action_id, State.SUCCEEDED)
        return [s.deliveries.claim("Ev-shared") for _ in range(2)]

    results = at_once(*[lambda s=s, n=n: work(s, n) for n, s in enumerate(replicas)])
    assert not [r for r in results if isinstance(r, Exception)], results
    assert sum(r.count(True) for r in results) == 1  # one Slack event handled once across every replica
    seqs = [r[0] for r in replicas[0].database.fetch("SELECT seq FROM audit_log ORDER BY seq")]
    assert seqs == list(range(1, 5 * 9 + 1))  # 8 questions and one settled action each: no gap, no duplicate
    result = replicas[1].log.verify()
    assert result.ok and result.rows == 45, result


# -- migrations --------------------------------------------------------------------------------------------------


def test_replicas_in_separate_processes_migrate_a_new_database_once(pg_url):
    start = time.time() + 2.5  # every process imports first, then all open the store at the same moment
    code = (
        "import sys, time\n"
        "from bot.store import Store\n"
        "time.sleep(max(0, float(sys.argv[2]) - time.time()))\n"
        f"s = Store(sys.argv[1], key={KEY!r})\n"
        "print('applied', s.database.scalar('SELECT count(*) FROM _migrations'))\n"
        "s.close()\n"
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "VTEX_", "UNSTUCK_"))}
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", code, pg_url, str(start)],
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )  # fmt: skip
        for _ in range(3)
    ]
    outputs = [p.communicate(timeout=60) for p in procs]
    assert [p.returncode for p in procs] == [0, 0, 0], outputs
    assert all(out.strip() == f"applied {len(MIGRATIONS)}" for out, _ in outputs), outputs
    with psycopg.connect(pg_url, autocommit=True) as conn:
        names = [r[0] for r in conn.execute("SELECT name FROM _migrations ORDER BY name")]
        keyed = conn.execute("SELECT count(*) FROM audit_meta WHERE name = 'keyed_from'").fetchone()[0]
    assert names == sorted(name for name, _ in MIGRATIONS) and keyed == 1


# -- a connection killed inside a write, the server restarted ----------------------------------------------------


def test_a_writer_killed_while_holding_the_lock_fails_cleanly_and_frees_the_lock(pg_url):
    s = Store(pg_url, key=KEY)
    other = Store(pg_url, key=KEY)
    try:
        s.log.question(WHO, "1-01", "acme", "ok")
        inside, go_on = threading.Event(), threading.Event()
        pid: list[int] = []
        failed: list[BaseException] = []

        def writer():
            try:
                with s.database.write() as conn:
                    pid.append(conn.execute("SELECT pg_backend_pid()").fetchone()[0])
                    s.log.append_in(
                        conn, "question", WHO, order_id="HALF-01", account="acme", action="ask", outcome="ok"
                    )
                    inside.set()
                    go_on.wait(10)
                    conn.execute("SELECT 1")
            except BaseException as exc:  # noqa: BLE001 - asserted below
                failed.append(exc)

        def waiter():  # another replica's write, queued on the advisory lock behind the doomed one
            inside.wait(10)
            other.log.question(WHO, "2-01", "acme", "ok")

        threads = [threading.Thread(target=writer), threading.Thread(target=waiter)]
        for t in threads:
            t.start()
        assert inside.wait(10)
        time.sleep(0.2)
        with psycopg.connect(pg_url, autocommit=True) as admin:
            admin.execute("SELECT pg_terminate_backend(%s)", (pid[0],))
        go_on.set()
        for t in threads:
            t.join(30)
        assert len(failed) == 1 and isinstance(failed[0], (DatabaseError, AuditError)), failed
        assert "Traceback" not in str(failed[0]) and "\n" not in str(failed[0])
        # Nothing half-written; the lock went with the connection; the waiter and the pool carry on.
        assert s.database.fetch("SELECT count(*) FROM audit_log WHERE order_id = 'HALF-01'") == [(0,)]
        for i in range(3):
            s.log.question(WHO, f"3-0{i}", "acme", "ok")
        result = s.log.verify()
        assert result.ok and result.rows == 5, result
    finally:
        s.close()
        other.close()


def _pg_ctl() -> tuple[list[str], str]:
    postgres_server()
    folder = PG_DIR
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"))
    if not folder or not Path(folder, "data").is_dir() or not found:
        pytest.skip("UNSTUCK_TEST_POSTGRES_DIR (bench/pg.sh) names no local cluster to restart")
    prefix = ["runuser", "-u", "postgres", "--"] if os.getuid() == 0 else []
    return [*prefix, found[-1], "-D", f"{folder}/data", "-l", f"{folder}/server.log", "-w", "-t", "60"], folder


def test_a_server_restart_under_an_open_store_costs_at_most_its_pooled_connections(pg_url):
    pg_ctl, _ = _pg_ctl()
    s = Store(pg_url, key=KEY)
    try:
        at_once(*[lambda: [s.log.question(WHO, "1-01", "acme", "ok") for _ in range(3)] for _ in range(4)])
        pooled = s.database._pool.get_stats()["pool_size"]
        subprocess.run([*pg_ctl, "-m", "fast", "restart"], check=True, stdout=subprocess.DEVNULL, timeout=90)
        errors: list[Exception] = []
        for _ in range(pooled + 2):
            try:
                s.log.question(WHO, "2-01", "acme", "ok")
                break
            except (AuditError, DatabaseError) as exc:
                errors.append(exc)
        # A broken connection fails one operation, clearly, then leaves the pool: never a loop of failures.
        assert len(errors) <= pooled, errors
        assert all("\n" not in str(e) and "Traceback" not in str(e) for e in errors)
        s.log.question(WHO, "3-01", "acme", "ok")
        assert s.log.verify().ok
    finally:
        s.close()


# -- credentials ------------------------------------------------------------------------------------------------


def test_a_password_is_not_shown_on_a_failed_connection_in_logs_or_the_settings(pg_url, caplog, monkeypatch):
    from bot.settings import load_settings

    secret = "Hunter2-s3cret"
    caplog.set_level(logging.DEBUG)
    url = with_password(pg_url, secret)
    monkeypatch.setenv("UNSTUCK_DB", url)
    settings = load_settings()
    assert secret not in repr(settings) and secret not in str(settings)
    store = Store(url, key=KEY)  # trust authentication: the password is sent, not needed
    try:
        assert secret not in repr(store.database) and secret not in store.path
    finally:
        store.close()
    for wrong in (
        with_password("postgresql://postgres@127.0.0.1:1/nothing", secret),
        f"postgresql://postgres@127.0.0.1:1/nothing?password={secret}&connect_timeout=2",
    ):
        with pytest.raises(DatabaseError) as failed:
            open_database(wrong)
        shown = "".join(traceback.format_exception(failed.value))
        assert "cannot connect" in str(failed.value) and secret not in shown
    assert secret not in caplog.text


def test_a_password_holding_a_hash_or_question_mark_is_never_shown(pg_url):
    from psycopg.conninfo import conninfo_to_dict

    for secret in ("pa#ssword-1234", "pa?ssword-5678"):
        url = with_password(pg_url, secret)
        assert conninfo_to_dict(url)["password"] == secret  # libpq reads all of it as the password...
        database = open_database(url)  # ...and connects with it (trust authentication)
        try:
            shown = f"{database.path} {database!r} {redact(url)}"
        finally:
            database.close()
        wrong = with_password("postgresql://postgres@127.0.0.1:1/nothing", secret)
        with pytest.raises(DatabaseError) as failed:
            open_database(wrong)
        shown += "".join(traceback.format_exception(failed.value))
        assert secret[3:] not in shown, shown


# -- hostile text, both backends ----------------------------------------------------------------------------------

HOSTILE = [
    "%s",
    "%(x)s",
    "%%",
    "100% ?",
    "?",
    "'; DROP TABLE audit_log; --",
    'say "hi" \\ back\\slash \\\' \\x00',
    "emoji 🧾💸 and ünïcode ção",
    "$$ dollar $$ $tag$",
    "line\nbreak\ttab\r",
]


def test_hostile_text_round_trips_identically(db_target):
    s = Store(db_target, key=KEY)
    try:
        big = "x" * (1024 * 1024) + "%s?"
        for i, text in enumerate(HOSTILE):
            s.log.question(Who(text), text, text, "ok", detail=text)
            c = claim(s, text, order=f"{i}-{text}", number=text)
            assert c.is_new
            assert s.ledger.get(c.action_id)["invoice_number"] == text
            key = s.forms.put({"note": text})
            assert s.forms.get(key) == {"note": text}
        rows = s.database.query("SELECT detail, order_id, user_id FROM audit_log ORDER BY seq")
        assert [r["detail"] for r in rows] == HOSTILE
        assert all(r["detail"] == r["order_id"] == r["user_id"] for r in rows)
        s.log.question(WHO, "big-01", "acme", "ok", detail=big)  # a 1 MB text, not in any index
        assert s.log.recent(1)[0]["detail"] == big
        assert s.forms.get(s.forms.put({"note": big})) == {"note": big}
        assert [r["detail"] for r in s.log.recent(3, order_id="%s")] == ["%s"]  # a value, never a placeholder
        with s.database.write() as conn:  # `?` and `%` inside a string literal are SQL text, not placeholders
            got = conn.execute("SELECT 'a?b%c', ?, 'it''s ?', ?", ("%s", "?")).fetchone()
        assert tuple(got) == ("a?b%c", "%s", "it's ?", "?")
        assert s.database.fetch("SELECT '100%'") == [("100%",)]
        assert s.log.verify().ok
    finally:
        s.close()


def test_a_nul_character_is_refused_on_postgresql_whole_and_cleanly(db_target):
    s = Store(db_target, key=KEY)
    try:
        s.log.question(WHO, "1-01", "acme", "ok")
        text = "before\x00after"
        if not is_postgres_url(db_target):
            s.log.question(WHO, "2-01", "acme", "ok", detail=text)
            assert s.log.recent(1)[0]["detail"] == text
            return
        with pytest.raises(AuditError):
            s.log.question(WHO, "2-01", "acme", "ok", detail=text)
        with pytest.raises(AuditError):
            claim(s, "k", number=text)
        # Nothing half-written (no action without its row, no row without its action), and writes carry on.
        assert s.database.fetch("SELECT count(*) FROM actions") == [(0,)]
        assert s.database.fetch("SELECT count(*) FROM audit_log") == [(1,)]
        assert claim(s, "k2").is_new
        s.log.question(WHO, "3-01", "acme", "ok")
        assert s.log.verify().ok
    finally:
        s.close()


# -- audit copy ------------------------------------------------------------------------------------------------


def _cli(monkeypatch, capsys, db: str, *args: str) -> tuple[int, str, str]:
    from bot.cli import main

    monkeypatch.setenv("UNSTUCK_DB", db)
    monkeypatch.setenv("UNSTUCK_AUDIT_KEY", KEY.decode())
    code = main(list(args))
    out = capsys.readouterr()
    return code, out.out, out.err


def _seed(target: str, detail: str = "100% ? 'q' 🧾") -> None:
    s = Store(target, key=KEY)
    s.log.question(WHO, "1-01", "acme", "ok", detail=detail)
    c = claim(s, "k1")
    s.ledger.mark_posting(c.action_id, LEASE)
    s.ledger.finish(c.action_id, State.SUCCEEDED, http_status=200, receipt="r")
    s.deliveries.claim("Ev1")
    s.close()


def test_audit_copy_round_trip_refusals_and_a_clean_error(pg_url, tmp_path, monkeypatch, capsys):
    source = str(tmp_path / "a.db")
    _seed(source)
    code, out, _ = _cli(monkeypatch, capsys, source, "audit", "verify")
    head = out.split("head: ")[1].split()[0]
    code, out, err = _cli(monkeypatch, capsys, source, "audit", "copy", "--to", pg_url)
    assert code == 0 and head in out, err
    code, out, err = _cli(monkeypatch, capsys, pg_url, "audit", "verify", "--expect-head", head)
    assert code == 0, err
    # Into a database holding data, refused; from a tampered source, refused, nothing written.
    code, _, err = _cli(monkeypatch, capsys, source, "audit", "copy", "--to", pg_url)
    assert code == 1 and "already holds data" in err
    with fresh_postgres_database() as empty:
        edit_audit_row(pg_url, 1, "edited")
        code, _, err = _cli(monkeypatch, capsys, pg_url, "audit", "copy", "--to", empty)
        assert code == 1 and "does not verify" in err
        with psycopg.connect(empty, autocommit=True) as conn:
            held = conn.execute("SELECT to_regclass('audit_log') IS NOT NULL").fetchone()[0]
            assert not held or conn.execute("SELECT count(*) FROM audit_log").fetchone()[0] == 0
    # A destination that cannot be reached: one line, without the password.
    secret = "copy-Pw-0123"
    code, out, err = _cli(
        monkeypatch, capsys, source, "audit", "copy", "--to", f"postgresql://u:{secret}@127.0.0.1:1/x"
    )
    assert code == 1 and secret not in out + err and len(err.strip().splitlines()) == 1, err
    assert "could not copy" in err or "cannot connect" in err


def test_audit_copy_of_a_sqlite_log_postgresql_cannot_hold_is_all_or_nothing(pg_url, tmp_path, monkeypatch, capsys):
    source = str(tmp_path / "nul.db")
    _seed(source, detail="a NUL \x00 in SQLite")
    code, _, err = _cli(monkeypatch, capsys, source, "audit", "copy", "--to", pg_url)
    assert code == 1 and len(err.strip().splitlines()) == 1, err
    with psycopg.connect(pg_url, autocommit=True) as conn:
        assert conn.execute("SELECT count(*) FROM audit_log").fetchone()[0] == 0
        assert conn.execute("SELECT count(*) FROM actions").fetchone()[0] == 0
    # The failed copy left the destination empty: a copy of a clean log may go there afterwards.
    clean = str(tmp_path / "clean.db")
    _seed(clean)
    code, _, err = _cli(monkeypatch, capsys, clean, "audit", "copy", "--to", pg_url)
    assert code == 0, err


# -- the radar leader stalls past its lease, then carries on ------------------------------------------------------


def _stuck_order(order_id: str) -> dict:
    from tests.factories import invoice, order_json

    data = order_json("handling", age=timedelta(0), invoices=[invoice("NF-1", 6000)])
    moment = datetime.now(UTC) - timedelta(days=3)
    data.update(orderId=order_id, lastChange=moment.isoformat(), creationDate=(moment - timedelta(hours=1)).isoformat())
    return data


class _Stalls:
    """The leader's radar store, frozen once just before `method` (a GC pause, a frozen VM) while `meanwhile`
    runs: long enough for its lease to run out and another radar to take over."""

    def __init__(self, store, method: str, stall: float, meanwhile):
        self._store, self._method, self._stall, self._meanwhile, self._done = store, method, stall, meanwhile, False

    def __getattr__(self, name):
        real = getattr(self._store, name)
        if name != self._method or self._done:
            return real

        def stalled(*args, **kwargs):
            if not self._done and (self._method != "claim_meta" or args[0] == "last_digest"):
                self._done = True
                time.sleep(self._stall)
                self._meanwhile()
            return real(*args, **kwargs)

        return stalled


def _two_radars(pg_url, orders, **settings):
    from bot.app import build_radar
    from bot.doubles.stack import LocalStack

    stack = LocalStack(
        pg_url, orders=orders, unstuck_radar_channel=CHANNEL, unstuck_radar_interval=1, radar_ticks=False, **settings
    )
    return stack, stack.radar, build_radar(stack.bot, stack.settings)


def test_a_leader_stalled_past_its_lease_never_alerts_what_the_new_leader_alerted(pg_url):
    order = "1600000000001-01"
    stack, leader, other = _two_radars(pg_url, [_stuck_order(order)])
    try:
        taken: list[bool] = []
        leader.store = _Stalls(leader.store, "claim_alert", 1.7, lambda: taken.append(other.tick() and other.leading))
        leader.tick()
        assert taken == [True]  # the other radar took over while the leader was frozen, and alerted
        alerts = [m for m in stack.slack.bot_messages(CHANNEL) if m.blocks and order in m.text]
        assert len(alerts) == 1
        assert stack.services.store.database.scalar("SELECT count(*) FROM radar_alerts") == 1
        assert not leader.lead()  # and the old leader, back, stands by
    finally:
        stack.close()


def test_a_leader_stalled_past_its_lease_never_posts_the_daily_digest_twice(pg_url):
    stack, leader, other = _two_radars(pg_url, [], unstuck_radar_digest_at="00:00")
    try:
        taken: list[bool] = []
        leader.store = _Stalls(leader.store, "claim_meta", 1.7, lambda: taken.append(other.tick() and other.leading))
        leader.tick()
        assert taken == [True]
        digests = [m for m in stack.slack.bot_messages(CHANNEL) if "stuck order" in (m.text or "")]
        assert len(digests) == 1, [m.text for m in digests]
    finally:
        stack.close()

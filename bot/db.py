"""The SQLite database every store shares: one connection per thread, one writer at a time, migrations.

Connections are per thread (listeners and the work pool run on threads); WAL lets readers run beside
the writer. Each write is one IMMEDIATE transaction, so the writer lock is taken up front and a
check-then-insert (a claim, the chain head) cannot race another thread or process. The file is created
readable by its owner only: it holds who did what, and reply URLs while an action runs.

The stores themselves (audit log, action ledger, Slack deliveries, form state) live in their own
modules; their tables are created here, in one ordered list of migrations.
"""

from __future__ import annotations

import os
import sqlite3
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import sqlite_utils


class AuditError(Exception):
    """The database could not record something; callers must not act on VTEX after this."""


MIGRATIONS: list[tuple[str, str]] = [
    (
        "001_audit_log",
        """
        CREATE TABLE audit_log (
            seq INTEGER PRIMARY KEY,
            at TEXT NOT NULL,
            kind TEXT NOT NULL,
            action_id INTEGER,
            workspace TEXT, channel TEXT, user_id TEXT,
            order_id TEXT, account TEXT, action TEXT,
            inputs TEXT, outcome TEXT NOT NULL,
            http_status INTEGER, receipt TEXT, detail TEXT,
            prev_hash TEXT NOT NULL, hash TEXT NOT NULL
        );
        CREATE INDEX audit_log_order ON audit_log(order_id, seq);
        CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
            BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END;
        CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
            BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END;
        """,
    ),
    (
        "002_actions",
        """
        CREATE TABLE actions (
            id INTEGER PRIMARY KEY,
            created_at TEXT NOT NULL, updated_at TEXT NOT NULL,
            workspace TEXT, channel TEXT, user_id TEXT NOT NULL,
            order_id TEXT NOT NULL, account TEXT NOT NULL, action TEXT NOT NULL,
            invoice_number TEXT, value INTEGER,
            click_key TEXT NOT NULL UNIQUE, business_key TEXT NOT NULL,
            state TEXT NOT NULL, http_status INTEGER, receipt TEXT, error TEXT,
            reply_to TEXT
        );
        CREATE UNIQUE INDEX actions_business_live ON actions(business_key)
            WHERE state IN ('pending', 'succeeded');
        CREATE UNIQUE INDEX actions_order_in_flight ON actions(account, order_id) WHERE state = 'pending';
        CREATE INDEX actions_order_time ON actions(order_id, created_at);
        CREATE INDEX actions_user_time ON actions(user_id, created_at);
        CREATE INDEX actions_state ON actions(state);
        """,
    ),
    (
        "003_events",
        """
        CREATE TABLE events (event_id TEXT PRIMARY KEY, state TEXT NOT NULL, started_at TEXT NOT NULL);
        """,
    ),
    (
        "004_audit_log_actions_index",
        """
        CREATE INDEX audit_log_kind ON audit_log(kind, seq);
        """,
    ),
    (
        # An action whose POST may have reached VTEX stays 'unknown' and keeps the order locked; a resend
        # may be repeated on purpose after a window, so only partial invoices keep a business key for life.
        "005_action_leases",
        """
        ALTER TABLE actions ADD COLUMN lease_until TEXT;
        ALTER TABLE actions ADD COLUMN posted_at TEXT;
        ALTER TABLE actions ADD COLUMN owner TEXT;
        DROP INDEX actions_business_live;
        DROP INDEX actions_order_in_flight;
        CREATE UNIQUE INDEX actions_partial_live ON actions(business_key)
            WHERE state IN ('pending', 'unknown', 'succeeded') AND action = 'add_partial_invoice';
        CREATE UNIQUE INDEX actions_order_locked ON actions(account, order_id) WHERE state IN ('pending', 'unknown');
        CREATE INDEX actions_business_time ON actions(business_key, updated_at);
        """,
    ),
    (
        "006_forms",
        """
        CREATE TABLE forms (key TEXT PRIMARY KEY, created_at TEXT NOT NULL, data TEXT NOT NULL);
        CREATE INDEX forms_created ON forms(created_at);
        """,
    ),
    (
        # Which rows are keyed (HMAC) and with which key: rows before `keyed_from` predate keys.
        "007_audit_meta",
        """
        CREATE TABLE audit_meta (name TEXT PRIMARY KEY, value TEXT NOT NULL);
        """,
    ),
    (
        # The amount as the agent saw it (in the order's currency), for App Home.
        "008_action_amount",
        """
        ALTER TABLE actions ADD COLUMN amount_text TEXT;
        CREATE INDEX actions_updated ON actions(id DESC);
        """,
    ),
    (
        # The radar: orders to look at (and when), one alert per order and situation, mutes and snoozes.
        "009_radar",
        """
        CREATE TABLE radar_watch (order_id TEXT PRIMARY KEY, due_at TEXT NOT NULL, reason TEXT);
        CREATE INDEX radar_watch_due ON radar_watch(due_at);
        CREATE TABLE radar_alerts (
            order_id TEXT NOT NULL, situation TEXT NOT NULL, status TEXT, status_name TEXT,
            stuck_since TEXT, channel TEXT NOT NULL, ts TEXT, posted_at TEXT NOT NULL,
            resolved_at TEXT, resolution TEXT,
            PRIMARY KEY (order_id, situation)
        );
        CREATE INDEX radar_alerts_open ON radar_alerts(resolved_at, stuck_since);
        CREATE TABLE radar_mutes (
            kind TEXT NOT NULL, key TEXT NOT NULL, until TEXT, user_id TEXT, at TEXT NOT NULL,
            PRIMARY KEY (kind, key)
        );
        CREATE TABLE radar_meta (name TEXT PRIMARY KEY, value TEXT NOT NULL);
        """,
    ),
]


class Database:
    def __init__(self, path: str | Path, clock: Callable[[], datetime] = lambda: datetime.now(UTC)):
        self.path = str(path)
        self.clock = clock
        self._local = threading.local()
        self._all: list[sqlite3.Connection] = []
        self._lock = threading.Lock()
        if self.path != ":memory:":
            Path(self.path).parent.mkdir(parents=True, exist_ok=True)
            _create_private(self.path)
        self.migrate()

    @property
    def db(self) -> sqlite_utils.Database:
        db = getattr(self._local, "db", None)
        if db is None:
            conn = sqlite3.connect(self.path, timeout=30, isolation_level=None, check_same_thread=False)
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=NORMAL")
            conn.execute("PRAGMA busy_timeout=30000")
            db = sqlite_utils.Database(conn)
            self._local.db = db
            with self._lock:
                self._all.append(conn)
        return db

    @property
    def conn(self) -> sqlite3.Connection:
        return self.db.conn

    def query(self, sql: str, params: list[Any] | tuple[Any, ...] = ()) -> list[dict[str, Any]]:
        return [dict(r) for r in self.db.query(sql, params)]

    def close(self) -> None:
        with self._lock:
            for conn in self._all:
                try:
                    conn.close()
                except sqlite3.Error:
                    pass
            self._all.clear()
        self._local = threading.local()

    @contextmanager
    def write(self) -> Iterator[sqlite3.Connection]:
        """One IMMEDIATE transaction: the writer lock is taken up front, so check-then-write cannot race."""
        conn = self.conn
        try:
            conn.execute("BEGIN IMMEDIATE")
        except sqlite3.Error as exc:
            raise AuditError(f"the audit database is not writable ({exc})") from exc
        try:
            yield conn
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        else:
            conn.execute("COMMIT")

    def now(self) -> str:
        return self.clock().astimezone(UTC).isoformat(timespec="milliseconds")

    def migrate(self) -> list[str]:
        db = self.db
        db.execute("CREATE TABLE IF NOT EXISTS _migrations (name TEXT PRIMARY KEY, applied_at TEXT NOT NULL)")
        done = {row[0] for row in db.execute("SELECT name FROM _migrations").fetchall()}
        applied = []
        for name, sql in MIGRATIONS:
            if name in done:
                continue
            with self.write() as conn:
                if conn.execute("SELECT 1 FROM _migrations WHERE name = ?", (name,)).fetchone():
                    continue
                for statement in [s.strip() for s in sql.split(";\n") if s.strip()]:
                    conn.execute(statement)
                conn.execute("INSERT INTO _migrations VALUES (?, ?)", (name, self.now()))
            applied.append(name)
        return applied


def _create_private(path: str) -> None:
    """Create the file 0600 before SQLite does (SQLite gives its WAL and SHM files the same mode)."""
    try:
        fd = os.open(path, os.O_CREAT | os.O_RDWR, 0o600)
    except OSError:
        return  # a read-only place: SQLite reports it on the first write
    os.close(fd)
    if os.stat(path).st_size == 0:
        os.chmod(path, 0o600)

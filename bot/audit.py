"""The audit store: every question and every action, in SQLite through sqlite-utils.

Two tables matter:
- `audit_log` is the record people read. It is append-only (triggers abort UPDATE and DELETE) and
  hash-chained: each row's hash covers its content and the previous row's hash, so an edit or a
  deletion behind the app's back shows up in `verify()`.
- `actions` holds the state of each invoice action and its idempotency keys: one row per click
  (`click_key` unique) and at most one live row per business action (account, order, action,
  invoice number) and per order in flight, enforced by partial unique indexes.

Connections are per thread (Bolt runs listeners on a pool); WAL lets readers run beside the writer.
Nothing secret is ever written here.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import sqlite_utils

GENESIS = "0" * 64
LIVE_STATES = ("pending", "succeeded")

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
]

HASHED = (
    "seq",
    "at",
    "kind",
    "action_id",
    "workspace",
    "channel",
    "user_id",
    "order_id",
    "account",
    "action",
    "inputs",
    "outcome",
    "http_status",
    "receipt",
    "detail",
    "prev_hash",
)


class AuditError(Exception):
    """The audit store could not record something; callers must not act on VTEX after this."""


@dataclass(frozen=True)
class Who:
    user_id: str
    workspace: str | None = None
    channel: str | None = None


@dataclass(frozen=True)
class Claim:
    action_id: int | None
    duplicate_of: dict[str, Any] | None = None
    reason: str | None = None  # "click", "business" or "in_flight" when duplicate_of is set

    @property
    def is_new(self) -> bool:
        return self.duplicate_of is None


@dataclass(frozen=True)
class VerifyResult:
    ok: bool
    rows: int
    first_bad_seq: int | None = None
    reason: str | None = None


def row_hash(row: dict[str, Any]) -> str:
    canonical = json.dumps([row.get(k) for k in HASHED], separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()


class AuditStore:
    def __init__(self, path: str | Path, clock: Callable[[], datetime] = lambda: datetime.now(UTC)):
        self.path = str(path)
        self.clock = clock
        self._local = threading.local()
        self._all: list[sqlite3.Connection] = []
        self._lock = threading.Lock()
        if self.path != ":memory:":
            Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        self.migrate()

    # -- connections -----------------------------------------------------------------------------

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
    def _write(self) -> Iterator[sqlite3.Connection]:
        """One IMMEDIATE transaction: the writer lock is taken up front, so the chain head cannot race."""
        conn = self.db.conn
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

    def migrate(self) -> list[str]:
        db = self.db
        db.execute("CREATE TABLE IF NOT EXISTS _migrations (name TEXT PRIMARY KEY, applied_at TEXT NOT NULL)")
        done = {row[0] for row in db.execute("SELECT name FROM _migrations").fetchall()}
        applied = []
        for name, sql in MIGRATIONS:
            if name in done:
                continue
            with self._write() as conn:
                if conn.execute("SELECT 1 FROM _migrations WHERE name = ?", (name,)).fetchone():
                    continue
                for statement in [s.strip() for s in sql.split(";\n") if s.strip()]:
                    conn.execute(statement)
                conn.execute("INSERT INTO _migrations VALUES (?, ?)", (name, self._now()))
            applied.append(name)
        return applied

    def _now(self) -> str:
        return self.clock().astimezone(UTC).isoformat(timespec="milliseconds")

    # -- the log ---------------------------------------------------------------------------------

    def append(
        self,
        kind: str,
        who: Who | None,
        *,
        order_id: str | None,
        account: str | None,
        action: str,
        outcome: str,
        inputs: dict[str, Any] | None = None,
        action_id: int | None = None,
        http_status: int | None = None,
        receipt: str | None = None,
        detail: str | None = None,
    ) -> int:
        try:
            with self._write() as conn:
                return self._append(
                    conn,
                    kind,
                    who,
                    order_id=order_id,
                    account=account,
                    action=action,
                    outcome=outcome,
                    inputs=inputs,
                    action_id=action_id,
                    http_status=http_status,
                    receipt=receipt,
                    detail=detail,
                )
        except sqlite3.Error as exc:
            raise AuditError(f"could not write the audit log ({exc})") from exc

    def _append(self, conn: sqlite3.Connection, kind: str, who: Who | None, **fields: Any) -> int:
        last = conn.execute("SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1").fetchone()
        row = {
            "seq": (last[0] + 1) if last else 1,
            "at": self._now(),
            "kind": kind,
            "workspace": who.workspace if who else None,
            "channel": who.channel if who else None,
            "user_id": who.user_id if who else None,
            "prev_hash": last[1] if last else GENESIS,
            **fields,
        }
        row["inputs"] = json.dumps(row["inputs"], sort_keys=True) if row.get("inputs") is not None else None
        row["hash"] = row_hash(row)
        columns = ",".join(row)
        conn.execute(f"INSERT INTO audit_log ({columns}) VALUES ({','.join('?' * len(row))})", list(row.values()))
        return int(row["seq"])

    def question(self, who: Who, order_id: str | None, account: str, outcome: str, detail: str | None = None) -> None:
        self.append("question", who, order_id=order_id, account=account, action="ask", outcome=outcome, detail=detail)

    def recent(self, limit: int = 20, kind: str | None = None, order_id: str | None = None) -> list[dict[str, Any]]:
        where, params = [], []
        if kind:
            where.append("kind = ?")
            params.append(kind)
        if order_id:
            where.append("order_id = ?")
            params.append(order_id)
        clause = f"WHERE {' AND '.join(where)}" if where else ""
        sql = f"SELECT * FROM audit_log {clause} ORDER BY seq DESC LIMIT ?"
        return [dict(r) for r in self.db.query(sql, [*params, limit])]

    def all_rows(self) -> Iterator[dict[str, Any]]:
        yield from self.db.query("SELECT * FROM audit_log ORDER BY seq")

    def verify(self) -> VerifyResult:
        prev, expected_seq, count = GENESIS, 1, 0
        for row in self.all_rows():
            count += 1
            if row["seq"] != expected_seq:
                return VerifyResult(False, count, expected_seq, f"row {expected_seq} is missing")
            if row["prev_hash"] != prev:
                return VerifyResult(False, count, row["seq"], f"row {row['seq']} does not link to the row before it")
            if row_hash(row) != row["hash"]:
                return VerifyResult(False, count, row["seq"], f"row {row['seq']} was changed after it was written")
            prev, expected_seq = row["hash"], expected_seq + 1
        return VerifyResult(True, count)

    # -- actions and their idempotency keys ------------------------------------------------------

    def claim_action(
        self,
        who: Who,
        *,
        order_id: str,
        account: str,
        action: str,
        invoice_number: str | None,
        value: int | None,
        click_key: str,
        reply_to: dict[str, Any] | None = None,
    ) -> Claim:
        business_key = "|".join([account, order_id, action, (invoice_number or "").lower()])
        now = self._now()
        try:
            with self._write() as conn:
                same_click = conn.execute("SELECT * FROM actions WHERE click_key = ?", (click_key,)).fetchone()
                if same_click:
                    return Claim(None, self._row(conn, same_click), "click")
                live = conn.execute(
                    "SELECT * FROM actions WHERE business_key = ? AND state IN ('pending','succeeded')", (business_key,)
                ).fetchone()
                if live:
                    return Claim(None, self._row(conn, live), "business")
                busy = conn.execute(
                    "SELECT * FROM actions WHERE account = ? AND order_id = ? AND state = 'pending'",
                    (account, order_id),
                ).fetchone()
                if busy:
                    return Claim(None, self._row(conn, busy), "in_flight")
                cursor = conn.execute(
                    "INSERT INTO actions (created_at, updated_at, workspace, channel, user_id, order_id, account, "
                    "action, invoice_number, value, click_key, business_key, state, reply_to) "
                    "VALUES (?,?,?,?,?,?,?,?,?,?,?,?,'pending',?)",
                    (
                        now,
                        now,
                        who.workspace,
                        who.channel,
                        who.user_id,
                        order_id,
                        account,
                        action,
                        invoice_number,
                        value,
                        click_key,
                        business_key,
                        json.dumps(reply_to) if reply_to else None,
                    ),
                )
                return Claim(int(cursor.lastrowid or 0))
        except sqlite3.IntegrityError:
            # Another process won the race between our check and our insert: report its row.
            row = self.db.execute(
                "SELECT * FROM actions WHERE click_key = ? OR (business_key = ? AND state IN ('pending','succeeded'))",
                (click_key, business_key),
            ).fetchone()
            return Claim(None, self._row(self.db.conn, row) if row else {"state": "pending"}, "business")
        except sqlite3.Error as exc:
            raise AuditError(f"could not record the action ({exc})") from exc

    @staticmethod
    def _row(conn: sqlite3.Connection, row: tuple[Any, ...]) -> dict[str, Any]:
        names = [d[1] for d in conn.execute("PRAGMA table_info(actions)").fetchall()]
        return dict(zip(names, row, strict=False))

    def finish_action(
        self,
        action_id: int,
        state: str,
        *,
        who: Who | None = None,
        http_status: int | None = None,
        receipt: str | None = None,
        error: str | None = None,
        detail: str | None = None,
    ) -> None:
        """Set the action's final state and append the matching audit row, in one transaction."""
        try:
            with self._write() as conn:
                row = conn.execute("SELECT * FROM actions WHERE id = ?", (action_id,)).fetchone()
                if row is None:
                    raise AuditError(f"action {action_id} does not exist")
                action = self._row(conn, row)
                conn.execute(
                    "UPDATE actions SET state = ?, updated_at = ?, http_status = ?, receipt = ?, error = ? "
                    "WHERE id = ?",
                    (state, self._now(), http_status, receipt, error, action_id),
                )
                self._append(
                    conn,
                    "action",
                    who or Who(action["user_id"], action["workspace"], action["channel"]),
                    order_id=action["order_id"],
                    account=action["account"],
                    action=action["action"],
                    outcome=state,
                    inputs=_inputs(action),
                    action_id=action_id,
                    http_status=http_status,
                    receipt=receipt,
                    detail=detail or error,
                )
        except sqlite3.Error as exc:
            raise AuditError(f"could not record the outcome ({exc})") from exc

    def log_pending(self, action_id: int) -> None:
        """The write-ahead row: it must be on disk before VTEX is called (fail closed)."""
        action = self.action(action_id)
        if action is None:
            raise AuditError(f"action {action_id} does not exist")
        self.append(
            "action",
            Who(action["user_id"], action["workspace"], action["channel"]),
            order_id=action["order_id"],
            account=action["account"],
            action=action["action"],
            outcome="pending",
            inputs=_inputs(action),
            action_id=action_id,
        )

    def action(self, action_id: int) -> dict[str, Any] | None:
        rows = list(self.db.query("SELECT * FROM actions WHERE id = ?", [action_id]))
        return dict(rows[0]) if rows else None

    def pending_actions(self) -> list[dict[str, Any]]:
        return [dict(r) for r in self.db.query("SELECT * FROM actions WHERE state = 'pending' ORDER BY id")]

    def count_actions(self, *, since: timedelta, order_id: str | None = None, user_id: str | None = None) -> int:
        cutoff = (self.clock() - since).astimezone(UTC).isoformat(timespec="milliseconds")
        column, value = ("order_id", order_id) if order_id else ("user_id", user_id)
        row = self.db.execute(
            f"SELECT count(*) FROM actions WHERE {column} = ? AND created_at >= ? "
            "AND state IN ('pending','succeeded','failed')",
            (value, cutoff),
        ).fetchone()
        return int(row[0])

    # -- Slack event dedupe ----------------------------------------------------------------------

    def claim_event(self, event_id: str, stale_after: timedelta = timedelta(seconds=60)) -> bool:
        """True when this delivery should be handled: first time, or an earlier attempt died midway."""
        now = self.clock()
        with self._write() as conn:
            row = conn.execute("SELECT state, started_at FROM events WHERE event_id = ?", (event_id,)).fetchone()
            if row is None:
                conn.execute("INSERT INTO events VALUES (?, 'started', ?)", (event_id, now.isoformat()))
                return True
            state, started = row
            if state == "failed" or (state == "started" and datetime.fromisoformat(started) < now - stale_after):
                conn.execute(
                    "UPDATE events SET state = 'started', started_at = ? WHERE event_id = ?",
                    (now.isoformat(), event_id),
                )
                return True
            return False

    def finish_event(self, event_id: str, ok: bool) -> None:
        with self._write() as conn:
            conn.execute("UPDATE events SET state = ? WHERE event_id = ?", ("done" if ok else "failed", event_id))


def _inputs(action: dict[str, Any]) -> dict[str, Any]:
    return {"invoice_number": action.get("invoice_number"), "value": action.get("value")}

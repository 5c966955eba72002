"""The database every store shares, SQLite or PostgreSQL, behind one small interface.

`UNSTUCK_DB` is a path (SQLite, the embedded default) or a `postgresql://` URL (PostgreSQL, for several
`unstuck serve` replicas on any hosts). The stores (audit log, action ledger, Slack deliveries, form state,
the radar's state) speak only this interface: `write()` is one transaction in which no other writer runs,
`query()`/`fetch()`/`one()` read, statements use `?` placeholders, and the two backends' errors surface as
one `IntegrityError` (a unique key said no) and one `DatabaseError` (anything else).

One writer at a time on both backends, on purpose: a claim (check, then insert), the head of the audit
chain (read the last row, then append) and every compare-and-set need exactly that, and the write rate of
this app (a few rows per question or action) is far below what one writer handles.
- SQLite: connections are per thread (listeners and the work pool run on threads); WAL lets readers run
  beside the writer; each write is one IMMEDIATE transaction, so the writer lock is taken up front. The file
  is created readable by its owner only: it holds who did what, and reply URLs while an action runs.
- PostgreSQL: bot/db_postgres.py, where each write transaction first takes one transaction-level advisory
  lock, which serialises writers across every replica on every host the same way.

The tables are created by ordered lists of migrations, one per backend with the same names: a migration
once shipped is never edited, a new one goes at the end of both lists.
"""

from __future__ import annotations

import os
import random
import sqlite3
import threading
import time
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol
from urllib.parse import quote, urlencode

if TYPE_CHECKING:
    import sqlite_utils


class AuditError(Exception):
    """The database could not record something; callers must not act on VTEX after this."""


class DatabaseError(Exception):
    """A statement failed (either backend); the message never holds credentials."""


class IntegrityError(DatabaseError):
    """A unique key or constraint refused the write: someone else got there first."""


Params = Sequence[Any]


class Cursor(Protocol):
    """What a statement gives back, the same on both backends (rows are tuples)."""

    @property
    def rowcount(self) -> int: ...

    @property
    def lastrowid(self) -> int | None: ...

    @property
    def description(self) -> Sequence[Sequence[Any]]:
        """One entry per result column, its name first (empty for a statement without rows)."""
        ...

    def fetchone(self) -> Any: ...

    def fetchall(self) -> list[Any]: ...


class Connection(Protocol):
    """A connection inside `Database.write()` (or `snapshot()`): `?` placeholders on both backends."""

    def execute(self, sql: str, params: Params = ()) -> Cursor: ...

    def executemany(self, sql: str, rows: Iterable[Params]) -> None: ...


def statements(migration: str) -> list[str]:
    """A migration's statements: each ends with `;` at the end of a line (a `;` inside a line stays)."""
    return [s.strip() for s in migration.split(";\n") if s.strip()]


def is_postgres_url(target: str | Path) -> bool:
    return str(target).startswith(("postgresql://", "postgres://"))


def redact(target: str | Path) -> str:
    """The database as it may be shown: a URL rebuilt without its password. The URL is read the way libpq reads
    it (a `#` or `?` inside a password is still the password there, not a fragment or a query)."""
    text = str(target)
    if not is_postgres_url(text):
        return text
    try:
        from psycopg.conninfo import conninfo_to_dict

        params = {k: str(v) for k, v in conninfo_to_dict(text).items() if v is not None}
    except Exception:  # noqa: BLE001 - a URL libpq cannot read is shown as nothing but its kind
        return "postgresql://***"
    user = quote(params.pop("user", ""), safe="")
    secret = ":***" if params.pop("password", None) is not None else ""
    host, port, name = params.pop("host", ""), params.pop("port", ""), params.pop("dbname", "")
    auth = f"{user}{secret}@" if user or secret else ""
    where = (f"[{host}]" if ":" in host and "," not in host else host) + (f":{port}" if port else "")
    query = urlencode(sorted(params.items()))
    return f"postgresql://{auth}{where}/{quote(name, safe='')}" + (f"?{query}" if query else "")


class Database(ABC):
    """The interface every store uses; `bot.store.open_database()` picks the implementation."""

    backend: str  # "sqlite" or "postgresql"
    clock: Callable[[], datetime]

    @property
    @abstractmethod
    def path(self) -> str:
        """Where the data is, safe to print: a file path, or a URL without its password."""

    @abstractmethod
    def write(self) -> AbstractContextManager[Connection]:
        """A context manager: one transaction, no other writer anywhere until it ends; yields a `Connection`."""

    @abstractmethod
    def snapshot(self) -> AbstractContextManager[Connection]:
        """A context manager: a read-only transaction that sees one consistent state; yields a `Connection`."""

    @abstractmethod
    def query(self, sql: str, params: Params = ()) -> list[dict[str, Any]]:
        """Rows as dicts."""

    @abstractmethod
    def fetch(self, sql: str, params: Params = ()) -> list[tuple[Any, ...]]:
        """Rows as tuples."""

    @abstractmethod
    def migrate(self) -> list[str]:
        """Apply the migrations not applied yet (once, even when several processes start together)."""

    @abstractmethod
    def close(self) -> None: ...

    def ids_copied(self, conn: Connection) -> None:
        """After rows were copied in with their ids: new rows must get ids above them. SQLite's rowid tables
        continue after the largest id by themselves; PostgreSQL overrides this."""
        del conn

    def one(self, sql: str, params: Params = ()) -> tuple[Any, ...] | None:
        rows = self.fetch(sql, params)
        return rows[0] if rows else None

    def scalar(self, sql: str, params: Params = ()) -> Any:
        """The first column of the first row (an aggregate's value); None when there is no row."""
        row = self.one(sql, params)
        return row[0] if row else None

    def now(self) -> str:
        return self.clock().astimezone(UTC).isoformat(timespec="milliseconds")

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.path}>"


# -- SQLite ---------------------------------------------------------------------------------------------------

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


def _translate(exc: sqlite3.Error) -> DatabaseError:
    if isinstance(exc, sqlite3.IntegrityError):
        return IntegrityError(str(exc))
    return DatabaseError(str(exc))


class _SqliteCursor:
    def __init__(self, cursor: sqlite3.Cursor):
        self._cursor = cursor

    @property
    def rowcount(self) -> int:
        return self._cursor.rowcount

    @property
    def lastrowid(self) -> int | None:
        return self._cursor.lastrowid

    @property
    def description(self) -> Sequence[Sequence[Any]]:
        return self._cursor.description or ()

    def fetchone(self) -> Any:
        try:
            return self._cursor.fetchone()
        except sqlite3.Error as exc:
            raise _translate(exc) from exc

    def fetchall(self) -> list[Any]:
        try:
            return self._cursor.fetchall()
        except sqlite3.Error as exc:
            raise _translate(exc) from exc


class _SqliteConnection:
    def __init__(self, conn: sqlite3.Connection):
        self._conn = conn

    def execute(self, sql: str, params: Params = ()) -> Cursor:
        try:
            return _SqliteCursor(self._conn.execute(sql, params))
        except sqlite3.Error as exc:
            raise _translate(exc) from exc

    def executemany(self, sql: str, rows: Iterable[Params]) -> None:
        try:
            self._conn.executemany(sql, rows)
        except sqlite3.Error as exc:
            raise _translate(exc) from exc


class SqliteDatabase(Database):
    backend = "sqlite"

    def __init__(self, path: str | Path, clock: Callable[[], datetime] = lambda: datetime.now(UTC)):
        self._path = str(path)
        self.clock = clock
        self._local = threading.local()
        self._all: list[sqlite3.Connection] = []
        self._lock = threading.Lock()
        if self._path != ":memory:":
            Path(self._path).parent.mkdir(parents=True, exist_ok=True)
            _create_private(self._path)
        self.migrate()

    @property
    def path(self) -> str:
        return self._path

    @property
    def db(self) -> sqlite_utils.Database:
        """This thread's connection, as sqlite-utils (SQLite only: tests and tools poke the file with it)."""
        db = getattr(self._local, "db", None)
        if db is None:
            import sqlite_utils  # here, not at the top: `unstuck why` and the CLI's start need no database

            conn = sqlite3.connect(self._path, timeout=_BUSY_SECONDS, isolation_level=None, check_same_thread=False)
            _enter_wal(conn)
            conn.execute("PRAGMA synchronous=NORMAL")
            db = sqlite_utils.Database(conn)
            self._local.db = db
            with self._lock:
                self._all.append(conn)
        return db

    @property
    def conn(self) -> sqlite3.Connection:
        """This thread's raw connection (SQLite only; the stores go through `write()` and the readers)."""
        return self.db.conn

    def query(self, sql: str, params: Params = ()) -> list[dict[str, Any]]:
        try:
            return [dict(r) for r in self.db.query(sql, params)]
        except sqlite3.Error as exc:
            raise _translate(exc) from exc

    def fetch(self, sql: str, params: Params = ()) -> list[tuple[Any, ...]]:
        try:
            return self.conn.execute(sql, params).fetchall()
        except sqlite3.Error as exc:
            raise _translate(exc) from exc

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
    def write(self) -> Iterator[Connection]:
        """One IMMEDIATE transaction: the writer lock is taken up front, so check-then-write cannot race."""
        conn = self.conn
        try:
            conn.execute("BEGIN IMMEDIATE")
        except sqlite3.Error as exc:
            raise AuditError(f"the audit database is not writable ({exc})") from exc
        try:
            yield _SqliteConnection(conn)
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        else:
            try:
                conn.execute("COMMIT")
            except sqlite3.Error as exc:
                conn.execute("ROLLBACK")
                raise _translate(exc) from exc

    @contextmanager
    def snapshot(self) -> Iterator[Connection]:
        """A deferred transaction: in WAL mode its first read fixes what every later read in it sees."""
        conn = self.conn
        conn.execute("BEGIN")
        try:
            yield _SqliteConnection(conn)
        finally:
            conn.execute("ROLLBACK")

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
                for statement in statements(sql):
                    conn.execute(statement)
                conn.execute("INSERT INTO _migrations VALUES (?, ?)", (name, self.now()))
            applied.append(name)
        return applied


_BUSY_SECONDS = 30.0


def _enter_wal(conn: sqlite3.Connection) -> None:
    """Put the file in WAL mode, waiting out other connections like any other statement would.

    Switching a new file to WAL needs it to itself, and SQLite answers "database is locked" at once on
    that path instead of calling the busy handler: replicas starting together on a new file failed.
    The mode is stored in the file, so this waits only the first time.
    """
    deadline = time.monotonic() + _BUSY_SECONDS
    pause = 0.005
    while True:
        try:
            conn.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError as exc:
            locked = "locked" in str(exc) or "busy" in str(exc)
            if not locked or time.monotonic() + pause > deadline:
                raise
        time.sleep(pause * (0.5 + random.random()))
        pause = min(pause * 2, 0.2)


def _create_private(path: str) -> None:
    """Create the file 0600 before SQLite does (SQLite gives its WAL and SHM files the same mode)."""
    try:
        fd = os.open(path, os.O_CREAT | os.O_RDWR, 0o600)
    except OSError:
        return  # a read-only place: SQLite reports it on the first write
    os.close(fd)
    if os.stat(path).st_size == 0:
        os.chmod(path, 0o600)

"""`unstuck audit copy --to URL_OR_PATH`: move everything the bot keeps from one database to another
(SQLite to PostgreSQL, or back), with the audit chain verified on both sides.

The copy is all or nothing (one write transaction on the destination) and refuses a destination that
already holds data, so a log is never merged into another one. Rows keep their sequence numbers, ids and
hashes: the destination's chain is the source's chain, and its head is the same `SEQ:HASH`.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from bot.db import Database
from bot.store import Store, open_database

# Every table the stores keep, parents first, each with the column that orders it. `_migrations` is not
# copied: the destination has applied its own backend's list.
TABLES = [
    ("audit_meta", "name"),
    ("audit_log", "seq"),
    ("actions", "id"),
    ("events", "event_id"),
    ("forms", "key"),
    ("radar_watch", "order_id"),
    ("radar_alerts", "order_id, situation"),
    ("radar_mutes", "kind, key"),
    ("radar_meta", "name"),
]


class CopyRefused(Exception):
    """The copy was not started (nothing was written); the message says why and what to do."""


@dataclass
class CopyReport:
    source: str
    destination: str
    head: str
    rows: dict[str, int] = field(default_factory=dict)


def copy_store(source: Store, destination: str, key: bytes | None) -> CopyReport:
    """Copy `source` into the database at `destination` (created and migrated if need be)."""
    checked = source.log.verify()
    if not checked.ok:
        raise CopyRefused(f"the source log does not verify ({checked.reason}); nothing was copied")
    target = open_database(destination)
    try:
        busy = {table: n for table, _ in TABLES if table != "audit_meta" and (n := _count(target, table))}
        if busy:
            held = ", ".join(f"{table}: {n} rows" for table, n in busy.items())
            raise CopyRefused(
                f"the destination {target.path} already holds data ({held}); copy only into an empty database"
            )
        report = CopyReport(source.path, target.path, checked.head or "")
        # One snapshot of the source for every table, so the copy never holds an action without its log rows.
        with source.database.snapshot() as read, target.write() as conn:
            # Rows a process wrote on opening an empty log (which key it would use) give way to the source's.
            conn.execute("DELETE FROM audit_meta")
            for table, order in TABLES:
                cursor = read.execute(f"SELECT * FROM {table} ORDER BY {order}")
                columns = [d[0] for d in cursor.description]
                rows = cursor.fetchall()
                if rows:
                    conn.executemany(
                        f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))})", rows
                    )
                report.rows[table] = len(rows)
            target.ids_copied(conn)
    finally:
        target.close()
    copied = Store(destination, key=key)
    try:
        again = copied.log.verify()
    finally:
        copied.close()
    if not again.ok or again.head != checked.head:
        raise CopyRefused(f"the copy does not verify ({again.reason or 'its head differs'}); do not use it")
    return report


def _count(database: Database, table: str) -> int:
    return int(database.scalar(f"SELECT count(*) FROM {table}"))

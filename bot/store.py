"""Everything the bot keeps, over one database (a SQLite file or PostgreSQL, see bot/db.py): the audit log,
the action ledger, Slack deliveries, forms, and the radar's watch list and alerts."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bot.audit import AuditLog
from bot.db import Database, SqliteDatabase, is_postgres_url
from bot.deliveries import Deliveries
from bot.forms import Forms
from bot.ledger import ActionLedger
from bot.radar_store import RadarStore


def open_database(target: str | Path, clock: Callable[[], datetime] = lambda: datetime.now(UTC)) -> Database:
    """SQLite for a path, PostgreSQL for a `postgresql://` URL (UNSTUCK_DB); migrated before it is returned."""
    if is_postgres_url(target):
        from bot.db_postgres import PostgresDatabase

        return PostgresDatabase(str(target), clock)
    return SqliteDatabase(target, clock)


class Store:
    def __init__(
        self,
        path: str | Path,
        *,
        key: bytes | None = None,
        resend_window: timedelta = timedelta(minutes=10),
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ):
        self.database = open_database(path, clock)
        self.log = AuditLog(self.database, key)
        self.ledger = ActionLedger(self.database, self.log, resend_window=resend_window)
        self.deliveries = Deliveries(self.database)
        self.forms = Forms(self.database)
        self.radar = RadarStore(self.database)

    @property
    def path(self) -> str:
        return self.database.path

    def close(self) -> None:
        self.database.close()

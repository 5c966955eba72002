"""Slack event de-duplication: Slack retries a delivery it thinks failed; each event is answered once."""

from __future__ import annotations

from datetime import datetime, timedelta

from bot.db import Database


class Deliveries:
    def __init__(self, database: Database):
        self.database = database

    def claim(self, event_id: str, stale_after: timedelta = timedelta(seconds=60)) -> bool:
        """True when this delivery should be handled: first time, or an earlier attempt died midway."""
        now = self.database.clock()
        with self.database.write() as conn:
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

    def finish(self, event_id: str, ok: bool) -> None:
        with self.database.write() as conn:
            conn.execute("UPDATE events SET state = ? WHERE event_id = ?", ("done" if ok else "failed", event_id))

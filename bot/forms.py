"""Form state kept on the server: a modal carries only a short key in its `private_metadata`.

Slack cuts `private_metadata` at 3,000 characters; an order with many items and a long invoice URL
does not fit, and a cut JSON is a form that silently does nothing. The state stays here instead, for
a day, under a random key that cannot be guessed from a card.
"""

from __future__ import annotations

import json
import secrets
from datetime import timedelta
from typing import Any

from bot.db import Database

KEEP = timedelta(days=1)


class Forms:
    def __init__(self, database: Database):
        self.database = database

    def put(self, data: dict[str, Any]) -> str:
        key = secrets.token_urlsafe(12)
        cutoff = (self.database.clock() - KEEP).isoformat(timespec="milliseconds")
        with self.database.write() as conn:
            conn.execute("DELETE FROM forms WHERE created_at < ?", (cutoff,))
            conn.execute("INSERT INTO forms VALUES (?, ?, ?)", (key, self.database.now(), json.dumps(data)))
        return key

    def get(self, key: str) -> dict[str, Any] | None:
        cutoff = (self.database.clock() - KEEP).isoformat(timespec="milliseconds")
        row = self.database.one("SELECT data FROM forms WHERE key = ? AND created_at >= ?", (key, cutoff))
        return json.loads(row[0]) if row else None

    def update(self, key: str, data: dict[str, Any]) -> None:
        with self.database.write() as conn:
            conn.execute("UPDATE forms SET data = ? WHERE key = ?", (json.dumps(data), key))

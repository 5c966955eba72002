"""What the radar remembers across polls and restarts: which orders to look at when, the alerts it posted
(one per order and situation, ever), and what operators muted or snoozed.

Orders enter the watch list from the feed and from sweeps and leave it when they no longer need watching;
nothing else about them is kept, so a store with 100,000 open orders costs one short row each.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from bot.db import Connection, Database, IntegrityError


@dataclass(frozen=True)
class Alert:
    order_id: str
    situation: str
    status: str | None
    status_name: str | None
    stuck_since: datetime | None
    channel: str
    ts: str | None
    posted_at: datetime


def _alert(row: dict[str, Any]) -> Alert:
    return Alert(
        order_id=row["order_id"],
        situation=row["situation"],
        status=row["status"],
        status_name=row["status_name"],
        stuck_since=datetime.fromisoformat(row["stuck_since"]) if row.get("stuck_since") else None,
        channel=row["channel"],
        ts=row["ts"],
        posted_at=datetime.fromisoformat(row["posted_at"]),
    )


class RadarStore:
    def __init__(self, database: Database):
        self.database = database

    def _iso(self, moment: datetime) -> str:
        # Times are compared as text (due times, snoozes, leases across hosts): one zone and one format for all.
        return moment.astimezone(UTC).isoformat(timespec="milliseconds")

    # -- the watch list -----------------------------------------------------------------------------------

    def watch(self, order_ids: list[str], due: datetime, reason: str) -> None:
        """Look at these orders at `due` at the latest (an earlier due time already set is kept)."""
        if not order_ids:
            return
        with self.database.write() as conn:
            conn.executemany(
                "INSERT INTO radar_watch VALUES (?, ?, ?) ON CONFLICT(order_id) DO UPDATE SET due_at = CASE "
                "WHEN excluded.due_at < radar_watch.due_at THEN excluded.due_at ELSE radar_watch.due_at END, "
                "reason = excluded.reason",
                [(order_id, self._iso(due), reason) for order_id in order_ids],
            )

    def discover(self, orders: list[tuple[str, datetime]], reason: str) -> None:
        """Watch orders found by a sweep, each from when it could first be stuck; orders already watched keep
        their own schedule (a sweep must not push every known order to the front again)."""
        if not orders:
            return
        with self.database.write() as conn:
            conn.executemany(
                "INSERT INTO radar_watch VALUES (?, ?, ?) ON CONFLICT(order_id) DO NOTHING",
                [(order_id, self._iso(due), reason) for order_id, due in orders],
            )

    def reschedule(self, order_id: str, due: datetime | None) -> None:
        """Look at it again at `due`, or stop watching it (None)."""
        with self.database.write() as conn:
            if due is None:
                conn.execute("DELETE FROM radar_watch WHERE order_id = ?", (order_id,))
            else:
                conn.execute("UPDATE radar_watch SET due_at = ? WHERE order_id = ?", (self._iso(due), order_id))

    def due(self, now: datetime, limit: int) -> list[str]:
        rows = self.database.fetch(
            "SELECT order_id FROM radar_watch WHERE due_at <= ? ORDER BY due_at, order_id LIMIT ?",
            (self._iso(now), limit),
        )
        return [r[0] for r in rows]

    def watched(self) -> int:
        return int(self.database.scalar("SELECT count(*) FROM radar_watch"))

    # -- alerts -------------------------------------------------------------------------------------------

    def claim_alert(
        self,
        order_id: str,
        situation: str,
        *,
        status: str | None,
        status_name: str | None,
        stuck_since: datetime | None,
        channel: str,
        now: datetime,
    ) -> bool:
        """True for the first claim of this order and situation, ever: only then may an alert be posted."""
        try:
            with self.database.write() as conn:
                conn.execute(
                    "INSERT INTO radar_alerts (order_id, situation, status, status_name, stuck_since, channel, "
                    "posted_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
                    (
                        order_id,
                        situation,
                        status,
                        status_name,
                        self._iso(stuck_since) if stuck_since else None,
                        channel,
                        self._iso(now),
                    ),
                )
            return True
        except IntegrityError:
            return False

    def posted(self, order_id: str, situation: str, ts: str) -> None:
        with self.database.write() as conn:
            conn.execute(
                "UPDATE radar_alerts SET ts = ? WHERE order_id = ? AND situation = ?", (ts, order_id, situation)
            )

    def unclaim(self, order_id: str, situation: str) -> None:
        """Slack refused the alert: it was never posted, so a later look may post it."""
        with self.database.write() as conn:
            conn.execute(
                "DELETE FROM radar_alerts WHERE order_id = ? AND situation = ? AND ts IS NULL", (order_id, situation)
            )

    def open_alerts(self, order_id: str | None = None) -> list[Alert]:
        if order_id:
            return self._open("AND a.order_id = ?", [order_id])
        return self._open("", [])

    def stuck_now(self, now: datetime) -> list[Alert]:
        """The open alerts nobody muted or snoozed at `now` (what `/stuck radar` and App Home list), in one query."""
        return self._open(
            "AND NOT EXISTS (SELECT 1 FROM radar_mutes m WHERE ((m.kind = 'order' AND m.key = a.order_id) "
            "OR (m.kind = 'status' AND m.key = coalesce(a.status, ''))) AND (m.until IS NULL OR m.until > ?))",
            [self._iso(now)],
        )

    def _open(self, where: str, params: list[Any]) -> list[Alert]:
        rows = self.database.query(
            f"SELECT a.* FROM radar_alerts a WHERE a.resolved_at IS NULL {where} "
            "ORDER BY coalesce(a.stuck_since, ''), a.posted_at, a.order_id",
            params,
        )
        return [_alert(r) for r in rows]

    def resolve(self, alert: Alert, resolution: str, now: datetime) -> bool:
        with self.database.write() as conn:
            cursor = conn.execute(
                "UPDATE radar_alerts SET resolved_at = ?, resolution = ? "
                "WHERE order_id = ? AND situation = ? AND resolved_at IS NULL",
                (self._iso(now), resolution, alert.order_id, alert.situation),
            )
            return cursor.rowcount == 1

    def last_fix(self, order_id: str) -> dict[str, Any] | None:
        """The newest invoice action that succeeded on the order: who fixed it, for the resolved alert."""
        rows = self.database.query(
            "SELECT * FROM actions WHERE order_id = ? AND state = 'succeeded' ORDER BY id DESC LIMIT 1", [order_id]
        )
        return rows[0] if rows else None

    # -- mutes and snoozes --------------------------------------------------------------------------------

    def mute(self, kind: str, key: str, until: datetime | None, user_id: str, now: datetime) -> None:
        with self.database.write() as conn:
            conn.execute(
                "INSERT INTO radar_mutes VALUES (?, ?, ?, ?, ?) ON CONFLICT(kind, key) DO UPDATE SET "
                "until = excluded.until, user_id = excluded.user_id, at = excluded.at",
                (kind, key, self._iso(until) if until else None, user_id, self._iso(now)),
            )

    def muted(self, order_id: str, status: str | None, now: datetime) -> bool:
        row = self.database.one(
            "SELECT 1 FROM radar_mutes WHERE ((kind = 'order' AND key = ?) OR (kind = 'status' AND key = ?)) "
            "AND (until IS NULL OR until > ?) LIMIT 1",
            (order_id, status or "", self._iso(now)),
        )
        return row is not None

    # -- bookkeeping --------------------------------------------------------------------------------------

    def meta(self, name: str) -> str | None:
        row = self.database.one("SELECT value FROM radar_meta WHERE name = ?", (name,))
        return str(row[0]) if row else None

    def set_meta(self, name: str, value: str) -> None:
        with self.database.write() as conn:
            _put_meta(conn, name, value)

    def claim_meta(self, name: str, value: str, previous: str | None) -> bool:
        """Set `name` to `value` only if it still holds `previous` (None: absent): the one caller that wins may
        act on it (a radar that stalled past its lease finds the digest already claimed by its successor)."""
        with self.database.write() as conn:
            row = conn.execute("SELECT value FROM radar_meta WHERE name = ?", (name,)).fetchone()
            if (str(row[0]) if row else None) != previous:
                return False
            _put_meta(conn, name, value)
            return True

    # -- leadership: one radar at a time across processes and hosts ---------------------------------------

    def lead(self, owner: str, now: datetime, ttl: timedelta) -> tuple[bool, str | None]:
        """Take or renew the radar's lease for `owner` until now + ttl, unless another owner holds a lease
        that has not run out. Returns whether `owner` leads now, and who led before (None: nobody)."""
        with self.database.write() as conn:
            row = conn.execute("SELECT value FROM radar_meta WHERE name = 'leader'").fetchone()
            current = json.loads(row[0]) if row else {}
            before = current.get("owner")
            if before not in (None, owner) and current.get("until", "") > self._iso(now):
                return False, before
            _put_meta(conn, "leader", json.dumps({"owner": owner, "until": self._iso(now + ttl)}))
            return True, before

    def release(self, owner: str) -> None:
        """Hand the lease on at once (a clean stop): another process need not wait for it to run out."""
        with self.database.write() as conn:
            row = conn.execute("SELECT value FROM radar_meta WHERE name = 'leader'").fetchone()
            if row and json.loads(row[0]).get("owner") == owner:
                conn.execute("DELETE FROM radar_meta WHERE name = 'leader'")

    def leader(self) -> dict[str, str] | None:
        """The lease as stored ({"owner", "until"}), or None."""
        value = self.meta("leader")
        return json.loads(value) if value else None


def _put_meta(conn: Connection, name: str, value: str) -> None:
    conn.execute(
        "INSERT INTO radar_meta VALUES (?, ?) ON CONFLICT(name) DO UPDATE SET value = excluded.value", (name, value)
    )

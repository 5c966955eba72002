"""The action ledger: the state of every invoice action, and the keys that make "once" mean once.

One row per click (`click_key` unique). While an action is `pending` (claimed, maybe posting) or
`unknown` (posted, VTEX's answer lost) its order is locked: a second action on the order is a
duplicate. A partial invoice keeps its business key (account, order, number) for life; a resend of the
same invoice is a duplicate only within the resend window, after which it may be sent again on purpose.

Every state change is a compare-and-set from the state the caller believes the row is in, and commits
together with its audit-log row: two processes can never both settle one action, and a reconcile can
never settle an action whose owner is still posting (its lease has not expired).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from enum import StrEnum
from typing import Any

from bot.audit import AuditLog, Who
from bot.db import AuditError, Connection, Database, DatabaseError, IntegrityError

PARTIAL = "add_partial_invoice"
RESEND = "resend_invoice"


class LeaseLost(AuditError):
    """The action may no longer post: its lease ran out (a reconcile may be settling it) or it was settled."""


class State(StrEnum):
    PENDING = "pending"
    UNKNOWN = "unknown"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    REFUSED = "refused"


LOCKING = (State.PENDING, State.UNKNOWN)


@dataclass(frozen=True)
class Claim:
    action_id: int | None
    duplicate_of: dict[str, Any] | None = None
    reason: str | None = None  # "click", "business", "recent" or "in_flight" when duplicate_of is set

    @property
    def is_new(self) -> bool:
        return self.duplicate_of is None


def business_key(account: str, order_id: str, action: str, invoice_number: str | None) -> str:
    return "|".join([account, order_id, action, (invoice_number or "").lower()])


class ActionLedger:
    def __init__(self, database: Database, log: AuditLog, *, resend_window: timedelta = timedelta(minutes=10)):
        self.database = database
        self.log = log
        self.resend_window = resend_window

    def _at(self, delta: timedelta) -> str:
        return (self.database.clock() + delta).isoformat(timespec="milliseconds")

    # -- claiming -----------------------------------------------------------------------------------------

    def claim(
        self,
        who: Who,
        *,
        order_id: str,
        account: str,
        action: str,
        invoice_number: str | None,
        value: int | None,
        click_key: str,
        lease: timedelta,
        reply_to: dict[str, Any] | None = None,
        owner: str | None = None,
    ) -> Claim:
        key = business_key(account, order_id, action, invoice_number)
        now = self.database.now()
        try:
            with self.database.write() as conn:
                duplicate = self._duplicate(conn, click_key, key, account, order_id, action)
                if duplicate:
                    return duplicate
                cursor = conn.execute(
                    "INSERT INTO actions (created_at, updated_at, workspace, channel, user_id, order_id, account, "
                    "action, invoice_number, value, click_key, business_key, state, reply_to, lease_until, owner) "
                    "VALUES (?,?,?,?,?,?,?,?,?,?,?,?,'pending',?,?,?)",
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
                        key,
                        json.dumps(reply_to) if reply_to else None,
                        self._at(lease),
                        owner,
                    ),
                )
                return Claim(int(cursor.lastrowid or 0))
        except IntegrityError:
            # Another process won between our check and our insert (only possible across databases
            # that do not serialise writers): report its row.
            with self.database.write() as conn:
                found = self._duplicate(conn, click_key, key, account, order_id, action)
            return found or Claim(None, {"state": State.PENDING}, "business")
        except DatabaseError as exc:
            raise AuditError(f"could not record the action ({exc})") from exc

    def _duplicate(
        self, conn: Connection, click_key: str, key: str, account: str, order_id: str, action: str
    ) -> Claim | None:
        same_click = _one(conn, "SELECT * FROM actions WHERE click_key = ?", (click_key,))
        if same_click:
            return Claim(None, same_click, "click")
        locked = _one(
            conn,
            "SELECT * FROM actions WHERE account = ? AND order_id = ? AND state IN ('pending', 'unknown')",
            (account, order_id),
        )
        if locked:
            return Claim(None, locked, "in_flight")
        if action == PARTIAL:
            live = _one(
                conn,
                "SELECT * FROM actions WHERE business_key = ? AND state = 'succeeded' AND action = ?",
                (key, PARTIAL),
            )
            return Claim(None, live, "business") if live else None
        recent = _one(
            conn,
            "SELECT * FROM actions WHERE business_key = ? AND state = 'succeeded' AND updated_at >= ? "
            "ORDER BY updated_at DESC LIMIT 1",
            (key, self._at(-self.resend_window)),
        )
        return Claim(None, recent, "recent") if recent else None

    # -- moving between states ------------------------------------------------------------------------

    def mark_posting(self, action_id: int, lease: timedelta, amount_text: str | None = None) -> None:
        """The write-ahead row: on disk before VTEX is called (fail closed), with a lease for the POST.

        Refused once the claim's lease has run out: a reconcile may then be settling the action, and only
        one of the two may win."""
        moved = self._move(
            action_id,
            (State.PENDING,),
            State.PENDING,
            posted_at=self.database.now(),
            lease=lease,
            amount_text=amount_text,
            only_if="lease_until >= ? AND posted_at IS NULL",
            only_if_params=(self.database.now(),),
        )
        if moved is None:
            raise LeaseLost(f"action {action_id} is no longer pending, or its lease ran out before the POST")

    def finish(
        self,
        action_id: int,
        state: State,
        *,
        expect: tuple[State, ...] = (State.PENDING,),
        who: Who | None = None,
        http_status: int | None = None,
        receipt: str | None = None,
        error: str | None = None,
        detail: str | None = None,
        never_posted: bool = False,
    ) -> dict[str, Any] | None:
        """Compare-and-set to `state`; the row as it was, or None when another party settled it first.

        `never_posted` adds the condition that no POST was begun (a reconcile calling an action failed
        must not win against an owner that has just started posting). A finished action forgets where to
        reply: live response URLs are not kept past their use.
        """
        keep_reply = state in LOCKING
        return self._move(
            action_id,
            expect,
            state,
            who=who,
            http_status=http_status,
            receipt=receipt,
            error=error,
            detail=detail,
            keep_reply=keep_reply,
            only_if="posted_at IS NULL" if never_posted else None,
        )

    def _move(
        self,
        action_id: int,
        expect: tuple[State, ...],
        state: State,
        *,
        who: Who | None = None,
        http_status: int | None = None,
        receipt: str | None = None,
        error: str | None = None,
        detail: str | None = None,
        posted_at: str | None = None,
        lease: timedelta | None = None,
        keep_reply: bool = True,
        amount_text: str | None = None,
        only_if: str | None = None,
        only_if_params: tuple[Any, ...] = (),
    ) -> dict[str, Any] | None:
        marks = ",".join("?" * len(expect))
        extra = f" AND {only_if}" if only_if else ""
        try:
            with self.database.write() as conn:
                action = _one(
                    conn,
                    f"SELECT * FROM actions WHERE id = ? AND state IN ({marks}){extra}",
                    (action_id, *expect, *only_if_params),
                )
                if action is None:
                    return None
                conn.execute(
                    "UPDATE actions SET state = ?, updated_at = ?, http_status = coalesce(?, http_status), "
                    "receipt = coalesce(?, receipt), error = ?, posted_at = coalesce(?, posted_at), "
                    "lease_until = coalesce(?, lease_until), reply_to = CASE WHEN ? THEN reply_to END, "
                    "amount_text = coalesce(?, amount_text) WHERE id = ?",
                    (
                        state,
                        self.database.now(),
                        http_status,
                        receipt,
                        error,
                        posted_at,
                        self._at(lease) if lease is not None else None,
                        keep_reply,
                        amount_text,
                        action_id,
                    ),
                )
                self.log.append_in(
                    conn,
                    "action",
                    who or Who(action["user_id"], action["workspace"], action["channel"]),
                    order_id=action["order_id"],
                    account=action["account"],
                    action=action["action"],
                    outcome=str(state),
                    inputs={"invoice_number": action.get("invoice_number"), "value": action.get("value")},
                    action_id=action_id,
                    http_status=http_status,
                    receipt=receipt,
                    detail=detail or error,
                )
                return action
        except DatabaseError as exc:
            raise AuditError(f"could not record the outcome ({exc})") from exc

    # -- reading ------------------------------------------------------------------------------------------

    def get(self, action_id: int) -> dict[str, Any] | None:
        rows = self.database.query("SELECT * FROM actions WHERE id = ?", [action_id])
        return rows[0] if rows else None

    def unsettled(self, owner_gone: Callable[[str | None], bool] = lambda owner: False) -> list[dict[str, Any]]:
        """Actions nobody is working on: `unknown` ones, and `pending` ones whose owner's lease ran out or
        whose owner process is known to be gone."""
        now = self.database.now()
        return [
            row
            for row in self.open()
            # no lease: written before leases existed (0.1), so its owner is long gone
            if row["state"] == State.UNKNOWN or (row["lease_until"] or "") < now or owner_gone(row.get("owner"))
        ]

    def open(self) -> list[dict[str, Any]]:
        return self.database.query("SELECT * FROM actions WHERE state IN ('pending', 'unknown') ORDER BY id")

    def count(self, *, since: timedelta, order_id: str | None = None, user_id: str | None = None) -> int:
        column, value = ("order_id", order_id) if order_id else ("user_id", user_id)
        return int(
            self.database.scalar(
                f"SELECT count(*) FROM actions WHERE {column} = ? AND created_at >= ? "
                "AND state IN ('pending','unknown','succeeded','failed')",
                (value, self._at(-since)),
            )
        )

    def last_succeeded(self, account: str, order_id: str, action: str, invoice_number: str) -> dict[str, Any] | None:
        rows = self.database.query(
            "SELECT * FROM actions WHERE business_key = ? AND state = 'succeeded' ORDER BY updated_at DESC LIMIT 1",
            [business_key(account, order_id, action, invoice_number)],
        )
        return rows[0] if rows else None

    def latest_per_action(self, limit: int) -> list[dict[str, Any]]:
        """The newest actions, each once, in its current state (App Home)."""
        return self.database.query("SELECT * FROM actions ORDER BY id DESC LIMIT ?", [limit])


def _one(conn: Connection, sql: str, params: tuple[Any, ...]) -> dict[str, Any] | None:
    cursor = conn.execute(sql, params)
    row = cursor.fetchone()
    if row is None:
        return None
    return dict(zip([d[0] for d in cursor.description], row, strict=True))

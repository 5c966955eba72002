"""The audit log: every question and every action, append-only and chained with a keyed hash.

Each row's MAC covers its content and the previous row's MAC, computed with HMAC-SHA256 under the
audit key (`UNSTUCK_AUDIT_KEY`, or one derived from the Slack signing secret). Without the key, nobody
can rewrite a row and recompute the chain after it, so `verify()` catches edits, replacements and
insertions; deleting the newest rows or emptying the table is caught by comparing the head (sequence
and MAC) with one saved earlier (`unstuck audit verify --expect-head`). Every state an invoice action
reaches is a row here too, and `verify()` checks the action ledger against it.

Without any key (the sandbox, a CLI without secrets) rows are chained with plain SHA-256: that only
catches edits by someone who does not recompute hashes. Nothing secret is ever written here.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from bot.db import AuditError, Connection, Database, DatabaseError

__all__ = ["AuditError", "AuditLog", "VerifyResult", "Who", "row_hash"]

GENESIS = "0" * 64
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


@dataclass(frozen=True)
class Who:
    user_id: str
    workspace: str | None = None
    channel: str | None = None


@dataclass(frozen=True)
class VerifyResult:
    ok: bool
    rows: int
    first_bad_seq: int | None = None
    reason: str | None = None
    head: str | None = None  # "seq:mac" of the last row, to save and compare later
    keyed: bool = False


def row_hash(row: dict[str, Any], key: bytes | None = None) -> str:
    canonical = json.dumps([row.get(k) for k in HASHED], separators=(",", ":"), ensure_ascii=False).encode()
    if key:
        return hmac.new(key, canonical, hashlib.sha256).hexdigest()
    return hashlib.sha256(canonical).hexdigest()


def key_fingerprint(key: bytes) -> str:
    return hmac.new(key, b"unstuck audit key fingerprint", hashlib.sha256).hexdigest()[:16]


class AuditLog:
    def __init__(self, database: Database, key: bytes | None = None):
        self.database = database
        self.key = key or None
        self._keyed_from = self._start_keying()

    def _start_keying(self) -> int | None:
        """Rows from this sequence on are keyed; older ones (before keys existed, or unkeyed) are not."""
        with self.database.write() as conn:
            meta = dict(conn.execute("SELECT name, value FROM audit_meta").fetchall())
            if self.key and "keyed_from" not in meta:
                last = conn.execute("SELECT max(seq) FROM audit_log").fetchone()[0] or 0
                conn.execute("INSERT INTO audit_meta VALUES ('keyed_from', ?)", (str(last + 1),))
                conn.execute("INSERT INTO audit_meta VALUES ('key_fingerprint', ?)", (key_fingerprint(self.key),))
                return last + 1
        return int(meta["keyed_from"]) if "keyed_from" in meta else None

    def _key_for(self, seq: int) -> bytes | None:
        return self.key if self._keyed_from is not None and seq >= self._keyed_from else None

    # -- writing ----------------------------------------------------------------------------------------

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
            with self.database.write() as conn:
                return self.append_in(
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
        except DatabaseError as exc:
            raise AuditError(f"could not write the audit log ({exc})") from exc

    def append_in(self, conn: Connection, kind: str, who: Who | None, **fields: Any) -> int:
        """Append inside the caller's transaction (so a state change and its row commit together)."""
        if self.key is None and self._keyed_from is not None:
            raise AuditError("this audit log is keyed: set UNSTUCK_AUDIT_KEY (or the signing secret) to write to it")
        last = conn.execute("SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1").fetchone()
        row = {
            "seq": (last[0] + 1) if last else 1,
            "at": self.database.now(),
            "kind": kind,
            "workspace": who.workspace if who else None,
            "channel": who.channel if who else None,
            "user_id": who.user_id if who else None,
            "prev_hash": last[1] if last else GENESIS,
            **fields,
        }
        row["inputs"] = json.dumps(row["inputs"], sort_keys=True) if row.get("inputs") is not None else None
        row["hash"] = row_hash(row, self._key_for(int(row["seq"])))
        columns = ",".join(row)
        conn.execute(f"INSERT INTO audit_log ({columns}) VALUES ({','.join('?' * len(row))})", list(row.values()))
        return int(row["seq"])

    def question(self, who: Who, order_id: str | None, account: str, outcome: str, detail: str | None = None) -> None:
        self.append("question", who, order_id=order_id, account=account, action="ask", outcome=outcome, detail=detail)

    # -- reading ----------------------------------------------------------------------------------------

    def recent(self, limit: int = 20, kind: str | None = None, order_id: str | None = None) -> list[dict[str, Any]]:
        where, params = [], []
        if kind:
            where.append("kind = ?")
            params.append(kind)
        if order_id:
            where.append("order_id = ?")
            params.append(order_id)
        clause = f"WHERE {' AND '.join(where)}" if where else ""
        return self.database.query(f"SELECT * FROM audit_log {clause} ORDER BY seq DESC LIMIT ?", [*params, limit])

    def all_rows(self, page: int = 1000) -> Iterator[dict[str, Any]]:
        """Every row in order, a page at a time (by seq, so neither backend holds the whole log in memory)."""
        after = 0
        while True:
            rows = self.database.query("SELECT * FROM audit_log WHERE seq > ? ORDER BY seq LIMIT ?", [after, page])
            yield from rows
            if len(rows) < page:
                return
            after = rows[-1]["seq"]

    def head(self) -> str:
        row = self.database.one("SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1")
        return f"{row[0]}:{row[1]}" if row else f"0:{GENESIS}"

    # -- checking ---------------------------------------------------------------------------------------

    def verify(self, expect_head: str | None = None) -> VerifyResult:
        meta = dict(self.database.fetch("SELECT name, value FROM audit_meta"))
        keyed = "keyed_from" in meta
        if keyed and (self.key is None or key_fingerprint(self.key) != meta.get("key_fingerprint")):
            return VerifyResult(
                False, 0, None, "this log is keyed and the audit key given is missing or different", keyed=True
            )
        result = self._verify_chain()
        if result.ok:
            result = self._verify_actions(result)
        if result.ok and expect_head:
            result = self._verify_head(result, expect_head)
        return VerifyResult(result.ok, result.rows, result.first_bad_seq, result.reason, self.head(), keyed)

    def _verify_chain(self) -> VerifyResult:
        prev, expected_seq, count = GENESIS, 1, 0
        for row in self.all_rows():
            count += 1
            if row["seq"] != expected_seq:
                return VerifyResult(False, count, expected_seq, f"row {expected_seq} is missing")
            if row["prev_hash"] != prev:
                return VerifyResult(False, count, row["seq"], f"row {row['seq']} does not link to the row before it")
            if not hmac.compare_digest(row_hash(row, self._key_for(row["seq"])), row["hash"]):
                return VerifyResult(False, count, row["seq"], f"row {row['seq']} was changed after it was written")
            prev, expected_seq = row["hash"], expected_seq + 1
        return VerifyResult(True, count)

    def _verify_actions(self, chain: VerifyResult) -> VerifyResult:
        """Every action's state must be the last state the chain recorded for it."""
        # One snapshot for both reads: on a live database an action may change state between two reads.
        with self.database.snapshot() as conn:
            recorded = dict(
                conn.execute(
                    "SELECT action_id, outcome FROM audit_log WHERE seq IN "
                    "(SELECT max(seq) FROM audit_log WHERE action_id IS NOT NULL GROUP BY action_id)"
                ).fetchall()
            )
            actions = conn.execute("SELECT id, state FROM actions ORDER BY id").fetchall()
        for action_id, state in actions:
            chained = recorded.pop(action_id, None)
            if chained is None and state == "pending":
                continue  # claimed a moment ago; its first row comes before any call to VTEX
            if chained != state:
                return VerifyResult(
                    False, chain.rows, None, f"action {action_id} says '{state}' but the log recorded '{chained}'"
                )
        if recorded:
            return VerifyResult(False, chain.rows, None, f"action {min(recorded)} is in the log but was removed")
        return chain

    def _verify_head(self, chain: VerifyResult, expect_head: str) -> VerifyResult:
        seq_text, _, mac = expect_head.partition(":")
        if not seq_text.isdigit():
            return VerifyResult(False, chain.rows, None, "--expect-head must look like SEQ:HASH, as verify printed it")
        seq = int(seq_text)
        row = self.database.one("SELECT hash FROM audit_log WHERE seq = ?", (seq,))
        if seq == 0 and mac == GENESIS:
            return chain
        if row is None:
            return VerifyResult(False, chain.rows, seq, f"row {seq}, the head saved earlier, is gone")
        if not hmac.compare_digest(row[0], mac):
            return VerifyResult(False, chain.rows, seq, f"row {seq} is not the row saved earlier as the head")
        return chain

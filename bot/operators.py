"""Who may press invoice buttons: Slack user ids, or members of Slack user groups (cached briefly)."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

log = logging.getLogger(__name__)


class Operators:
    def __init__(self, ids: frozenset[str], ttl: float = 60.0, clock: Callable[[], float] = time.monotonic):
        self.users = frozenset(i for i in ids if i[:1] in "UW")
        self.groups = frozenset(i for i in ids if i[:1] == "S")
        self.ttl = ttl
        self.clock = clock
        self._members: dict[str, tuple[float, frozenset[str]]] = {}
        self._lock = threading.Lock()

    @property
    def configured(self) -> bool:
        return bool(self.users or self.groups)

    def allows(self, user_id: str, client: WebClient | None) -> bool:
        if user_id in self.users:
            return True
        return any(user_id in self._group(group, client) for group in sorted(self.groups))

    def _group(self, group: str, client: WebClient | None) -> frozenset[str]:
        now = self.clock()
        with self._lock:
            cached = self._members.get(group)
            if cached and now - cached[0] < self.ttl:
                return cached[1]
        if client is None:
            return frozenset()
        try:
            users = frozenset(client.usergroups_users_list(usergroup=group).get("users") or [])
        except (SlackApiError, OSError) as exc:
            # Deny on doubt, but keep the last known membership if Slack hiccups.
            log.warning("could not read user group %s: %s", group, type(exc).__name__)
            return cached[1] if cached else frozenset()
        with self._lock:
            self._members[group] = (now, users)
        return users

    def refusal(self) -> str:
        if not self.configured:
            return (
                "Refused: no operators are configured, so nobody can press invoice buttons. Whoever runs the bot "
                "sets UNSTUCK_OPERATORS to Slack user ids (U…) or user-group ids (S…), comma-separated."
            )
        return (
            "Refused: only operators may send invoices to VTEX. Ask one of them, or ask whoever runs the bot to "
            "add you to UNSTUCK_OPERATORS."
        )

"""Who may press invoice buttons: Slack user ids, or members of Slack user groups.

A group's membership is read from Slack (`usergroups.users.list`) and reused for `ttl` seconds. When Slack
cannot answer, the last membership it gave is trusted for at most `max_age` seconds (10 minutes): a user
removed from the group is an operator for no longer than that, however long Slack's API keeps failing.
After that the click is refused with a message saying Slack could not confirm the membership.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.i18n import _

log = logging.getLogger(__name__)

MEMBERSHIP_TTL = 60.0
MEMBERSHIP_MAX_AGE = 600.0


@dataclass(frozen=True)
class Decision:
    allowed: bool
    unconfirmed: bool = False  # refused because Slack could not say whether the user is in a group


class Operators:
    def __init__(
        self,
        ids: frozenset[str],
        ttl: float = MEMBERSHIP_TTL,
        max_age: float = MEMBERSHIP_MAX_AGE,
        clock: Callable[[], float] = time.monotonic,
    ):
        self.users = frozenset(i for i in ids if i[:1] in "UW")
        self.groups = frozenset(i for i in ids if i[:1] == "S")
        self.ttl = ttl
        self.max_age = max(max_age, ttl)
        self.clock = clock
        self._members: dict[str, tuple[float, frozenset[str]]] = {}  # group -> (when Slack said so, members)
        self._lock = threading.Lock()
        self._last = threading.local()  # the decision refusal() explains, per listener thread

    @property
    def configured(self) -> bool:
        return bool(self.users or self.groups)

    def decide(self, user_id: str, client: WebClient | None) -> Decision:
        if user_id in self.users:
            return Decision(True)
        unknown = False
        for group in sorted(self.groups):
            members = self._group(group, client)
            if members is None:
                unknown = True
            elif user_id in members:
                return Decision(True)
        return Decision(False, unconfirmed=unknown)

    def allows(self, user_id: str, client: WebClient | None) -> bool:
        decision = self.decide(user_id, client)
        self._last.decision = decision
        return decision.allowed

    def _group(self, group: str, client: WebClient | None) -> frozenset[str] | None:
        """The group's members, or None when Slack cannot say and what it last said is too old to trust."""
        now = self.clock()
        with self._lock:
            cached = self._members.get(group)
        if cached and now - cached[0] < self.ttl:
            return cached[1]
        if client is not None:
            try:
                users = frozenset(client.usergroups_users_list(usergroup=group).get("users") or [])
            except (SlackApiError, OSError) as exc:
                log.warning("could not read user group %s: %s", group, type(exc).__name__)
            else:
                with self._lock:
                    self._members[group] = (now, users)
                return users
        if cached and now - cached[0] < self.max_age:
            return cached[1]  # a Slack hiccup: what it said a few minutes ago still holds
        return None

    def refusal(self) -> str:
        """Why the last `allows` on this thread said no."""
        if not self.configured:
            return _(
                "Nothing was sent: nobody may press invoice buttons yet, because whoever runs the bot has not named "
                "the team's operators. Ask them to add you (or your Slack user group)."
            )
        decision = getattr(self._last, "decision", None)
        if decision is not None and decision.unconfirmed:
            return _(
                "Refused: Slack could not confirm that you are in an operator user group (its API is not answering "
                "and the bot trusts an earlier answer for at most {minutes} minutes). Nothing was sent to VTEX. "
                "Try again in a minute."
            ).format(minutes=f"{self.max_age / 60:.0f}")
        return _(
            "Nothing was sent: only the team's operators may send invoices to VTEX. Ask an operator to press the "
            "button, or ask whoever runs the bot to make you one."
        )

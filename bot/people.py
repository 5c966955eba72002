"""Each person's reply language, from their Slack locale (`users.info` with `include_locale`), cached.

A Portuguese or Spanish locale (any region) gets Portuguese or Spanish; any other locale English; a
person Slack gives no locale for (or when Slack cannot be asked) gets UNSTUCK_LANGUAGE. Answers are
cached for an hour, failures for a minute, for at most 10,000 people; a lookup never holds a reply up
for more than `wait` seconds: when Slack is slow, this reply uses the default and the next one the
person's language.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from typing import Any

from bot.i18n import Language, language_of

log = logging.getLogger("unstuck.people")
MAX_ASKING = 256  # users.info calls queued at once; beyond, replies use the default without asking


class Languages:
    def __init__(
        self,
        default: Language,
        *,
        ttl: float = 3600.0,
        failure_ttl: float = 60.0,
        max_people: int = 10_000,
        wait: float = 1.0,
        clock: Callable[[], float] = time.monotonic,
    ):
        self.default = default
        self.ttl, self.failure_ttl, self.max_people, self.wait = ttl, failure_ttl, max_people, wait
        self.clock = clock
        self._known: OrderedDict[str, tuple[Language, float]] = OrderedDict()
        self._asking: dict[str, Any] = {}
        self._lock = threading.Lock()
        self._pool = ThreadPoolExecutor(max_workers=4, thread_name_prefix="locale")

    def cached(self, user_id: str | None) -> Language | None:
        """The person's language if known and fresh; never calls Slack."""
        if not user_id:
            return None
        with self._lock:
            found = self._known.get(user_id)
            if found and found[1] > self.clock():
                self._known.move_to_end(user_id)
                return found[0]
        return None

    def of(self, user_id: str | None, client: Any, wait: float | None = None) -> Language:
        """The person's language, asking Slack when it is not cached (waiting at most `wait` seconds, by default
        the one given at construction)."""
        known = self.cached(user_id)
        if known is not None or not user_id or client is None:
            return known or self.default
        with self._lock:
            future = self._asking.get(user_id)
            if future is None:
                if len(self._asking) >= MAX_ASKING:  # Slack hangs and new people keep coming: ask none of them
                    return self.default
                future = self._pool.submit(self._ask, user_id, client)
                self._asking[user_id] = future
        try:
            language: Language = future.result(timeout=self.wait if wait is None else wait)
            return language
        except FutureTimeout:
            log.info("Slack did not give a locale in time: answering in the default language")
            return self.default

    def _ask(self, user_id: str, client: Any) -> Language:
        ttl = self.ttl
        try:
            user = client.users_info(user=user_id, include_locale=True).get("user") or {}
            language = language_of(user.get("locale")) or self.default
        except Exception as exc:  # Slack down, missing scope: the default, and ask again soon
            log.warning("users.info failed (%s): answering in the default language", type(exc).__name__)
            language, ttl = self.default, self.failure_ttl
        with self._lock:
            self._known[user_id] = (language, self.clock() + ttl)
            self._known.move_to_end(user_id)
            while len(self._known) > self.max_people:
                self._known.popitem(last=False)
            self._asking.pop(user_id, None)
        return language

    def forget(self, user_id: str) -> None:
        """The playground switches a person's language: the next reply asks Slack again."""
        with self._lock:
            self._known.pop(user_id, None)

    def close(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)

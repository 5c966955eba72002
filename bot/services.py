"""Everything a Slack listener needs, built once per process and shared by all listeners."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from bot.acting import Actor
from bot.audit import AuditError, AuditStore, Who
from bot.kb import KnowledgeBase
from bot.lookup import Answer, Failure, look_up
from bot.operators import Operators
from bot.settings import Settings
from bot.vtex import VtexClient

log = logging.getLogger("unstuck")


@dataclass
class Services:
    settings: Settings
    vtex: VtexClient
    kb: KnowledgeBase
    store: AuditStore
    operators: Operators
    account: str
    clock: Callable[[], datetime] = lambda: datetime.now(UTC)
    reread_delay: float = 3.0
    executor: Any = None  # Bolt's listener pool (idle: listeners run on the request thread and only ack)
    # The slow part of every answer and action (VTEX round trips), after ack(). Created with the services:
    # creating it on first use raced when the first two questions arrived together.
    work: ThreadPoolExecutor = field(
        default_factory=lambda: ThreadPoolExecutor(max_workers=256, thread_name_prefix="work")
    )
    _timers: set[threading.Timer] = field(default_factory=set)

    @property
    def actor(self) -> Actor:
        return Actor(
            self.vtex,
            self.store,
            account=self.account,
            order_limit=self.settings.unstuck_order_action_limit,
            user_limit=self.settings.unstuck_user_action_limit,
            clock=self.clock,
        )

    @property
    def visibility(self) -> str:
        return self.settings.unstuck_answer_visibility

    def ask(self, order_id: str, who: Who) -> Answer | Failure:
        result = look_up(self.vtex, self.kb, order_id, self.clock)
        if isinstance(result, Answer):
            outcome, detail = "answered", f"{result.order.status}: {result.diagnosis.summary}"
        else:
            outcome, detail = "error", f"{type(result.error).__name__}: {result.error}"
        try:
            self.store.question(who, order_id, self.account, outcome, detail[:500])
        except AuditError as exc:
            log.error("audit write failed for a question about %s: %s", order_id, exc)
        return result

    def background(self, fn: Callable[[], None]) -> None:
        """Run `fn` on the work pool so the listener thread is free for the next ack at once."""

        def run() -> None:
            try:
                fn()
            except Exception:
                log.exception("background work failed")

        self.work.submit(run)

    def later(self, fn: Callable[[], None], delay: float | None = None) -> None:
        """Run `fn` once after a delay, off the listener pool; errors are logged, never raised."""

        def run() -> None:
            try:
                fn()
            except Exception:
                log.exception("delayed follow-up failed")
            finally:
                self._timers.discard(timer)

        timer = threading.Timer(self.reread_delay if delay is None else delay, run)
        timer.daemon = True
        self._timers.add(timer)
        timer.start()

    def close(self) -> None:
        # Order matters: no listener or follow-up may touch SQLite once its connections are closed.
        for timer in list(self._timers):
            timer.cancel()
        for pool in (self.executor, self.work):
            if pool is not None:
                pool.shutdown(wait=True)
        for timer in list(self._timers):
            timer.join(timeout=5)
        self.vtex.close()
        self.store.close()

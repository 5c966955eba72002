"""Everything a Slack listener needs, built once per process and shared by all listeners."""

from __future__ import annotations

import dataclasses
import functools
import logging
import threading
import time
from collections import deque
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from bot.acting import Actor, Timing
from bot.audit import AuditError, Who
from bot.i18n import N_, _, carry, ngettext
from bot.kb import KnowledgeBase
from bot.lookup import Answer, Failure, LastResend, explain, look_up
from bot.operators import Operators
from bot.order import Order
from bot.people import Languages
from bot.radar_rules import parse_after
from bot.settings import Settings
from bot.store import Store
from bot.vtex import VtexClient

log = logging.getLogger("unstuck")

# Questions waiting for a work thread beyond which new ones are answered "busy" at once.
QUEUE_LIMIT = 200
BUSY = N_(
    ":hourglass_flowing_sand: The bot is busy with many questions right now, so it did not look "
    "{ids} up. Try again in a minute."
)


class QuestionLimit:
    """At most `limit` questions (order ids looked up) per Slack user in any `window` seconds."""

    def __init__(self, window: float = 60.0, clock: Callable[[], float] = time.monotonic):
        self.window = window
        self.clock = clock
        self._asked: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def take(self, user_id: str, wanted: int, limit: int) -> tuple[int, float]:
        """How many of `wanted` questions the user may ask now, and the seconds until the next one frees up."""
        with self._lock:
            now = self.clock()
            if len(self._asked) > 1000:  # forget users who asked nothing within the window
                self._asked = {u: q for u, q in self._asked.items() if q and now - q[-1] < self.window}
            asked = self._asked.setdefault(user_id, deque())
            while asked and now - asked[0] >= self.window:
                asked.popleft()
            granted = max(0, min(wanted, limit - len(asked)))
            asked.extend([now] * granted)
            wait = asked[0] + self.window - now if len(asked) >= limit else 0.0
            return granted, wait


@dataclass(frozen=True)
class Admission:
    """Which of the ids a person asked about are answered now, and what to tell them about the rest."""

    ids: list[str]
    notice: str | None = None  # why some or all were not looked up (question limit, busy)


@dataclass
class Identity:
    """Who the bot is in Slack, learned after start (auth.test), so it can ignore its own messages."""

    user_id: str | None = None
    bot_id: str | None = None


@dataclass
class Services:
    settings: Settings
    vtex: VtexClient
    kb: KnowledgeBase
    store: Store
    operators: Operators
    account: str
    clock: Callable[[], datetime] = lambda: datetime.now(UTC)
    reread_delay: float = 3.0
    # Bolt's listener pool: nearly idle, since listeners run on the request thread and only ack.
    executor: ThreadPoolExecutor = field(
        default_factory=lambda: ThreadPoolExecutor(max_workers=4, thread_name_prefix="listener")
    )
    identity: Identity = field(default_factory=lambda: Identity())
    # The slow part of every answer and action (VTEX round trips), after ack(). Created with the services:
    # creating it on first use raced when the first two questions arrived together.
    work: ThreadPoolExecutor = field(
        default_factory=lambda: ThreadPoolExecutor(max_workers=256, thread_name_prefix="work")
    )
    _timers: set[threading.Timer] = field(default_factory=set)
    _timers_lock: threading.Lock = field(default_factory=threading.Lock)
    _closing: bool = False
    _at_close: list[Callable[[], None]] = field(default_factory=list)
    # Bounded work: questions are refused "busy" once `max_waiting` jobs wait for a work thread.
    max_waiting: int = QUEUE_LIMIT
    question_limit: QuestionLimit = field(default_factory=QuestionLimit)
    # Short replies to refused questions (busy, over the limit) go out on their own small pool.
    notices: ThreadPoolExecutor = field(
        default_factory=lambda: ThreadPoolExecutor(max_workers=4, thread_name_prefix="notice")
    )
    _waiting: dict[str, int] = field(default_factory=lambda: {"work": 0, "notices": 0})
    _waiting_lock: threading.Lock = field(default_factory=threading.Lock)
    # Each person's reply language (their Slack locale), cached; the default from UNSTUCK_LANGUAGE.
    languages: Languages = field(default_factory=lambda: Languages("en"))

    @property
    def actor(self) -> Actor:
        return Actor(
            self.vtex,
            self.store,
            account=self.account,
            order_limit=self.settings.unstuck_order_action_limit,
            user_limit=self.settings.unstuck_user_action_limit,
            clock=self.clock,
            timing=Timing(
                post_timeout=self.vtex.timeout,
                read_budget=self.vtex.budget,
                settle_after=timedelta(seconds=self.settings.unstuck_settle_after),
            ),
        )

    @property
    def visibility(self) -> str:
        return self.settings.unstuck_answer_visibility

    def ask(self, order_id: str, who: Who) -> Answer | Failure:
        result = look_up(self.vtex, self.kb, order_id, self.clock, self.thresholds)
        if isinstance(result, Answer):
            result = self.with_history(result)
            outcome, detail = "answered", f"{result.order.status}: {result.diagnosis.summary}"
        else:
            outcome, detail = "error", f"{type(result.error).__name__}: {result.error}"
        try:
            self.store.log.question(who, order_id, self.account, outcome, detail[:500])
        except AuditError as exc:
            log.error("audit write failed for a question about %s: %s", order_id, exc)
        return result

    @functools.cached_property
    def thresholds(self) -> dict[str, timedelta]:
        """What is normal per status where UNSTUCK_RADAR_AFTER says so: cards and radar use the same (read once:
        every question and every radar look uses it)."""
        return parse_after(self.settings.unstuck_radar_after)

    def explain(self, order: Order) -> Answer:
        return self.with_history(explain(order, self.kb, self.clock(), self.thresholds))

    def with_history(self, answer: Answer) -> Answer:
        """The answer, plus when the invoice it offers to resend was last resent (a repeat is then a choice)."""
        resend = next((a for a in answer.diagnosis.actions if a.kind == "resend_invoice"), None)
        if resend is None or not resend.invoice_number:
            return answer
        try:
            row = self.store.ledger.last_succeeded(
                self.account, answer.order.order_id, resend.kind, resend.invoice_number
            )
        except Exception as exc:  # noqa: BLE001 - history is a courtesy; the claim still guards the click
            log.error("could not read the resend history of %s: %s", answer.order.order_id, exc)
            return answer
        if row is None:
            return answer
        at = datetime.fromisoformat(row["updated_at"])
        last = LastResend(row["user_id"], at, at + self.store.ledger.resend_window)
        return dataclasses.replace(answer, last_resend=last)

    def background(self, fn: Callable[[], None]) -> None:
        """Run `fn` on the work pool so the listener thread is free for the next ack at once."""
        self._submit(self.work, "work", fn)

    def try_background(self, fn: Callable[[], None]) -> bool:
        """`background`, unless `max_waiting` jobs already wait for a work thread (then False, nothing runs)."""
        if self.busy():
            return False
        self._submit(self.work, "work", fn)
        return True

    def busy(self) -> bool:
        with self._waiting_lock:
            return self._waiting["work"] >= self.max_waiting

    def admit(self, who: Who, ids: list[str]) -> Admission:
        """Apply the bounded queue and the per-user question limit, before anything is queued. Questions not
        admitted are logged (outcome "busy" or "refused"); run the admitted ones with `start`."""
        if self.busy():
            self._log_not_asked(who, ids, "busy", "the work queue was full")
            return Admission([], _(BUSY).format(ids=_listed(ids)))
        limit = self.settings.unstuck_user_question_limit
        granted, wait = self.question_limit.take(who.user_id, len(ids), limit)
        admitted, refused = ids[:granted], ids[granted:]
        if not refused:
            return Admission(admitted)
        self._log_not_asked(who, refused, "refused", f"over UNSTUCK_USER_QUESTION_LIMIT ({limit} a minute)")
        return Admission(
            admitted,
            ngettext(
                ":raised_hand: You asked about {limit} orders in the last minute, the most the bot looks up for one "
                "person, so it did not look {ids} up. Try again in about {n} second.",
                ":raised_hand: You asked about {limit} orders in the last minute, the most the bot looks up for one "
                "person, so it did not look {ids} up. Try again in about {n} seconds.",
                max(int(wait + 0.999), 1),
            ).format(limit=limit, ids=_listed(refused)),
        )

    def start(self, admission: Admission, fn: Callable[[], None]) -> None:
        """Run the admitted questions' work (admitted just before, so it is queued even when close to the bound)."""
        if admission.ids:
            self._submit(self.work, "work", fn)

    def notify(self, fn: Callable[[], object]) -> None:
        """Send a short reply (busy, over the limit) off the listener thread; dropped if that pool is swamped."""
        with self._waiting_lock:
            swamped = self._waiting["notices"] >= self.max_waiting
        if swamped:
            log.warning("too many notices waiting: one was dropped")
            return
        self._submit(self.notices, "notices", fn)

    def _submit(self, pool: ThreadPoolExecutor, queue: str, fn: Callable[[], object]) -> None:
        fn = carry(fn)  # the work answers in the language of the reply it belongs to

        def run() -> None:
            with self._waiting_lock:
                self._waiting[queue] -= 1
            try:
                fn()
            except Exception:
                log.exception("background work failed")

        with self._waiting_lock:
            self._waiting[queue] += 1
        try:
            pool.submit(run)
        except RuntimeError:  # shutting down
            with self._waiting_lock:
                self._waiting[queue] -= 1
            raise

    def _log_not_asked(self, who: Who, ids: list[str], outcome: str, detail: str) -> None:
        log.info("%s %d question(s) from %s: %s", outcome, len(ids), who.user_id, detail)
        for order_id in ids:
            try:
                self.store.log.question(who, order_id, self.account, outcome, detail)
            except AuditError as exc:
                log.error("audit write failed for a question about %s: %s", order_id, exc)

    def later(self, fn: Callable[[], None], delay: float | None = None) -> None:
        """Run `fn` once after a delay, off the listener pool; errors are logged, never raised."""
        fn = carry(fn)

        def run() -> None:
            try:
                fn()
            except Exception:
                log.exception("delayed follow-up failed")
            finally:
                self._timers.discard(timer)

        timer = threading.Timer(self.reread_delay if delay is None else delay, run)
        timer.daemon = True
        with self._timers_lock:
            if self._closing:
                return  # shutting down: a follow-up scheduled now would find the store closed
            self._timers.add(timer)
            timer.start()

    def at_close(self, fn: Callable[[], None]) -> None:
        """Run `fn` on close, after the last timer and before the store closes."""
        self._at_close.append(fn)

    def close(self) -> None:
        # Order matters: no listener or follow-up may touch SQLite once its connections are closed.
        with self._timers_lock:
            self._closing = True
            timers = list(self._timers)
        for timer in timers:
            timer.cancel()
        for pool in (self.executor, self.work, self.notices):
            if pool is not None:
                pool.shutdown(wait=True)
        for timer in timers:
            timer.join(timeout=5)
        for fn in self._at_close:  # e.g. the radar hands its lease on, while the store is still open
            try:
                fn()
            except Exception:
                log.exception("a shutdown step failed")
        self.languages.close()
        self.vtex.close()
        self.store.close()


def _listed(ids: list[str]) -> str:
    return ", ".join(f"`{i}`" for i in ids) or _("it")

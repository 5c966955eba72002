"""The stuck-order radar: watch the store, and bring each stuck order to the team once, with its fix.

Every `UNSTUCK_RADAR_INTERVAL` seconds one tick:
1. reads VTEX's Orders Feed v3 (the status changes VTEX queued for us), puts those orders on the watch
   list, and only then commits the items: a crash re-reads them, it never loses them;
2. at start and then every `SWEEP_EVERY`, sweeps List orders for every watched status at once (split by
   creation date when the list has more than 30 pages), putting each order on the watch list: the list
   index lags and the feed may miss a change, the sweep catches what it missed;
3. looks at the orders whose time has come, each from Get order and the same diagnosis as an answer:
   a stuck order gets one alert (chat.postMessage in the radar channel, with the verdict, how long it has
   been stuck and the same buttons), never a second one for the same situation; an order that left its
   situation gets its alert updated in place (chat.update) and loses its buttons;
4. posts the daily digest when it is due.
VTEX calls go through their own client, limited to a share of the account's 6,000 requests a minute.

Only one radar runs at a time, however many `serve` processes share the database: each tick first takes or
renews a lease in the database (`LEASE` intervals long). The others check every `FOLLOW` of an interval and
take over once the lease has run out, so a dead leader is replaced within two intervals. The lease only saves
work: an alert is claimed in the database before it is posted, so even two radars never alert twice.
"""

from __future__ import annotations

import logging
import secrets
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.blocks import radar_alert, radar_digest, radar_resolved
from bot.db import AuditError, DatabaseError
from bot.errors import OrderNotFound, RateLimited, VtexError
from bot.i18n import use
from bot.owner import this_process
from bot.radar_rules import FEED_STATUSES, WATCHED_STATUSES, assess
from bot.radar_store import Alert
from bot.services import Services
from bot.statuses import STATUSES
from bot.vtex import EARLIEST, MAX_LOT, MAX_PAGES, OrderSummary, VtexClient

log = logging.getLogger("unstuck.radar")

SWEEP_EVERY = timedelta(minutes=15)
FEED_FIRST = timedelta(days=3650)  # a change VTEX reported goes ahead of everything a sweep queued
FEED_BATCHES = 50  # feed reads per tick (of up to MAX_LOT items each)
VTEX_LIMIT_PER_MINUTE = 6000
LEASE = 1.5  # intervals a leader's lease lasts past its last tick (a late tick keeps it)
FOLLOW = 0.25  # intervals between a standby radar's checks: takeover within LEASE + FOLLOW < 2 intervals


def looks_per_tick(share: float, interval: float) -> int:
    """Orders looked at per tick: about what the radar's share of the rate limit lets through in one interval."""
    return max(10, int(VTEX_LIMIT_PER_MINUTE * share / 60 * interval))


def feed_reads_per_tick(looks: int) -> int:
    """Feed reads per tick: a steady feed must not crowd out the orders waiting to be looked at, so at most a
    third of the tick's requests go to it (a read and a commit per batch)."""
    return min(FEED_BATCHES, max(1, looks // 6))


@dataclass
class TickReport:
    feed_items: int = 0
    swept: int = 0
    looked_at: int = 0
    alerted: int = 0
    resolved: int = 0


class Radar:
    def __init__(
        self,
        services: Services,
        client: WebClient,
        vtex: VtexClient,
        *,
        channel: str,
        interval: float,
        digest_at: str | None = None,
        timezone: str = "UTC",
    ):
        self.svc = services
        self.client = client
        self.vtex = vtex
        self.channel = channel
        self.interval = interval
        self.digest_at = digest_at
        self.zone = ZoneInfo(timezone)
        self.store = services.store.radar
        self._feed_ready = False
        self._paused_until: datetime | None = None
        # This radar, among every process on every host (two radars in one process are two owners too).
        self.owner = f"{this_process()}#{secrets.token_hex(4)}"
        self.leading: bool | None = None  # unknown until the first tick

    @property
    def per_tick(self) -> int:
        return looks_per_tick(self.svc.settings.unstuck_radar_share, self.interval)

    # -- one tick -------------------------------------------------------------------------------------------

    def lead(self) -> bool:
        """Take or renew the lease; False when another radar holds it (or the database cannot say)."""
        try:
            leading, before = self.store.lead(self.owner, self.svc.clock(), timedelta(seconds=self.interval * LEASE))
        except (AuditError, DatabaseError) as exc:
            log.warning("radar: could not check which process runs the radar (%s); skipping this tick", exc)
            leading, before = False, None
        if leading != self.leading:
            if leading:
                log.info(
                    "radar: this process runs the radar now (%s)",
                    "taking over" if before not in (None, self.owner) else "first",
                )
            else:
                log.info("radar: another process runs the radar; this one stands by")
            self.leading = leading
        return leading

    def release(self) -> None:
        """Hand the lease on (a clean stop), so another process takes over at its next check."""
        if self.leading:
            try:
                self.store.release(self.owner)
            except (AuditError, DatabaseError) as exc:
                log.warning("radar: could not hand the radar on (%s); the lease runs out by itself", exc)
            self.leading = False

    def tick(self) -> TickReport:
        report = TickReport()
        if not self.lead():
            return report
        now = self.svc.clock()
        if self._paused_until and now < self._paused_until:
            return report  # VTEX asked us to slow down (Retry-After)
        try:
            self._read_feed(report)
            if self._sweep_due(now):
                self._sweep(report)
            self._look(report)
            self._digest_if_due()
        except RateLimited as exc:
            wait = timedelta(seconds=exc.retry_after or self.interval)
            self._paused_until = self.svc.clock() + wait
            log.warning("radar: VTEX asked to slow down; pausing %.0f s", wait.total_seconds())
        except VtexError as exc:
            log.warning("radar: VTEX could not answer (%s); trying again next tick", type(exc).__name__)
        return report

    def _read_feed(self, report: TickReport) -> None:
        if not self._feed_ready:
            if self.vtex.feed_config() is None:  # an integration's own filter is left alone
                self.vtex.set_feed_config(list(FEED_STATUSES))
            self._feed_ready = True
        # A short batch means the feed is drained.
        for _ in range(feed_reads_per_tick(self.per_tick)):
            items = self.vtex.feed_items(maxlot=MAX_LOT)
            if not items:
                return
            # Recorded (due before anything a sweep found), then committed: a crash re-reads, never loses.
            self.store.watch([i.order_id for i in items], self.svc.clock() - FEED_FIRST, "feed")
            self.vtex.commit_feed([i.handle for i in items])
            report.feed_items += len(items)
            if len(items) < MAX_LOT:
                return

    def _sweep_due(self, now: datetime) -> bool:
        last = self.store.meta("last_sweep")
        return last is None or now - datetime.fromisoformat(last) >= SWEEP_EVERY

    def _sweep(self, report: TickReport) -> None:
        started = self.svc.clock()
        report.swept += self._sweep_range(list(WATCHED_STATUSES), None, None)  # one list for every watched status
        self.store.set_meta("last_sweep", started.isoformat())

    def _sweep_range(self, statuses: list[str], created_from: datetime | None, created_to: datetime | None) -> int:
        first = self.vtex.list_orders(statuses, page=1, created_from=created_from, created_to=created_to)
        if first.pages > MAX_PAGES:
            low = created_from or EARLIEST
            high = created_to or self.svc.clock()
            middle = low + (high - low) / 2
            # The filter is exact to the millisecond. Both halves include the middle: an order created at that
            # instant is listed twice and watched once.
            if high - low > timedelta(milliseconds=2):
                return self._sweep_range(statuses, low, middle) + self._sweep_range(statuses, middle, high)
        seen = 0
        page = first
        while True:
            self.store.discover([(o.order_id, self._earliest_stuck(o)) for o in page.orders], "sweep")
            seen += len(page.orders)
            if page.page >= min(page.pages, MAX_PAGES):
                return seen
            page = self.vtex.list_orders(statuses, page=page.page + 1, created_from=created_from, created_to=created_to)

    def _earliest_stuck(self, summary: OrderSummary) -> datetime:
        """An order cannot be stuck before it has existed for its status's threshold: look at it no sooner."""
        now = self.svc.clock()
        info = STATUSES.get(summary.status)
        # As diagnose() decides: a status UNSTUCK_RADAR_AFTER names (even at 0 s) uses that, else the status's own.
        thresholds = self.svc.thresholds
        limit = thresholds[summary.status] if summary.status in thresholds else (info.expect if info else None)
        if summary.creation_date is None or limit is None:
            return now
        return max(now, summary.creation_date + limit)

    def _look(self, report: TickReport) -> None:
        for order_id in self.store.due(self.svc.clock(), self.per_tick):
            report.looked_at += 1
            try:
                self.look_at(order_id, report)
            except RateLimited:
                raise
            except OrderNotFound:
                self.store.reschedule(order_id, None)
            except VtexError:
                self.store.reschedule(order_id, self.svc.clock() + timedelta(seconds=self.interval * 5))

    # -- one order ------------------------------------------------------------------------------------------

    def look_at(self, order_id: str, report: TickReport | None = None) -> None:
        report = report or TickReport()
        now = self.svc.clock()
        order = self.vtex.get_order(order_id)
        answer = self.svc.explain(order)
        d = answer.diagnosis
        view = assess(d, now)
        for alert in self.store.open_alerts(order.order_id):
            if not view.stuck or alert.situation != d.situation:
                if self._resolve(alert, answer, now):
                    report.resolved += 1
        if view.stuck and not self.store.muted(order.order_id, d.status, now):
            if self._alert(answer, view.stuck_since or now, now):
                report.alerted += 1
        self.store.reschedule(order.order_id, view.look_again)

    def _alert(self, answer: Any, stuck_since: datetime, now: datetime) -> bool:
        d = answer.diagnosis
        claimed = self.store.claim_alert(
            d.order_id,
            str(d.situation),
            status=d.status,
            status_name=d.status_name,
            stuck_since=stuck_since,
            channel=self.channel,
            now=now,
        )
        if not claimed:
            return False  # alerted before, for this situation: never twice
        message = radar_alert(answer, self.svc.account, stuck_since=stuck_since, now=now)
        try:
            posted = self.client.chat_postMessage(channel=self.channel, **message.kwargs())
        except SlackApiError as exc:
            log.warning("radar: Slack refused the alert for %s: %s", d.order_id, exc.response.get("error"))
            self.store.unclaim(d.order_id, str(d.situation))
            return False
        self.store.posted(d.order_id, str(d.situation), str(posted.get("ts")))
        self._log(d.order_id, "radar_alert", str(d.situation))
        return True

    def _resolve(self, alert: Alert, answer: Any, now: datetime) -> bool:
        if not self.store.resolve(alert, answer.diagnosis.status_name, now):
            return False
        if alert.ts:
            message = radar_resolved(alert, answer, self.store.last_fix(alert.order_id))
            try:
                self.client.chat_update(channel=alert.channel, ts=alert.ts, **message.kwargs())
            except SlackApiError as exc:
                log.warning("radar: could not update the alert for %s: %s", alert.order_id, exc.response.get("error"))
        self._log(alert.order_id, "radar_resolved", answer.diagnosis.status_name)
        return True

    def _log(self, order_id: str, action: str, detail: str) -> None:
        try:
            self.svc.store.log.append(
                "radar", None, order_id=order_id, account=self.svc.account, action=action, outcome="ok", detail=detail
            )
        except Exception as exc:  # noqa: BLE001 - the alert itself is already out
            log.error("radar: could not log %s for %s: %s", action, order_id, exc)

    # -- the digest -----------------------------------------------------------------------------------------

    def _digest_if_due(self) -> None:
        if not self.digest_at:
            return
        local = self.svc.clock().astimezone(self.zone)
        last, today = self.store.meta("last_digest"), local.date().isoformat()
        if local.strftime("%H:%M") < self.digest_at or last == today:
            return
        if not self.store.claim_meta("last_digest", today, last):
            return  # another radar (this one's successor after a stall) sent today's
        alerts = self.store.open_alerts()
        try:
            self.client.chat_postMessage(channel=self.channel, **radar_digest(alerts).kwargs())
        except SlackApiError as exc:
            log.warning("radar: Slack refused the digest: %s", exc.response.get("error"))
            self.store.claim_meta("last_digest", last or "", today)  # so the next tick tries again

    # -- running ----------------------------------------------------------------------------------------------

    def start(self) -> None:
        """Tick every interval on the services' timers, for as long as the services run."""

        def tick() -> None:
            started = time.monotonic()
            try:
                with use(self.svc.settings.unstuck_language):  # alerts nobody in particular asked for
                    report = self.tick()
                if report.alerted or report.resolved:
                    log.info(
                        "radar: %d alert(s), %d resolved, %d looked at",
                        report.alerted,
                        report.resolved,
                        report.looked_at,
                    )
            finally:  # a fixed period: a long tick is not followed by a whole interval of idleness
                period = self.interval if self.leading else self.interval * FOLLOW
                self.svc.later(tick, max(period - (time.monotonic() - started), 0.05))

        self.svc.at_close(self.release)
        self.svc.later(tick, 0.05)

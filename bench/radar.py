"""Benchmark: the stuck-order radar at scale, against the VTEX double.

    .venv/bin/python bench/radar.py [--sweep-orders 100000] [--feed-items 2000] [--share 1.0]

1. Sweep: a store with `--sweep-orders` open orders (handling, ready-for-handling, payment-pending; 80 % created
   in the last day, 15 % in the week before, 5 % up to two years ago). The radar's sweep step (List orders per watched
   status, split by creation date past 30 pages) runs at `--share` of the account's 6,000 requests a
   minute: wall time, List orders calls, how many of them were split probes, and the radar process's
   memory (tracemalloc peak, peak RSS growth). The same at a tenth of the orders shows whether memory grows
   with the store. Then how long the watch list keeps the radar busy.
2. Feed burst: `--feed-items` status changes queued in Feed v3, worked off by radar ticks until the feed is
   empty and every changed order has been looked at (Get order + diagnosis): at the default share for
   `--default-share-items` items (one tick of the default 60 s interval), at `--share` with ticks every
   1 s as `Radar.start()` schedules them, and without any limit (ticks back to back: the radar's own cost).
   Projects 10,000 items at the default share.
3. Questions while the radar runs: the real app over HTTP (`LocalStack`) with a VTEX double answering in
   `--latency` s, `--open-orders` open orders; /stuck answer latency (signed slash command until the card
   reaches Slack) without the radar, then with the radar ticking every 1 s (default share, then share 1.0)
   while orders keep changing status.

The VTEX and Slack doubles of parts 1 and 2 run in a child process (this script with --doubles), so the
radar process's time and memory are its own. Everything listens on 127.0.0.1; temp folders are removed.
"""

from __future__ import annotations

import argparse
import gc
import json
import math
import os
import platform
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import tracemalloc
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bot.radar import VTEX_LIMIT_PER_MINUTE, Radar, TickReport, feed_reads_per_tick, looks_per_tick  # noqa: E402
from bot.radar_rules import FEED_STATUSES, WATCHED_STATUSES  # noqa: E402
from bot.sandbox import demo_orders  # noqa: E402
from bot.vtex import MAX_LOT, MAX_PAGES, RateLimiter, VtexClient  # noqa: E402

BOT_TOKEN = "xoxb-bench-0000-radar"
CHANNEL = "C0RADAR"
SWEEP_MIX = (("handling", 0.40), ("ready-for-handling", 0.35), ("payment-pending", 0.25))
DEFAULT_SHARE = 0.1
DEFAULT_INTERVAL = 60.0


# -- the doubles' process ------------------------------------------------------------------------------------


def make_orders(scenario: str, n: int, now: datetime, seed: int = 13) -> list[dict[str, Any]]:
    """Open orders as Get order returns them: the demo store's orders with new ids, statuses and dates.
    Nested parts are shared between orders (nothing here changes them) to keep 100,000 orders small."""
    rng = random.Random(seed)
    demos = {o["orderId"]: o for o in demo_orders(now)}
    short = demos["1500000000001-01"]  # handling, invoiced short of its value
    plain = demos["1500000000004-01"]  # ready-for-handling, nothing invoiced
    orders = []
    for i in range(n):
        if scenario == "sweep":  # most created today, some this week, a few up to two years ago
            pick, status = rng.random(), SWEEP_MIX[-1][0]
            for name, weight in SWEEP_MIX:
                if pick < weight:
                    status = name
                    break
                pick -= weight
            age = rng.random()
            days = rng.uniform(0, 1) if age < 0.80 else rng.uniform(1, 7) if age < 0.95 else rng.uniform(7, 720)
            created = now - timedelta(days=days)
            changed = min(created + timedelta(hours=1), now)
            template = short if status == "handling" else plain
        elif scenario == "feed":  # ready for handling an hour ago: the burst moves them on
            status, created, changed, template = (
                "ready-for-handling",
                now - timedelta(hours=2),
                now - timedelta(hours=1),
                plain,
            )
        else:  # "questions": handling or ready for handling, half of them stuck for days
            status = "handling" if i % 3 else "ready-for-handling"
            created = now - timedelta(days=rng.uniform(0, 20))
            stuck = i % 2 == 0
            changed = now - (timedelta(days=4) if stuck else timedelta(minutes=rng.uniform(5, 600)))
            created = min(created, changed - timedelta(hours=1))
            template = short
        order = dict(template)
        number = 1700000000000 + i
        order.update(
            orderId=f"{number}-01",
            orderGroup=str(number),
            sequence=str(700000 + i),
            sellerOrderId=f"00-{number}-01",
            status=status,
            creationDate=created.isoformat(),
            authorizedDate=created.isoformat(),
            lastChange=changed.isoformat(),
        )
        orders.append(order)
    return orders


class _Counted(list):
    """Stands in for VtexDouble.calls: counts requests by route instead of keeping them."""

    def __init__(self) -> None:
        super().__init__()
        self.counts: Counter[str] = Counter()
        self.lock = threading.Lock()

    def append(self, call: Any) -> None:
        if call.path == "/api/oms/pvt/orders":
            kind = "list_orders"
        elif call.path.startswith("/api/oms/pvt/orders/"):
            kind = "get_order" if call.method == "GET" else "invoice"
        elif call.path == "/api/orders/feed":
            kind = "feed_read" if call.method == "GET" else "feed_commit"
        elif call.path == "/api/orders/feed/config":
            kind = "feed_config"
        else:
            kind = "other"
        with self.lock:
            self.counts[kind] += 1


def serve_doubles(latency: float) -> None:
    """The child process: VTEX double (with /bench/ control routes) and Slack double, until stdin closes."""
    from bot.doubles.http import LocalServer
    from bot.doubles.slack import SlackDouble
    from bot.doubles.vtex import VtexDouble

    vtex = VtexDouble([], latency=latency)
    counted = _Counted()
    vtex.calls = counted
    slack = SlackDouble()
    reply = {"Content-Type": "application/json"}

    def handle(method: str, target: str, headers: dict[str, str], body: bytes) -> tuple[int, dict[str, str], bytes]:
        if not target.startswith("/bench/"):
            return vtex.handle(method, target, headers, body)
        data = json.loads(body) if body else {}
        if target == "/bench/orders":
            now = datetime.now(UTC)
            vtex.add(*make_orders(data["scenario"], data["n"], now), copied=False)
            statuses = Counter(o["status"] for o in vtex.orders.values())
            return 200, reply, json.dumps({"orders": len(vtex.orders), "statuses": statuses}).encode()
        if target == "/bench/feed_burst":  # the filter the radar sets, then status changes queued in the feed
            if vtex.feed_config() is None:
                vtex.set_feed_config_json(
                    {
                        "filter": {"type": "FromWorkflow", "status": list(FEED_STATUSES)},
                        "queue": {"visibilityTimeoutInSeconds": 240, "MessageRetentionPeriodInSeconds": 345600},
                    }
                )
            ids = sorted(vtex.orders)[: data["n"]]
            for i, order_id in enumerate(ids):
                vtex.set_status(order_id, "invoiced" if i % 5 == 4 else "handling")
            return 200, reply, json.dumps({"queued": vtex.feed_items_left()}).encode()
        if target == "/bench/change":  # one order moves on: a feed item
            order_id = data["order_id"]
            status = "ready-for-handling" if vtex.order(order_id)["status"] == "handling" else "handling"
            vtex.set_status(order_id, status)
            return 200, reply, b"{}"
        if target == "/bench/state":
            with counted.lock:
                calls = dict(counted.counts)
            alerts = len([m for m in slack.bot_messages(CHANNEL) if m.blocks])
            state = {"calls": calls, "feed_left": vtex.feed_items_left(), "alerts": alerts}
            return 200, reply, json.dumps(state).encode()
        if target == "/bench/reset":
            with counted.lock:
                counted.counts.clear()
            return 200, reply, b"{}"
        return 404, reply, b"{}"

    vtex_server = LocalServer(handle, "127.0.0.1", 0).start()
    slack.serve("127.0.0.1", 0)
    print(json.dumps({"vtex": vtex_server.url, "slack": slack.url}), flush=True)
    sys.stdin.read()  # the parent closed our stdin, or died
    os._exit(0)


class Doubles:
    """The child process, and its control routes."""

    def __init__(self, latency: float):
        self.proc = subprocess.Popen(
            [sys.executable, str(Path(__file__).resolve()), "--doubles", "--latency", str(latency)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            cwd=ROOT,
        )
        assert self.proc.stdout is not None
        self.urls = json.loads(self.proc.stdout.readline())
        self.http = httpx.Client(base_url=self.urls["vtex"], timeout=300)

    def post(self, path: str, data: dict[str, Any] | None = None) -> Any:
        return self.http.post(path, json=data or {}).json()

    def state(self) -> dict[str, Any]:
        return self.http.get("/bench/state").json()

    def cpu(self) -> float:
        """CPU seconds the doubles' process has used so far."""
        fields = Path(f"/proc/{self.proc.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def close(self) -> None:
        self.http.close()
        assert self.proc.stdin is not None
        self.proc.stdin.close()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


# -- measuring -----------------------------------------------------------------------------------------------


def proc_status(field: str) -> float:
    """A /proc/self/status field in MB (VmRSS, VmHWM)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1024
    return float("nan")


def reset_peak_rss() -> None:
    """Start VmHWM again from the current RSS (Linux: clear_refs 5)."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
    except OSError:
        pass


def pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, math.ceil(q / 100 * len(ordered)) - 1))]


def load() -> str:
    """The 1, 5 and 15 minute load averages: other work on the machine shows here."""
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def hours(seconds: float) -> str:
    if seconds < 120:
        return f"{seconds:.0f} s"
    if seconds < 7200:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"


class RadarProcess:
    """The bot's services and its radar in this process, talking to the doubles' process over HTTP."""

    def __init__(self, tmp: Path, urls: dict[str, str], *, share: float, interval: float, unlimited: bool = False):
        from bot.app import build, build_radar, slack_client
        from bot.settings import load_settings

        self.settings = load_settings(
            slack_bot_token=BOT_TOKEN,
            slack_signing_secret="bench-signing-secret-0123456789",
            slack_api_url=urls["slack"] + "/api/",
            vtex_account="acme",
            vtex_base_url=urls["vtex"],
            unstuck_db=str(tmp / f"radar-{time.monotonic_ns()}.db"),
            unstuck_operators="UOPS00001",
            unstuck_radar_channel=CHANNEL,
            unstuck_radar_interval=interval,
            unstuck_radar_share=share,
        )
        self.bot = build(self.settings, vtex=VtexClient.from_settings(self.settings, budget=5.0))
        radar = build_radar(self.bot, self.settings)
        assert radar is not None
        if unlimited:  # test only: the radar's own client without a rate limit
            radar.vtex.close()
            radar = Radar(
                self.bot.services,
                slack_client(self.settings),
                VtexClient.from_settings(self.settings, limiter=RateLimiter(per_minute=1e9), max_attempts=1),
                channel=CHANNEL,
                interval=interval,
            )
        self.radar = radar

    def close(self) -> None:
        self.radar.vtex.close()
        self.bot.close()


# -- 1. the sweep --------------------------------------------------------------------------------------------


def sweep(tmp: Path, n: int, share: float, latency: float) -> dict[str, Any]:
    doubles = Doubles(latency)
    try:
        doubles.post("/bench/orders", {"scenario": "sweep", "n": n})
        rp = RadarProcess(tmp, doubles.urls, share=share, interval=DEFAULT_INTERVAL)
        radar = rp.radar
        pages: list[tuple[str, int, int, bool, int]] = []
        list_orders = radar.vtex.list_orders

        def counting(statuses: list[str], **kwargs: Any) -> Any:
            page = list_orders(statuses, **kwargs)
            ranged = kwargs.get("created_from") is not None or kwargs.get("created_to") is not None
            query = statuses[0] if len(statuses) == 1 else f"{len(statuses)} statuses at once"
            pages.append((query, kwargs.get("page", 1), page.pages, ranged, len(page.orders)))
            return page

        radar.vtex.list_orders = counting  # type: ignore[method-assign]
        runs = []
        ahead = -1
        for label in ("first sweep", "periodic sweep"):
            if label == "periodic sweep":
                ahead = feed_probe(radar, doubles, f"{1700000000000 + n - 1}-01")
                # As if every order had been looked at since: each is due again only at its threshold.
                later = radar.svc.clock() + timedelta(days=2)
                with radar.store.database.write() as conn:
                    conn.execute("UPDATE radar_watch SET due_at = ?", (later.isoformat(timespec="milliseconds"),))
            pages.clear()
            doubles.post("/bench/reset")
            gc.collect()
            reset_peak_rss()
            rss_before = proc_status("VmRSS")
            traced = label == "periodic sweep"  # tracemalloc doubles the radar's CPU: on for one sweep only
            if traced:
                tracemalloc.start()
            started, cpu, vtex_cpu = time.perf_counter(), time.process_time(), doubles.cpu()
            report = TickReport()
            radar._sweep(report)  # noqa: SLF001 - the sweep step of a tick, alone
            wall, cpu = time.perf_counter() - started, time.process_time() - cpu
            vtex_cpu = doubles.cpu() - vtex_cpu
            traced_peak = tracemalloc.get_traced_memory()[1] / 2**20 if traced else float("nan")
            tracemalloc.stop()
            rss_growth = proc_status("VmHWM") - rss_before
            now = radar.svc.clock()
            due = radar.store.database.conn.execute(
                "SELECT count(*) FROM radar_watch WHERE due_at <= ?", (now.isoformat(timespec="milliseconds"),)
            ).fetchone()[0]
            runs.append(
                {
                    "label": label,
                    "wall": wall,
                    "cpu": cpu,
                    "vtex_cpu": vtex_cpu,
                    "calls": doubles.state()["calls"],
                    "pages": list(pages),
                    "traced_peak": traced_peak,
                    "rss_growth": rss_growth,
                    "watched": radar.store.watched(),
                    "due": due,
                    "swept": report.swept,
                }
            )
        rp.close()
        return {"n": n, "runs": runs, "ahead_of_feed": ahead}
    finally:
        doubles.close()


def feed_probe(radar: Radar, doubles: Doubles, order_id: str) -> int:
    """Right after a sweep, VTEX's feed reports that `order_id` (the newest order) moved on; the radar reads it
    as in a tick. How many watched orders are due before it, i.e. looked at first?"""
    radar._read_feed(TickReport())  # noqa: SLF001 - sets the feed filter (a feed holds later changes only)
    doubles.post("/bench/change", {"order_id": order_id})
    report = TickReport()
    radar._read_feed(report)  # noqa: SLF001 - the feed step of a tick, alone
    assert report.feed_items == 1, report
    conn = radar.store.database.conn
    row = conn.execute("SELECT due_at FROM radar_watch WHERE order_id = ?", (order_id,)).fetchone()
    return int(conn.execute("SELECT count(*) FROM radar_watch WHERE due_at < ?", (row[0],)).fetchone()[0])


def split_summary(pages: list[tuple[str, int, int, bool, int]]) -> list[tuple[str, int, int, int, int, int]]:
    """Per query (one status, or every watched status at once): orders read, List orders calls, split probes
    (first pages of ranges past 30 pages, whose rows are read again in the halves), empty ranges, ranges read."""
    rows = []
    for query in sorted({p[0] for p in pages}):
        mine = [p for p in pages if p[0] == query]
        probes = [p for p in mine if p[1] == 1 and p[2] > MAX_PAGES]
        read = [p for p in mine if not (p[1] == 1 and p[2] > MAX_PAGES)]
        empty = [p for p in mine if p[1] == 1 and p[2] == 0]
        ranges = [p for p in mine if p[1] == 1 and 0 < p[2] <= MAX_PAGES]
        rows.append((query, sum(p[4] for p in read), len(mine), len(probes), len(empty), len(ranges)))
    return rows


# -- 2. the feed burst ---------------------------------------------------------------------------------------


def feed_burst(
    tmp: Path, items: int, *, share: float, interval: float, latency: float, mode: str, limit_s: float
) -> dict[str, Any]:
    """Queue `items` status changes, then tick until the feed is empty and every changed order was looked at.
    mode "scheduled": sleep `interval` after each tick, as Radar.start() does; "back-to-back": no sleep."""
    doubles = Doubles(latency)
    try:
        doubles.post("/bench/orders", {"scenario": "feed", "n": items})
        rp = RadarProcess(tmp, doubles.urls, share=share, interval=interval, unlimited=mode == "back-to-back")
        radar = rp.radar
        radar.store.set_meta("last_sweep", radar.svc.clock().isoformat())  # the feed alone, no sweep due
        queued = doubles.post("/bench/feed_burst", {"n": items})["queued"]
        doubles.post("/bench/reset")
        started, cpu = time.perf_counter(), time.process_time()
        ticks, drained_at, done = 0, None, False
        reports = TickReport()
        while time.perf_counter() - started < limit_s:
            report = radar.tick()
            ticks += 1
            reports.feed_items += report.feed_items
            reports.looked_at += report.looked_at
            reports.alerted += report.alerted
            state = doubles.state()
            if drained_at is None and state["feed_left"] == 0:
                drained_at = time.perf_counter() - started
            if drained_at is not None and not radar.store.due(radar.svc.clock(), 1):
                done = True
                break
            if mode == "scheduled":
                time.sleep(interval)
        wall, cpu = time.perf_counter() - started, time.process_time() - cpu
        state = doubles.state()
        rp.close()
        return {
            "items": items,
            "queued": queued,
            "share": share,
            "interval": interval,
            "mode": mode,
            "ticks": ticks,
            "wall": wall,
            "cpu": cpu,
            "drained_at": drained_at,
            "done": done,
            "calls": state["calls"],
            "feed_left": state["feed_left"],
            "looked_at": reports.looked_at,
            "fed": reports.feed_items,
            "per_tick": radar.per_tick,
        }
    finally:
        doubles.close()


def model(
    items: int, share: float, interval: float, *, latency: float = 0.0, back_to_back: bool = False
) -> tuple[float, int, int]:
    """Seconds, ticks and VTEX calls the radar needs for `items` feed items (each a Get order), from its code:
    up to feed_reads_per_tick() reads of MAX_LOT items a tick (each committed), then up to `per_tick` looks, every
    call through a token bucket of one second's worth; `interval` of sleep after each tick unless back to back.
    Each call takes `latency` (one at a time); the radar's own CPU time is left out."""
    rate = VTEX_LIMIT_PER_MINUTE * share / 60
    per_tick = looks_per_tick(share, interval)
    tokens, clock, ticks, calls = rate, 0.0, 0, 0
    feed, due, first = items, 0, True

    def call() -> None:
        nonlocal tokens, clock, calls
        if tokens < 1:
            clock += (1 - tokens) / rate
            tokens = 1.0
        tokens -= 1
        calls += 1
        clock += latency
        tokens = min(rate, tokens + latency * rate)

    while feed or due:
        ticks += 1
        if first:
            call()  # the feed configuration, once
            first = False
        for _ in range(feed_reads_per_tick(per_tick)):
            call()  # read a batch
            batch = min(MAX_LOT, feed)
            if not batch:
                break
            call()  # commit it
            feed -= batch
            due += batch
        for _ in range(min(per_tick, due)):
            call()
            due -= 1
        if feed or due:
            if not back_to_back:
                clock += interval
                tokens = min(rate, tokens + interval * rate)
    return clock, ticks, calls


def budget(items: int, share: float, interval: float, latency: float) -> float:
    """How long a burst run may take before it is stopped: the model's time with room to spare."""
    return model(items, share, interval, latency=latency)[0] * 1.5 + 30


# -- 3. questions while the radar runs -----------------------------------------------------------------------


def ask(stack: Any, ids: list[str], questions: int, askers: int, tag: str, pace: float | None = None) -> list[float]:
    """`questions` /stuck questions from `askers` agents at once, `pace` a second (as fast as answered when None);
    seconds from the signed slash command until its answer card reached Slack's response_url. Each question
    has its own channel, to find its answer."""
    from bot.doubles.slack import SlackDriver
    from bot.doubles.stack import SIGNING_SECRET, VIEWER

    local = threading.local()
    begin = time.perf_counter()

    def one(i: int) -> float:
        if not hasattr(local, "driver"):
            local.driver = SlackDriver(stack.slack, stack.url, SIGNING_SECRET)
        if pace and (delay := begin + i / pace - time.perf_counter()) > 0:
            time.sleep(delay)
        channel = f"C{tag}{i:06d}"
        started = time.perf_counter()
        reply = local.driver.slash(VIEWER, ids[i % len(ids)], channel=channel)
        if reply.status != 200:
            return float("nan")
        hook = next(h for h in list(stack.slack.response_urls.values()) if h["channel"] == channel)
        stack.slack.wait(lambda: hook["uses"] >= 1, timeout=30)
        return time.perf_counter() - started

    with ThreadPoolExecutor(max_workers=askers) as pool:
        return list(pool.map(one, range(questions)))


def feed_calls(stack: Any) -> int:
    """Feed reads and commits so far (only the radar makes them)."""
    return sum(1 for c in list(stack.vtex.calls) if c.path == "/api/orders/feed")


def questions_phase(
    tmp: Path, label: str, orders: list[dict[str, Any]], args: argparse.Namespace, radar_share: float | None
) -> dict[str, Any]:
    from bot.doubles.stack import LocalStack

    settings: dict[str, Any] = {"unstuck_user_question_limit": 1_000_000}
    if radar_share is not None:
        settings.update(unstuck_radar_channel=CHANNEL, unstuck_radar_interval=1, unstuck_radar_share=radar_share)
    ids = [o["orderId"] for o in orders]
    with LocalStack(tmp / f"q-{label}.db", orders=orders, vtex_latency=args.latency, **settings) as stack:
        stop = threading.Event()
        churn = None
        radar_calls_before = feed_calls_before = 0
        if stack.radar is not None:
            deadline = time.monotonic() + 120
            while stack.radar.store.meta("last_sweep") is None and time.monotonic() < deadline:
                time.sleep(0.1)  # the first sweep is done: the radar now looks at its watch list
            time.sleep(1.5)

            def keep_changing() -> None:  # orders keep changing status: the feed never runs dry
                rng = random.Random(7)
                while not stop.wait(1 / args.changes_per_s):
                    order_id = rng.choice(ids)
                    status = stack.vtex.order(order_id)["status"]
                    stack.vtex.set_status(
                        order_id, "handling" if status == "ready-for-handling" else "ready-for-handling"
                    )

            churn = threading.Thread(target=keep_changing, daemon=True)
            churn.start()
            assert stack.radar.vtex.limiter is not None
            radar_calls_before = stack.radar.vtex.limiter.granted
            feed_calls_before = feed_calls(stack)
        ask(stack, ids, 10, args.askers, label[:1].upper() + "W")  # warm up
        alerts_before = len(stack.slack.bot_messages(CHANNEL))
        started = time.perf_counter()
        latencies = ask(stack, ids, args.questions, args.askers, label[:1].upper(), args.pace)
        window = time.perf_counter() - started
        radar_calls = feed = 0
        if stack.radar is not None:
            assert stack.radar.vtex.limiter is not None
            radar_calls = stack.radar.vtex.limiter.granted - radar_calls_before
            feed = feed_calls(stack) - feed_calls_before
        stop.set()
        if churn is not None:
            churn.join()
        alerts = len(stack.slack.bot_messages(CHANNEL)) - alerts_before
    # Services.close() waits 5 s for its timers, and a radar tick at the rate limit can last longer: wait for it,
    # or it writes to the database after the stack closed (and after the temp folder is gone).
    for timer in [t for t in threading.enumerate() if isinstance(t, threading.Timer)]:
        timer.join(timeout=60)
    ok = [x for x in latencies if x == x]
    return {
        "label": label,
        "n": len(latencies),
        "lost": len(latencies) - len(ok),
        "p50": pct(ok, 50) * 1000,
        "p95": pct(ok, 95) * 1000,
        "max": max(ok, default=float("nan")) * 1000,
        "mean": statistics.fmean(ok) * 1000 if ok else float("nan"),
        "window": window,
        "radar_rps": radar_calls / window if window else 0.0,
        "feed_share": feed / radar_calls if radar_calls else float("nan"),
        "alerts": alerts,
    }


# -- main ----------------------------------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--doubles", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--sweep-orders", type=int, default=100_000, help="open orders to sweep (default 100,000)")
    parser.add_argument("--feed-items", type=int, default=2_000, help="feed burst at --share (default 2,000)")
    parser.add_argument(
        "--default-share-items", type=int, default=150, help="feed burst at the default 10 %% share (default 150)"
    )
    parser.add_argument("--share", type=float, default=1.0, help="the larger share for sweeps and bursts (default 1.0)")
    parser.add_argument(
        "--radar-latency", type=float, default=0.0, help="VTEX double latency in parts 1 and 2, s (default 0)"
    )
    parser.add_argument("--latency", type=float, default=0.05, help="VTEX double latency in part 3, s (default 0.05)")
    parser.add_argument("--open-orders", type=int, default=3_000, help="open orders in part 3 (default 3,000)")
    parser.add_argument("--questions", type=int, default=200, help="questions per phase in part 3 (default 200)")
    parser.add_argument("--askers", type=int, default=4, help="concurrent askers in part 3 (default 4)")
    parser.add_argument("--pace", type=float, default=12.0, help="questions a second in part 3 (default 12)")
    parser.add_argument("--changes-per-s", type=float, default=20.0, help="status changes a second in part 3")
    parser.add_argument("--parts", default="1,2,3", help="which parts to run (default 1,2,3)")
    args = parser.parse_args()
    if args.doubles:
        serve_doubles(args.latency)
        return
    parts = {int(p) for p in args.parts.split(",") if p.strip()}
    begun = time.perf_counter()
    print(
        f"unstuck radar benchmark: {os.cpu_count()} cores, Python {platform.python_version()}, "
        f"load average {load()} at the start"
    )
    print(
        f"VTEX limit {VTEX_LIMIT_PER_MINUTE}/min; default radar share {DEFAULT_SHARE:.0%} = "
        f"{VTEX_LIMIT_PER_MINUTE * DEFAULT_SHARE / 60:.0f} req/s; larger share {args.share:.0%} = "
        f"{VTEX_LIMIT_PER_MINUTE * args.share / 60:.0f} req/s; {len(WATCHED_STATUSES)} watched statuses"
    )
    tmp = Path(tempfile.mkdtemp(prefix="unstuck-radar-bench-"))
    try:
        if 1 in parts:
            part_sweep(tmp, args)
        if 2 in parts:
            part_feed(tmp, args)
        if 3 in parts:
            part_questions(tmp, args)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    print(f"\n(whole run {time.perf_counter() - begun:.0f} s; load average {load()} at the end)")


def part_sweep(tmp: Path, args: argparse.Namespace) -> None:
    default_rate = VTEX_LIMIT_PER_MINUTE * DEFAULT_SHARE / 60
    print(
        f"\n1. Sweep of open orders (List orders, 100 a page, 30 pages a query) at share {args.share:.0%}, "
        f"VTEX double latency {args.radar_latency * 1000:.0f} ms, in its own process"
    )
    results = [sweep(tmp, n, args.share, args.radar_latency) for n in (args.sweep_orders // 10, args.sweep_orders)]
    print(
        f"{'orders':>8} {'sweep':<15}{'wall s':>8}{'CPU s':>7}{'VTEX CPU':>9}{'List calls':>11}{'req/s':>7}"
        f"{'at 10% s':>9}{'tracemalloc':>12}{'RSS grew':>9}{'watched':>9}{'due now':>9}"
    )
    for result in results:
        for run in result["runs"]:
            calls = run["calls"].get("list_orders", 0)
            print(
                f"{result['n']:>8,} {run['label']:<15}{run['wall']:>8.1f}{run['cpu']:>7.1f}{run['vtex_cpu']:>9.1f}"
                f"{calls:>11,}"
                f"{calls / run['wall']:>7.0f}{calls / default_rate:>9.0f}"
                + (f"{run['traced_peak']:>10.1f}MB" if run["traced_peak"] == run["traced_peak"] else f"{'-':>12}")
                + f"{run['rss_growth']:>7.1f}MB{run['watched']:>9,}{run['due']:>9,}"
            )
    big = results[-1]
    print(
        "(CPU s: the radar's process; VTEX CPU: the double's process, which filters the whole store for each "
        "page; tracemalloc: peak of Python allocations during the sweep; RSS grew: peak RSS during the sweep minus RSS "
        "before; at 10%: the same calls at the default share; due now: watch-list rows due at once)"
    )
    print(f"split by creation date at {big['n']:,} orders (first sweep):")
    print(f"  {'List orders query':<24}{'orders':>8}{'calls':>7}{'probes':>8}{'empty':>7}{'ranges':>8}")
    rows = split_summary(big["runs"][0]["pages"])
    for query, orders, calls, probes, empty, ranges in rows:
        if orders or calls > 1:
            print(f"  {query:<24}{orders:>8,}{calls:>7,}{probes:>8}{empty:>7}{ranges:>8}")
    quiet = [r for r in rows if not r[1] and r[2] == 1]
    print(
        (f"  + {len(quiet)} queries with no orders, one call each. " if quiet else "  ")
        + f"probes: first pages of a range with more than {MAX_PAGES} pages, split in halves and read again; "
        f"empty: ranges with no orders; ranges: ranges read ({big['n'] // 100:,} pages hold the orders)"
    )
    per_tick = looks_per_tick(DEFAULT_SHARE, DEFAULT_INTERVAL)
    looks = big["runs"][0]["due"]
    print(
        f"after the first sweep {looks:,} of {big['n']:,} orders are due at once (old enough to be stuck), each a "
        f"Get order: {hours(looks / default_rate)} of requests at the default share, {math.ceil(looks / per_tick):,} "
        f"ticks of {per_tick}; the rest wait until they could be stuck. With every order looked at and due again "
        f"in 2 days, the periodic sweep (every 15 min) left {big['runs'][1]['due']:,} due now. A change the feed "
        f"reported right after the first sweep was due behind {big['ahead_of_feed']:,} watched orders."
    )


def part_feed(tmp: Path, args: argparse.Namespace) -> None:
    print(
        f"\n2. Feed burst: status changes queued in Feed v3 (4 in 5 to handling, 1 in 5 to invoiced), worked off "
        f"until the feed is empty and every changed order was looked at (Get order); VTEX double latency "
        f"{args.radar_latency * 1000:.0f} ms"
    )
    # (items, share, interval, mode): the default share as deployed, then the larger share scheduled and flat out.
    bursts = [
        (args.default_share_items, DEFAULT_SHARE, DEFAULT_INTERVAL, "scheduled"),
        (args.feed_items, args.share, 1.0, "scheduled"),
        (args.feed_items, args.share, 1.0, "back-to-back"),
    ]
    runs = [
        feed_burst(
            tmp,
            items,
            share=share,
            interval=interval,
            latency=args.radar_latency,
            mode=mode,
            limit_s=budget(items, share, interval, args.radar_latency),
        )
        for items, share, interval, mode in bursts
    ]
    print(
        f"{'run':<36}{'items':>7}{'ticks':>6}{'wall s':>8}{'feed s':>7}{'calls':>8}{'reads':>7}{'commits':>8}"
        f"{'gets':>8}{'items/s':>8}{'req/s':>7}{'CPU ms/item':>12}{'model s':>8}"
    )
    for run in runs:
        calls = sum(run["calls"].values())
        if run["mode"] == "back-to-back":
            name = "no limit (test only), back to back"
            predicted = float("nan")
        else:
            name = f"share {run['share']:.0%}, interval {run['interval']:.0f} s, scheduled"
            predicted = model(run["items"], run["share"], run["interval"], latency=args.radar_latency)[0]
        print(
            f"{name:<36}{run['items']:>7,}{run['ticks']:>6}{run['wall']:>8.1f}"
            f"{(run['drained_at'] or float('nan')):>7.1f}{calls:>8,}{run['calls'].get('feed_read', 0):>7,}"
            f"{run['calls'].get('feed_commit', 0):>8,}{run['calls'].get('get_order', 0):>8,}"
            f"{run['items'] / run['wall']:>8.1f}{calls / run['wall']:>7.1f}{run['cpu'] * 1000 / run['items']:>12.2f}"
            f"{predicted:>8.1f}" + ("" if run["done"] and not run["feed_left"] else "  (NOT DONE)")
        )
    print(
        "(feed s: until the feed was empty; reads, commits, gets: VTEX calls by route; scheduled: a tick, then "
        "the interval's sleep, as Radar.start(); model s: predicted from the radar's code, the token bucket and "
        "VTEX's latency)"
    )
    default_rate = VTEX_LIMIT_PER_MINUTE * DEFAULT_SHARE / 60
    fastest = runs[-1]
    calls_per_item = sum(fastest["calls"].values()) / fastest["items"]
    for items in sorted({args.feed_items, 10_000}):
        scheduled, ticks, calls = model(items, DEFAULT_SHARE, DEFAULT_INTERVAL, latency=args.radar_latency)
        rate_bound = model(items, DEFAULT_SHARE, DEFAULT_INTERVAL, latency=args.radar_latency, back_to_back=True)[0]
        print(
            f"projected at the default share ({default_rate:.0f} req/s) for {items:,} items: {calls:,} calls "
            f"({calls / items:.2f} an item; measured {calls_per_item:.2f}); {hours(rate_bound)} with ticks back to "
            f"back; {hours(scheduled)} as scheduled with the default 60 s interval ({ticks} tick(s), each but the "
            f"last followed by 60 s of sleep)"
        )
    speed = fastest["items"] / fastest["wall"]
    print(
        f"the radar's own cost: {fastest['cpu'] * 1000 / fastest['items']:.1f} ms CPU per item; without a limit it "
        f"works off {speed:.0f} items/s with VTEX answering in {args.radar_latency * 1000:.0f} ms "
        f"({speed / (default_rate / calls_per_item):.1f}x what the default share allows)"
    )


def part_questions(tmp: Path, args: argparse.Namespace) -> None:
    print(
        f"\n3. /stuck answer latency over real HTTP (LocalStack), VTEX double latency {args.latency * 1000:.0f} ms, "
        f"{args.open_orders:,} open orders (half stuck for days), {args.questions} questions from {args.askers} "
        f"askers, {args.pace:.0f} a second, after 10 to warm up; the radar phases start once its first sweep is done"
    )
    now = datetime.now(UTC)
    orders = make_orders("questions", args.open_orders, now)
    phases = [
        questions_phase(tmp, "without radar", orders, args, None),
        questions_phase(tmp, "radar 10% every 1 s", orders, args, DEFAULT_SHARE),
        questions_phase(tmp, "radar 100% every 1 s", orders, args, 1.0),
    ]
    print(
        f"{'phase':<24}{'asked':>6}{'lost':>5}{'p50 ms':>8}{'p95 ms':>8}{'max ms':>8}{'mean ms':>8}"
        f"{'radar req/s':>12}{'of it feed':>11}{'alerts':>7}"
    )
    for p in phases:
        print(
            f"{p['label']:<24}{p['n']:>6}{p['lost']:>5}{p['p50']:>8.0f}{p['p95']:>8.0f}{p['max']:>8.0f}"
            f"{p['mean']:>8.0f}{p['radar_rps']:>12.1f}"
            + (f"{p['feed_share']:>11.0%}" if p["feed_share"] == p["feed_share"] else f"{'-':>11}")
            + f"{p['alerts']:>7}"
        )
    base = phases[0]
    for p in phases[1:]:
        print(f"{p['label']}: p50 {p['p50'] / base['p50']:.2f}x, p95 {p['p95'] / base['p95']:.2f}x without the radar")
    print(
        f"(radar req/s: the radar's VTEX requests a second while the questions ran, of it feed: the share spent "
        f"on feed reads and commits; alerts: posted meanwhile; orders changed status {args.changes_per_s:.0f} times "
        f"a second, so the feed never ran dry; load average {load()})"
    )


if __name__ == "__main__":
    main()

"""Benchmark: unstuck against a plain Bolt app, both answering /stuck through the same VTEX and Slack stand-ins.

    .venv/bin/python bench/run.py [--latency 0.3] [--levels 1,10,50,200] [--questions 400]
    .venv/bin/python bench/run.py --replicas 2 --postgres "$UNSTUCK_TEST_POSTGRES_URL" --no-baseline

With `--replicas N` it starts N `unstuck serve` processes, each on its own port, and the agents spread their
questions over them as a load balancer would; with `--postgres SERVER_URL` they share a PostgreSQL database
created for the run (and dropped after it) instead of the SQLite file.

For each concurrency level N, N agents ask signed /stuck questions, each asking again as soon as its
previous answer reached Slack (N questions always in flight), and it measures:
the slash command's HTTP response time (ack) p50/p99, the time until the answer reaches Slack's
response_url p50/p95/max, questions lost (no ack within 3 s or no answer within 30 s), CPU
milliseconds per question and peak RSS of the app process. Then start-up time to /healthz, and App
Home and `unstuck audit` with 100,000 audit rows. Prints tables and the ratios against the baseline.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from urllib.parse import urlencode, urlsplit

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bot.doubles.slack import sign  # noqa: E402
from bot.sandbox import DEMOS  # noqa: E402

SECRET = "bench-signing-secret-0123456789"
TICK = os.sysconf("SC_CLK_TCK")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def tree(pid: int) -> list[int]:
    """The process and its descendants (workers of `unstuck serve --workers N`)."""
    found = [pid]
    for task in Path(f"/proc/{pid}/task").iterdir():
        try:
            children = (task / "children").read_text().split()
        except OSError:  # the thread ended while we looked
            continue
        for child in children:
            found += tree(int(child))
    return found


def cpu_seconds(pid: int) -> float:
    total = 0.0
    for p in tree(pid):
        fields = Path(f"/proc/{p}/stat").read_text().rsplit(")", 1)[1].split()
        total += (int(fields[11]) + int(fields[12])) / TICK
    return total


def peak_rss_mb(pid: int) -> float:
    """The largest peak resident set of any process of the app."""
    peaks = []
    for p in tree(pid):
        for line in Path(f"/proc/{p}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                peaks.append(int(line.split()[1]) / 1024)
    return max(peaks, default=float("nan"))


def pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q / 100 * len(ordered)) - 1))]


async def post(port: int, body: bytes, headers: dict[str, str], timeout: float = 10.0) -> tuple[int, float]:
    """A bare HTTP/1.1 POST: the load generator must cost less than what it measures."""
    started = time.perf_counter()
    try:
        reader, writer = await asyncio.wait_for(asyncio.open_connection("127.0.0.1", port), timeout)
        head = "".join(f"{k}: {v}\r\n" for k, v in headers.items())
        writer.write(
            f"POST /slack/events HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: {len(body)}\r\n"
            f"Connection: close\r\n{head}\r\n".encode()
            + body
        )
        await writer.drain()
        status_line = await asyncio.wait_for(reader.readline(), timeout)
        await asyncio.wait_for(reader.read(), timeout)
        writer.close()
        return int(status_line.split()[1]), time.perf_counter() - started
    except (TimeoutError, OSError, IndexError, ValueError):
        return 0, time.perf_counter() - started


class Target:
    """One app under test: a process, or several replicas (each on its own port) that share one database."""

    def __init__(self, name: str, cmds: list[list[str]], env: dict[str, str], ports: list[int], health: bool):
        self.name, self.cmds, self.env, self.ports, self.health = name, cmds, env, ports, health
        self.procs: list[subprocess.Popen[bytes]] = []

    @property
    def pids(self) -> list[int]:
        return [p.pid for p in self.procs]

    def start(self) -> float:
        """Start every replica at once; the time until the last one answers /healthz."""
        started = time.perf_counter()
        for cmd, port in zip(self.cmds, self.ports, strict=True):
            env = {**self.env, "PORT": str(port)}
            self.procs.append(
                subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=ROOT)
            )
        for port in self.ports:
            self._wait(port, started)
        return time.perf_counter() - started

    def _wait(self, port: int, started: float) -> None:
        while time.perf_counter() - started < 30:
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=0.2) as s:
                    if not self.health:
                        return
                    s.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
                    if s.recv(64).startswith(b"HTTP/1.1 200"):
                        return
            except OSError:
                time.sleep(0.01)
        raise RuntimeError(f"{self.name} did not start")

    def stop(self) -> None:
        for proc in self.procs:
            proc.terminate()
        for proc in self.procs:
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()


def arrivals(slack_url: str) -> dict[str, float]:
    import urllib.request

    with urllib.request.urlopen(f"{slack_url}/bench/arrivals", timeout=10) as response:
        return json.loads(response.read())


async def get_json(port: int, path: str, timeout: float = 35.0) -> dict:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n".encode())
    await writer.drain()
    raw = await asyncio.wait_for(reader.read(), timeout)
    writer.close()
    return json.loads(raw.split(b"\r\n\r\n", 1)[1])


def question(slack_url: str, index: int) -> tuple[str, bytes, dict[str, str]]:
    key = uuid.uuid4().hex
    order = DEMOS[index % len(DEMOS)].order_id
    body = urlencode(
        {
            "token": "x",
            "team_id": "T0BENCH",
            "channel_id": "C0BENCH",
            "user_id": "UBENCH",
            "command": "/stuck",
            "text": order,
            "response_url": f"{slack_url}/response/{key}",
            "trigger_id": "1.2",
        }
    )
    return key, body.encode(), {"Content-Type": "application/x-www-form-urlencoded", **sign(SECRET, body)}


async def closed_loop(target: Target, slack_url: str, workers: int, per_worker: int) -> list[tuple[int, float, float]]:
    """`workers` agents, each asking its next question as soon as the previous answer reached Slack."""
    slack_port = urlsplit(slack_url).port
    results: list[tuple[int, float, float]] = []

    async def agent(n: int) -> None:
        for i in range(per_worker):
            key, body, headers = question(slack_url, n * per_worker + i)
            sent = time.time()
            status, ack = await post(target.ports[n % len(target.ports)], body, headers)  # round robin
            answered = float("nan")
            if status == 200:
                at = (await get_json(slack_port, f"/bench/wait/{key}")).get("at")
                answered = (at - sent) if at else float("nan")
            results.append((status, ack, answered))
            if status != 200:
                await asyncio.sleep(0.1)

    await asyncio.gather(*(agent(n) for n in range(workers)))
    return results


def run_level(target: Target, slack_url: str, workers: int, per_worker: int, doubles_pid: int) -> dict[str, float]:
    cpu_before, doubles_before = sum(map(cpu_seconds, target.pids)), cpu_seconds(doubles_pid)
    results = asyncio.run(closed_loop(target, slack_url, workers, per_worker))
    cpu = sum(map(cpu_seconds, target.pids)) - cpu_before
    doubles_cpu = cpu_seconds(doubles_pid) - doubles_before
    ok = [(a, w) for s, a, w in results if s == 200 and a < 3.0 and w == w]
    acks, answers = [a for a, _ in ok], [w for _, w in ok]
    return {
        "n": len(results),
        "lost": len(results) - len(ok),
        "ack_p50": pct(acks, 50) * 1000,
        "ack_p99": pct(acks, 99) * 1000,
        "ans_p50": pct(answers, 50) * 1000,
        "doubles_ms": doubles_cpu * 1000 / max(len(results), 1),
        "ans_p95": pct(answers, 95) * 1000,
        "ans_max": max(answers, default=float("nan")) * 1000,
        "cpu_ms": cpu * 1000 / max(len(results), 1),
    }


def audit_timings(tmp: Path) -> dict[str, float]:
    """App Home and `unstuck audit` over 100,000 audit rows."""
    import sqlite3

    from bot.audit import GENESIS, row_hash
    from bot.blocks import home_view
    from bot.store import Store

    db = tmp / "big.db"
    Store(db).close()
    rows, prev = [], GENESIS
    for seq in range(1, 100_001):
        kind = "action" if seq % 5 == 0 else "question"
        row = {
            "seq": seq,
            "at": f"2026-11-{1 + seq % 27:02d}T10:00:00.000+00:00",
            "kind": kind,
            "action_id": None,
            "workspace": "T1",
            "channel": "C1",
            "user_id": f"U{seq % 40}",
            "order_id": f"{1500000000000 + seq}-01",
            "account": "acme",
            "action": "resend_invoice" if kind == "action" else "ask",
            "inputs": '{"invoice_number": "NF1", "value": 100}' if kind == "action" else None,
            "outcome": "succeeded" if kind == "action" else "answered",
            "http_status": None,
            "receipt": None,
            "detail": None,
            "prev_hash": prev,
        }
        row["hash"] = prev = row_hash(row)
        rows.append(row)
    with sqlite3.connect(db) as conn:
        cols = list(rows[0])
        conn.executemany(
            f"INSERT INTO audit_log ({','.join(cols)}) VALUES ({','.join('?' * len(cols))})",
            [[r[c] for c in cols] for r in rows],
        )
    with sqlite3.connect(db) as conn:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")  # measure reads, not the checkpoint of the bulk load
    store = Store(db)
    home = []
    for _ in range(50):
        started = time.perf_counter()
        view = home_view(store.ledger.latest_per_action(20), is_operator=True, operators_configured=True)
        json.dumps(view)
        home.append(time.perf_counter() - started)
    store.close()
    env = {**os.environ, "UNSTUCK_DB": str(db)}
    cli = []
    for _ in range(5):
        started = time.perf_counter()
        subprocess.run(
            [sys.executable, "-m", "bot.cli", "audit"], env=env, cwd=ROOT, check=True, stdout=subprocess.DEVNULL
        )
        cli.append(time.perf_counter() - started)
    code = (  # the command's own work, once Python and its imports are loaded
        "import time,sys;from bot.cli import build_parser;from bot.settings import load_settings;"
        "import bot.audit, bot.cli_app;s=load_settings();a=build_parser().parse_args(['audit']);"
        "sys.stdout=open('/dev/null','w');t=time.perf_counter();a.func(a,s);"
        "sys.stderr.write(str(time.perf_counter()-t))"
    )
    inproc = [
        float(
            subprocess.run(
                [sys.executable, "-c", code], env=env, cwd=ROOT, capture_output=True, text=True, check=True
            ).stderr
        )
        for _ in range(5)
    ]
    bare = []
    for _ in range(5):
        started = time.perf_counter()
        subprocess.run([sys.executable, "-c", "pass"], check=True)
        bare.append(time.perf_counter() - started)
    return {
        "home_p50": pct(home, 50) * 1000,
        "home_p95": pct(home, 95) * 1000,
        "audit_cmd": statistics.median(cli) * 1000,
        "audit_main": statistics.median(inproc) * 1000,
        "python_start": statistics.median(bare) * 1000,
    }


def postgres_database(url: str, *, create: bool) -> str:
    """create: a new database on the server at `url`, its URL returned; else drop the database `url` names."""
    import secrets

    import psycopg

    parts = urlsplit(url)
    name = f"unstuck_bench_{secrets.token_hex(4)}" if create else parts.path.lstrip("/")
    admin = parts._replace(path="/postgres").geturl()
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f"CREATE DATABASE {name}" if create else f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
    return parts._replace(path="/" + name).geturl()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--latency", type=float, default=0.3, help="VTEX double latency in seconds (default 0.3)")
    parser.add_argument("--levels", default="1,10,50,200", help="concurrency levels (default 1,10,50,200)")
    parser.add_argument("--questions", type=int, default=400, help="questions per level (default 400)")
    parser.add_argument("--workers", type=int, default=1, help="`unstuck serve --workers` (default 1)")
    parser.add_argument("--replicas", type=int, default=1, help="`unstuck serve` processes, one port each")
    parser.add_argument("--postgres", metavar="SERVER_URL", help="a PostgreSQL server: the replicas share a database")
    parser.add_argument("--no-baseline", action="store_true", help="measure unstuck only")
    args = parser.parse_args()
    levels = [int(x) for x in args.levels.split(",")]

    doubles = subprocess.Popen(
        [sys.executable, str(ROOT / "bench" / "doubles_server.py"), "--latency", str(args.latency)],
        stdout=subprocess.PIPE,
        text=True,
        cwd=ROOT,
    )
    urls = json.loads(doubles.stdout.readline())
    tmp = Path(tempfile.mkdtemp(prefix="unstuck-bench-"))
    base_env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "VTEX_", "UNSTUCK_"))}
    base_env.update(
        SLACK_BOT_TOKEN="xoxb-bench-token",
        SLACK_SIGNING_SECRET=SECRET,
        SLACK_API_URL=urls["slack"] + "/api/",
        VTEX_BASE_URL=urls["vtex"],
        VTEX_ACCOUNT="bench",
        UNSTUCK_DB=str(tmp / "bench.db") if not args.postgres else postgres_database(args.postgres, create=True),
        UNSTUCK_OPERATORS="UOPS00001",
        UNSTUCK_USER_QUESTION_LIMIT="1000000",  # every simulated agent asks as one user
    )
    results: dict[str, dict[int, dict[str, float]]] = {}
    meta: dict[str, dict[str, float]] = {}
    apps = ["unstuck"] if args.no_baseline else ["unstuck", "baseline"]
    try:
        for name, cmd, health in [
            (
                "unstuck",
                [
                    sys.executable,
                    "-m",
                    "bot.cli",
                    "serve",
                    "--http",
                    "--host",
                    "127.0.0.1",
                    "--workers",
                    str(args.workers),
                ],
                True,
            ),
            ("baseline", [sys.executable, str(ROOT / "bench" / "baseline_app.py")], False),
        ]:
            if name not in apps:
                continue
            ports = [free_port() for _ in range(args.replicas if name == "unstuck" else 1)]
            target = Target(
                name,
                [[*cmd, "--port", str(port)] if name == "unstuck" else cmd for port in ports],
                base_env,
                ports,
                health,
            )
            start = target.start()
            time.sleep(0.5)
            results[name] = {}
            try:
                for level in levels:
                    results[name][level] = run_level(
                        target, urls["slack"], level, max(args.questions // level, 2), doubles.pid
                    )
                meta[name] = {"start_s": start, "rss_mb": max(map(peak_rss_mb, target.pids))}
            finally:
                target.stop()
    finally:
        doubles.terminate()
        if args.postgres:
            postgres_database(base_env["UNSTUCK_DB"], create=False)

    lat = args.latency * 1000
    store = f"PostgreSQL, {args.replicas} replica(s)" if args.postgres else f"SQLite, {args.replicas} replica(s)"
    print(f"\nunstuck: {store}, --workers {args.workers} each")
    print(
        f"VTEX latency {lat:.0f} ms; about {args.questions} questions per level, each of `concurrency` agents "
        f"asking again as soon as its answer reached Slack; {os.cpu_count()} cores\n"
    )
    print(
        f"{'app':<9}{'conc':>5}{'asks':>6}{'lost':>6}{'ack p50':>9}{'ack p99':>9}{'ans p50':>9}{'ans p95':>9}"
        f"{'ans max':>9}{'p95/VTEX':>9}{'CPU ms/q':>9}{'doubles':>9}"
    )
    for name in results:
        for level, r in results[name].items():
            print(
                f"{name:<9}{level:>5}{r['n']:>6}{r['lost']:>6}{r['ack_p50']:>9.1f}{r['ack_p99']:>9.1f}"
                f"{r['ans_p50']:>9.0f}{r['ans_p95']:>9.0f}{r['ans_max']:>9.0f}{r['ans_p95'] / lat:>9.2f}"
                f"{r['cpu_ms']:>9.2f}{r['doubles_ms']:>9.2f}"
            )
    print("(CPU ms/q: the app's processes; doubles: the VTEX and Slack stand-ins, per question)\n")
    for name, m in meta.items():
        print(
            f"{name}: start to {'/healthz 200' if name == 'unstuck' else 'port open'} {m['start_s'] * 1000:.0f} ms,"
            f" peak RSS {m['rss_mb']:.1f} MB"
        )
    if args.no_baseline or args.postgres:
        return  # the 100,000-row timings below are for the SQLite file
    print("\nratios unstuck / baseline:")
    for level in levels:
        u, b = results["unstuck"][level], results["baseline"][level]
        print(
            f"  concurrency {level:>3}: answer p95 {u['ans_p95'] / b['ans_p95']:.2f}x, CPU per question "
            f"{u['cpu_ms'] / b['cpu_ms']:.2f}x, lost {u['lost']} vs {b['lost']}"
        )
    timings = audit_timings(tmp)
    print(
        f"\nwith 100,000 audit rows: App Home view p50 {timings['home_p50']:.1f} ms, p95 {timings['home_p95']:.1f} ms;"
        f" `unstuck audit` {timings['audit_main']:.1f} ms once loaded, {timings['audit_cmd']:.0f} ms as a whole command"
        f" (a bare `python -c pass` takes {timings['python_start']:.0f} ms)"
    )


if __name__ == "__main__":
    main()

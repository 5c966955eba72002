"""Subcommands that run or inspect the Slack app: serve, audit (list, verify, reconcile)."""

from __future__ import annotations

import argparse
import csv
import json
import logging
import os
import signal
import socket
import sys
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bot.audit import HASHED
from bot.settings import Settings

if TYPE_CHECKING:
    from bot.app import Bot

log = logging.getLogger("unstuck")


def add_commands(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    serve = sub.add_parser(
        "serve",
        help="run the Slack app",
        description=(
            "Run the Slack app: Socket Mode when SLACK_APP_TOKEN is set (unless --http), otherwise HTTP with every "
            "Slack request at POST /slack/events and GET /healthz."
        ),
    )
    serve.add_argument("--http", action="store_true", help="HTTP mode even when SLACK_APP_TOKEN is set")
    serve.add_argument("--port", type=int, default=int(os.environ.get("PORT") or 3000), help="HTTP port (env PORT)")
    serve.add_argument("--host", default="0.0.0.0", help="HTTP address to listen on (default 0.0.0.0)")
    serve.add_argument("--sandbox", action="store_true", help="answer from the built-in demo store, not VTEX")
    serve.add_argument("--workers", type=int, default=1, help="HTTP worker processes sharing the port (default 1)")
    serve.set_defaults(func=cmd_serve)

    play = sub.add_parser(
        "playground",
        help="the whole bot in a browser, no Slack workspace needed",
        description=(
            "Start the sandbox VTEX store, a stand-in for Slack, the real app in HTTP mode and a page that behaves "
            "like a Slack channel, all on 127.0.0.1. Ctrl-C stops everything."
        ),
    )
    play.add_argument("--port", type=int, default=8000, help="port of the page (default 8000)")
    play.set_defaults(func=cmd_playground)

    audit = sub.add_parser(
        "audit",
        help="list, export, verify, reconcile or copy the audit log",
        description=(
            "List recent audit entries (who, when, order, action, outcome); `verify` checks the hash chain; "
            "`reconcile` settles actions left pending by a crash; `copy --to` copies everything into an empty "
            "database (SQLite to PostgreSQL or back), verifying the chain on both sides."
        ),
    )
    audit.add_argument("task", nargs="?", choices=["list", "verify", "reconcile", "copy"], default="list")
    audit.add_argument(
        "--to", metavar="URL_OR_PATH", help="copy: the empty database (postgresql:// URL or SQLite file) to copy into"
    )
    audit.add_argument("--format", choices=["table", "csv", "json"], default="table", help="output format of list")
    audit.add_argument("--limit", type=int, default=50, help="how many recent entries to list (0 = all)")
    audit.add_argument("--sandbox", action="store_true", help="reconcile against the built-in demo store")
    audit.add_argument(
        "--expect-head", metavar="SEQ:HASH", help="verify: also check the head saved from an earlier verify"
    )
    audit.set_defaults(func=cmd_audit)


def setup_logging() -> None:
    logging.basicConfig(level=logging.INFO, stream=sys.stderr, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    for noisy in ("slack_bolt", "slack_sdk", "httpx", "waitress.queue"):
        logging.getLogger(noisy).setLevel(logging.WARNING)


def cmd_serve(args: argparse.Namespace, settings: Settings) -> int:
    socket_mode = bool(settings.slack_app_token) and not args.http
    settings.check_slack(socket_mode)
    if not args.sandbox:
        settings.check_vtex()
    if not (0 <= args.port < 65536):
        from bot.settings import ConfigError

        raise ConfigError("PORT must be between 1 and 65535 (0 picks a free port)")
    if args.workers < 1 or args.workers > 32:
        from bot.settings import ConfigError

        raise ConfigError("--workers must be between 1 and 32")
    setup_logging()
    if socket_mode:
        bot = start_app(settings, args.sandbox, settle=True)
        from slack_bolt.adapter.socket_mode import SocketModeHandler

        log.info("unstuck running in Socket Mode")
        app_token = settings.slack_app_token.get_secret_value() if settings.slack_app_token else ""
        SocketModeHandler(bot.app, app_token).start()  # type: ignore[no-untyped-call]
        return 0

    try:
        listener = socket.create_server((args.host, args.port), backlog=1024, reuse_port=False)
    except OSError as exc:
        print(f"unstuck: cannot listen on {args.host}:{args.port} ({exc.strerror})", file=sys.stderr)
        return 2
    log.info(
        "unstuck listening on http://%s:%s/slack/events (health: /healthz), %d worker(s)",
        args.host,
        listener.getsockname()[1],
        args.workers,
    )
    if args.workers == 1:
        return serve_worker(listener, settings, args.sandbox, settle=True)
    return supervise(listener, settings, args.sandbox, args.workers)


def start_app(settings: Settings, sandbox: bool, settle: bool) -> Bot:
    from bot.app import build, build_radar, learn_identity, slack_client
    from bot.reconcile import keep_settling, reconcile

    bot = build(settings, sandbox=sandbox)
    radar = build_radar(bot, settings, sandbox=sandbox) if settle else None
    token = settings.slack_bot_token.get_secret_value() if settings.slack_bot_token else ""

    def warm_up() -> None:
        learn_identity(bot, token)
        if settle:  # one process settles actions a crash left open, then keeps an eye on new ones
            slack = slack_client(settings)
            for item in reconcile(bot.services, slack):
                log.info("action %s on %s: %s", item.action["id"], item.action["order_id"], item.state)
            keep_settling(bot.services, slack, settings.unstuck_settle_interval)
        if radar is not None:  # one process watches the store
            log.info("radar: watching for stuck orders every %.0f s", settings.unstuck_radar_interval)
            radar.start()

    threading.Thread(target=warm_up, daemon=True, name="warm-up").start()
    return bot


def serve_worker(listener: socket.socket, settings: Settings, sandbox: bool, settle: bool) -> int:
    from bot.server import make_server

    bot = start_app(settings, sandbox, settle)
    secret = settings.slack_signing_secret.get_secret_value() if settings.slack_signing_secret else ""
    server = make_server(bot.app, "", 0, secret, sockets=[listener])
    log.info(
        "worker %d: at most %d connections, %d-byte bodies, %.0f s per request",
        os.getpid(),
        server.adj.connection_limit,
        server.adj.max_request_body_size - 1,
        server.read_deadline,
    )
    stop = threading.Event()

    def shutdown(signum: int, frame: Any) -> None:
        stop.set()
        server.drain()  # answer what is in flight, close idle keep-alive connections, then leave the loop

    signal.signal(signal.SIGTERM, shutdown)
    code = 0
    try:
        server.run()
    except (KeyboardInterrupt, OSError):
        if not stop.is_set():
            server.close()
    except Exception:  # the event loop itself failed: exit non-zero so a supervisor starts a fresh worker
        log.exception("the HTTP server stopped")
        code = 1
    finally:
        bot.close()
    return code


# A worker that dies is replaced at once; if workers keep dying (more than CRASH_LIMIT deaths within
# CRASH_WINDOW seconds, e.g. a broken disk), the supervisor stops rather than spin.
CRASH_LIMIT = 5
CRASH_WINDOW = 60.0


def supervise(listener: socket.socket, settings: Settings, sandbox: bool, workers: int) -> int:
    """Pre-fork `workers` processes on one listening socket: one GIL per core. Each builds its own app, threads
    and SQLite connections after the fork; SQLite's locks keep idempotency and the audit chain shared.

    A worker that dies is restarted; the others keep serving meanwhile (the supervisor keeps the listening
    socket, so the kernel queues new connections for whichever worker accepts next)."""
    import time

    parent = os.getpid()
    slots: dict[int, int] = {}  # pid -> worker index
    deaths: list[float] = []
    stopping = threading.Event()

    def spawn(index: int, settle: bool) -> None:
        pid = os.fork()
        if pid == 0:
            signal.signal(signal.SIGTERM, signal.SIG_DFL)
            signal.signal(signal.SIGINT, signal.default_int_handler)
            _die_with_parent(parent)
            code = 1
            try:
                code = serve_worker(listener, settings, sandbox, settle=settle)
            except Exception:  # a worker reports and exits; the supervisor restarts it
                log.exception("worker %d failed", os.getpid())
            finally:
                os._exit(code)
        slots[pid] = index

    def forward(signum: int, frame: Any) -> None:
        stopping.set()
        for child in list(slots):
            try:
                os.kill(child, signal.SIGTERM)
            except ProcessLookupError:
                pass

    signal.signal(signal.SIGTERM, forward)
    signal.signal(signal.SIGINT, forward)
    for index in range(workers):
        spawn(index, settle=index == 0)  # one process settles actions a crash left pending
    status = 0
    try:
        while slots:
            try:
                pid, raw = os.wait()
            except ChildProcessError:
                break
            index = slots.pop(pid, -1)
            if index < 0 or stopping.is_set():
                continue
            code = os.waitstatus_to_exitcode(raw)
            how = f"was killed by signal {-code}" if code < 0 else f"exited with code {code}"
            now = time.monotonic()
            deaths = [t for t in deaths if now - t < CRASH_WINDOW] + [now]
            if len(deaths) > CRASH_LIMIT:
                log.error("worker %d %s: %d workers died within %.0f s, stopping", pid, how, len(deaths), CRASH_WINDOW)
                status = 1
                forward(signal.SIGTERM, None)
                continue
            log.warning("worker %d %s; starting a new one", pid, how)
            if len(deaths) > 1:  # back off when deaths follow each other
                time.sleep(min(0.25 * 2 ** (len(deaths) - 2), 5.0))
            if not stopping.is_set():
                spawn(index, settle=index == 0)  # the settling role survives its worker
    finally:
        listener.close()
    return status


def _die_with_parent(parent: int | None = None) -> None:
    """Workers must not outlive a killed supervisor (they would keep the port and serve stale config)."""
    try:
        import ctypes

        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass
    if parent is not None and os.getppid() != parent:  # the supervisor died before prctl took effect
        os._exit(1)


PLAYGROUND_DB = "./unstuck-playground.db"


def fresh_log(db: str) -> Path | None:
    """Each playground starts with fresh demo orders, so it starts with a fresh log too: last session's actions
    would otherwise answer "already done" for orders this session never invoiced. The old log is kept beside."""
    path = Path(db)
    if not path.exists():
        return None
    kept = path.with_name(path.stem + ".prev" + path.suffix)
    for suffix in ("", "-wal", "-shm"):
        old, new = Path(f"{path}{suffix}"), Path(f"{kept}{suffix}")
        if old.exists():
            os.replace(old, new)
        elif new.exists():
            new.unlink()  # a stale WAL of an older kept log must not be read with this one
    return kept


def cmd_playground(args: argparse.Namespace, settings: Settings) -> int:
    import shlex

    from bot.playground import Playground

    db = os.environ.get("UNSTUCK_DB") or PLAYGROUND_DB
    kept = fresh_log(db) if db == PLAYGROUND_DB else None
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr, format="%(levelname)s %(name)s: %(message)s")
    # Ctrl-C (SIGINT) and SIGTERM stop it through our own handlers, installed before the URL is printed.
    # Python raises KeyboardInterrupt only when its parent left SIGINT at the default: a job that a
    # non-interactive shell starts in the background (`pytest &`, CI scripts) inherits SIGINT ignored, and
    # Ctrl-C was then lost. A second Ctrl-C interrupts a slow shutdown.
    stop = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stop.set())
    try:
        playground = Playground(db, port=args.port)
    except OSError as exc:
        print(f"unstuck: cannot listen on 127.0.0.1:{args.port} ({exc.strerror}); try --port", file=sys.stderr)
        return 2
    print(
        f"unstuck playground: open {playground.url}/  (the app answers at {playground.stack.url}/slack/events). "
        "Ctrl-C stops.",
        flush=True,
    )
    print(
        f"unstuck playground: audit log in {db}; read it with `UNSTUCK_DB={shlex.quote(db)} unstuck audit`", flush=True
    )
    if kept is not None:
        print(f"unstuck playground: the previous session's log is kept in {kept}", flush=True)
    if playground.radar_interval is not None:
        print(
            f"unstuck playground: the radar posts into # stuck-orders every {playground.radar_interval:g} s", flush=True
        )
    try:
        while not stop.wait(0.5):
            pass
        signal.signal(signal.SIGINT, signal.default_int_handler)
    finally:
        playground.close()
        print("unstuck playground: stopped", flush=True)
    return 0


# The audit row as people read it: everything but the hash chain's bookkeeping.
COLUMNS = [c for c in HASHED if c not in ("action_id", "prev_hash")]


def cmd_audit(args: argparse.Namespace, settings: Settings) -> int:
    from bot.app import open_store

    # Run after `unstuck playground`, whose log is ./unstuck-playground.db: point there instead of opening
    # (and so creating) an empty ./unstuck.db.
    from bot.db import is_postgres_url

    db, played = Path(settings.unstuck_db), Path(PLAYGROUND_DB)
    on_file = not is_postgres_url(settings.unstuck_db)
    if (
        args.task in ("list", "verify")
        and on_file
        and not db.exists()
        and played.exists()
        and db.resolve() != played.resolve()
    ):
        command = f"UNSTUCK_DB={PLAYGROUND_DB} unstuck audit" + (" verify" if args.task == "verify" else "")
        print(
            f"unstuck: no audit log at {settings.unstuck_db}; the playground's log is {PLAYGROUND_DB}, "
            f"read it with `{command}`",
            file=sys.stderr,
        )
        return 2
    if args.task == "copy" and not args.to:
        print("unstuck: audit copy needs --to URL_OR_PATH (an empty database to copy into)", file=sys.stderr)
        return 2
    store = open_store(settings)
    try:
        if args.task == "copy":
            return audit_copy(store, args.to, settings)
        if args.task == "verify":
            result = store.log.verify(expect_head=args.expect_head)
            if result.ok:
                chain = "keyed hash chain" if result.keyed else "hash chain (no audit key: not tamper-proof)"
                print(f"audit log OK: {result.rows} entries, {chain} intact, actions match it")
                print(f"head: {result.head}  (save it; later run `unstuck audit verify --expect-head {result.head}`)")
                return 0
            where = f" at entry {result.first_bad_seq}" if result.first_bad_seq else ""
            print(f"audit log BROKEN{where}: {result.reason}", file=sys.stderr)
            return 1
        if args.task == "reconcile":
            settings.check_vtex() if not args.sandbox else None
            from bot.app import build, slack_client
            from bot.reconcile import reconcile

            bot = build(settings, sandbox=args.sandbox, store=store)
            settled = reconcile(bot.services, slack_client(settings) if settings.slack_bot_token else None)
            for item in settled:
                action = item.action
                print(
                    f"action {action['id']} {action['action']} {action.get('invoice_number')} on "
                    f"{action['order_id']}: {item.state} ({item.message})"
                )
            print(f"{len(settled)} open action(s) checked")
            return 0
        rows = store.log.recent(limit=args.limit or 10**9)[::-1]
        print_rows(rows, args.format)
        return 0
    finally:
        store.close()


def audit_copy(store: Any, destination: str, settings: Settings) -> int:
    from bot.audit_copy import CopyRefused, copy_store
    from bot.db import AuditError, DatabaseError, redact

    try:
        report = copy_store(store, destination, settings.audit_key)
    except CopyRefused as exc:
        print(f"unstuck: {exc}", file=sys.stderr)
        return 1
    except (AuditError, DatabaseError) as exc:
        print(f"unstuck: could not copy to {redact(destination)}: {exc}", file=sys.stderr)
        return 1
    counts = ", ".join(f"{n} {table}" for table, n in report.rows.items() if n)
    print(f"copied {report.source} to {report.destination}: {counts or 'nothing (the log is empty)'}")
    print(f"audit chain verified on both sides; head: {report.head}")
    return 0


def print_rows(rows: list[dict[str, Any]], fmt: str) -> None:
    if fmt == "json":
        print(json.dumps([{k: r.get(k) for k in COLUMNS} for r in rows], indent=2, ensure_ascii=False))
    elif fmt == "csv":
        writer = csv.DictWriter(sys.stdout, fieldnames=COLUMNS, extrasaction="ignore")
        writer.writeheader()
        writer.writerows({k: _csv_cell(r.get(k)) for k in COLUMNS} for r in rows)
    else:
        if not rows:
            print("no audit entries yet")
            return
        print(f"{'when (UTC)':<20} {'who':<12} {'order':<22} {'action':<20} {'outcome':<10} detail")
        for r in rows:
            inputs = json.loads(r["inputs"]) if r.get("inputs") else {}
            what = r["action"] + (f" {inputs['invoice_number']}" if inputs.get("invoice_number") else "")
            detail = r.get("receipt") or r.get("detail") or ""
            print(
                f"{r['at'][:19].replace('T', ' '):<20} {str(r['user_id']):<12} {str(r['order_id']):<22} "
                f"{what:<20} {r['outcome']:<10} {detail[:60]}"
            )


# A spreadsheet runs a cell starting with one of these as a formula (OWASP's CSV injection rule).
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _csv_cell(value: Any) -> Any:
    """A cell that a spreadsheet shows as text: a leading ' before anything it would run as a formula."""
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    return value

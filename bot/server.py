"""HTTP mode: Bolt's WSGI adapter behind waitress, plus /healthz.

waitress is a production WSGI server in pure Python: threaded, with a real listen backlog, so a
burst of slash commands is queued rather than reset (the stdlib server behind `app.start()` is not).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterable
from typing import Any

from slack_bolt import App
from slack_bolt.adapter.wsgi import SlackRequestHandler

log = logging.getLogger("unstuck.server")
EVENTS_PATH = "/slack/events"
MAX_BODY = 1_000_000


def wsgi_app(app: App) -> Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]:
    slack = SlackRequestHandler(app, path=EVENTS_PATH)

    def application(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        path, method = environ.get("PATH_INFO", ""), environ.get("REQUEST_METHOD", "GET")
        if path == "/healthz" and method in ("GET", "HEAD"):
            return _reply(start_response, "200 OK", {"ok": True})
        if path == EVENTS_PATH:
            if method != "POST":
                return _reply(start_response, "405 Method Not Allowed", {"error": "POST only"})
            try:
                length = int(environ.get("CONTENT_LENGTH") or 0)
            except ValueError:
                length = -1
            if length < 0 or length > MAX_BODY:
                return _reply(start_response, "413 Payload Too Large", {"error": "body too large"})
            try:
                return slack(environ, start_response)
            except Exception:  # a malformed request must never take the process down or leak a traceback
                log.exception("request to %s failed", EVENTS_PATH)
                return _reply(start_response, "400 Bad Request", {"error": "bad request"})
        return _reply(start_response, "404 Not Found", {"error": "not found"})

    return application


def _reply(start_response: Callable[..., Any], status: str, body: dict[str, Any]) -> Iterable[bytes]:
    data = json.dumps(body).encode()
    start_response(status, [("Content-Type", "application/json"), ("Content-Length", str(len(data)))])
    return [data]


def make_server(app: App, host: str, port: int, threads: int = 48) -> Any:
    from waitress.server import create_server

    return create_server(
        wsgi_app(app),
        host=host,
        port=port,
        threads=threads,
        backlog=1024,
        connection_limit=2000,
        channel_timeout=30,
        clear_untrusted_proxy_headers=True,
        ident="unstuck",
    )


def stop_server(server: Any, thread: Any = None) -> None:
    """Stop a waitress server run in a thread. Sockets are closed on the loop's own thread (closing them
    from elsewhere races its select()), then the worker threads are stopped."""

    def close_everything() -> None:
        for channel in list(server._map.values()):
            if channel is not server and channel is not server.trigger:
                channel.close()
        server.close()

    try:
        server.trigger.pull_trigger(close_everything)
    except OSError:
        server.close()
    if thread is not None:
        thread.join(timeout=5)
    server.task_dispatcher.shutdown(timeout=5)

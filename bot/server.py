"""HTTP mode: Bolt's WSGI adapter behind waitress, plus /healthz.

waitress is a production WSGI server in pure Python: threaded, with a real listen backlog, so a
burst of slash commands is queued rather than reset (the stdlib server behind `app.start()` is not).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterable
from http import HTTPStatus
from typing import Any

from slack_bolt import App
from slack_bolt.request import BoltRequest
from slack_sdk.signature import SignatureVerifier

log = logging.getLogger("unstuck.server")
EVENTS_PATH = "/slack/events"
MAX_BODY = 1_000_000


def wsgi_app(app: App, signing_secret: str) -> Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]:
    """Routes /slack/events to Bolt and /healthz to a probe.

    The signature is checked here, before Bolt parses the body: Bolt decodes JSON and form bodies
    first, so an unsigned blob of garbage would otherwise get a 400 instead of the 401 it deserves.
    """
    verifier = SignatureVerifier(signing_secret)

    def application(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        path, method = environ.get("PATH_INFO", ""), environ.get("REQUEST_METHOD", "GET")
        if path == "/healthz" and method in ("GET", "HEAD"):
            return _reply(start_response, "200 OK", {"ok": True})
        if path != EVENTS_PATH:
            return _reply(start_response, "404 Not Found", {"error": "not found"})
        if method != "POST":
            return _reply(start_response, "405 Method Not Allowed", {"error": "POST only"})
        try:
            length = int(environ.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = -1
        if length < 0 or length > MAX_BODY:
            return _reply(start_response, "413 Payload Too Large", {"error": "body too large"})
        raw = environ["wsgi.input"].read(length) if length else b""
        headers = {k[5:].replace("_", "-").lower(): v for k, v in environ.items() if k.startswith("HTTP_")}
        if environ.get("CONTENT_TYPE"):
            headers["content-type"] = environ["CONTENT_TYPE"]
        timestamp, signature = headers.get("x-slack-request-timestamp", ""), headers.get("x-slack-signature", "")
        try:
            text = raw.decode("utf-8")  # Slack signs UTF-8 text; anything else cannot be one of its requests
        except UnicodeDecodeError:
            text = None
        if text is None or not (timestamp.isdigit() and signature and verifier.is_valid(text, timestamp, signature)):
            return _reply(start_response, "401 Unauthorized", {"error": "invalid request"})
        try:
            request = BoltRequest(
                body=text,
                query=environ.get("QUERY_STRING", ""),
                headers={k: [v] for k, v in headers.items()},
            )
        except Exception:  # Bolt reads ids out of the payload while building the request
            log.warning("signed request with a malformed %s body", headers.get("content-type", "text"))
            return _reply(start_response, "400 Bad Request", {"error": "malformed body"})
        try:
            response = app.dispatch(request)
        except Exception:  # a malformed request must never take the process down or leak a traceback
            log.exception("dispatching a Slack request failed")
            return _reply(start_response, "400 Bad Request", {"error": "bad request"})
        body = response.body.encode() if isinstance(response.body, str) else (response.body or b"")
        out_headers = [
            (k, v) for k, values in response.headers.items() for v in values if k.lower() != "content-length"
        ]
        out_headers.append(("Content-Length", str(len(body))))
        start_response(f"{response.status} {HTTPStatus(response.status).phrase}", out_headers)
        return [body]

    return application


def _reply(start_response: Callable[..., Any], status: str, body: dict[str, Any]) -> Iterable[bytes]:
    data = json.dumps(body).encode()
    start_response(status, [("Content-Type", "application/json"), ("Content-Length", str(len(data)))])
    return [data]


def make_server(app: App, host: str, port: int, signing_secret: str, threads: int = 48, **kwargs: Any) -> Any:
    from waitress.server import create_server

    where = {"sockets": kwargs["sockets"]} if kwargs.get("sockets") else {"host": host, "port": port}
    return create_server(
        wsgi_app(app, signing_secret),
        **where,
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

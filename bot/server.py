"""HTTP mode: Bolt's WSGI adapter behind waitress, plus /healthz.

waitress is a production WSGI server in pure Python: threaded, with a real listen backlog, so a
burst of slash commands is queued rather than reset (the stdlib server behind `app.start()` is not).

It is configured to survive hostile clients, none of which needs a valid signature:
- a flood of idle connections: the event loop uses poll() (select() fails past file descriptor 1023),
  the soft RLIMIT_NOFILE is raised to the hard limit, the connection limit stays below it, and at the
  limit the connections idle the longest are closed so that new ones (Slack's) are still accepted;
- huge bodies: a Content-Length over MAX_BODY is answered 413 as soon as the headers are in, before a
  byte of the body is read or spooled;
- slow senders: a request must arrive whole within READ_DEADLINE seconds, however steadily it trickles;
  an idle keep-alive connection is closed after IDLE_TIMEOUT seconds.
"""

from __future__ import annotations

import heapq
import json
import logging
import resource
import time
from collections.abc import Callable, Iterable
from http import HTTPStatus
from typing import Any

from slack_bolt import App
from slack_bolt.request import BoltRequest
from slack_sdk.signature import SignatureVerifier
from waitress.adjustments import Adjustments
from waitress.channel import HTTPChannel
from waitress.server import TcpWSGIServer

log = logging.getLogger("unstuck.server")
EVENTS_PATH = "/slack/events"
MAX_BODY = 1_000_000  # Slack's payloads are a few kilobytes; a view submission stays well under this
MAX_HEADERS = 64 * 1024
READ_DEADLINE = 10.0  # seconds for a whole request (headers and body) to arrive
IDLE_TIMEOUT = 30  # seconds a keep-alive connection may sit idle between requests
MAX_CONNECTIONS = 4000
FD_RESERVE = 256  # descriptors kept for SQLite, the VTEX and Slack clients, pipes and logs
FD_CEILING = 65536  # how far the soft descriptor limit is raised when the hard limit allows more
DRAIN_TIMEOUT = 10.0  # at shutdown, seconds to finish the requests being answered


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


def raise_fd_limit() -> int:
    """Raise the soft RLIMIT_NOFILE towards the hard limit (capped at FD_CEILING); returns the soft limit."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = FD_CEILING if hard == resource.RLIM_INFINITY else min(hard, FD_CEILING)
    if soft != resource.RLIM_INFINITY and soft < want:
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (want, hard))
            soft = want
        except (ValueError, OSError):
            log.warning("could not raise the open-file limit above %d", soft)
    return FD_CEILING if soft == resource.RLIM_INFINITY else soft


def connection_limit_for(fd_limit: int) -> int:
    """Connections waitress may hold: each can use two descriptors (its socket and a spooled body)."""
    return max(32, min(MAX_CONNECTIONS, (fd_limit - FD_RESERVE) // 2))


class HardenedChannel(HTTPChannel):
    """Remembers when the request being read began, so a request trickled in byte by byte can be cut off."""

    request_started = 0.0

    def received(self, data: bytes) -> bool:
        if self.request is None and data:
            self.request_started = time.time()
        return super().received(data)


class HardenedServer(TcpWSGIServer):
    """waitress's TCP server plus a total read deadline per request and shedding of idle connections."""

    channel_class = HardenedChannel
    read_deadline = READ_DEADLINE
    draining_since: float | None = None
    # What waitress keeps at run time (types-waitress declares these less precisely).
    active_channels: dict[int, HardenedChannel]  # type: ignore[assignment]
    _map: dict[int, Any]
    effective_port: int

    def drain(self) -> None:
        """Stop accepting; the loop ends once the requests being answered are flushed (or after DRAIN_TIMEOUT).
        Safe to call from a signal handler on the loop's thread."""
        self.accepting = False
        self.draining_since = time.time()

    def maintenance(self, now: float) -> None:  # waitress passes time.time()
        super().maintenance(now)  # type: ignore[arg-type]  # idle keep-alive connections (channel_timeout)
        cutoff = now - self.read_deadline
        slow = [
            ch
            for ch in self.active_channels.values()
            if ch.request is not None and not ch.requests and not ch.will_close and ch.request_started < cutoff
        ]
        for channel in slow:
            channel.will_close = True
        if slow:
            log.info("closed %d connection(s) too slow to send a request (%.0f s)", len(slow), self.read_deadline)

    def readable(self) -> bool:
        if self.draining_since is not None:
            self._drain_step()
            return False
        if self.accepting and len(self._map) >= self.adj.connection_limit:
            self.shed()
        return bool(super().readable())

    def _drain_step(self) -> None:
        busy = False
        for channel in list(self.active_channels.values()):
            if channel.requests or channel.total_outbufs_len:
                busy = True
            else:
                channel.will_close = True
        if not busy or time.time() - self.draining_since > DRAIN_TIMEOUT:  # type: ignore[operator]
            raise SystemExit  # ends run(), which then stops waitress's worker threads

    def shed(self) -> None:
        """At the connection limit, close the tenth of connections idle the longest (none with a request being
        answered), so a flood of idle sockets cannot lock Slack out."""
        idle = [ch for ch in self.active_channels.values() if not ch.requests and not ch.will_close]
        if not idle:
            return
        victims = heapq.nsmallest(max(1, self.adj.connection_limit // 10), idle, key=lambda ch: ch.last_activity)
        for channel in victims:
            channel.will_close = True
        log.warning("connection limit %d reached: closed the %d most idle", self.adj.connection_limit, len(victims))


def make_server(
    app: App,
    host: str,
    port: int,
    signing_secret: str,
    threads: int = 48,
    *,
    sockets: list[Any] | None = None,
    connection_limit: int | None = None,
    read_deadline: float = READ_DEADLINE,
    idle_timeout: int = IDLE_TIMEOUT,
) -> HardenedServer:
    """A waitress server for the app on `sockets[0]` (an already listening socket, as pre-forked workers share)
    or on the first address of host:port."""
    limit = connection_limit or connection_limit_for(raise_fd_limit())
    options: dict[str, Any] = {
        "threads": threads,
        "backlog": 1024,
        "connection_limit": limit,
        "channel_timeout": idle_timeout,
        "cleanup_interval": 1,  # how often the deadlines above are enforced
        "asyncore_use_poll": True,
        "max_request_body_size": MAX_BODY + 1,  # waitress refuses a Content-Length >= this
        "max_request_header_size": MAX_HEADERS,
        "clear_untrusted_proxy_headers": True,
        "ident": "unstuck",
    }
    application = wsgi_app(app, signing_secret)
    if sockets:
        sock = sockets[0]
        adj = Adjustments(sockets=[sock], **options)
        sockinfo = (sock.family, sock.type, sock.proto, sock.getsockname())
        server = HardenedServer(application, {}, _sock=sock, adj=adj, bind_socket=False, sockinfo=sockinfo)
    else:
        server = HardenedServer(application, {}, adj=Adjustments(host=host, port=port, **options))
    server.read_deadline = read_deadline
    return server


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

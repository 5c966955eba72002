"""A small threaded HTTP server on 127.0.0.1 for the doubles, sized for bursts."""

from __future__ import annotations

import socket
import sys
import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

Handler = Callable[[str, str, dict[str, str], bytes], tuple[int, dict[str, str], bytes]]


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 512  # the stdlib default of 5 resets connections under a burst
    allow_reuse_address = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        # A client that went away (a closed browser tab ending the page's long poll, a test that hung up) is no
        # error of ours: without this, socketserver prints its traceback to the terminal.
        if isinstance(sys.exc_info()[1], ConnectionError):  # BrokenPipeError, ConnectionResetError, ...
            return
        super().handle_error(request, client_address)


class LocalServer:
    """Serves `handler(method, path, headers, body) -> (status, headers, body)` in a background thread."""

    def __init__(self, handler: Handler, host: str = "127.0.0.1", port: int = 0):
        outer = handler

        class RequestHandler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            # Headers and body leave in one write with Nagle off: separate small writes on a keep-alive
            # connection stall 40 ms on the client's delayed ACK, which would be the double's latency, not VTEX's.
            wbufsize = 1 << 16

            def setup(self) -> None:
                super().setup()
                self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

            def _serve(self) -> None:
                length = int(self.headers.get("content-length") or 0)
                body = self.rfile.read(length) if length else b""
                headers = {k.lower(): v for k, v in self.headers.items()}
                status, out_headers, out = outer(self.command, self.path, headers, body)
                self.send_response(status)
                for key, value in out_headers.items():
                    self.send_header(key, value)
                self.send_header("Content-Length", str(len(out)))
                self.end_headers()
                self.wfile.write(out)

            do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _serve

            def log_message(self, format: str, *args: object) -> None:  # noqa: A002
                pass

        self.httpd = _Server((host, port), RequestHandler)
        self.host, self.port = self.httpd.server_address[0], self.httpd.server_address[1]
        self.url = f"http://{host}:{self.port}"
        self._thread = threading.Thread(
            target=self.httpd.serve_forever, args=(0.02,), daemon=True, name=f"double-{self.port}"
        )

    def start(self) -> LocalServer:
        if not self._thread.is_alive():
            self._thread.start()
        return self

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()

    def __enter__(self) -> LocalServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()

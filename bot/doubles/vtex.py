"""The VTEX double: the in-memory VTEX store (bot/vtex_store.py) plus scripted faults, latency, app-key checks
and a record of every call, reached through an httpx transport or as a real HTTP server on 127.0.0.1.
Tests, the playground's stack and the benchmark use it. Faults apply to every route, List orders and the
feed included; `fail_next(..., path="/api/orders/feed")` aims at one route.
"""

from __future__ import annotations

import json
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from urllib.parse import parse_qs, urlsplit

from bot.doubles.http import LocalServer
from bot.sandbox import demo_orders
from bot.vtex_store import JSON, OrderStore, _error


@dataclass
class Fault:
    status: int
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    method: str | None = None
    delay: float = 0.0
    after: bool = False  # apply the request first, then answer with the fault (a lost response)
    # status 0: no fault, only the delay (a slow VTEX that still does the work and answers normally)
    path: str | None = None  # only requests to this path (no query string), e.g. "/api/orders/feed"


@dataclass
class Call:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes
    query: str = ""

    def params(self) -> dict[str, str]:
        """The query string, one value a name (`f_status`, `page`, `maxlot`, …)."""
        return {k: v[0] for k, v in parse_qs(self.query).items()}

    def json(self) -> Any:
        return json.loads(self.body)


class VtexDouble(OrderStore):
    """The in-memory VTEX store plus what tests script: faults, latency, app keys, a record of every call."""

    def __init__(
        self,
        orders: list[dict[str, Any]] | None = None,
        *,
        latency: float = 0.0,
        app_key: str | None = None,
        app_token: str | None = None,
        enforce_schema: bool = True,
        clock: Callable[[], datetime] | None = None,
    ):
        super().__init__(orders, enforce_schema=enforce_schema, clock=clock)
        self.latency = latency
        self.app_key = app_key
        self.app_token = app_token
        self.calls: list[Call] = []
        self.faults: deque[Fault] = deque()

    # -- scripting -------------------------------------------------------------------------------
    def fail_next(
        self,
        status: int,
        body: bytes | str | dict[str, Any] = b"",
        *,
        times: int = 1,
        headers: dict[str, str] | None = None,
        method: str | None = None,
        delay: float = 0.0,
        after: bool = False,
        path: str | None = None,
    ) -> None:
        """The next `times` requests matching `method` and `path` (any when None) get this answer instead."""
        raw = json.dumps(body).encode() if isinstance(body, dict) else body.encode() if isinstance(body, str) else body
        for _ in range(times):
            self.faults.append(Fault(status, raw, headers or {}, method, delay, after, path))

    def slow_next(self, seconds: float, *, method: str | None = "POST") -> None:
        """The next matching request takes `seconds`, then is handled and answered as usual."""
        self.faults.append(Fault(0, b"", {}, method, seconds))

    def invoice_posts(self) -> list[Call]:
        return [c for c in self.calls if c.method == "POST" and c.path.endswith("/invoice")]

    def calls_to(self, method: str, path: str) -> list[Call]:
        return [c for c in self.calls if c.method == method and c.path == path]

    # -- the protocol ----------------------------------------------------------------------------

    def handle(
        self, method: str, target: str, headers: dict[str, str], body: bytes
    ) -> tuple[int, dict[str, str], bytes]:
        parts = urlsplit(target)
        path = parts.path
        self.calls.append(Call(method, path, headers, body, parts.query))
        if self.latency:
            time.sleep(self.latency)
        fault = self._take_fault(method, path)
        if fault and fault.delay:
            time.sleep(fault.delay)
        if fault and fault.status and not fault.after:
            return fault.status, {**JSON, **fault.headers}, fault.body
        if self.app_key is not None and (
            headers.get("x-vtex-api-appkey") != self.app_key or headers.get("x-vtex-api-apptoken") != self.app_token
        ):
            return 401, JSON, _error("1", "Unauthorized access")
        result = self._route(method, path, body, parts.query)
        if fault and fault.status:
            return fault.status, {**JSON, **fault.headers}, fault.body
        return result

    def _take_fault(self, method: str, path: str) -> Fault | None:
        with self._lock:
            for fault in list(self.faults):
                if (fault.method is None or fault.method == method) and (fault.path is None or fault.path == path):
                    self.faults.remove(fault)
                    return fault
        return None

    def serve(self, host: str = "127.0.0.1", port: int = 0) -> LocalServer:
        return LocalServer(self.handle, host, port).start()


def sandbox_double(now: datetime | None = None, **kwargs: Any) -> VtexDouble:
    """The demo store with the double's scripting, for tests."""
    return VtexDouble(demo_orders(now), **kwargs)

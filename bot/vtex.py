"""VTEX Order Management client: one keep-alive httpx.Client, typed errors, bounded retries.

Reads are retried (429 honouring Retry-After, 502/503/504 and connection errors with exponential
backoff and jitter) inside a total time budget. The invoice POST is never retried here: after a
timeout or 5xx nobody knows whether VTEX stored the invoice, so the caller re-reads the order.
A circuit breaker stops hammering VTEX during an outage.
"""

from __future__ import annotations

import email.utils
import json
import random
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

import httpx
from pydantic import SecretStr, ValidationError

from bot.errors import (
    BadResponse,
    Forbidden,
    OrderNotFound,
    RateLimited,
    RequestRejected,
    Unauthorized,
    Unavailable,
    VtexError,
)
from bot.invoices import INVOICE_NUMBER, InvalidInvoice, InvoiceReceipt, InvoiceRequest
from bot.order import Order, parse_order
from bot.order_ids import validate_order_id

RETRY_STATUSES = {502, 503, 504}
VIEW_PERMISSION = "OMS › View order"
INVOICE_PERMISSION = "OMS › Notify invoice"


class CircuitBreaker:
    """Opens after `threshold` consecutive outage-type failures; lets one trial through after `cooldown`."""

    def __init__(self, threshold: int = 5, cooldown: float = 30.0, clock: Callable[[], float] = time.monotonic):
        self.threshold = threshold
        self.cooldown = cooldown
        self.clock = clock
        self.failures = 0
        self.opened_at: float | None = None
        self._lock = threading.Lock()

    def before_call(self, order_id: str | None) -> None:
        with self._lock:
            if self.opened_at is None:
                return
            remaining = self.opened_at + self.cooldown - self.clock()
            if remaining > 0:
                raise Unavailable(
                    f"VTEX failed {self.failures} times in a row, so calls are paused for {remaining:.0f} more "
                    "seconds to let it recover. Try again after that; status.vtex.com shows incidents.",
                    order_id=order_id,
                    retry_after=remaining,
                )
            self.opened_at = None  # half-open: this call is the trial
            self.failures = self.threshold - 1

    def record(self, ok: bool) -> None:
        with self._lock:
            if ok:
                self.failures, self.opened_at = 0, None
            else:
                self.failures += 1
                if self.failures >= self.threshold:
                    self.opened_at = self.clock()


class VtexClient:
    def __init__(
        self,
        base_url: str,
        app_key: SecretStr | None = None,
        app_token: SecretStr | None = None,
        *,
        account: str = "",
        transport: httpx.BaseTransport | None = None,
        timeout: float = 5.0,
        budget: float = 10.0,
        max_attempts: int = 5,
        backoff: float = 0.25,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
        jitter: Callable[[], float] = random.random,
        breaker: CircuitBreaker | None = None,
    ):
        headers = {"Accept": "application/json", "Content-Type": "application/json", "User-Agent": "unstuck"}
        if app_key is not None:
            headers["X-VTEX-API-AppKey"] = app_key.get_secret_value()
        if app_token is not None:
            headers["X-VTEX-API-AppToken"] = app_token.get_secret_value()
        self.account = account
        self.base_url = base_url.rstrip("/")
        self._http = httpx.Client(
            base_url=self.base_url,
            headers=headers,
            transport=transport,
            timeout=httpx.Timeout(timeout, connect=min(3.0, timeout)),
            limits=httpx.Limits(max_connections=200, max_keepalive_connections=50),
            follow_redirects=False,
        )
        self.timeout = timeout
        self.budget = budget
        self.max_attempts = max_attempts
        self.backoff = backoff
        self.sleep = sleep
        self.clock = clock
        self.jitter = jitter
        self.breaker = breaker or CircuitBreaker(clock=clock)

    def __repr__(self) -> str:
        return f"VtexClient(base_url={self.base_url!r})"

    @classmethod
    def from_settings(cls, settings: Any, **kwargs: Any) -> VtexClient:
        return cls(
            settings.vtex_url,
            settings.vtex_app_key,
            settings.vtex_app_token,
            account=settings.vtex_account or "",
            **kwargs,
        )

    def close(self) -> None:
        self._http.close()

    # -- reads ---------------------------------------------------------------------------------

    def get_order_json(self, order_id: str) -> dict[str, Any]:
        order_id = validate_order_id(order_id)
        response = self._get_with_retries(f"/api/oms/pvt/orders/{quote(order_id, safe='')}", order_id)
        data = self._json(response, order_id)
        if not isinstance(data, dict) or not isinstance(data.get("orderId"), str):
            raise BadResponse(
                f"VTEX answered for {order_id} without order data. Check VTEX_BASE_URL points at the OMS API.",
                order_id=order_id,
                status_code=response.status_code,
            )
        return data

    def get_order(self, order_id: str) -> Order:
        data = self.get_order_json(order_id)
        try:
            return parse_order(data)
        except ValidationError as exc:
            loc = ".".join(str(p) for p in exc.errors()[0]["loc"])
            raise BadResponse(
                f"VTEX sent order {order_id} with a malformed field `{loc}`.", order_id=order_id
            ) from None

    def _get_with_retries(self, path: str, order_id: str) -> httpx.Response:
        deadline = self.clock() + self.budget
        attempt = 0
        while True:
            attempt += 1
            self.breaker.before_call(order_id)
            remaining = deadline - self.clock()
            try:
                response = self._http.get(path, timeout=httpx.Timeout(max(min(self.timeout, remaining), 0.1)))
            except (httpx.TimeoutException, httpx.TransportError) as exc:
                self.breaker.record(False)
                error: VtexError = _transport_error(exc, order_id)
                retry_after = None
            else:
                if response.status_code < 400 or response.status_code in (401, 403, 404):
                    self.breaker.record(True)
                    if response.status_code < 400:
                        return response
                    _raise_for_status(response, order_id, VIEW_PERMISSION)
                retry_after = _retry_after(response)
                if response.status_code == 429:
                    self.breaker.record(True)  # VTEX is up, just busy
                elif response.status_code >= 500:
                    self.breaker.record(False)
                if response.status_code != 429 and response.status_code not in RETRY_STATUSES:
                    _raise_for_status(response, order_id, VIEW_PERMISSION)
                error = _status_error(response, order_id, VIEW_PERMISSION)
            wait = min(self.backoff * 2 ** (attempt - 1), 4.0) * (0.5 + self.jitter() / 2)
            if retry_after is not None:
                wait = max(wait, retry_after)
            if attempt >= self.max_attempts or self.clock() + wait >= deadline:
                raise error
            self.sleep(wait)

    # -- the invoice ---------------------------------------------------------------------------

    def notify_invoice(self, order_id: str, invoice: InvoiceRequest) -> InvoiceReceipt:
        """POST once. On a timeout or 5xx raise Unavailable with `maybe_delivered` set: re-read first."""
        order_id = validate_order_id(order_id)
        if not INVOICE_NUMBER.match(invoice.invoice_number):
            raise InvalidInvoice("number", "Use only letters, digits and '-' in the invoice number.")
        self.breaker.before_call(order_id)
        path = f"/api/oms/pvt/orders/{quote(order_id, safe='')}/invoice"
        try:
            response = self._http.post(path, content=json.dumps(invoice.to_json()).encode())
        except httpx.TimeoutException:
            self.breaker.record(False)
            raise Unavailable(
                f"VTEX did not answer the invoice for {order_id} in time; it may or may not have been stored.",
                order_id=order_id,
            ).with_delivery_unknown() from None
        except httpx.TransportError as exc:
            self.breaker.record(False)
            error = _transport_error(exc, order_id)
            if not isinstance(exc, httpx.ConnectError):
                error.with_delivery_unknown()
            raise error from None
        if response.status_code >= 500:
            self.breaker.record(False)
            raise _status_error(response, order_id, INVOICE_PERMISSION).with_delivery_unknown()
        self.breaker.record(True)
        if response.status_code >= 400:
            _raise_for_status(response, order_id, INVOICE_PERMISSION)
        data = self._json(response, order_id)
        receipt = data.get("receipt") if isinstance(data, dict) else None
        if not isinstance(receipt, str) or not receipt:
            raise BadResponse(
                f"VTEX accepted the invoice for {order_id} but sent no receipt.", order_id=order_id
            ).with_delivery_unknown()
        return InvoiceReceipt(
            order_id=str(data.get("orderId") or order_id),
            receipt=receipt,
            date=str(data.get("date") or datetime.now(UTC).isoformat()),
        )

    @staticmethod
    def _json(response: httpx.Response, order_id: str) -> Any:
        content_type = response.headers.get("content-type", "")
        try:
            return response.json()
        except (json.JSONDecodeError, UnicodeDecodeError):
            what = "an HTML page" if "html" in content_type or response.text.lstrip()[:1] == "<" else "a non-JSON body"
            raise BadResponse(
                f"VTEX answered {order_id} with {what} instead of JSON (a login page from a proxy, a wrong "
                "VTEX_BASE_URL, or a cut-off response). Try again; if it persists, check the URL.",
                order_id=order_id,
                status_code=response.status_code,
            ) from None


def _transport_error(exc: Exception, order_id: str) -> Unavailable:
    if isinstance(exc, httpx.TimeoutException):
        text = f"VTEX did not answer in time for {order_id}. Try again in a minute; status.vtex.com shows incidents."
    else:
        text = f"Could not reach VTEX for {order_id} ({type(exc).__name__}). Try again in a minute."
    return Unavailable(text, order_id=order_id)


def _vtex_message(response: httpx.Response) -> str:
    try:
        data = response.json()
    except (json.JSONDecodeError, UnicodeDecodeError):
        return ""
    if isinstance(data, dict):
        err = data.get("error")
        message = err.get("message") if isinstance(err, dict) else data.get("message") or err
        if isinstance(message, str):
            cleaned = "".join(ch for ch in message if ch.isprintable() and ch not in "<>&")[:200]
            return cleaned.replace("`", "'")
    return ""


def _status_error(response: httpx.Response, order_id: str, permission: str) -> VtexError:
    status = response.status_code
    said = _vtex_message(response)
    detail = f' VTEX said: "{said}"' if said else ""
    if status == 401:
        return Unauthorized(
            "VTEX refused our app key and token (401). Check VTEX_APP_KEY and VTEX_APP_TOKEN.",
            order_id=order_id,
            status_code=status,
        )
    if status == 403:
        return Forbidden(
            f"The VTEX app key lacks the permission '{permission}' (403). Ask a VTEX admin to add it to the "
            "key's role in License Manager.",
            permission=permission,
            order_id=order_id,
            status_code=status,
        )
    if status == 404:
        return OrderNotFound(
            f"Order {order_id} was not found in VTEX (404). Check the id: orders older than two years cannot be "
            "read, and a marketplace's id differs from the seller's.",
            order_id=order_id,
            status_code=status,
        )
    if status == 429:
        retry = _retry_after(response)
        when = f" about {retry:.0f} seconds" if retry else " a minute"
        return RateLimited(
            f"VTEX is rate limiting requests (429). Wait{when} and ask again.",
            order_id=order_id,
            status_code=status,
            retry_after=retry,
        )
    if status >= 500:
        return Unavailable(
            f"VTEX answered {status} for {order_id}: a problem on VTEX's side. Try again in a minute; "
            f"status.vtex.com shows incidents.{detail}",
            order_id=order_id,
            status_code=status,
        )
    return RequestRejected(
        f"VTEX rejected the request for {order_id} ({status}).{detail}", order_id=order_id, status_code=status
    )


def _raise_for_status(response: httpx.Response, order_id: str, permission: str) -> None:
    raise _status_error(response, order_id, permission)


def _retry_after(response: httpx.Response) -> float | None:
    value = response.headers.get("retry-after")
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max((when - datetime.now(UTC)).total_seconds(), 0.0)

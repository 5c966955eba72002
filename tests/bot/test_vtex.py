import json
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import httpx
import pytest
from pydantic import SecretStr

from bot.blocks import error_card
from bot.errors import (
    BadResponse,
    Forbidden,
    InvalidOrderId,
    OrderNotFound,
    RateLimited,
    RequestRejected,
    Unauthorized,
    Unavailable,
    WrongOrder,
)
from bot.invoices import InvoiceItem, InvoiceRequest
from bot.vtex import CircuitBreaker, VtexClient
from tests.factories import order_json

OID = "1234567890123-01"


class Clock:
    """Fake monotonic clock advanced by the fake sleep: no real waiting in tests."""

    def __init__(self):
        self.now = 0.0
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


def make(responses, clock=None, **kwargs):
    """A client whose transport answers from a list (or a callable) and records requests."""
    seen: list[httpx.Request] = []
    clock = clock or Clock()

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        item = responses(request) if callable(responses) else responses.pop(0)
        if isinstance(item, Exception):
            raise item
        return item

    client = VtexClient(
        "https://acme.vtexcommercestable.com.br",
        SecretStr("vtexappkey-acme-XYZ"),
        SecretStr("TOKEN-SECRET-123"),
        account="acme",
        transport=httpx.MockTransport(handler),
        sleep=clock.sleep,
        clock=clock,
        jitter=lambda: 1.0,
        **kwargs,
    )
    return client, seen, clock


def ok(data=None):
    return httpx.Response(200, json=data or order_json())


def test_get_order_sends_the_app_key_pair_and_json_headers():
    client, seen, _ = make([ok()])
    order = client.get_order(OID)
    assert order.order_id == OID
    request = seen[0]
    assert request.url == f"https://acme.vtexcommercestable.com.br/api/oms/pvt/orders/{OID}"
    assert request.headers["X-VTEX-API-AppKey"] == "vtexappkey-acme-XYZ"
    assert request.headers["X-VTEX-API-AppToken"] == "TOKEN-SECRET-123"
    assert request.headers["Accept"] == "application/json"


def test_secrets_never_show_in_the_client_repr():
    client, _, _ = make([])
    assert "TOKEN-SECRET" not in repr(client) and "vtexappkey" not in repr(client)


@pytest.mark.parametrize("bad", ["../../api/x", "1234567890123-01/invoice", "a b", "x;y", "\x001-01", ""])
def test_bad_ids_never_reach_the_network(bad):
    client, seen, _ = make([])
    with pytest.raises(InvalidOrderId):
        client.get_order(bad)
    assert seen == []


@pytest.mark.parametrize(
    ("status", "error", "words"),
    [
        (401, Unauthorized, "VTEX_APP_KEY"),
        (403, Forbidden, "OMS › View order"),
        (404, OrderNotFound, "was not found"),
        (400, RequestRejected, "rejected"),
        (500, Unavailable, "VTEX's side"),
    ],
)
def test_status_codes_map_to_typed_errors_carrying_the_order_id(status, error, words):
    client, seen, _ = make([httpx.Response(status, json={"error": {"code": "X", "message": "nope"}})])
    with pytest.raises(error) as info:
        client.get_order(OID)
    assert info.value.order_id == OID and info.value.status_code == status
    assert words in str(info.value)
    assert len(seen) == 1  # none of these is retried
    assert "TOKEN-SECRET" not in str(info.value)


def test_html_login_page_is_a_bad_response():
    client, _, _ = make(
        [httpx.Response(200, text="<html><body>Login</body></html>", headers={"content-type": "text/html"})]
    )
    with pytest.raises(BadResponse, match="HTML page"):
        client.get_order(OID)


def test_truncated_json_is_a_bad_response():
    client, _, _ = make(
        [
            httpx.Response(
                200, content=b'{"orderId": "1234567890123-01", "val', headers={"content-type": "application/json"}
            )
        ]
    )
    with pytest.raises(BadResponse, match="non-JSON"):
        client.get_order(OID)


def test_json_that_is_not_an_order_is_a_bad_response():
    client, _, _ = make([httpx.Response(200, json=[1, 2, 3])])
    with pytest.raises(BadResponse):
        client.get_order(OID)
    client, _, _ = make([httpx.Response(200, json={"orderId": OID, "value": {"not": "money"}})])
    with pytest.raises(BadResponse, match="value"):
        client.get_order(OID)


def test_429_honours_retry_after_seconds_then_succeeds():
    client, seen, clock = make([httpx.Response(429, headers={"Retry-After": "2"}), ok()])
    assert client.get_order(OID).order_id == OID
    assert len(seen) == 2 and clock.sleeps == [2.0]


def test_429_honours_retry_after_as_an_http_date():
    when = format_datetime(datetime.now(UTC) + timedelta(seconds=3), usegmt=True)
    client, _, clock = make([httpx.Response(429, headers={"Retry-After": when}), ok()])
    client.get_order(OID)
    assert 1.5 <= clock.sleeps[0] <= 3.0


def test_429_without_retry_after_backs_off_exponentially():
    client, seen, clock = make([httpx.Response(429)] * 3 + [ok()])
    client.get_order(OID)
    assert clock.sleeps == [0.25, 0.5, 1.0]  # jitter pinned to its maximum


def test_429_that_outlasts_the_budget_is_a_rate_limited_error():
    client, seen, clock = make([httpx.Response(429, headers={"Retry-After": "60"})])
    with pytest.raises(RateLimited) as info:
        client.get_order(OID)
    assert info.value.retry_after == 60 and clock.sleeps == [] and len(seen) == 1


@pytest.mark.parametrize("status", [502, 503, 504])
def test_gateway_errors_are_retried_with_backoff(status):
    client, seen, clock = make([httpx.Response(status), httpx.Response(status), ok()])
    client.get_order(OID)
    assert len(seen) == 3 and clock.sleeps == [0.25, 0.5]


def test_connection_errors_and_timeouts_are_retried_then_reported():
    errors = [httpx.ConnectError("refused"), httpx.ReadTimeout("slow")] * 10
    client, seen, clock = make(lambda request: errors.pop(0), max_attempts=3)
    with pytest.raises(Unavailable):
        client.get_order(OID)
    assert len(seen) == 3 and clock.sleeps == [0.25, 0.5]


def test_total_time_budget_bounds_every_call():
    client, seen, clock = make(lambda request: httpx.Response(503), budget=3.0, max_attempts=100)
    with pytest.raises(Unavailable):
        client.get_order(OID)
    assert clock.now < 3.0
    assert sum(clock.sleeps) < 3.0


def invoice_request():
    return InvoiceRequest(
        invoice_number="NF-2",
        invoice_value=12990,
        issuance_date=datetime(2026, 11, 28, 10, 0, tzinfo=UTC),
        items=[InvoiceItem(id="77", price=4000, quantity=2)],
        invoice_key="KEY1",
        invoice_url="https://erp.example.com/nf/2.pdf",
    )


def test_invoice_post_shape_is_what_vtex_documents():
    client, seen, _ = make([httpx.Response(200, json={"date": "2026-11-28", "orderId": OID, "receipt": "abc"})])
    receipt = client.notify_invoice(OID, invoice_request())
    assert receipt.receipt == "abc"
    request = seen[0]
    assert request.method == "POST"
    assert request.url.path == f"/api/oms/pvt/orders/{OID}/invoice"
    assert request.headers["Content-Type"] == "application/json"
    body = json.loads(request.content)
    assert body["type"] == "Output" and body["invoiceNumber"] == "NF-2"
    assert body["invoiceValue"] == "12990"  # VTEX's schema types it as a string of cents
    from bot.contract import invoice_problems

    assert invoice_problems(body) == []
    assert body["issuanceDate"] == "2026-11-28T10:00:00+00:00"
    assert body["items"] == [{"id": "77", "price": 4000, "quantity": 2}]
    assert body["invoiceKey"] == "KEY1" and body["invoiceUrl"].endswith("2.pdf")
    assert body["trackingNumber"] == "" and body["trackingUrl"] == ""


@pytest.mark.parametrize("failure", [httpx.Response(503), httpx.Response(500), httpx.ReadTimeout("slow")])
def test_invoice_post_is_never_retried_and_says_delivery_is_unknown(failure):
    client, seen, _ = make([failure, failure, failure])
    with pytest.raises(Unavailable) as info:
        client.notify_invoice(OID, invoice_request())
    assert len(seen) == 1
    assert info.value.maybe_delivered


def test_invoice_post_refused_connection_is_known_not_delivered():
    client, seen, _ = make([httpx.ConnectError("refused")])
    with pytest.raises(Unavailable) as info:
        client.notify_invoice(OID, invoice_request())
    assert not info.value.maybe_delivered


def test_invoice_403_names_the_notify_invoice_permission():
    client, _, _ = make([httpx.Response(403)])
    with pytest.raises(Forbidden) as info:
        client.notify_invoice(OID, invoice_request())
    assert info.value.permission == "OMS › Notify invoice"


HEALTHY, BROKEN = "1111111111111-01", "2222222222222-01"


def by_order(failing, status=503):
    """A transport answering `status` for the orders in `failing` (a set, changeable later) and the order otherwise."""

    def answer(request: httpx.Request) -> httpx.Response:
        order_id = request.url.path.rsplit("/", 1)[-1]
        if order_id in failing:
            return httpx.Response(status)
        return ok(order_json(orderId=order_id))

    return answer


def test_one_broken_order_does_not_pause_questions_about_healthy_orders():
    client, seen, _ = make(by_order({BROKEN}), max_attempts=3)
    for _ in range(5):  # asked again and again, each time with its retries
        with pytest.raises(Unavailable, match="VTEX answered 503"):
            client.get_order(BROKEN)
    assert len(seen) == 15 and client.breaker.state == "closed"
    assert client.get_order(HEALTHY).order_id == HEALTHY


def test_failures_of_different_orders_open_the_circuit_and_the_card_says_what_the_bot_does():
    clock = Clock()
    client, seen, _ = make(lambda r: httpx.Response(503), clock=clock, max_attempts=2)
    for n in range(3):
        with pytest.raises(Unavailable, match="VTEX answered 503"):
            client.get_order(f"333333333333{n}-01")
    assert len(seen) == 5  # the third order's failure opened it: its retry was not sent
    with pytest.raises(Unavailable) as info:
        client.get_order(HEALTHY)
    assert len(seen) == 5  # nothing reaches VTEX while it is open
    assert str(info.value).startswith(
        "VTEX failed for 3 different orders in the last 60 seconds, so the bot paused its calls to VTEX for 30 s "
        "and then tries one"
    )
    assert info.value.retry_after == pytest.approx(30, abs=1) and info.value.order_id == HEALTHY
    assert client.breaker.state == "open"


def test_a_success_in_between_or_failures_older_than_the_window_do_not_add_up():
    clock = Clock()
    failing = {"4444444444441-01", "4444444444442-01", "4444444444443-01", "4444444444444-01"}
    client, _, _ = make(by_order(failing), clock=clock, max_attempts=1)
    for oid in ("4444444444441-01", "4444444444442-01"):
        with pytest.raises(Unavailable):
            client.get_order(oid)
    client.get_order(HEALTHY)  # VTEX answers: it is not down
    with pytest.raises(Unavailable):
        client.get_order("4444444444443-01")
    clock.now += 61  # that failure is now older than the window
    with pytest.raises(Unavailable):
        client.get_order("4444444444444-01")
    with pytest.raises(Unavailable):
        client.get_order("4444444444441-01")
    assert client.breaker.state == "closed"


def open_breaker(clock):
    breaker = CircuitBreaker(threshold=3, cooldown=30, window=60, clock=clock)
    for n in range(3):
        breaker.record(False, f"555555555555{n}-01")
    assert breaker.state == "open"
    return breaker


def test_half_open_lets_exactly_one_probe_through_and_its_success_closes_the_circuit():
    clock = Clock()
    refused_meanwhile = []

    def answer(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith(HEALTHY) and not refused_meanwhile:
            # While the probe is in flight, every other question is refused without a request.
            with pytest.raises(Unavailable, match="that call is under way") as info:
                client.get_order("6666666666666-01")
            refused_meanwhile.append(info.value)
        return ok(order_json(orderId=request.url.path.rsplit("/", 1)[-1]))

    breaker = open_breaker(clock)
    client, seen, _ = make(answer, clock=clock, breaker=breaker)
    with pytest.raises(Unavailable, match="paused"):
        client.get_order(HEALTHY)
    assert seen == []
    clock.now += 31
    assert breaker.state == "half-open"
    assert client.get_order(HEALTHY).order_id == HEALTHY  # the probe
    assert len(refused_meanwhile) == 1 and [r.url.path.rsplit("/", 1)[-1] for r in seen] == [HEALTHY]
    assert breaker.state == "closed"
    assert client.get_order("6666666666666-01").order_id == "6666666666666-01"


def test_a_failed_probe_pauses_calls_for_another_cooldown():
    clock = Clock()
    breaker = open_breaker(clock)
    client, seen, _ = make(lambda r: httpx.Response(503), clock=clock, breaker=breaker, max_attempts=5)
    clock.now += 31
    with pytest.raises(Unavailable, match="VTEX answered 503"):
        client.get_order(HEALTHY)
    assert len(seen) == 1  # the probe failed: its retries were not sent
    with pytest.raises(Unavailable, match="paused") as info:
        client.get_order(HEALTHY)
    assert len(seen) == 1 and info.value.retry_after == pytest.approx(30, abs=1)


def test_a_probe_that_never_reports_is_replaced_after_a_while():
    clock = Clock()
    breaker = open_breaker(clock)
    clock.now += 31
    breaker.before_call(HEALTHY)  # the probe, which then vanishes (e.g. its thread died)
    with pytest.raises(Unavailable, match="under way"):
        breaker.before_call("7777777777777-01")
    clock.now += breaker.probe_timeout
    breaker.before_call("7777777777777-01")  # a new probe
    breaker.record(True, "7777777777777-01")
    assert breaker.state == "closed"


def test_not_found_does_not_trip_the_breaker():
    client, seen, _ = make(lambda r: httpx.Response(404), max_attempts=1)
    for _ in range(10):
        with pytest.raises(OrderNotFound):
            client.get_order(OID)
    assert len(seen) == 10


def test_an_answer_about_another_order_is_refused_with_an_error_card_without_buttons():
    client, _, _ = make([ok(order_json(orderId="9876543210987-01"))])
    with pytest.raises(WrongOrder) as info:
        client.get_order(OID)
    assert isinstance(info.value, BadResponse) and info.value.order_id == OID
    assert "VTEX answered for another order (9876543210987-01)" in str(info.value)
    card = error_card(OID, info.value)
    assert "VTEX answered for another order" in json.dumps(card.blocks)
    assert not any(block["type"] == "actions" for block in card.blocks)


def test_another_orders_id_is_quoted_without_markup():
    client, _, _ = make([ok(order_json(orderId="<!channel> `x`"))])
    with pytest.raises(WrongOrder) as info:
        client.get_order(OID)
    assert "<!channel>" not in str(info.value) and "`" not in str(info.value)


def test_the_same_id_in_other_letter_case_is_the_same_order():
    client, _, _ = make([ok(order_json(orderId="SLR-V527103ANML-01"))])
    assert client.get_order_json("SLR-v527103anml-01")["orderId"] == "SLR-V527103ANML-01"


def test_a_sequence_answers_with_the_orders_own_id_but_must_match_its_sequence():
    client, _, _ = make([ok(order_json(sequence="501456")), ok(order_json(sequence="501457")), ok(order_json())])
    assert client.get_order("seq501456").order_id == OID
    with pytest.raises(WrongOrder):
        client.get_order("seq501456")
    assert client.get_order("seq501456").order_id == OID  # no sequence field to compare with

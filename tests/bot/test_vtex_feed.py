"""The VTEX side of the stuck-order radar: List orders and Orders Feed v3, in the client (bot/vtex.py) and
in the in-memory store (bot/vtex_store.py), plus the client-side rate limiter and the sandbox that moves.

Time is fake everywhere: one clock drives the store (datetimes), the client's retries (monotonic seconds)
and the limiter, and sleeping only moves it forward.
"""

import json
import threading
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from bot.contract import openapi_schemas, problems
from bot.doubles.vtex import VtexDouble
from bot.errors import RateLimited, RequestRejected
from bot.invoices import InvoiceItem, InvoiceRequest
from bot.sandbox import ENTERS, STUCK_THEN_INVOICED, demo_orders, sandbox_script
from bot.vtex import FEED_PATH, LIST_PATH, OrderPage, RateLimiter, VtexClient, creation_range
from tests.factories import order_json

START = datetime(2026, 9, 1, 12, 0, tzinfo=UTC)
HANDLING = ["handling", "ready-for-handling"]


class Time:
    """One fake clock for the store (`now()`), the client and the limiter (`__call__`, seconds), moved by `sleep`."""

    def __init__(self):
        self.seconds = 0.0
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.seconds

    def now(self) -> datetime:
        return START + timedelta(seconds=self.seconds)

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.seconds += seconds

    def pass_(self, seconds: float) -> None:
        self.seconds += seconds


def orders(n, status="handling", first=0, spacing=timedelta(minutes=1)):
    """`n` orders created one `spacing` apart, oldest first, ids in creation order."""
    made = []
    for i in range(first, first + n):
        created = START - timedelta(days=10) + i * spacing
        made.append(
            order_json(
                status,
                orderId=f"17000000{i:05d}-01",
                creationDate=created.isoformat(),
                lastChange=(created + timedelta(hours=1)).isoformat(),
                origin="Marketplace",
            )
        )
    return made


def setup(store_orders=(), limiter=None, time=None, **double):
    time = time or Time()
    vtex = VtexDouble(list(store_orders), clock=time.now, **double)
    client = VtexClient(
        "https://acme.vtexcommercestable.com.br",
        transport=vtex.transport(),
        clock=time,
        sleep=time.sleep,
        jitter=lambda: 0.0,
        limiter=limiter,
    )
    return vtex, client, time


def mocked(handler, **kwargs):
    time = Time()
    client = VtexClient(
        "https://acme.vtexcommercestable.com.br",
        transport=httpx.MockTransport(handler),
        clock=time,
        sleep=time.sleep,
        jitter=lambda: 0.0,
        **kwargs,
    )
    return client, time


def read_all(client, statuses, **dates):
    first = client.list_orders(statuses, **dates)
    seen = list(first.orders)
    for page in range(2, min(first.pages, 30) + 1):
        seen += client.list_orders(statuses, page=page, **dates).orders
    return first, seen


# -- List orders ----------------------------------------------------------------------------------------


def test_list_orders_asks_as_vtex_documents_it():
    vtex, client, _ = setup(orders(3))
    client.list_orders(
        HANDLING,
        page=2,
        created_from=datetime(2022, 10, 1, 3, tzinfo=UTC),
        created_to=datetime(2022, 11, 1, 2, 59, 59, 999000, tzinfo=UTC),
    )
    [call] = vtex.calls_to("GET", LIST_PATH)
    assert call.params() == {
        "f_status": "handling,ready-for-handling",
        "page": "2",
        "per_page": "100",
        # the form of vtexdocs' "Using VTEX Admin filters on orders via API"
        "f_creationDate": "creationDate:[2022-10-01T03:00:00.000Z TO 2022-11-01T02:59:59.999Z]",
        "orderBy": "creationDate,asc",
    }
    documented = {p["name"] for p in openapi_schemas()["list_orders_parameters"] if p["in"] == "query"}
    assert set(call.params()) <= documented


def test_pages_come_oldest_first_with_vtex_paging():
    vtex, client, _ = setup(orders(250) + orders(5, "invoiced", first=250))
    first, seen = read_all(client, ["handling"])
    assert (first.page, first.pages, first.total) == (1, 3, 250)
    assert [len(client.list_orders(["handling"], page=p).orders) for p in (1, 2, 3)] == [100, 100, 50]
    assert [o.order_id for o in seen] == [o["orderId"] for o in orders(250)]  # oldest first, no repeats
    assert {o.status for o in seen} == {"handling"}
    assert seen[0].creation_date == START - timedelta(days=10)
    assert client.list_orders(["handling"], page=4) == OrderPage(orders=[], page=4, pages=3, total=250)


def test_the_status_filter_takes_several_statuses():
    mixed = orders(3) + orders(2, "ready-for-handling", first=3) + orders(4, "invoiced", first=5)
    _, client, _ = setup(mixed)
    page = client.list_orders(HANDLING)
    assert page.total == 5 and {o.status for o in page.orders} == set(HANDLING)
    assert client.list_orders(["canceled"]).orders == []


def test_creation_dates_bound_the_list_at_both_ends():
    _, client, _ = setup(orders(10))
    low = START - timedelta(days=10) + timedelta(minutes=2)
    page = client.list_orders(["handling"], created_from=low, created_to=low + timedelta(minutes=3))
    assert [o.order_id for o in page.orders] == [f"17000000{i:05d}-01" for i in (2, 3, 4, 5)]  # ends included
    assert client.list_orders(["handling"], created_from=low + timedelta(minutes=7)).total == 1


def test_page_31_is_refused_and_a_split_by_creation_date_reads_everything():
    store = orders(450)
    _, client, _ = setup(store)
    first = client.list_orders(["handling"], per_page=10)
    assert (first.pages, first.total) == (45, 450)  # VTEX counts the whole query, past what it lets you read
    assert len(client.list_orders(["handling"], page=30, per_page=10).orders) == 10
    with pytest.raises(RequestRejected) as refused:
        client.list_orders(["handling"], page=31, per_page=10)
    assert refused.value.status_code == 400 and "30 pages" in str(refused.value)

    middle = START - timedelta(days=10) + timedelta(minutes=224, seconds=30)
    seen = []
    for dates in ({"created_to": middle}, {"created_from": middle}):
        half = client.list_orders(["handling"], per_page=10, **dates)
        assert half.pages <= 30
        seen += [
            o
            for p in range(1, half.pages + 1)
            for o in client.list_orders(["handling"], page=p, per_page=10, **dates).orders
        ]
    assert sorted(o.order_id for o in seen) == sorted(o["orderId"] for o in store)


def test_the_store_answers_list_orders_in_vtex_schema():
    vtex, _, _ = setup(orders(3) + demo_orders(START))
    status, _, body = vtex.handle(
        "GET", f"{LIST_PATH}?f_status=handling&per_page=100&orderBy=creationDate,asc", {}, b""
    )
    data = json.loads(body)
    assert status == 200 and problems("list_orders_response", data) == []
    assert data["paging"] == {"total": 13, "pages": 1, "currentPage": 1, "perPage": 100}
    assert data["list"][0]["items"] is None  # VTEX no longer sends items in the list
    status, _, _ = vtex.handle("GET", f"{LIST_PATH}?per_page=101", {}, b"")
    assert status == 400


def test_the_list_is_read_when_vtex_sends_nulls():
    body = {
        "list": [
            {"orderId": "1-01", "status": None, "creationDate": None},
            None,
            {"orderId": None, "status": "handling"},
            {"orderId": "2-01", "status": "handling", "creationDate": "2026-08-01T14:02:11.1234567+00:00"},
        ],
        "facets": None,
        "paging": {"total": 2, "pages": None, "currentPage": None, "perPage": None},
        "stats": None,
    }
    client, _ = mocked(lambda request: httpx.Response(200, json=body))
    page = client.list_orders(["handling"])
    assert [(o.order_id, o.status) for o in page.orders] == [("1-01", ""), ("2-01", "handling")]
    assert page.orders[0].creation_date is None
    assert page.orders[1].creation_date == datetime(2026, 8, 1, 14, 2, 11, 123456, tzinfo=UTC)
    assert (page.page, page.pages, page.total) == (1, 1, 2)

    client, _ = mocked(lambda request: httpx.Response(200, json={"list": None, "paging": None}))
    assert client.list_orders(["handling"]) == OrderPage(orders=[], page=1, pages=0, total=0)


def test_one_end_of_the_range_leaves_the_other_open():
    assert creation_range(None, datetime(2026, 1, 1, tzinfo=UTC)) == (
        "creationDate:[2000-01-01T00:00:00.000Z TO 2026-01-01T00:00:00.000Z]"
    )
    naive = datetime(2026, 1, 1, 3, 4, 5, 678999)
    assert creation_range(naive, naive).startswith("creationDate:[2026-01-01T03:04:05.678Z TO ")


# -- Feed v3: configuration ------------------------------------------------------------------------------


def test_feed_config_absent_then_set_then_left_alone():
    vtex, client, _ = setup()
    assert client.feed_config() is None  # VTEX: 404 without a configuration
    client.set_feed_config(["handling", "invoiced"], visibility_timeout=60)
    [post] = vtex.calls_to("POST", "/api/orders/feed/config")
    assert problems("feed_config_request", post.json()) == []
    assert post.json() == {
        "filter": {"type": "FromWorkflow", "status": ["handling", "invoiced"]},
        "queue": {"visibilityTimeoutInSeconds": 60, "MessageRetentionPeriodInSeconds": 345600},
    }
    read = client.feed_config()
    assert read is not None and read["filter"]["status"] == ["handling", "invoiced"] and read["quantity"] == 0

    theirs = {"filter": {"type": "FromWorkflow", "status": ["ready-for-handling"]}, "queue": post.json()["queue"]}
    other, client, _ = setup()
    other.set_feed_config_json(theirs)
    assert client.feed_config()["filter"] == theirs["filter"]  # a caller sees it and leaves it alone
    assert other.calls_to("POST", "/api/orders/feed/config") == []


def test_an_empty_answer_also_means_no_configuration():
    for answer in (httpx.Response(200), httpx.Response(200, json=None), httpx.Response(200, json={})):
        client, _ = mocked(lambda request, answer=answer: answer)
        assert client.feed_config() is None


def test_the_store_refuses_configurations_vtex_refuses():
    vtex, _, _ = setup()
    mixed = {"filter": {"type": "FromWorkflow", "status": ["handling"], "expression": "x"}, "queue": {}}
    assert vtex.handle("POST", "/api/orders/feed/config", {}, json.dumps(mixed).encode())[0] == 400  # queue fields
    mixed["queue"] = {"visibilityTimeoutInSeconds": 1, "MessageRetentionPeriodInSeconds": 1}
    assert vtex.handle("POST", "/api/orders/feed/config", {}, json.dumps(mixed).encode())[0] == 409
    with pytest.raises(ValueError):
        VtexClient("https://x.vtexcommercestable.com.br").set_feed_config([])


# -- Feed v3: items --------------------------------------------------------------------------------------


def configured(store_orders=(), statuses=("handling", "ready-for-handling", "invoiced"), timeout=60, **kw):
    vtex, client, time = setup(store_orders, **kw)
    client.set_feed_config(list(statuses), visibility_timeout=timeout, retention=3600)
    return vtex, client, time


def test_no_feed_before_it_is_configured():
    vtex, client, _ = setup(orders(1))
    vtex.set_status(orders(1)[0]["orderId"], "ready-for-handling")  # before the feed exists: not queued
    with pytest.raises(RequestRejected) as missing:
        client.feed_items()
    assert missing.value.status_code == 404
    client.set_feed_config(["ready-for-handling"])
    assert client.feed_items() == []


def test_status_changes_become_items_only_for_the_filtered_statuses():
    vtex, client, time = configured(orders(3), statuses=["ready-for-handling", "invoiced"])
    a, b, c = (o["orderId"] for o in orders(3))
    vtex.set_status(a, "ready-for-handling", when=START - timedelta(hours=2))
    vtex.set_status(b, "canceled")  # not in the filter
    vtex.set_status(c, "handling")  # same status: no change, no item
    [item] = client.feed_items()
    assert (item.order_id, item.state, item.last_state, item.domain) == (
        a,
        "ready-for-handling",
        "handling",
        "Marketplace",
    )
    assert item.current_change == START - timedelta(hours=2)
    assert vtex.order(a)["lastChange"] == (START - timedelta(hours=2)).isoformat()


def test_an_invoice_that_completes_the_order_is_a_feed_item():
    vtex, client, _ = configured([order_json("handling", value=8000)])
    client.notify_invoice("1234567890123-01", invoice_request())
    [item] = client.feed_items()
    assert (item.order_id, item.last_state, item.state) == ("1234567890123-01", "handling", "invoiced")


def test_items_hide_for_the_visibility_timeout_and_go_once_committed():
    vtex, client, time = configured(orders(12), timeout=60)
    for o in orders(12):
        vtex.set_status(o["orderId"], "ready-for-handling")
    lot = client.feed_items(maxlot=10)
    assert len(lot) == 10 and [i.order_id for i in lot] == [o["orderId"] for o in orders(10)]  # oldest first
    rest = client.feed_items(maxlot=10)
    assert len(rest) == 2  # the first ten are invisible for now
    assert client.feed_items() == []
    time.pass_(59)
    assert client.feed_items() == []
    client.commit_feed([i.handle for i in lot[:4]])
    time.pass_(2)  # past the timeout: what was not committed comes back, with new handles
    again = client.feed_items(maxlot=10)
    assert [i.event_id for i in again] == [i.event_id for i in lot[4:] + rest]
    assert not {i.handle for i in again} & {i.handle for i in lot + rest}
    client.commit_feed([i.handle for i in again])
    assert vtex.feed_items_left() == 0
    for post in vtex.calls_to("POST", FEED_PATH):
        assert problems("feed_commit_request", post.json()) == []
    assert vtex.schema_violations == []


def test_items_past_the_retention_period_are_dropped():
    vtex, client, time = configured(orders(1))
    vtex.set_status(orders(1)[0]["orderId"], "ready-for-handling")
    time.pass_(3599)
    assert vtex.feed_items_left() == 1
    time.pass_(1)
    assert vtex.feed_items_left() == 0 and client.feed_items() == []


def test_the_store_sends_items_in_vtex_schema_and_refuses_a_lot_over_ten():
    vtex, client, _ = configured(orders(1))
    vtex.set_status(orders(1)[0]["orderId"], "ready-for-handling")
    status, _, body = vtex.handle("GET", f"{FEED_PATH}?maxlot=10", {}, b"")
    assert status == 200 and problems("feed_items_response", json.loads(body)) == []
    assert vtex.handle("GET", f"{FEED_PATH}?maxlot=11", {}, b"")[0] == 400
    with pytest.raises(ValueError):
        client.feed_items(maxlot=11)
    assert vtex.calls_to("GET", FEED_PATH)[-1].params() == {"maxlot": "11"}  # only the store's check saw 11


def test_feed_items_are_read_when_vtex_sends_nulls():
    items = [
        {
            "eventId": None,
            "handle": "h1",
            "domain": None,
            "state": "handling",
            "lastState": None,
            "orderId": "1-01",
            "lastChange": None,
            "currentChange": None,
        },
        {"handle": None, "orderId": "2-01"},
        None,
        {
            "EventId": "e3",
            "Handle": "h3",
            "State": "invoiced",
            "OrderId": "3-01",
            "CurrentChange": "2026-09-01T10:00:00Z",
        },
    ]
    client, _ = mocked(lambda request: httpx.Response(200, json=items))
    got = client.feed_items()
    assert [(i.handle, i.order_id, i.state, i.last_state, i.event_id) for i in got] == [
        ("h1", "1-01", "handling", "", ""),
        ("h3", "3-01", "invoiced", "", "e3"),
    ]
    assert got[1].current_change == datetime(2026, 9, 1, 10, tzinfo=UTC)
    for empty in (httpx.Response(200), httpx.Response(200, json=None), httpx.Response(200, json=[])):
        client, _ = mocked(lambda request, empty=empty: empty)
        assert client.feed_items() == []


def test_a_429_on_the_feed_honours_retry_after_and_loses_nothing():
    vtex, client, time = configured(orders(2))
    for o in orders(2):
        vtex.set_status(o["orderId"], "ready-for-handling")
    vtex.fail_next(429, headers={"Retry-After": "2"}, method="GET", path=FEED_PATH)
    items = client.feed_items()
    assert len(items) == 2 and time.sleeps == [2.0]
    vtex.fail_next(503, method="POST", path=FEED_PATH)  # a commit is safe to repeat
    client.commit_feed([i.handle for i in items])
    assert vtex.feed_items_left() == 0 and len(vtex.calls_to("POST", FEED_PATH)) == 2


def test_a_429_past_the_budget_is_raised_with_its_wait():
    vtex, client, _ = configured()
    vtex.fail_next(429, headers={"Retry-After": "30"}, method="GET")
    with pytest.raises(RateLimited) as limited:
        client.feed_items()
    assert limited.value.retry_after == 30


# -- the client-side rate limit --------------------------------------------------------------------------


def test_the_limiter_lets_through_its_rate():
    time = Time()
    limiter = RateLimiter(600, clock=time, sleep=time.sleep)  # 10 % of VTEX's 6,000 a minute
    for _ in range(100):
        limiter.acquire()
    assert time.seconds == pytest.approx(9.0)  # a burst of 10, then 10 a second
    time.pass_(60)
    started = time.seconds
    for _ in range(610):
        limiter.acquire()
    assert time.seconds - started == pytest.approx(60.0)
    assert limiter.granted == 710


def test_the_limiter_is_thread_safe():
    time = Time()
    limiter = RateLimiter(60, clock=time, sleep=lambda s: None, burst=1)  # one a second, the clock stands still
    waits, lock = [], threading.Lock()

    def work():
        for _ in range(50):
            wait = limiter.acquire()
            with lock:
                waits.append(wait)

    threads = [threading.Thread(target=work) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(waits) == [pytest.approx(float(k)) for k in range(400)]  # every slot handed out once


def invoice_request(value=8000, units=2):
    return InvoiceRequest(
        invoice_number="NF1",
        invoice_value=value,
        issuance_date=START,
        items=[InvoiceItem("77", value // units, units)],
    )


def test_every_request_passes_through_the_limiter_and_a_429_holds_everyone():
    time = Time()
    limiter = RateLimiter(60, clock=time, sleep=time.sleep, burst=100)
    vtex, client, _ = setup([order_json("handling", value=8000)], limiter=limiter, time=time)
    client.get_order("1234567890123-01")
    client.notify_invoice("1234567890123-01", invoice_request(100))
    client.list_orders(["handling"])
    client.set_feed_config(["handling"])
    client.feed_config()
    client.feed_items()
    client.commit_feed(["h"])
    assert limiter.granted == len(vtex.calls) == 7

    vtex.fail_next(429, headers={"Retry-After": "5"}, method="GET")
    client.list_orders(["handling"])
    assert time.sleeps == [5.0]  # the retry waited Retry-After, and the limiter opened no slot before it

    client.max_attempts = 1  # this caller gives up at once...
    vtex.fail_next(429, headers={"Retry-After": "7"}, method="GET")
    with pytest.raises(RateLimited):
        client.feed_config()
    before = time.seconds
    client.feed_config()  # ...but the next request, from any caller sharing the limiter, waits the 7 s
    assert time.seconds - before == pytest.approx(7.0)


# -- the sandbox that moves ------------------------------------------------------------------------------


def test_the_sandbox_script_moves_orders_so_alerts_appear_and_resolve():
    time = Time()
    vtex = VtexDouble(demo_orders(START), clock=time.now)
    before = {o["orderId"]: o for o in demo_orders(START)}
    vtex.set_feed_config_json(
        {
            "filter": {"type": "FromWorkflow", "status": ["handling", "invoiced"]},
            "queue": {"visibilityTimeoutInSeconds": 240, "MessageRetentionPeriodInSeconds": 345600},
        }
    )
    moves = sandbox_script(vtex, START, enter_after=timedelta(seconds=20), stuck_after=timedelta(minutes=2))
    assert [(m.after.total_seconds(), m.order_id, m.status) for m in moves] == [
        (20, ENTERS, "handling"),
        (80, STUCK_THEN_INVOICED, "invoiced"),
        (260, ENTERS, "invoiced"),
    ]
    assert vtex.order(ENTERS)["status"] == "ready-for-handling"
    assert vtex.order(STUCK_THEN_INVOICED)["status"] == "handling"

    time.pass_(20)
    vtex.handle("GET", f"/api/oms/pvt/orders/{ENTERS}", {}, b"")  # any request runs what is due
    entered = vtex.order(ENTERS)
    assert entered["status"] == "handling"
    # stuck two minutes from now for a radar whose handling threshold is the default two days
    assert datetime.fromisoformat(entered["lastChange"]) == time.now() - timedelta(days=2) + timedelta(minutes=2)

    time.pass_(60)
    assert vtex.advance() == 1
    invoiced = vtex.order(STUCK_THEN_INVOICED)
    assert (
        invoiced["status"] == "invoiced"
        and invoiced["packageAttachment"]["packages"][0]["invoiceValue"] == invoiced["value"]
    )

    time.pass_(180)
    vtex.advance()
    assert vtex.order(ENTERS)["status"] == "invoiced" and vtex.pending() == 0
    assert [(e.order_id, e.state) for e in vtex.feed_events()] == [
        (ENTERS, "handling"),
        (STUCK_THEN_INVOICED, "invoiced"),
        (ENTERS, "invoiced"),
    ]
    assert vtex.schema_violations == []
    assert all(vtex.order(oid) == order for oid, order in before.items())  # the demo orders never move


def test_the_script_can_follow_a_short_radar_threshold():
    time = Time()
    vtex = VtexDouble([], clock=time.now)
    sandbox_script(vtex, START, stuck_after=timedelta(minutes=1), normal=timedelta(minutes=1))
    time.pass_(20)
    vtex.advance()
    assert vtex.order(ENTERS)["lastChange"] == time.now().isoformat()  # no backdating needed


def test_list_and_feed_over_real_http():
    time = Time()
    vtex = VtexDouble(orders(3), clock=time.now)
    with vtex.serve() as server:
        client = VtexClient(server.url, clock=time, sleep=time.sleep, jitter=lambda: 0.0)
        page = client.list_orders(["handling"], per_page=2, created_from=START - timedelta(days=30))
        assert (page.total, page.pages, len(page.orders)) == (3, 2, 2)
        assert client.feed_config() is None
        client.set_feed_config(["ready-for-handling"])
        vtex.set_status(orders(1)[0]["orderId"], "ready-for-handling")
        [item] = client.feed_items()
        client.commit_feed([item.handle])
        client.close()
    assert vtex.feed_items_left() == 0
    assert vtex.calls_to("GET", LIST_PATH)[0].params()["f_creationDate"].startswith("creationDate:[")

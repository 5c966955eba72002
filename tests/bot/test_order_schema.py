"""The order model reads every order VTEX's published Get-order schema allows: orders generated from the
schema itself (every nullable field sometimes null, arrays empty or not) parse, diagnose and render."""

from datetime import UTC, datetime
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.blocks import order_card
from bot.contract import openapi_schemas
from bot.diagnosis import diagnose
from bot.kb import KnowledgeBase
from bot.lookup import explain
from bot.order import parse_order
from bot.report import text_report

KB = KnowledgeBase.load()
NOW = datetime(2026, 11, 28, 12, tzinfo=UTC)
DATES = st.sampled_from(
    ["2026-11-20T10:00:00.0000000+00:00", "2026-11-20T10:00:00", "2026-11-20T10:00:00Z", "2026-11-20", ""]
)
STATUSES = st.sampled_from(["handling", "ready-for-handling", "invoiced", "canceled", "payment-pending", "x"])
# Fields the bot reads as dates or statuses get values of that kind; every other string is free text.
DATE_FIELDS = {"creationDate", "lastChange", "authorizedDate", "invoicedDate", "issuanceDate"}


def from_schema(node: dict[str, Any], name: str = "", depth: int = 0) -> st.SearchStrategy[Any]:
    kind = node.get("type")
    if "enum" in node:
        base: st.SearchStrategy[Any] = st.sampled_from(node["enum"])
    elif kind == "object":
        props = node.get("properties") or {}
        if depth > 4 or not props:
            base = st.just({})
        else:
            base = st.fixed_dictionaries({}, optional={k: from_schema(v, k, depth + 1) for k, v in props.items()})
    elif kind == "array":
        item = node.get("items") or {}
        base = st.lists(from_schema(item, name, depth + 1), max_size=0 if depth > 4 else 3)
    elif kind == "integer":
        base = st.integers(min_value=-(10**9), max_value=10**12)
    elif kind == "number":
        base = st.floats(allow_nan=False, allow_infinity=False, width=32)
    elif kind == "boolean":
        base = st.booleans()
    elif name in DATE_FIELDS:
        base = DATES
    elif name == "status":
        base = STATUSES
    else:
        base = st.text(max_size=12)
    return st.one_of(st.none(), base) if node.get("nullable") else base


ORDER_SCHEMA = openapi_schemas()["get_order_response"]
ORDERS = from_schema(ORDER_SCHEMA).map(lambda o: {**o, "orderId": "1234567890123-01"})


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(ORDERS)
def test_every_order_the_schema_allows_is_read_diagnosed_and_rendered(data):
    order = parse_order(data)
    d = diagnose(order, NOW)
    assert d.order_id == "1234567890123-01"
    answer = explain(order, KB, NOW)
    assert order_card(answer, "acme", now=NOW).blocks
    assert text_report(answer)


def test_every_nullable_field_the_bot_reads_parses_when_null():
    def nulls(node: dict[str, Any]) -> Any:
        if node.get("type") == "object":
            return {k: (None if v.get("nullable") else nulls(v)) for k, v in (node.get("properties") or {}).items()}
        if node.get("type") == "array":
            return [nulls(node.get("items") or {})]
        return (
            None if node.get("nullable") else {"integer": 1, "number": 1.5, "boolean": True}.get(node.get("type"), "x")
        )

    data = nulls(ORDER_SCHEMA) | {"orderId": "1234567890123-01", "creationDate": "2026-11-20T10:00:00"}
    data["lastChange"] = "2026-11-21T10:00:00"
    order = parse_order(data)
    assert order.changes_attachment is None or all(
        c.discount_value is None for c in order.changes_attachment.changes_data
    )
    assert order.creation_date.tzinfo is not None
    assert order_card(explain(order, KB, NOW), "acme", now=NOW).blocks

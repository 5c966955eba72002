"""Block builders against Slack's documented limits, for every demo order and every error."""

import json
from datetime import UTC, datetime

import pytest

from bot.blocks import error_card, home_view, order_card, partial_form, partial_preview, usage_message
from bot.errors import Forbidden, OrderNotFound, RateLimited, Unavailable
from bot.kb import KnowledgeBase
from bot.lookup import explain
from bot.order import parse_order
from bot.sandbox import demo_orders
from tests.conftest import NOW
from tests.factories import order_json

KB = KnowledgeBase.load()


def check_limits(blocks, max_blocks=50):
    assert 0 < len(blocks) <= max_blocks
    ids = [b["block_id"] for b in blocks if "block_id" in b]
    assert len(ids) == len(set(ids))
    for block in blocks:
        if block["type"] == "header":
            assert block["text"]["type"] == "plain_text" and len(block["text"]["text"]) <= 150
        if block["type"] == "section":
            assert "text" in block or "fields" in block
            if "text" in block:
                assert len(block["text"]["text"]) <= 3000
            assert len(block.get("fields", [])) <= 10
            assert all(len(f["text"]) <= 2000 for f in block.get("fields", []))
        if block["type"] == "context":
            assert 0 < len(block["elements"]) <= 10
        if block["type"] == "actions":
            assert len(block["elements"]) <= 25
            for button in block["elements"]:
                assert len(button["text"]["text"]) <= 75 and len(button["value"]) <= 2000
                assert ("confirm" in button) == (button["action_id"] == "resend_invoice")
                confirm = button.get("confirm")
                if confirm:
                    assert len(confirm["title"]["text"]) <= 100 and len(confirm["text"]["text"]) <= 300
                    assert len(confirm["confirm"]["text"]) <= 30 and len(confirm["deny"]["text"]) <= 30
        if block["type"] == "input":
            assert len(block["label"]["text"]) <= 2000 and len(block.get("hint", {}).get("text", "")) <= 2000


@pytest.mark.parametrize("order", demo_orders(NOW), ids=lambda o: o["orderId"])
def test_every_demo_card_fits_slack_limits_and_has_a_fallback(order):
    answer = explain(parse_order(order), KB, NOW)
    message = order_card(answer, "acme")
    check_limits(message.blocks)
    assert message.text and len(message.text) <= 3000
    assert message.blocks[0]["text"]["text"].startswith(f"Order {order['orderId']} · ")


def test_huge_texts_are_cut_to_the_limits():
    data = order_json(status="x" * 400, value=10**12)
    answer = explain(parse_order(data), KB, NOW)
    message = order_card(answer, "acme", outcome="y" * 5000, status_line="z" * 5000)
    check_limits(message.blocks)


def test_card_numbers_are_in_the_order_currency():
    answer = explain(
        parse_order(
            order_json(value=25990, invoices=[{"type": "Output", "invoiceNumber": "A", "invoiceValue": 13000}])
        ),
        KB,
        NOW,
    )
    verdict = order_card(answer, "acme").blocks[1]["text"]["text"]
    assert "Short by *R$ 129,90*" in verdict and "R$ 130,00 of R$ 259,90" in verdict


def test_buttons_go_away_when_asked():
    answer = explain(parse_order(order_json()), KB, NOW)
    assert not [b for b in order_card(answer, "acme", show_actions=False).blocks if b["type"] == "actions"]


def test_resend_button_value_carries_only_what_the_click_needs():
    answer = explain(
        parse_order(
            order_json(value=5000, invoices=[{"type": "Output", "invoiceNumber": "NF-1", "invoiceValue": 5000}])
        ),
        KB,
        NOW,
    )
    button = [b for b in order_card(answer, "acme").blocks if b["type"] == "actions"][0]["elements"][0]
    assert button["action_id"] == "resend_invoice"
    assert json.loads(button["value"]) == {
        "v": 2,
        "order": "1234567890123-01",
        "kind": "resend_invoice",
        "number": "NF-1",
        "amount": 5000,
    }


@pytest.mark.parametrize(
    "error",
    [
        OrderNotFound("Order x was not found", order_id="x"),
        Forbidden("no", permission="OMS › View order"),
        RateLimited("slow down", retry_after=12),
        Unavailable("down", retry_after=3.2),
    ],
)
def test_error_cards_are_short_and_say_what_to_do(error):
    message = error_card("1234567890123-01", error)
    check_limits(message.blocks)
    assert len(message.blocks) <= 2 and "1234567890123-01" in message.text
    if isinstance(error, RateLimited):
        assert "Try again in about 12 seconds" in json.dumps(message.blocks)


def test_usage_message():
    check_limits(usage_message("That is not an order id.").blocks)


def test_modal_views_fit_modal_limits_with_many_items_and_long_texts():
    from bot.invoices import InvoiceItem, InvoiceRequest
    from bot.money import Currency
    from bot.payloads import CurrencyState, FormRef, FormState, LineState, ReplyTarget

    state = FormState(
        order_id="1234567890123-01",
        full=False,
        missing=12990,
        total=25990,
        currency=CurrencyState.of(Currency(symbol="R$", code="BRL", decimal_separator=",", group_separator=".")),
        zone="America/Sao_Paulo",
        order_json={},
        lines=[LineState(index=i, sku=str(i), name="N" * 3000, price=1, quantity=1) for i in range(120)],
        other=995,
        reply=ReplyTarget(response_url="https://x/" + "r" * 3000),
    )
    ref = FormRef(form="k" * 16)
    form = partial_form(state, ref, datetime(2026, 11, 28, 9, 5, tzinfo=UTC))
    assert len(form["title"]["text"]) <= 24 and len(form["private_metadata"]) <= 100
    check_limits(form["blocks"], 100)
    assert "more item lines are not shown" in json.dumps(form["blocks"])
    request = InvoiceRequest(
        "NF", 12990, datetime(2026, 11, 28, tzinfo=UTC), items=[InvoiceItem(str(i), 1, 1) for i in range(500)]
    )
    preview = partial_preview(state, ref, request)
    check_limits(preview["blocks"], 100)
    assert len(preview["submit"]["text"]) <= 24


def test_home_view_caps_its_blocks():
    rows = [
        {
            "updated_at": "2026-11-28T10:00:00+00:00",
            "state": "succeeded",
            "action": "resend_invoice",
            "order_id": "1-01",
            "user_id": "U1",
            "invoice_number": "A",
            "amount_text": "R$ 1,00",
        }
    ] * 500
    view = home_view(rows, is_operator=True, operators_configured=True)
    check_limits(view["blocks"], 100)
